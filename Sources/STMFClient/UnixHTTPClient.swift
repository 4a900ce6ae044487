#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import STMFAPI

/// Errors talking to stmfd (as opposed to errors stmfd reports, which are `APIError`).
public enum ClientError: Error, CustomStringConvertible, Equatable {
    case notRunning(socket: String, reason: String)
    case io(String)
    case badResponse(String)

    public var description: String {
        switch self {
        case let .notRunning(socket, reason): "cannot reach stmfd at \(socket): \(reason) (is stmfd running with this state directory?)"
        case let .io(m): "I/O error talking to stmfd: \(m)"
        case let .badResponse(m): "malformed response from stmfd: \(m)"
        }
    }
}

/// A small HTTP/1.1 client over the API's Unix socket: one request per connection, blocking.
/// The CLIs are short-lived processes; this keeps them free of an event loop.
public struct UnixHTTPClient: Sendable {
    public let socketPath: String
    public var timeoutSeconds: Int

    public init(socketPath: String, timeoutSeconds: Int = 600) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
    }

    public func send(method: String, path: String, body: [UInt8]? = nil, contentType: String = "application/json") throws(ClientError) -> Response {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard pathBytes.count < capacity else { throw .notRunning(socket: socketPath, reason: "socket path too long") }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw .notRunning(socket: socketPath, reason: String(cString: strerror(errno))) }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: stmfd\r\nConnection: close\r\nAccept: application/json\r\n"
        if let body {
            head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        } else if method != "GET" && method != "HEAD" {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        try writeAll(fd, Array(head.utf8) + (body ?? []))

        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io("read: \(String(cString: strerror(errno)))")
            }
            data.append(contentsOf: chunk[0..<n])
        }
        return try Self.parse(data)
    }

    /// Writes the request (no SIGPIPE: MSG_NOSIGNAL). A server that answers early and closes
    /// (413 for a body too large) ends the write without an error, so its answer is read.
    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(ClientError) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE || errno == ECONNRESET { return }
                throw .io("write: \(String(cString: strerror(errno)))")
            }
            off += n
        }
    }

    static func parse(_ data: [UInt8]) throws(ClientError) -> Response {
        guard let end = find(data, [13, 10, 13, 10]) else { throw .badResponse("no header terminator") }
        let headText = String(decoding: data[0..<end], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw .badResponse("bad status line") }
        var headers: [String: String] = [:]
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { continue }
            headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(data[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            body = try dechunk(body)
        } else if let cl = headers["content-length"], let n = Int(cl) {
            guard body.count >= n else { throw .badResponse("body shorter than Content-Length") }
            body = Array(body[0..<n])
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ b: [UInt8]) throws(ClientError) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while true {
            guard let lineEnd = find(b, [13, 10], from: i) else { throw .badResponse("bad chunk header") }
            let sizeText = String(decoding: b[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { throw .badResponse("bad chunk size") }
            i = lineEnd + 2
            if size == 0 { return out }
            guard i + size <= b.count else { throw .badResponse("truncated chunk") }
            out += b[i..<(i + size)]
            i += size + 2
        }
    }

    static func find(_ hay: [UInt8], _ needle: [UInt8], from start: Int = 0) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = start
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}
