import Foundation
import ProcessTestSupport
import STMFClient
import Testing

/// stmfd's own resources: open files (one per file LU) and API connections, each refused in
/// words at its limit while the service carries on.
@Suite(.serialized) struct ResourceLimitTests {
    @Test func fileLUsPastTheOpenFileLimitAreRefusedInWords() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try d.start(openFileLimit: 160)
        var created: [String] = []
        var refusal: ProcessResult?
        for i in 0..<300 {
            let r = try d.stmfadm(["create-lu", "-s", "1m", data + "/lu\(i).img"])
            if r.status != 0 { refusal = r; break }
            created.append(String(r.out.dropFirst(22).prefix(32)))
        }
        #expect(created.count >= 40, "only \(created.count) file LUs fitted in 160 open files")
        guard let refusal else { Issue.record("300 file LUs were created under a 160-file limit"); return }
        #expect(refusal.status == 1)
        #expect(refusal.err.contains("open files in use") && refusal.err.contains("LimitNOFILE"), "\(refusal.err)")
        // The service carries on: it lists, makes RAM LUs, and takes a file LU again once one is gone.
        #expect(try d.ok(["list-lu"]).contains(created[0]))
        try d.ok(["create-lu", "-s", "1m", "ram:scratch"])
        try d.ok(["delete-lu", created[0]])
        try d.ok(["create-lu", "-s", "1m", data + "/again.img"])
    }

    /// A Unix-socket connection to stmfd's API.
    static func connect(_ d: DaemonHarness) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: Array(d.socketPath.utf8) + [0]) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return fd
    }

    /// Reads until the peer closes or `seconds` pass; returns the bytes and whether it closed.
    static func readUntilClosed(_ fd: Int32, seconds: Int) -> ([UInt8], Bool) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n == 0 { return (answer, true) }
            if n < 0 { return (answer, false) }
            answer += buf[0..<n]
        }
    }

    /// An idle client and one that stops half-way through a request are closed after the idle
    /// timeout, and neither holds up a client that asks at the same time.
    @Test func idleAndHalfSentConnectionsAreClosed() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start(arguments: ["--api-idle-timeout", "2"])
        let idle = try Self.connect(d), slow = try Self.connect(d)
        defer { close(idle); close(slow) }
        let half = Array("POST /v1/host-groups HTTP/1.1\r\nHost: stmfd\r\nContent-Length: 40\r\n\r\n{\"na".utf8)
        _ = half.withUnsafeBytes { send(slow, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let start = Date()
        #expect(try d.stmfadm(["list-hg"]).status == 0)          // not held up by either
        #expect(Self.readUntilClosed(idle, seconds: 10).1, "an idle connection stayed open")
        #expect(Self.readUntilClosed(slow, seconds: 10).1, "a half-sent request kept its connection")
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 1.5 && waited < 8, "closed after \(waited) s with a 2 s idle timeout")
        #expect(try d.stmfadm(["list-hg"]).status == 0)
        let bad = try runTool("stmfd", ["--state-dir", d.stateDir, "--api-idle-timeout", "0"])
        #expect(bad.status != 0 && bad.err.contains("between 1 and 3600"), "\(bad.err)")
    }

    @Test func apiConnectionsPastTheCapGetTooManyConnections() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        func connect() throws -> Int32 { try Self.connect(d) }
        // 128 clients that connect and say nothing hold every slot...
        var idle: [Int32] = []
        for _ in 0..<128 { idle.append(try connect()) }
        defer { for fd in idle { close(fd) } }
        Thread.sleep(forTimeInterval: 0.5)
        // ...so the next one is told why, in a complete HTTP answer, and closed.
        let extra = try connect()
        let request = Array("GET /v1/state HTTP/1.1\r\nHost: stmfd\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(extra, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        let (answer, closed) = Self.readUntilClosed(extra, seconds: 10)
        close(extra)
        #expect(closed, "the refused connection was left open")
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 503"), "\(text)")
        #expect(text.contains("TOO_MANY_CONNECTIONS"))
        // The CLI says the same in words.
        let cli = try d.stmfadm(["list-lu"])
        #expect(cli.status == 1 && cli.err.contains("API connections open"), "CLI said: \(cli.err.debugDescription)")
        // Once the idle clients go, the service answers as before.
        for fd in idle { close(fd) }
        idle = []
        var listed = false
        for _ in 0..<100 where !listed {
            listed = (try d.stmfadm(["list-lu"])).status == 0
            if !listed { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(listed)
    }
}

extension ResourceLimitTests {
    /// Eight clients send 48 MiB import bodies at once: stmfd reads one body at a time
    /// (ImportGate), so its peak memory stays near one document's, not eight (measured: 143 MiB
    /// peak with the gate, 813 MiB without). Each import is refused for what it is (not an
    /// export document), and the service answers normally afterwards.
    @Test func concurrentImportsHoldOneBodyAtATime() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let pid = try #require(d.process?.processIdentifier)
        func peakKiB() -> Int {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        }
        let before = peakKiB()
        let body = [UInt8](repeating: 0x7B, count: 48 << 20)
        let group = DispatchGroup()
        // One slot per client, each written by its own thread only.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { slots.deallocate() }
        for i in 0..<8 {
            group.enter()
            Thread {
                let r = try? UnixHTTPClient(socketPath: d.socketPath).send(method: "POST", path: "/v1/import", body: body)
                slots[i] = r?.status ?? -1
                group.leave()
            }.start()
        }
        group.wait()
        let statuses = Array(slots)
        let peak = peakKiB()
        print("8 concurrent 48 MiB imports: stmfd peak RSS \(peak / 1024) MiB (\(before / 1024) MiB before)")
        #expect(statuses.allSatisfy { $0 == 422 }, "\(statuses)")
        #expect(peak - before < 320 << 10, "peak RSS grew by \((peak - before) / 1024) MiB")
        #expect(try d.ok(["list-state"]).contains("Config Status     : initialized"))
    }
}
