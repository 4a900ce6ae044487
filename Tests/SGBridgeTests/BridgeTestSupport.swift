import Foundation
import Synchronization
import Testing
@testable import SBD
@testable import SGBridge
@testable import STMF

// An STMF with one online target port, a RAM-backed SBD LU viewed at LUN 0 and one session
// (copied in spirit from Tests/SBDTests/EndToEndSupport.swift: test targets cannot share
// files), served to child processes through an SGBridgeServer and the preloaded shim.

final class NullPort: PortProvider {
    func online() async throws {}
    func offline() async {}
}

let bridgeTags = Atomic<UInt64>(1)
func nextTag() -> UInt64 { bridgeTags.add(1, ordering: .relaxed).newValue }

let socketCounter = Atomic<Int>(0)

/// A short socket path (sun_path holds 108 bytes).
func uniqueSocketPath() -> String {
    "/tmp/sgb-\(getpid())-\(socketCounter.add(1, ordering: .relaxed).newValue).sock"
}

/// The built shim, or nil when it is missing (tests then fail with a message saying so).
let shimPath: String? = SGBridgeEnvironment.locateShim()

struct LoopbackLU {
    let stmf = STMF()
    let session: Session
    let lu: SBDLogicalUnit
    static let guid = "600144F0C0FFEE00000000000000B41D"

    init(size: UInt64 = 16 << 20) async throws {
        let target = PortIdentifier.wwn(WWN(0x5000_0000_0000_0B01))
        let port = try stmf.registerTargetPort(target, provider: NullPort())
        try await stmf.setTargetPortState(target, online: true)
        var p = SBDProperties()
        p.size = size
        p.blockSize = 512
        p.guid = Self.guid
        p.serial = "SGB-0001"
        lu = try SBDLogicalUnit.create(properties: p, backing: .ram)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        let guid = lu.guid
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addViewEntry(lu: guid, lun: 0) }
        session = try port.createSession(initiator: .wwn(WWN(0x2100_0000_0000_0B01)))
        // A new nexus starts with unit attentions (power on / reset); a kernel would consume
        // them before user space sees the device.
        for _ in 0..<16 {
            let r = await session.execute(SGRequest(cdb: [0, 0, 0, 0, 0, 0]), lun: 0, tag: nextTag())
            if r.status == 0 { break }
        }
    }

    var handler: SGBridgeServer.Handler {
        let session = self.session
        return { request in await session.execute(request, lun: 0, tag: nextTag()) }
    }
}

struct ToolResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
    var description: String { "exit \(status)\(timedOut ? " (timed out)" : "")\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
}

/// A scratch directory removed on release.
final class Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sgb-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func toolPath(_ name: String) -> String? {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
        return dir + "/" + name
    }
    return nil
}

/// Runs `body` on a thread of its own, so blocking calls never hold a cooperative-pool thread
/// (the bridge's handlers need those to answer the very tool we are waiting for).
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let t = Thread { c.resume(with: Result { try body() }) }
        t.start()
    }
}

/// Runs `tool` with `environment`, killing it after `timeout` seconds.
func runTool(_ tool: String, _ args: [String], environment: [String: String], timeout: Double = 60,
             scratch: Scratch) async throws -> ToolResult {
    let outPath = scratch.path("out-\(UUID().uuidString)"), errPath = scratch.path("err-\(UUID().uuidString)")
    return try await offPool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: toolPath(tool) ?? "/usr/bin/" + tool)
        p.arguments = args
        p.environment = environment
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while p.isRunning {
            if Date() > deadline && !timedOut {
                timedOut = true
                kill(p.processIdentifier, SIGKILL)
            }
            usleep(2_000)
        }
        p.waitUntilExit()
        try out.close(); try err.close()
        return ToolResult(status: p.terminationStatus,
                          stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                          timedOut: timedOut)
    }
}

/// A bridge serving `handler` (by default a fresh LU) and the environment that points tools at it.
final class BridgeFixture: @unchecked Sendable {
    static let device = "/dev/sg-fcinit0"
    let scratch: Scratch
    let server: SGBridgeServer
    let environment: [String: String]
    var lu: LoopbackLU?

    init(handler: SGBridgeServer.Handler? = nil, lu: LoopbackLU? = nil) throws {
        guard let shimPath else {
            throw FixtureError("libfcinit-sgshim.so not found; build it with `swift build --product fcinit-sgshim` (tried: \(SGBridgeEnvironment.shimCandidates().joined(separator: ", ")))")
        }
        scratch = try Scratch()
        self.lu = lu
        let socket = uniqueSocketPath()
        guard let h = handler ?? lu?.handler else { throw FixtureError("no handler") }
        server = try SGBridgeServer(socketPath: socket, handler: h)
        server.start()
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: SGBridgeProtocol.debugVariable)
        environment = SGBridgeEnvironment(devicePath: Self.device, socketPath: socket, shimPath: shimPath).applied(to: env)
    }

    static func withLU(size: UInt64 = 16 << 20) async throws -> BridgeFixture {
        try BridgeFixture(lu: try await LoopbackLU(size: size))
    }

    func run(_ tool: String, _ args: [String], timeout: Double = 60) async throws -> ToolResult {
        try await runTool(tool, args, environment: environment, timeout: timeout, scratch: scratch)
    }

    deinit { server.stop() }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func patternBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var out = [UInt8](repeating: 0, count: n)
    for i in stride(from: 0, to: n, by: 8) {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for k in 0..<min(8, n - i) { out[i + k] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(k))) }
    }
    return out
}

/// A raw protocol client for tests that talk to the server without the shim. Its blocking
/// calls are made through `offPool`.
final class RawClient: @unchecked Sendable {
    let fd: Int32
    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in p.copyBytes(from: path.utf8); p[path.utf8.count] = 0 }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { close(fd); throw FixtureError("connect: \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count { let n = Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL)); if n <= 0 { return }; off += n }
        }
    }

    /// Exactly n bytes, or nil at end of stream / timeout.
    func receive(_ n: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var got = 0
        while got < n {
            let r = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, n - got, 0) }
            if r <= 0 { return nil }
            got += r
        }
        return out
    }

    func receiveReply() -> (header: SGBridgeProtocol.ReplyHeader, sense: [UInt8], data: [UInt8])? {
        guard let raw = receive(SGBridgeProtocol.replyHeaderSize),
              let h = try? raw.withUnsafeBytes({ try SGBridgeProtocol.decodeReplyHeader($0) }) else { return nil }
        guard let sense = h.senseLength > 0 ? receive(h.senseLength) : [],
              let data = h.dataInLength > 0 ? receive(h.dataInLength) : [] else { return nil }
        return (h, sense, data)
    }
}
