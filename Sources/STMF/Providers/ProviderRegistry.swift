/// The providers a service knows, by name: LU providers (`sbd`) and port providers (`fcemu`,
/// `qla2xxx`). Stored LUs and target ports name their provider; the service and the API look
/// the name up here and never reach a provider's own types.
public struct ProviderRegistry: Sendable {
    public private(set) var logicalUnitProviders: [String: any LUProvider] = [:]
    public private(set) var portProviders: [String: any PortProviderFactory] = [:]

    public enum RegistrationError: Error, Equatable, CustomStringConvertible {
        case invalidName(String)
        case duplicate(String)
        public var description: String {
            switch self {
            case let .invalidName(n): "'\(n)' is not a provider name (lowercase letters, digits and '-', 1 to 32)"
            case let .duplicate(n): "a provider named \(n) is already registered"
            }
        }
    }

    public init() {}

    public mutating func register(_ provider: any LUProvider) throws(RegistrationError) {
        try Self.check(provider.name, taken: logicalUnitProviders[provider.name] != nil)
        logicalUnitProviders[provider.name] = provider
    }

    public mutating func register(_ provider: any PortProviderFactory) throws(RegistrationError) {
        try Self.check(provider.name, taken: portProviders[provider.name] != nil)
        portProviders[provider.name] = provider
    }

    public func logicalUnitProvider(named name: String) -> (any LUProvider)? { logicalUnitProviders[name] }
    public func portProvider(named name: String) -> (any PortProviderFactory)? { portProviders[name] }

    /// LU provider names, sorted (for messages and listings).
    public var logicalUnitProviderNames: [String] { logicalUnitProviders.keys.sorted() }
    public var portProviderNames: [String] { portProviders.keys.sorted() }

    private static func check(_ name: String, taken: Bool) throws(RegistrationError) {
        guard (1...32).contains(name.utf8.count),
              name.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }) else {
            throw .invalidName(name)
        }
        if taken { throw .duplicate(name) }
    }
}

/// The management side of a port provider: how a service brings up the target ports it
/// stores under the provider's name (COMSTAR's port providers, fct's qlt and friends).
public protocol PortProviderFactory: Sendable {
    /// The registry name (`fcemu`), stored with every target port and shown by list-target.
    var name: String { get }
    var summary: String { get }
    /// The properties a stored port of this provider carries.
    var properties: [ProviderPropertyHelp] { get }
    /// Brings up a stored port: creates its `PortProvider` and registers it with `stmf`
    /// (offline). Nil when ports of this provider are not instantiated from the store (their
    /// provider registers them when it sees them).
    func start(_ port: StoredTargetPort, stmf: STMF) throws -> (any PortProvider)?
}

/// A target port as a service stores it.
public struct StoredTargetPort: Sendable, Hashable {
    public var name: PortIdentifier
    public var alias: String
    public var relativeID: UInt16
    public var properties: [String: String]

    public init(name: PortIdentifier, alias: String, relativeID: UInt16, properties: [String: String]) {
        self.name = name; self.alias = alias; self.relativeID = relativeID; self.properties = properties
    }
}
