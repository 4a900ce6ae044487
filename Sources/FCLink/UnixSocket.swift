#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A failure to set up or use a Unix socket, with the system's reason.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let errno: Int32
    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }
    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// Unix stream socket set-up shared by the fabric, the ports and the control channel.
public enum UnixSocket {
    static func address(_ path: String) throws(SocketError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SocketError(operation: "socket path too long", path: path, errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
        }
        return addr
    }

    /// Connects to the stream socket at `path`.
    public static func connect(_ path: String) throws(SocketError) -> Int32 {
        var addr = try address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", path: path, errno: errno) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError(operation: "connect", path: path, errno: e)
        }
        tune(fd)
        return fd
    }

    /// Binds and listens on `path`, replacing a stale socket file (callers hold a lock first).
    public static func listen(_ path: String, mode: mode_t = 0o660) throws(SocketError) -> Int32 {
        var addr = try address(path)
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", path: path, errno: errno) }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0, Glibc.listen(fd, 128) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SocketError(operation: "bind", path: path, errno: e)
        }
        chmod(path, mode)
        return fd
    }

    /// Accepts one connection (blocking); nil when the listening socket was shut down.
    ///
    /// Running out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) does not end the
    /// listener: the pending connection stays in the backlog, `onShortage` hears of it (once per
    /// shortage, not once per retry) and accept is tried again every 100 ms until it succeeds.
    public static func accept(_ listener: Int32, onShortage: (Int32) -> Void = { _ in }) -> Int32? {
        var short = false
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd >= 0 {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)   // Glibc's overlay does not export accept4
                tune(fd)
                return fd
            }
            let e = errno
            switch e {
            case EINTR, ECONNABORTED, EPROTO:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                if !short { onShortage(e); short = true }
                usleep(100_000)
            default:
                return nil       // EINVAL after shutdown, EBADF after close
            }
        }
    }

    /// Larger socket buffers: a 1 MiB FCP_DATA sequence fits without a wake-up per 200 KiB.
    static func tune(_ fd: Int32) {
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Writes all of `bytes` (blocking); false when the peer is gone.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + off, bytes.count - off, Int32(MSG_NOSIGNAL))
            if n > 0 { off += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }
}

/// Where the emulated fabric listens unless told otherwise: `$FCFABRIC_SOCKET`, else
/// `$XDG_RUNTIME_DIR/fcfabric.sock`, else `/tmp/fcfabric-<uid>.sock`.
public enum FabricAddress {
    public static var defaultSocketPath: String {
        let env = ProcessInfo.processInfo.environment
        if let p = env["FCFABRIC_SOCKET"], !p.isEmpty { return p }
        if let d = env["XDG_RUNTIME_DIR"], !d.isEmpty { return d + "/fcfabric.sock" }
        return "/tmp/fcfabric-\(getuid()).sock"
    }
}

/// An exclusive advisory lock on `<path>.lock`, held for the life of the process, so a second
/// server cannot silently take over a live server's socket.
public enum SocketLock {
    public static func acquire(for path: String) throws(SocketError) -> Int32 {
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SocketError(operation: "open", path: lockPath, errno: errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let e = errno
            close(fd)
            throw SocketError(operation: "another server holds", path: lockPath, errno: e)
        }
        return fd
    }
}
