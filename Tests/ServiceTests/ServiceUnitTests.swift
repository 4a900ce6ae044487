import Foundation
import ProcessTestSupport
import Testing

/// stmfd as a service (issue 16): the modes of what it writes whatever the umask, systemd's
/// watchdog from its event loop, the administrative group owning the socket, and the unit files
/// as systemd reads them.
@Suite(.serialized) struct ServiceUnitTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func everyFileIsCreatedWithItsModeWhateverTheUmask() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try FileManager.default.removeItem(atPath: d.stateDir)     // stmfd creates it
        try d.start(umask: "000")
        try d.ok(["create-hg", "g"])
        d.stop()
        try d.start(umask: "000")                                  // a restore point at start
        try d.ok(["create-hg", "h"])
        let dir = d.stateDir
        #expect(try mode(dir) == 0o750)
        for f in ["stmf.db", "stmf.db-wal", "stmf.db-shm", "stmfd.lock"] {
            #expect(try mode(dir + "/" + f) == 0o640, "\(f)")
        }
        #expect(try mode(dir + "/stmf.sock") == 0o660)
        #expect(try mode(dir + "/backups") == 0o750)
        let points = try FileManager.default.contentsOfDirectory(atPath: dir + "/backups")
        #expect(points.count == 1)
        for p in points { #expect(try mode(dir + "/backups/" + p) == 0o640) }
        // A database another umask left 0644 is corrected at start.
        d.stop()
        chmod(dir + "/stmf.db", 0o644)
        try d.start(umask: "000")
        #expect(try mode(dir + "/stmf.db") == 0o640)
    }

    /// With $WATCHDOG_USEC, stmfd sends WATCHDOG=1 every half interval until it stops.
    @Test func watchdogPingsComeFromTheEventLoopUntilStop() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let listener = try NotifyListener(path: d.stateDir + ".notify")
        let started = Date()
        try d.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000"])
        var messages: [String] = []
        while messages.filter({ $0 == "WATCHDOG=1" }).count < 5, let m = listener.receive(within: 5) { messages.append(m) }
        let elapsed = Date().timeIntervalSince(started)
        #expect(messages.first?.hasPrefix("READY=1") == true, "\(messages)")
        #expect(messages.filter { $0 == "WATCHDOG=1" }.count == 5, "\(messages)")
        // Every 100 ms (half of 200 ms): five pings take at least 0.4 s.
        #expect(elapsed >= 0.4, "\(elapsed)")
        d.stop(SIGTERM)
        var after: [String] = []
        while let m = listener.receive(within: 5), m != "STOPPING=1" { after.append(m) }
        #expect(listener.receive(within: 0.4) == nil, "a ping after STOPPING")
        #expect(after.allSatisfy { $0 == "WATCHDOG=1" })
    }

    @Test func watchdogIsForThePIDSystemdNames() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let listener = try NotifyListener(path: d.stateDir + ".notify")
        try d.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1"])
        #expect(listener.receive(within: 5)?.hasPrefix("READY=1") == true)
        #expect(listener.receive(within: 0.5) == nil, "pings for another process's watchdog")
    }

    /// Delegation without root: the administrative group owns the socket (0660) and may search
    /// the state directory, so its members administer stmfd; others may not.
    @Test func theAdministrativeGroupOwnsTheSocket() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        chmod(d.stateDir, 0o750)
        try d.start(arguments: ["--group", "daemon"])
        var st = stat()
        #expect(stat(d.socketPath, &st) == 0 && st.st_gid == 1)
        #expect(stat(d.stateDir, &st) == 0 && st.st_gid == 1)
        // As the user daemon (in group daemon): allowed. As nobody: refused by the socket's mode.
        let member = try runTool("/usr/bin/setpriv", ["--reuid=daemon", "--regid=daemon", "--init-groups",
                                                      productsDirectory.appendingPathComponent("stmfadm").path, "list-state", "--state-dir", d.stateDir])
        #expect(member.status == 0, "\(member.err)")
        try d.ok(["create-hg", "by-root"])
        let add = try runTool("/usr/bin/setpriv", ["--reuid=daemon", "--regid=daemon", "--init-groups",
                                                   productsDirectory.appendingPathComponent("stmfadm").path, "create-hg", "by-daemon",
                                                   "--state-dir", d.stateDir])
        #expect(add.status == 0, "\(add.err)")
        let other = try runTool("/usr/bin/setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                                     productsDirectory.appendingPathComponent("stmfadm").path, "list-state", "--state-dir", d.stateDir])
        #expect(other.status == 1 && other.err.contains("Permission denied"), "\(other.err)")
        // A group that does not exist is refused at start, saying how to make it.
        let bad = try runTool("stmfd", ["--state-dir", d.stateDir + "-2", "--group", "no-such-group-16"])
        #expect(bad.status == 1 && bad.err.contains("group no-such-group-16 does not exist"), "\(bad.err)")
        try? FileManager.default.removeItem(atPath: d.stateDir + "-2")
    }

    /// The unit files as systemd reads them: `systemd-analyze verify` finds nothing to say (with
    /// the binaries where the build put them and without man pages installed), the exposure
    /// `systemd-analyze security` scores stays at what docs/SERVICE.md records, and
    /// systemd-sysusers creates the administrative group from dist/stmf.sysusers.conf.
    @Test(arguments: [("stmfd.service", 3.5), ("fcfabric.service", 1.0)])
    func unitFilesVerifyAndScore(unit: String, exposureLimit: Double) throws {
        let dir = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                              appropriateFor: FileManager.default.temporaryDirectory, create: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = try String(contentsOf: Self.repository.appendingPathComponent("dist/" + unit), encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/"))
        let local = dir.appendingPathComponent(unit)
        try text.replacingOccurrences(of: "/usr/local/bin/", with: productsDirectory.path + "/")
            .write(to: local, atomically: true, encoding: .utf8)
        let verify = try runTool("/usr/bin/systemd-analyze", ["verify", "--man=no", local.path])
        #expect(verify.status == 0 && verify.err.isEmpty && verify.out.isEmpty, "\(verify.out)\(verify.err)")
        let security = try runTool("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager", local.path])
        let line = try #require(security.out.split(separator: "\n").first { $0.contains("Overall exposure level for \(unit)") })
        let score = try #require(line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }, "\(line)")
        #expect(score <= exposureLimit, "\(line)")
    }

    @Test func sysusersCreatesTheAdministrativeGroup() throws {
        let root = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                               appropriateFor: FileManager.default.temporaryDirectory, create: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        let r = try runTool("/usr/bin/systemd-sysusers", ["--root=" + root.path,
                                                           Self.repository.appendingPathComponent("dist/stmf.sysusers.conf").path])
        #expect(r.status == 0, "\(r.err)")
        let groups = try String(contentsOf: root.appendingPathComponent("etc/group"), encoding: .utf8)
        #expect(groups.split(separator: "\n").contains { $0.hasPrefix("stmf:x:") && $0.hasSuffix(":") }, "\(groups)")
    }
}
