import Foundation
import ProcessTestSupport
import STMFAPI
import STMFClient
import Testing

/// Every administrative action taken while fio writes and verifies through `fcinit exec` on
/// the LU or port it touches. Each action is idempotent or refused with a message; the
/// initiator sees only the standard outcomes (a unit attention, LOGICAL UNIT NOT SUPPORTED,
/// NOT READY, an exchange that fails and can be retried), never a verify mismatch and never a
/// command hung past its deadline; stmfd keeps running; data written before stays intact;
/// `fcinfo` and `stmfadm list-target` agree on the port's state.
@Suite("Administrative actions under I/O (processes)", .serialized)
struct AdminUnderIOTests {
    /// What fio may report for a given action.
    struct Allowed: OptionSet, Sendable {
        let rawValue: Int
        static let clean = Allowed(rawValue: 1)              // fio passes
        static let unitAttention = Allowed(rawValue: 2)      // sense key 6
        static let notReady = Allowed(rawValue: 4)           // sense key 2
        static let notSupported = Allowed(rawValue: 8)       // sense key 5 (LOGICAL UNIT NOT SUPPORTED)
        static let transport = Allowed(rawValue: 16)         // aborted or timed-out exchange, target gone
    }

    enum Outcome: Equatable { case clean, unitAttention, notReady, notSupported, transport, corruption(String), hung, other(String) }

    /// Classifies a fio run from its exit status and messages.
    static func outcome(_ r: ProcessResult) -> Outcome {
        if r.status == 0 { return .clean }
        if r.status == 124 { return .hung }
        let text = r.out + r.err
        if text.contains("verify:") || text.contains("bad magic") || text.contains("bad header") { return .corruption(String(text.suffix(600))) }
        let keys = Set(text.matches(of: /Sense Data \(\d+ bytes\): 7[01] 00 ([0-9a-f]{2})/).map { String($0.1) })
        if keys == ["06"] { return .unitAttention }
        if keys.isSubset(of: ["02", "06"]) && keys.contains("02") { return .notReady }
        if keys.isSubset(of: ["05", "06"]) && keys.contains("05") { return .notSupported }
        if keys.isEmpty && text.contains("io_u error") { return .transport }
        return .other(String(text.suffix(600)))
    }

    func permits(_ o: Outcome, _ a: Allowed) -> Bool {
        switch o {
        case .clean: a.contains(.clean)
        case .unitAttention: a.contains(.unitAttention)
        case .notReady: a.contains(.notReady) || a.contains(.unitAttention) && a.contains(.notSupported)
        case .notSupported: a.contains(.notSupported)
        case .transport: a.contains(.transport)
        case .corruption, .hung, .other: false
        }
    }

    /// The port's state as fcinfo and as list-target see it, lowercased.
    func portStates(_ san: SAN) throws -> (fcinfo: String, target: String) {
        let f = try san.run("fcinfo", ["hba-port", "--json"])
        let state = ((try? JSONSerialization.jsonObject(with: Data(f.out.utf8)) as? [[String: Any]])?.first?["state"] as? String) ?? "?"
        let t = try san.run("stmfadm", ["list-target", "-v"]).out
        let status = t.firstMatch(of: /Operational Status\s*: (\w+)/).map { String($0.1).lowercased() } ?? "?"
        return (state, status)
    }

    func waitOnline(_ san: SAN) throws -> Bool {
        for _ in 0..<300 {
            if try portStates(san).fcinfo == "online" { return true }
            usleep(50_000)
        }
        return false
    }

    /// fio writing and verifying (every 64 writes) for 4 s through `fcinit exec` as SAN.host,
    /// on a thread; `timeout` turns a hang into exit 124.
    func startFio(_ san: SAN) -> Shared<ProcessResult?> {
        let result = Shared<ProcessResult?>(nil)
        let environment = san.environment.merging(["FCINIT_WWPN": SAN.host]) { $1 }
        Thread {
            let r = (try? runTool("fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "timeout", "90",
                                             "fio", "--name=admin", "--filename=/dev/sg-fcinit0", "--ioengine=sg",
                                             "--rw=randwrite", "--bs=4k", "--iodepth=8", "--size=8m", "--time_based", "--runtime=4",
                                             "--verify=crc32c", "--verify_backlog=64", "--verify_fatal=1", "--verify_state_save=0",
                                             "--output-format=terse"],
                                  env: environment)) ?? ProcessResult(status: -1, out: "", err: "fcinit could not be started")
            result.withLock { $0 = r }
        }.start()
        return result
    }

    /// Bytes written to the target's LUs so far (stmfd's `stmf_written_bytes_total`).
    func writtenBytes(_ san: SAN) -> Double {
        let client = APIClient(stateDirectory: StateDirectory(path: san.stateDir))
        guard let raw = try? client.callRaw("GET", "/metrics") else { return 0 }
        return String(decoding: raw, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("stmf_written_bytes_total") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    /// Waits until fio's writes reach the LU (at least 64 KiB beyond `baseline`), so the action
    /// lands in the middle of its I/O however long fcinit and fio take to start on a loaded
    /// machine; records an issue when fio ended first or never wrote.
    func waitForWrites(_ san: SAN, beyond baseline: Double, _ fio: Shared<ProcessResult?>, _ name: String,
                       sourceLocation: SourceLocation) {
        let deadline = Date().addingTimeInterval(60)
        while fio.current == nil && Date() < deadline {
            if writtenBytes(san) >= baseline + 65536 { return }
            usleep(20_000)
        }
        Issue.record("\(name): fio \(fio.current == nil ? "wrote nothing within 60 s" : "ended before the action"): \(fio.current.map { String(($0.out + $0.err).suffix(400)) } ?? "")",
                     sourceLocation: sourceLocation)
    }

    /// fio's result once it ended (nil after 120 s: a hang the timeout did not catch).
    func waitForFio(_ result: Shared<ProcessResult?>) -> ProcessResult? {
        let deadline = Date().addingTimeInterval(120)
        while result.current == nil && Date() < deadline { usleep(50_000) }
        return result.current
    }

    /// One row of the table: provision, prewrite 1 MiB, start fio, act, let fio end, restore,
    /// check everything the suite promises.
    func row(_ name: String, allowed: Allowed, sourceLocation: SourceLocation = #_sourceLocation,
             act: (SAN) throws -> Void, restore: (SAN) throws -> Void = { _ in }) throws {
        let san = try SAN()
        try san.provision()
        #expect(try waitOnline(san), "\(name): port never came online", sourceLocation: sourceLocation)
        // 1 MiB at 12 MiB, outside fio's 8 MiB: it must read back unchanged afterwards.
        let keep = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let keepFile = san.dir + "/keep.bin", backFile = san.dir + "/back.bin"
        try Data(keep).write(to: URL(fileURLWithPath: keepFile))
        try san.ok("fcinit", ["write", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "24576", "--input", keepFile],
                   wwpn: SAN.host, sourceLocation: sourceLocation)
        let baseline = writtenBytes(san)
        let fioResult = startFio(san)
        waitForWrites(san, beyond: baseline, fioResult, name, sourceLocation: sourceLocation)
        try act(san)
        guard let r = waitForFio(fioResult) else { Issue.record("\(name): fio never ended", sourceLocation: sourceLocation); return }
        let o = Self.outcome(r)
        print("admin under I/O: \(name): fio \(o)")
        #expect(permits(o, allowed), "\(name): fio ended with \(o)", sourceLocation: sourceLocation)
        try restore(san)
        #expect(san.daemonRunning, "\(name): stmfd died", sourceLocation: sourceLocation)
        let states = try portStates(san)
        #expect(states.fcinfo == states.target, "\(name): fcinfo says \(states.fcinfo), list-target says \(states.target)",
                sourceLocation: sourceLocation)
        guard states.fcinfo == "online" else { return }
        // The data written before the action is intact, and the LU still serves a clean fio run.
        var read = ProcessResult(status: -1, out: "", err: "")
        for _ in 0..<3 {   // the first command after a change may meet a unit attention
            read = try san.run("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "24576", "--blocks", "2048",
                                          "--output", backFile], wwpn: SAN.host)
            if read.status == 0 { break }
        }
        #expect(read.status == 0, "\(name): read back failed: \(read.err)", sourceLocation: sourceLocation)
        if read.status == 0 {
            let back = [UInt8](try Data(contentsOf: URL(fileURLWithPath: backFile)))
            #expect(back == keep, "\(name): data outside fio's range changed", sourceLocation: sourceLocation)
        }
    }

    static let port = "wwn." + SAN.target

    /// `stmfadm`/`fcadm` as the administrator runs it; returns the result for the row to judge.
    @discardableResult
    func admin(_ san: SAN, tool: String = "stmfadm", _ args: [String], ok: Bool = true,
               refusal: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let r = try san.run(tool, args)
        if ok { #expect(r.status == 0, "\(tool) \(args.joined(separator: " ")): \(r.err)", sourceLocation: sourceLocation) }
        if let refusal {
            #expect(r.status != 0 && r.err.lowercased().contains(refusal), "\(tool) \(args.joined(separator: " ")) should be refused (\(refusal)): \(r.status) \(r.err)",
                    sourceLocation: sourceLocation)
        }
        return r
    }

    @Test func onlineTargetTwiceWhileOnline() throws {
        try row("online-target ×2", allowed: [.clean]) { san in
            try admin(san, ["online-target", Self.port])
            try admin(san, ["online-target", Self.port])
        }
    }

    @Test func offlineTargetTwiceThenOnline() throws {
        try row("offline-target ×2", allowed: [.clean, .transport, .unitAttention]) { san in
            try admin(san, ["offline-target", Self.port])
            try admin(san, ["offline-target", Self.port])
            let s = try portStates(san)
            #expect(s.fcinfo == "offline" && s.target == "offline", "after offline-target: \(s)")
        } restore: { san in
            try admin(san, ["online-target", Self.port])
            try admin(san, ["online-target", Self.port])
            let online = try waitOnline(san)
            #expect(online)
        }
    }

    @Test func offlineLUThenOnline() throws {
        try row("offline-lu / online-lu", allowed: [.clean, .notReady, .notSupported, .unitAttention, .transport]) { san in
            try admin(san, ["offline-lu", san.guid])
            try admin(san, ["offline-lu", san.guid])
            usleep(300_000)
            try admin(san, ["online-lu", san.guid])
            try admin(san, ["online-lu", san.guid])
        }
    }

    @Test func removeViewThenAddItBack() throws {
        try row("remove-view / add-view", allowed: [.clean, .notSupported, .unitAttention, .transport]) { san in
            try admin(san, ["remove-view", "-l", san.guid, "-a"])
            usleep(300_000)
            try admin(san, ["add-view", "-h", "hosts", "-n", "0", san.guid])
        }
    }

    @Test func removeHostGroupMemberThenAddIt() throws {
        try row("remove-hg-member / add-hg-member", allowed: [.clean, .notSupported, .unitAttention, .transport]) { san in
            try admin(san, ["remove-hg-member", "-g", "hosts", "wwn." + SAN.host])
            try admin(san, ["remove-hg-member", "-g", "hosts", "wwn." + SAN.host], ok: false, refusal: "not")
            usleep(300_000)
            try admin(san, ["add-hg-member", "-g", "hosts", "wwn." + SAN.host])
        }
    }

    @Test func deleteHostGroupInUseIsRefused() throws {
        try row("delete-hg of a group with views", allowed: [.clean]) { san in
            try admin(san, ["delete-hg", "hosts"], ok: false, refusal: "view")
        }
    }

    @Test func growTheLUAndRefuseAShrink() throws {
        try row("modify-lu -s grow / shrink", allowed: [.clean, .unitAttention]) { san in
            try admin(san, ["modify-lu", "-s", "32m", san.guid])
            try admin(san, ["modify-lu", "-s", "32m", san.guid])
            try admin(san, ["modify-lu", "-s", "8m", san.guid], ok: false, refusal: "shrink")
            let list = try san.ok("stmfadm", ["list-lu", "-v", san.guid]).out
            #expect(list.contains("33554432"), "size after grow: \(list)")
        }
    }

    @Test func deleteAMappedLU() throws {
        let san = try SAN()
        try san.provision()
        #expect(try waitOnline(san))
        let baseline = writtenBytes(san)
        let fioResult = startFio(san)
        waitForWrites(san, beyond: baseline, fioResult, "delete-lu", sourceLocation: #_sourceLocation)
        try admin(san, ["delete-lu", san.guid])
        try admin(san, ["delete-lu", san.guid], ok: false, refusal: "not found")
        guard let r = waitForFio(fioResult) else { Issue.record("fio never ended"); return }
        let o = Self.outcome(r)
        print("admin under I/O: delete-lu of a mapped LU: fio \(o)")
        #expect(permits(o, [.notSupported, .unitAttention, .transport]), "fio after delete-lu: \(o)")
        #expect(san.daemonRunning)
        // The LU is gone from the initiator's view; its file and blocks stay, and import-lu brings it back.
        let luns = try san.ok("fcinit", ["discover", "--json"], wwpn: SAN.host).out
        #expect(!luns.contains(san.guid.lowercased()) && !luns.contains(san.guid))
        try admin(san, ["import-lu", san.dir + "/lu0.img"])
        #expect(try san.ok("stmfadm", ["list-lu"]).out.contains(san.guid))
    }

    @Test func importReplaceUnderIO() throws {
        try row("import --replace", allowed: [.clean, .unitAttention, .notSupported, .notReady, .transport]) { san in
            let file = san.dir + "/config.export"
            try admin(san, ["export", file])
            try admin(san, ["import", "--replace", file])
            try admin(san, ["import", "--replace", file])
        } restore: { san in
            let online = try waitOnline(san)
            #expect(online)
        }
    }

    @Test func stmfdSIGTERMUnderIO() throws {
        try row("stmfd SIGTERM", allowed: [.clean, .transport, .unitAttention]) { san in
            #expect(san.terminateDaemon(within: 30), "stmfd did not exit within 30 s of SIGTERM with I/O in flight")
        } restore: { san in
            try san.startDaemon()
            let online = try waitOnline(san)
            #expect(online)
        }
    }
}
