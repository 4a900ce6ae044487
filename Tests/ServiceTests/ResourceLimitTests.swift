import Foundation
import ProcessTestSupport
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

    @Test func apiConnectionsPastTheCapGetTooManyConnections() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        func connect() throws -> Int32 {
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
        // 128 clients that connect and say nothing hold every slot...
        var idle: [Int32] = []
        for _ in 0..<128 { idle.append(try connect()) }
        defer { for fd in idle { close(fd) } }
        Thread.sleep(forTimeInterval: 0.5)
        // ...so the next one is told why, in a complete HTTP answer, and closed.
        let extra = try connect()
        let request = Array("GET /v1/state HTTP/1.1\r\nHost: stmfd\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(extra, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(extra, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var answer = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(extra, &buf, buf.count, 0)
            if n <= 0 { break }
            answer += buf[0..<n]
        }
        close(extra)
        let text = String(decoding: answer, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 503"), "\(text)")
        #expect(text.contains("TOO_MANY_CONNECTIONS"))
        // The CLI says the same in words.
        let cli = try d.stmfadm(["list-lu"])
        #expect(cli.status == 1 && cli.err.contains("API connections open"), "\(cli.err)")
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
