import Foundation
import STMFAPI

/// Typed access to stmfd's management API.
public struct APIClient: Sendable {
    public let http: UnixHTTPClient

    /// `timeoutSeconds`: how long a request may wait for stmfd (completions ask with 1 s).
    public init(stateDirectory: StateDirectory, timeoutSeconds: Int = 600) {
        http = UnixHTTPClient(socketPath: stateDirectory.socketPath, timeoutSeconds: timeoutSeconds)
    }

    /// Either stmfd's own refusal (`APIError`) or a transport problem (`ClientError`).
    public enum Failure: Error, CustomStringConvertible {
        case api(APIError, status: Int)
        case client(ClientError)
        public var description: String {
            switch self {
            case let .api(e, _): e.message
            case let .client(e): e.description
            }
        }
    }

    public func call<T: Decodable>(_ method: String, _ path: String, body: (some Encodable)? = Optional<Int>.none,
                                   as: T.Type = T.self) throws(Failure) -> T {
        let raw = try callRaw(method, path, body: body)
        do { return try JSONDecoder().decode(T.self, from: Data(raw)) } catch {
            throw .client(.badResponse("cannot decode \(T.self): \(error)"))
        }
    }

    public func callRaw(_ method: String, _ path: String, body: (some Encodable)? = Optional<Int>.none) throws(Failure) -> [UInt8] {
        var bytes: [UInt8]?
        if let body {
            do { bytes = Array(try JSONEncoder().encode(body)) } catch { throw .client(.io("cannot encode request: \(error)")) }
        }
        return try send(method, path, bytes)
    }

    public func send(_ method: String, _ path: String, _ bytes: [UInt8]?, contentType: String = "application/json") throws(Failure) -> [UInt8] {
        let r: UnixHTTPClient.Response
        do { r = try http.send(method: method, path: path, body: bytes, contentType: contentType) } catch { throw .client(error) }
        guard (200..<300).contains(r.status) else {
            if let e = try? JSONDecoder().decode(APIError.self, from: Data(r.body)) { throw .api(e, status: r.status) }
            throw .api(APIError(code: "HTTP_\(r.status)", message: String(decoding: r.body, as: UTF8.self)), status: r.status)
        }
        return r.body
    }

    /// Percent-encodes one path segment.
    public static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
