import Foundation
import Testing

/// stmfd tells systemd it is ready (Type=notify) with a READY=1 datagram on $NOTIFY_SOCKET,
/// and says STOPPING=1 on SIGTERM.
@Suite struct SystemdNotifyTests {
    @Test func readyAndStoppingAreNotified() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let path = d.stateDir + ".notify"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: bytes) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(rc == 0)
        var tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try d.start(environment: ["NOTIFY_SOCKET": path])
        func receive() -> String {
            var buf = [UInt8](repeating: 0, count: 512)
            let n = recv(fd, &buf, buf.count, 0)
            return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
        }
        #expect(receive().hasPrefix("READY=1"))
        d.stop(SIGTERM)
        #expect(receive() == "STOPPING=1")
    }
}
