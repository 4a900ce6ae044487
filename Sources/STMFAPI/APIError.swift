/// The body of every error response: a stable machine-readable code and a human message.
public struct APIError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    // Codes used outside STMF's own error types.
    public static func badRequest(_ message: String) -> APIError { APIError(code: "BAD_REQUEST", message: message) }
    public static func notFound(_ message: String) -> APIError { APIError(code: "NOT_FOUND", message: message) }
    public static func internalError(_ message: String) -> APIError { APIError(code: "INTERNAL", message: message) }
}

extension APIError {
    /// A provider name the registry does not hold (400).
    public static func unknownProvider(_ name: String, known: [String]) -> APIError {
        APIError(code: "UNKNOWN_PROVIDER", message: "\(name): unknown provider (registered: \(known.joined(separator: ", ")))")
    }
}
