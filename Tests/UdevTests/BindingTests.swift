import Foundation
import ProcessTestSupport
import Testing

/// A umockdev testbed kept by Fixtures/hotplug.py, with stmfd and the CLIs run inside it
/// (LD_PRELOAD of umockdev's library and its UMOCKDEV_DIR), so that stmfd's sysfs writes land
/// in the testbed and the test reads them back, and hot-plug steps happen while stmfd runs.
final class Testbed: @unchecked Sendable {
    let dir: URL
    let stateDir: String
    let root: String
    private let harness: Process
    private var stmfd: Process?
    let stmfdLog: String

    /// `steps`: hotplug.py steps; `wait-file NAME` waits for `signal(NAME)` from the test.
    /// `setup`: shell run in the testbed before anything else (for example a module parameter).
    init(_ fixture: String, steps: [String] = [], setup: String = ":") throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-tb-\(UUID().uuidString.prefix(8))")
        self.dir = dir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        stateDir = dir.appendingPathComponent("state").path
        stmfdLog = dir.appendingPathComponent("stmfd.log").path
        let script = (steps.map { $0.replacingOccurrences(of: "wait-file ", with: "wait-file \(dir.path)/") }
                      + ["wait-file \(dir.path)/end 600"]).joined(separator: "\n") + "\n"
        try script.write(to: dir.appendingPathComponent("steps"), atomically: true, encoding: .utf8)
        let rootFile = dir.appendingPathComponent("root").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/umockdev-wrapper")
        p.arguments = ["/usr/bin/python3", DiscoveryTests.fixtures.appendingPathComponent("hotplug.py").path,
                       DiscoveryTests.fixtures.appendingPathComponent(fixture + ".umockdev").path,
                       dir.appendingPathComponent("steps").path, "--timeout", "2", "--",
                       "/bin/sh", "-c", "\(setup)\necho \"$UMOCKDEV_DIR\" > \(rootFile).tmp && mv \(rootFile).tmp \(rootFile)\nexec sleep 900"]
        p.standardOutput = FileHandle.nullDevice
        let harnessLog = dir.appendingPathComponent("harness.log")
        FileManager.default.createFile(atPath: harnessLog.path, contents: nil)
        p.standardError = try FileHandle(forWritingTo: harnessLog)
        try p.run()
        harness = p
        var r: String?
        for _ in 0..<400 {
            if let s = try? String(contentsOfFile: rootFile, encoding: .utf8) { r = s.trimmingCharacters(in: .whitespacesAndNewlines); break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        guard let r else { throw TestbedError.noTestbed((try? String(contentsOf: harnessLog, encoding: .utf8)) ?? "") }
        root = r
    }

    enum TestbedError: Error { case noTestbed(String), stmfdDidNotStart(String) }

    var environment: [String: String] {
        ["LD_PRELOAD": "libumockdev-preload.so.0", "UMOCKDEV_DIR": root,
         "STMF_MODULES_ALIAS": DiscoveryTests.fixtures.appendingPathComponent("modules.alias").path,
         "STMF_DRIVER_ALIASES": "/nonexistent/driver_aliases"]
    }

    /// Lets a `wait-file NAME` step go on.
    func signal(_ name: String) { FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil) }

    /// A sysfs file as the testbed has it now.
    func sysfs(_ path: String) -> String? {
        (try? String(contentsOfFile: root + path, encoding: .utf8)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func startDaemon() throws {
        let p = Process()
        p.executableURL = productsDirectory.appendingPathComponent("stmfd")
        p.arguments = ["--state-dir", stateDir]
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, n in n }
        FileManager.default.createFile(atPath: stmfdLog, contents: nil)
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: stmfdLog))
        logFile.seekToEndOfFile()
        p.standardOutput = logFile
        p.standardError = logFile
        p.standardInput = FileHandle.nullDevice
        try p.run()
        stmfd = p
        for _ in 0..<400 {
            if let r = try? tool("fcadm", ["list-bindings"]), r.status == 0 { return }
            if !p.isRunning { break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        throw TestbedError.stmfdDidNotStart(log())
    }

    func stopDaemon() {
        guard let p = stmfd, p.isRunning else { return }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        stmfd = nil
    }

    func log() -> String { (try? String(contentsOfFile: stmfdLog, encoding: .utf8)) ?? "" }
    func harnessLog() -> String { (try? String(contentsOf: dir.appendingPathComponent("harness.log"), encoding: .utf8)) ?? "" }

    /// A CLI inside the testbed, `--state-dir` after the subcommand.
    func tool(_ name: String, _ args: [String]) throws -> ProcessResult {
        try runTool(name, Array(args.prefix(1)) + ["--state-dir", stateDir] + Array(args.dropFirst()), env: environment)
    }

    func close() {
        stopDaemon()
        signal("end")
        harness.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }

    deinit {
        if let p = stmfd, p.isRunning { kill(p.processIdentifier, SIGKILL) }
        if harness.isRunning { harness.terminate() }
    }
}

/// `fcadm bind-port` / `unbind-port` against stmfd on fake HBAs: refusals, qla2xxx mode
/// handling in each module mode, persistence, and a bound port that goes away and returns.
@Suite("HBA port binding", .serialized)
struct BindingTests {
    static let qle2672 = "21000024ff7b1a3e"      // host6, qla2xxx in dual mode, host in initiator mode
    static let qle2562 = "21000024ff3d4c48"      // host7

    func json(_ r: ProcessResult) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], "\(r.out) \(r.err)")
    }

    @Test func dualModeHostIsSwitchedAndReturnedAndTheBindingPersists() throws {
        let tb = try Testbed("qle2672-16g")
        defer { tb.close() }
        try tb.startDaemon()
        #expect(tb.sysfs("/sys/class/scsi_host/host6/qlini_mode")?.hasSuffix("Current selection: enabled") == true)

        let bind = try tb.tool("fcadm", ["bind-port", "21:00:00:24:ff:7b:1a:3e"])
        #expect(bind.status == 0, "\(bind.err)\n\(tb.log())")
        #expect(bind.out.hasPrefix("wwn.\(Self.qle2672): bound to target mode (host6, qla2xxx)\n"))
        #expect(bind.out.contains("host6 qlini_mode enabled -> exclusive"))
        #expect(tb.sysfs("/sys/class/scsi_host/host6/qlini_mode") == "exclusive")

        // Shown as a target port everywhere, and refused a second time.
        let ports = try json(try tb.tool("fcinfo", ["hba-port", "--json"]))
        #expect(ports.first { $0["portWWN"] as? String == Self.qle2672 }?["portMode"] as? String == "Target")
        #expect(try tb.tool("fcinfo", ["hba-port", "-t"]).out.contains("HBA Port WWN: \(Self.qle2672)\n        Port Mode: Target\n"))
        let again = try tb.tool("fcadm", ["bind-port", "wwn.\(Self.qle2672)"])
        #expect(again.status == 1)
        #expect(again.err.contains("already bound"))

        // Kept across a restart and in an export.
        tb.stopDaemon()
        try tb.startDaemon()
        let list = try json(try tb.tool("fcadm", ["list-bindings", "--json"]))
        #expect(list.map { $0["target"] as? String } == ["wwn.\(Self.qle2672)"])
        #expect(list.first?["present"] as? Bool == true)
        #expect(list.first?["hostMode"] as? String == "exclusive")
        #expect(list.first?["modeStatus"] as? String == "ready")
        #expect(try tb.tool("stmfadm", ["export"]).out.contains("\"provider\" : \"qla2xxx\""))

        let unbind = try tb.tool("fcadm", ["unbind-port", Self.qle2672])
        #expect(unbind.status == 0, "\(unbind.err)")
        #expect(tb.sysfs("/sys/class/scsi_host/host6/qlini_mode") == "enabled")
        #expect(try tb.tool("fcinfo", ["hba-port", "-t"]).out == "No Adapters Found.\n")
        let twice = try tb.tool("fcadm", ["unbind-port", Self.qle2672])
        #expect(twice.status == 1)
        #expect(twice.err.contains("not bound"))
        #expect(try json(try tb.tool("fcadm", ["list-bindings", "--json"])).isEmpty)
    }

    @Test func refusals() throws {
        let tb = try Testbed("qle2742-32g")
        defer { tb.close() }
        try tb.startDaemon()
        let cases: [([String], String)] = [
            (["bind-port", "2100000000000009"], "no FC HBA port on this machine has this WWN"),
            (["bind-port", "2100000e1ec2a3f0"], "an NPIV port (host11) cannot be bound; bind its physical port 2100000e1ec2a300"),
            (["bind-port", "nonsense"], "invalid WWN"),
            (["unbind-port", "2100000e1ec2a300"], "not bound"),
        ]
        for (args, message) in cases {
            let r = try tb.tool("fcadm", args)
            #expect(r.status == 1, "\(args)")
            #expect(r.err.contains(message), "\(args): \(r.err)")
        }
        // A host in dual mode already: bound without a reset.
        let ok = try tb.tool("fcadm", ["bind-port", "2100000e1ec2a300"])
        #expect(ok.status == 0, "\(ok.err)")
        #expect(!ok.out.contains("qlini_mode"))
        #expect(tb.sysfs("/sys/class/scsi_host/host9/qlini_mode")?.hasSuffix("Current selection: dual") == true)
        #expect(try tb.tool("fcadm", ["list-bindings"]).out.contains("Mode Status: ready"))
    }

    @Test func initiatorOnlyDriversAreRefused() throws {
        for (fixture, wwn, driver) in [("lpfc-lpe32002", "100000109b3f2a18", "lpfc"), ("bfa-1860", "100000051ed46a20", "bfa")] {
            let tb = try Testbed(fixture)
            defer { tb.close() }
            try tb.startDaemon()
            let r = try tb.tool("fcadm", ["bind-port", wwn])
            #expect(r.status == 1)
            #expect(r.err.contains("cannot be a target: \(driver) is an initiator-only driver; only qla2xxx ports can be bound"), "\(r.err)")
            #expect(try json(try tb.tool("fcadm", ["list-bindings", "--json"])).isEmpty)
        }
    }

    @Test func enabledModuleSaysWhatToConfigure() throws {
        let tb = try Testbed("qle2562-8g", setup: DiscoveryTests.moduleParameter("enabled"))
        defer { tb.close() }
        try tb.startDaemon()
        let r = try tb.tool("fcadm", ["bind-port", Self.qle2562])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("fcadm: reload-required: qla2xxx was loaded with qlini_mode=enabled"))
        #expect(r.err.contains("`options qla2xxx qlini_mode=dual` in /etc/modprobe.d/qla2xxx.conf"))
        #expect(r.err.contains("update-initramfs -u"))
        let list = try tb.tool("fcadm", ["list-bindings"])
        #expect(list.out.contains("Mode Status: reload-required"))
        // With the module in exclusive mode the port can be a target as it is.
        let ex = try Testbed("qle2772-2281", setup: DiscoveryTests.moduleParameter("exclusive"))
        defer { ex.close() }
        try ex.startDaemon()
        let wwn = try #require(try json(try ex.tool("fcinfo", ["hba-port", "--json"])).first?["portWWN"] as? String)
        let b = try ex.tool("fcadm", ["bind-port", wwn])
        #expect(b.status == 0, "\(b.err)")
        #expect(b.err.isEmpty)
    }

    /// A bound port's HBA is removed while stmfd runs and returns (in initiator mode, as a
    /// re-probed qla2xxx host comes back): stmfd marks it absent, then present, and switches it again.
    @Test func boundPortThatDisappearsAndReturns() throws {
        // The QLE2672 function's devices, to add back after removing them.
        let fixture = try String(contentsOf: DiscoveryTests.fixtures.appendingPathComponent("qle2672-16g.umockdev"), encoding: .utf8)
        let function = "/devices/pci0000:80/0000:80:02.0/0000:83:00.0"
        let blocks = fixture.components(separatedBy: "\n\n").filter { $0.hasPrefix("P: \(function)") }
        #expect(!blocks.isEmpty)
        let fragment = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-fragment-\(UUID().uuidString.prefix(8)).umockdev")
        try (blocks.joined(separator: "\n\n") + "\n").write(to: fragment, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: fragment) }
        let tb = try Testbed("qle2672-16g", steps: [
            "wait-file bound", "remove /sys\(function)",
            "wait-file gone", "add-file \(fragment.path)",
        ])
        defer { tb.close() }
        try tb.startDaemon()
        #expect(try tb.tool("fcadm", ["bind-port", Self.qle2672]).status == 0)
        #expect(tb.sysfs("/sys/class/scsi_host/host6/qlini_mode") == "exclusive")
        tb.signal("bound")

        func binding() throws -> [String: Any]? { try json(try tb.tool("fcadm", ["list-bindings", "--json"])).first }
        func waitFor(_ what: String, _ cond: () throws -> Bool) throws -> Bool {
            for _ in 0..<300 { if try cond() { return true }; Thread.sleep(forTimeInterval: 0.05) }
            Issue.record("timed out waiting for \(what)\n\(tb.log())\nharness:\n\(tb.harnessLog())")
            return false
        }
        #expect(try waitFor("the port to be absent") { try binding()?["present"] as? Bool == false })
        #expect(try binding()?["modeStatus"] as? String == "absent")
        #expect(tb.log().contains("bound HBA port removed"))
        tb.signal("gone")
        #expect(try waitFor("the port to return") { try binding()?["present"] as? Bool == true })
        // It came back in initiator mode (the fixture's) and stmfd switched it again.
        #expect(try waitFor("the host switched again") { tb.sysfs("/sys/class/scsi_host/host6/qlini_mode") == "exclusive" })
        #expect(tb.log().contains("bound HBA port present"))
        #expect(tb.log().contains("bound HBA port returned in initiator mode"))
    }
}
