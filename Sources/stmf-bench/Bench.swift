import ArgumentParser
import Foundation
import SBD
import STMF
import STMFAPI
import STMFClient

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stmf-bench", abstract: "Benchmarks that print figures.",
        subcommands: [ConfigScale.self, CommandPath.self])
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func fmt(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }

/// Starts stmfd (from the same build directory) on `dir` and waits for its socket.
func startDaemon(_ dir: String) throws -> Process {
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let p = Process()
    p.executableURL = exe.appendingPathComponent("stmfd")
    p.arguments = ["--state-dir", dir, "--log-level", "warning"]
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let client = APIClient(stateDirectory: StateDirectory(path: dir))
    // Reloading a large configuration takes a while: wait up to five minutes.
    for _ in 0..<60_000 {
        if (try? client.call("GET", "/v1/state", as: ServiceState.self)) != nil { return p }
        if !p.isRunning { throw ValidationError("stmfd exited with status \(p.terminationStatus)") }
        Thread.sleep(forTimeInterval: 0.005)
    }
    stop(p)
    throw ValidationError("stmfd did not start within five minutes")
}

func stop(_ p: Process) {
    kill(p.processIdentifier, SIGTERM)
    p.waitUntilExit()
}

/// Creates N LUs with a view each, then times listing, export, restart (reload) and import.
struct ConfigScale: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Configuration scale: N LUs and N views.")
    @Option var count = 10_000

    func run() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var daemon = try startDaemon(dir)
        let client = APIClient(stateDirectory: StateDirectory(path: dir))
        print("configuration scale: \(count) RAM LUs, one view each")

        var t = now()
        for i in 0..<count {
            let p = [LUPropertyName.size: "1m", LUPropertyName.alias: "lu\(i)"]
            let info = try client.call("POST", "/v1/lus", body: CreateLURequest(file: "ram:lu\(i)", properties: p), as: LUInfo.self)
            _ = try client.call("POST", "/v1/lus/\(info.guid)/views", body: AddViewRequest(), as: ViewEntryInfo.self)
        }
        let create = now() - t
        print("  create \(count) LUs + views : \(fmt(create)) s (\(fmt(Double(count) / create, 0)) LU+view/s, each committed with fsync)")

        t = now()
        let all = try client.call("GET", "/v1/lus", as: [LUInfo].self)
        print("  list-lu (API)              : \(fmt((now() - t) * 1000, 1)) ms for \(all.count) LUs")
        t = now()
        let views = try client.call("GET", "/v1/views", as: [ViewEntryInfo].self)
        print("  list views (API)           : \(fmt((now() - t) * 1000, 1)) ms for \(views.count) views")
        t = now()
        let export = try client.send("GET", "/v1/export", nil)
        print("  export                     : \(fmt((now() - t) * 1000, 1)) ms, \(export.count) bytes")

        stop(daemon)
        t = now()
        daemon = try startDaemon(dir)
        print("  restart (reload everything): \(fmt((now() - t) * 1000, 1)) ms")
        let reloaded = try client.call("GET", "/v1/lus", as: [LUInfo].self)
        guard reloaded.count == count else { throw ValidationError("reloaded \(reloaded.count) LUs, expected \(count)") }

        _ = try client.send("POST", "/v1/import?replace=1", export, contentType: "application/octet-stream")
        t = now()
        _ = try client.send("POST", "/v1/import?replace=1", export, contentType: "application/octet-stream")
        print("  import --replace           : \(fmt((now() - t) * 1000, 1)) ms")
        stop(daemon)
    }
}

