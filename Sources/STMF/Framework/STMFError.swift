/// Refusals of framework operations.
public enum STMFError: Error, Hashable, Sendable, CustomStringConvertible {
    case logicalUnitExists(LUGUID)
    case logicalUnitNotFound(LUGUID)
    case targetPortExists(PortIdentifier)
    case targetPortNotFound(PortIdentifier)
    case targetPortNotOnline(PortIdentifier)
    case sessionExists(initiator: PortIdentifier, port: PortIdentifier)
    case view(ViewError)
    case providerFailed(String)

    public var code: String {
        switch self {
        case .logicalUnitExists: "LU_EXISTS"
        case .logicalUnitNotFound: "LU_NOT_FOUND"
        case .targetPortExists: "TARGET_EXISTS"
        case .targetPortNotFound: "TARGET_NOT_FOUND"
        case .targetPortNotOnline: "TARGET_NOT_ONLINE"
        case .sessionExists: "SESSION_EXISTS"
        case let .view(v): v.code
        case .providerFailed: "PROVIDER_FAILED"
        }
    }

    public var description: String {
        switch self {
        case let .logicalUnitExists(g): "\(g): logical unit already registered"
        case let .logicalUnitNotFound(g): "\(g): logical unit not found"
        case let .targetPortExists(p): "\(p): target already registered"
        case let .targetPortNotFound(p): "\(p): target not found"
        case let .targetPortNotOnline(p): "\(p): target is not online"
        case let .sessionExists(i, p): "\(i): already logged in to \(p)"
        case let .view(v): v.description
        case let .providerFailed(m): "provider failed: \(m)"
        }
    }
}
