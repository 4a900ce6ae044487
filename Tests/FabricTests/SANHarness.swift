import Foundation
import ProcessTestSupport
import Testing

/// A whole emulated SAN as separate processes: `fcfabric`, `stmfd` with an emulated target
/// port, and the CLIs (`sbdadm`, `stmfadm`, `fcadm`, `fcinfo`, `fcinit`) as a user runs them.
final class SAN: @unchecked Sendable {
    static let target = "2100001B32A0D001"
    static let host = "2100001B32B0E001"
    static let host2 = "2100001B32B0E002"
    static let stranger = "2100001B32B0E0FF"

    let dir: String
    var fabricSocket: String { dir + "/fabric.sock" }
    var stateDir: String { dir + "/state" }
    var pcapPath: String { dir + "/capture.pcap" }
    private var fabric: Process?
    private var stmfd: Process?
    private(set) var guid = ""

    /// `resourceAllocationTimeout` (R_A_TOV, ms): the FC exchange timeout is twice it.
    init(zones: String? = nil, resourceAllocationTimeout: Int = 1000) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("san-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
        var args = ["--socket", fabricSocket, "--pcap", pcapPath, "--e-d-tov", "500", "--r-a-tov", String(resourceAllocationTimeout)]
        if let zones {
            try zones.write(toFile: dir + "/zones", atomically: true, encoding: .utf8)
            args += ["--zones", dir + "/zones"]
        }
        fabricArguments = args
        try startFabric()
        try startDaemon()
    }

    private var fabricArguments: [String] = []

    /// Starts (or restarts) the fabric with the arguments it was first given.
    func startFabric() throws {
        fabric = try spawn("fcfabric", fabricArguments, log: dir + "/fcfabric.log")
        try waitFor(fabricSocket)
    }

    /// Whether the stmfd this harness started is still running.
    var daemonRunning: Bool { stmfd?.isRunning ?? false }

    /// SIGTERM to stmfd; true when it exited within `seconds` (else it is killed).
    func terminateDaemon(within seconds: Double) -> Bool {
        guard let p = stmfd, p.isRunning else { return true }
        p.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        let clean = !p.isRunning
        if !clean { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        stmfd = nil
        return clean
    }

    /// Kills stmfd with SIGKILL, as a crash would, and waits for it to be gone.
    func killDaemon() {
        if let p = stmfd, p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        stmfd = nil
    }

    /// Kills the fabric with SIGKILL (its socket file stays behind, as after a crash).
    func killFabric() {
        if let p = fabric, p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        fabric = nil
    }

    func startDaemon() throws {
        try? FileManager.default.removeItem(atPath: stateDir + "/stmf.sock")   // left by a killed stmfd
        stmfd = try spawn("stmfd", ["--state-dir", stateDir], log: dir + "/stmfd.log")
        try waitFor(stateDir + "/stmf.sock")
    }

    func stopDaemon() {
        if let p = stmfd, p.isRunning { p.terminate(); p.waitUntilExit() }
        stmfd = nil
    }

    /// Stops the fabric (it flushes its capture on SIGTERM).
    func stopFabric() {
        if let p = fabric, p.isRunning { p.terminate(); p.waitUntilExit() }
        fabric = nil
    }

    private func spawn(_ tool: String, _ args: [String], log: String) throws -> Process {
        let p = Process()
        p.executableURL = productsDirectory.appendingPathComponent(tool)
        p.arguments = args
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = FileHandle(forWritingAtPath: log)
        handle?.seekToEndOfFile()       // a restart appends to the log
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return p
    }

    private func waitFor(_ path: String) throws {
        for _ in 0..<300 {
            if FileManager.default.fileExists(atPath: path) { return }
            usleep(20_000)
        }
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }

    var environment: [String: String] { ["STMF_STATE_DIR": stateDir, "FCFABRIC_SOCKET": fabricSocket] }

    /// Runs a CLI as a user would (state directory and fabric from the environment).
    @discardableResult
    func run(_ tool: String, _ args: [String], wwpn: String? = nil, extra: [String: String] = [:]) throws -> ProcessResult {
        var env = environment
        if let wwpn { env["FCINIT_WWPN"] = wwpn }
        for (k, v) in extra { env[k] = v }
        env["STMF_STATE_DIR"] = stateDir
        return try runTool(tool, args, env: env)
    }

    /// Runs a CLI and records an issue unless it exits 0.
    @discardableResult
    func ok(_ tool: String, _ args: [String], wwpn: String? = nil, extra: [String: String] = [:],
            sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let r = try run(tool, args, wwpn: wwpn, extra: extra)
        #expect(r.status == 0, "\(tool) \(args.joined(separator: " ")): \(r.err)", sourceLocation: sourceLocation)
        return r
    }

    /// A 16 MiB file LU, host group `hosts` with `members`, a view, the emulated target port.
    func provision(members: [String] = [SAN.host, SAN.host2]) throws {
        let created = try ok("sbdadm", ["create-lu", "-s", "16m", dir + "/lu0.img", "--json"])
        guid = created.out.firstMatch(of: /"guid"\s*:\s*"([0-9A-Fa-f]{32})"/).map { String($0.1) } ?? ""
        #expect(guid.count == 32, "sbdadm output: \(created.out)")
        try ok("stmfadm", ["create-hg", "hosts"])
        try ok("stmfadm", ["add-hg-member", "-g", "hosts"] + members.map { "wwn." + $0 })
        try ok("stmfadm", ["add-view", "-h", "hosts", guid])
        try ok("fcadm", ["create-emulated-port", "-p", SAN.target, "--fabric", fabricSocket])
    }

    /// `fcinit discover --json` as `wwpn`.
    func discover(as wwpn: String) throws -> [[String: Any]] {
        let r = try ok("fcinit", ["discover", "--json"], wwpn: wwpn)
        return (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]]) ?? []
    }

    deinit {
        stopDaemon()
        stopFabric()
        if ProcessInfo.processInfo.environment["SAN_KEEP"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}
