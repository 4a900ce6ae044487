import STMF
import STMFAPI

/// A refusal with its HTTP status: 400 for bad input, 404 for unknown objects, 409 for
/// conflicts with the current configuration, 500 for failures of the machine.
public struct ServiceError: Error, CustomStringConvertible, Sendable {
    public var httpStatus: Int
    public var api: APIError

    public init(_ status: Int, _ code: String, _ message: String) {
        self.init(status, APIError(code: code, message: message))
    }

    public init(_ status: Int, _ api: APIError) {
        self.httpStatus = status
        self.api = api
    }

    /// An LU provider's refusal, with the status its kind calls for.
    public init(_ e: LUProviderError) {
        let status: Int = switch e.kind {
        case .invalidRequest: 400
        case .conflict: 409
        case .permissionDenied: 403
        case .noSpace: 507
        case .invalidData: 422
        case .failed: 500
        }
        self.init(status, e.code, e.message)
    }

    public var description: String { api.message }

    public static func badRequest(_ m: String, code: String = "BAD_REQUEST") -> ServiceError { ServiceError(400, code, m) }
    public static func notFound(_ m: String, code: String = "NOT_FOUND") -> ServiceError { ServiceError(404, code, m) }
    public static func conflict(_ m: String, code: String) -> ServiceError { ServiceError(409, code, m) }
    public static func storeFailed(_ error: any Error) -> ServiceError {
        ServiceError(500, "STORE_FAILED", "configuration store write failed, nothing was changed: \(error)")
    }

    public init(_ e: ViewError) {
        let status: Int = switch e {
        case .invalidGroupName, .lunOutOfRange: 400
        case .hostGroupNotFound, .targetGroupNotFound, .memberNotFound, .viewEntryNotFound, .noViews: 404
        default: 409
        }
        self.init(status, e.code, e.description)
    }

    public init(_ e: STMFError) {
        switch e {
        case let .view(v): self.init(v)
        case .logicalUnitNotFound, .targetPortNotFound: self.init(404, e.code, e.description)
        case .providerFailed: self.init(500, e.code, e.description)
        default: self.init(409, e.code, e.description)
        }
    }
}
