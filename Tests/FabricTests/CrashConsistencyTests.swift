import Foundation
import ProcessTestSupport
import Testing

/// What a crash must not lose: stmfd killed with SIGKILL at random points while it acknowledges
/// writes and configuration changes, and initiators and the fabric killed mid-I/O. Each test
/// runs `$STMF_CRASH_ITERATIONS` rounds (a few in CI; `scripts/soak.sh` runs hundreds).
@Suite("Crash consistency (processes)", .serialized)
struct CrashConsistencyTests {
    static var iterations: Int {
        ProcessInfo.processInfo.environment["STMF_CRASH_ITERATIONS"].flatMap(Int.init) ?? 3
    }
    /// 4 KiB commands per round region.
    static let region = 256

    /// A process whose stdout is collected (the shell loops print what was acknowledged).
    final class Running: @unchecked Sendable {
        let process = Process()
        private let out = Pipe()
        private var collected = Data()
        private let group = DispatchGroup()

        init(_ san: SAN, wwpn: String, _ tool: String, _ args: [String]) throws {
            process.executableURL = tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : productsDirectory.appendingPathComponent(tool)
            process.arguments = args
            var env = ProcessInfo.processInfo.environment.merging(san.environment) { $1 }
            env["FCINIT_WWPN"] = wwpn
            process.environment = env
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            group.enter()
            DispatchQueue.global().async { [self] in
                collected = out.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }

        /// Ends the process and everything it started (SIGKILL, as a crash of the host would:
        /// a child left running would also keep the output pipe open) and returns its lines.
        func kill() -> [String] {
            for pid in [process.processIdentifier] + Self.descendants(of: process.processIdentifier) {
                Glibc.kill(pid, SIGKILL)
            }
            process.waitUntilExit()
            group.wait()
            return String(decoding: collected, as: UTF8.self).split(separator: "\n").map(String.init)
        }

        /// Every process below `pid`, from /proc (children first found, then theirs).
        static func descendants(of pid: Int32) -> [Int32] {
            var parent: [Int32: Int32] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let p = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, let pp = Int32(fields[1]) { parent[p] = pp }
            }
            var out: [Int32] = [], frontier = [pid]
            while let next = frontier.popLast() {
                let children = parent.filter { $0.value == next }.map(\.key)
                out += children
                frontier += children
            }
            return out
        }
    }

    func portState(_ san: SAN) throws -> [String: Any]? {
        let r = try san.run("fcinfo", ["hba-port", "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])?.first
    }

    func waitUntil(_ what: String, seconds: Double = 30, _ cond: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try cond() { return true }
            usleep(50_000)
        }
        Issue.record("timed out waiting for \(what)")
        return false
    }

    func sessionCount(_ san: SAN) throws -> Int? {
        let out = try san.run("stmfadm", ["list-target", "-v"]).out
        return out.firstMatch(of: /Sessions\s*: (\d+)/).flatMap { Int($0.1) }
    }

    /// A file LU with the given write-cache setting, viewed by every host, on the emulated port.
    func provision(_ san: SAN, writeCache: Bool) throws {
        try san.ok("stmfadm", ["create-lu", "-s", "16m", "-p", "wcd=\(!writeCache)", san.dir + "/crash.img"])
        let guid = try san.ok("stmfadm", ["list-lu"]).out.firstMatch(of: /([0-9A-F]{32})/).map { String($0.1) } ?? ""
        try san.ok("stmfadm", ["add-view", guid])
        try san.ok("fcadm", ["create-emulated-port", "-p", SAN.target, "--fabric", san.fabricSocket])
    }

    /// Rounds of: a loop of 4 KiB writes (each printed once acknowledged), stmfd killed at a
    /// random moment, stmfd restarted; then every acknowledged block must read back.
    func killDuringWrites(writeCache: Bool, durable: (Int) -> String) throws {
        let san = try SAN()
        try provision(san, writeCache: writeCache)
        var pattern = [UInt8](repeating: 0, count: 16 << 20)
        for i in stride(from: 0, to: pattern.count, by: 16) { pattern[i] = UInt8.random(in: 1...255) }
        let input = san.dir + "/pattern.bin"
        try Data(pattern).write(to: URL(fileURLWithPath: input))
        var acknowledged: [Int] = []
        let rounds = min(Self.iterations, (16 << 20) / 4096 / Self.region)
        for round in 0..<rounds {
            #expect(try waitUntil("the target port online") { try portState(san)?["state"] as? String == "online" })
            let first = round * Self.region
            let loop = "i=\(first); while [ $i -lt \(first + Self.region) ]; do "
                + "sg_dd if=\(input) of=\"$FCINIT_DEVICE\" bs=512 count=8 skip=$((i*8)) seek=$((i*8)) \(durable(0)) >/dev/null 2>&1 || exit 1; "
                + "\(durable(1)) echo $i; i=$((i+1)); done"
            let writer = try Running(san, wwpn: SAN.host, "fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0",
                                                                      "--", "sh", "-c", loop])
            usleep(UInt32.random(in: 300_000...1_500_000))
            san.killDaemon()
            let lines = writer.kill()
            let acked = lines.compactMap(Int.init)
            acknowledged += acked
            try san.startDaemon()
        }
        print("crash test (\(writeCache ? "cache enabled, FUA/SYNCHRONIZE CACHE" : "cache disabled")): stmfd killed \(rounds) times, \(acknowledged.count) acknowledged 4 KiB writes checked")
        #expect(acknowledged.count > rounds, "too few writes acknowledged for the test to mean anything")
        #expect(try waitUntil("the target port online") { try portState(san)?["state"] as? String == "online" })
        // Read back region by region (1 MiB per command, within the LU's maximum transfer length).
        var back: [UInt8] = []
        for round in 0..<rounds {
            let output = san.dir + "/back\(round).bin"
            try san.ok("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "\(round * Self.region * 8)",
                                  "--blocks", "\(Self.region * 8)", "--output", output], wwpn: SAN.host)
            back += [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data(count: Self.region * 4096))
        }
        var lost: [Int] = []
        for i in acknowledged where back[(i * 4096)..<((i + 1) * 4096)] != pattern[(i * 4096)..<((i + 1) * 4096)] {
            lost.append(i)
        }
        #expect(lost.isEmpty, "acknowledged 4 KiB blocks that did not survive kill -9: \(lost)")
    }

    @Test func acknowledgedWritesSurviveKillWithTheCacheDisabled() throws {
        try killDuringWrites(writeCache: false) { _ in "" }
    }

    @Test func fuaAndSynchronizedWritesSurviveKillWithTheCacheEnabled() throws {
        // Odd blocks written with FUA, even ones followed by SYNCHRONIZE CACHE before they count.
        try killDuringWrites(writeCache: true) { part in
            part == 0 ? "$( [ $((i % 2)) -eq 1 ] && echo fua=1 )"
                : "if [ $((i % 2)) -eq 0 ]; then sg_sync \"$FCINIT_DEVICE\" >/dev/null 2>&1 || exit 1; fi;"
        }
    }

    @Test func acknowledgedConfigurationChangesSurviveKill() throws {
        let san = try SAN()
        var acknowledged: [Int] = []
        let stmfadm = productsDirectory.appendingPathComponent("stmfadm").path
        let sbdadm = productsDirectory.appendingPathComponent("sbdadm").path
        for round in 0..<Self.iterations {
            let first = round * 100
            let progress = san.dir + "/progress\(round)"
            // Each step: an LU created, a host group with a member, a view of the LU for it.
            let loop = "i=\(first); while [ $i -lt \(first + 100) ]; do "
                + "g=$(\(sbdadm) create-lu -s 1m \(san.dir)/cfg$i.img | grep -o '[0-9A-Fa-f]\\{32\\}' | head -1) && [ -n \"$g\" ] || exit 1; "
                + "\(stmfadm) create-hg hg$i >/dev/null 2>&1 || exit 1; "
                + "\(stmfadm) add-hg-member -g hg$i wwn.21000000000$(printf %05x $i) >/dev/null 2>&1 || exit 1; "
                + "\(stmfadm) add-view -h hg$i $g >/dev/null 2>&1 || exit 1; "
                + "echo $i $g; echo $i >> \(progress); i=$((i+1)); done"
            let changer = try Running(san, wwpn: SAN.host, "/bin/sh", ["-c", loop])
            // The kill lands at a random point after the first step is acknowledged: a step is
            // four commands, which on a loaded 2-core machine can take over a second, so a kill
            // timed from the start alone could fall before any step in every round.
            #expect(try waitUntil("a first configuration change acknowledged", seconds: 60) {
                ((try? String(contentsOfFile: progress, encoding: .utf8)) ?? "").contains("\n")
            })
            usleep(UInt32.random(in: 0...1_500_000))
            san.killDaemon()
            acknowledged += changer.kill().compactMap { $0.split(separator: " ").first.flatMap { Int($0) } }
            try san.startDaemon()
            // The database opens and the service answers.
            #expect(try waitUntil("stmfd to answer") { try san.run("stmfadm", ["list-hg"]).status == 0 })
        }
        print("crash test (configuration): stmfd killed \(Self.iterations) times, \(acknowledged.count) acknowledged LU + group + member + view steps checked")
        #expect(acknowledged.count >= Self.iterations, "too few changes acknowledged for the test to mean anything")
        let export = try san.ok("stmfadm", ["export"]).out
        // An export is a checksummed header line, then the configuration as JSON.
        let body = export.drop { $0 != "\n" }
        guard let doc = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            Issue.record("export body is not JSON: \(export.prefix(300))"); return
        }
        let config = doc["configuration"] as? [String: Any] ?? doc
        let groups = (config["hostGroups"] as? [[String: Any]]) ?? []
        let views = (config["viewEntries"] as? [[String: Any]]) ?? []
        let lus = (config["logicalUnits"] as? [[String: Any]]) ?? []
        for i in acknowledged {
            let group = groups.first { $0["name"] as? String == "hg\(i)" }
            #expect((group?["members"] as? [String]) == ["wwn.21000000000" + String(format: "%05X", i)], "hg\(i) after kill -9: \(String(describing: group))")
            #expect(views.contains { $0["hostGroup"] as? String == "hg\(i)" }, "the view for hg\(i) is missing")
        }
        // Nothing half-applied: every view names an LU and a group that exist.
        let names = Set(groups.compactMap { $0["name"] as? String })
        let guids = Set(lus.compactMap { ($0["guid"] as? String)?.uppercased() })
        for v in views {
            if let h = v["hostGroup"] as? String { #expect(names.contains(h), "view of a missing group \(h)") }
            if let g = v["guid"] as? String ?? v["lu"] as? String { #expect(guids.contains(g.uppercased()), "view of a missing LU \(g)") }
        }
    }

    @Test func killedInitiatorsAndFabricLeaveNothingBehindInTheTarget() throws {
        let san = try SAN()
        try provision(san, writeCache: true)
        #expect(try waitUntil("the target port online") { try portState(san)?["state"] as? String == "online" })
        let io = "while :; do sg_dd if=/dev/zero of=\"$FCINIT_DEVICE\" bs=512 bpt=128 count=8192 >/dev/null 2>&1; done"
        // Initiators killed mid-I/O: their sessions and exchanges end on the target.
        for _ in 0..<Self.iterations {
            let a = try Running(san, wwpn: SAN.host, "fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c", io])
            let b = try Running(san, wwpn: SAN.host2, "fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c", io])
            #expect(try waitUntil("two sessions") { try sessionCount(san) == 2 })
            usleep(UInt32.random(in: 100_000...800_000))
            _ = a.kill(); _ = b.kill()
            #expect(try waitUntil("sessions to end") { try sessionCount(san) == 0 })
            #expect(try waitUntil("exchanges to end") { try portState(san)?["openExchanges"] as? Int == 0 })
        }
        // The fabric killed mid-I/O and restarted: the target port logs in again, nothing left open.
        for _ in 0..<Self.iterations {
            let a = try Running(san, wwpn: SAN.host, "fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c", io])
            #expect(try waitUntil("a session") { try sessionCount(san) == 1 })
            usleep(UInt32.random(in: 100_000...800_000))
            san.killFabric()
            _ = a.kill()
            #expect(try waitUntil("sessions to end with the link") { try sessionCount(san) == 0 })
            #expect(try waitUntil("exchanges to end with the link") { try portState(san)?["openExchanges"] as? Int == 0 })
            try san.startFabric()
            #expect(try waitUntil("the target port online again") { try portState(san)?["state"] as? String == "online" })
        }
        // And it still serves.
        try san.ok("fcinit", ["tur", "--target", "wwn." + SAN.target, "--lun", "0"], wwpn: SAN.host)
    }
}
