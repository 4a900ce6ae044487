import Foundation
import ProcessTestSupport
import Testing

/// A real stmfd on a temporary state directory.
final class DaemonHarness: @unchecked Sendable {
    let stateDir: String
    private(set) var process: Process?
    let logPath: String

    init(stateDir: String? = nil) throws {
        if let stateDir {
            self.stateDir = stateDir
        } else {
            let d = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-test-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            self.stateDir = d.path
        }
        logPath = self.stateDir + ".log"
    }

    var socketPath: String { stateDir + "/stmf.sock" }

    /// Starts stmfd and waits until its socket answers.
    /// With `openFileLimit`, stmfd runs under `prlimit --nofile=N:N` (soft and hard); with
    /// `umask`, under that umask (set by a shell that then execs it).
    func start(environment: [String: String] = [:], openFileLimit: Int? = nil, umask: String? = nil,
               arguments extra: [String] = []) throws {
        let p = Process()
        let stmfd = productsDirectory.appendingPathComponent("stmfd")
        if let openFileLimit {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            p.arguments = ["--nofile=\(openFileLimit):\(openFileLimit)", stmfd.path, "--state-dir", stateDir] + extra
        } else if let umask {
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", stmfd.path, "--state-dir", stateDir] + extra
        } else {
            p.executableURL = stmfd
            p.arguments = ["--state-dir", stateDir] + extra
        }
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
        for _ in 0..<400 {
            if let r = try? stmfadm(["list-state"]), r.status == 0 { return }
            if !p.isRunning { break }
            Thread.sleep(forTimeInterval: 0.025)
        }
        throw HarnessError.didNotStart(log: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    enum HarnessError: Error { case didNotStart(log: String) }

    /// Stops stmfd with `signal` (SIGTERM: clean; SIGKILL: crash) and waits for it.
    func stop(_ signal: Int32 = SIGTERM) {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, signal)
        p.waitUntilExit()
        process = nil
    }

    /// Runs a CLI with `--state-dir` after the subcommand name.
    func tool(_ name: String, _ args: [String]) throws -> ProcessResult {
        try runTool(name, Array(args.prefix(1)) + ["--state-dir", stateDir] + Array(args.dropFirst()))
    }
    func stmfadm(_ args: [String]) throws -> ProcessResult { try tool("stmfadm", args) }
    func sbdadm(_ args: [String]) throws -> ProcessResult { try tool("sbdadm", args) }
    func fcinfo(_ args: [String]) throws -> ProcessResult { try tool("fcinfo", args) }

    /// stmfadm that must succeed; returns stdout.
    @discardableResult
    func ok(_ args: [String], expectFailure: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try stmfadm(args)
        if expectFailure {
            #expect(r.status == 1, "stmfadm \(args.joined(separator: " ")) should fail", sourceLocation: sourceLocation)
        } else {
            #expect(r.status == 0, "stmfadm \(args.joined(separator: " ")) failed: \(r.err)", sourceLocation: sourceLocation)
        }
        return r.out
    }

    /// stmfadm that must fail with exit 1 and a message containing `message`.
    func refused(_ args: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try stmfadm(args)
        #expect(r.status == 1, "stmfadm \(args.joined(separator: " ")) should fail", sourceLocation: sourceLocation)
        #expect(r.err.contains(message), "stderr \(r.err.debugDescription) lacks \(message.debugDescription)", sourceLocation: sourceLocation)
        #expect(r.err.hasPrefix("stmfadm: "), sourceLocation: sourceLocation)
    }

    func cleanup() {
        stop()
        try? FileManager.default.removeItem(atPath: stateDir)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    deinit { stop(SIGKILL) }
}

/// A scratch directory for backing files.
func scratchDirectory() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-data-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    return d.path
}

func guids(_ listLU: String) -> [String] {
    listLU.split(separator: "\n").compactMap { l in l.hasPrefix("LU Name: ") ? String(l.dropFirst(9)) : nil }
}

/// systemd's side of `$NOTIFY_SOCKET`: a datagram socket bound at `path` that receives what
/// stmfd notifies (READY=1, WATCHDOG=1, STOPPING=1).
final class NotifyListener {
    let path: String
    private let fd: Int32

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw POSIXError(.init(rawValue: e) ?? .EIO)
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next datagram, or nil when none comes within `seconds`.
    func receive(within seconds: Double) -> String? {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buf = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buf, buf.count, 0)
        return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
    }
}
