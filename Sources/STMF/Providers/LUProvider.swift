/// The management side of a logical-unit provider, as stmfd drives it by name: COMSTAR's LU
/// provider entry points behind `stmfadm create-lu`, `import-lu`, `modify-lu` and `delete-lu`
/// (sbd's ioctls). Properties travel as a bag of strings named as `stmfadm create-lu -p
/// name=value` names them; the provider alone knows which it takes, checks them and says what
/// they mean, so the service, the API and the CLIs carry bags without linking the provider.
public protocol LUProvider: Sendable {
    /// The registry name (`sbd`), stored with every LU and shown as list-lu's Provider Name.
    var name: String { get }
    /// What the provider is, in one line.
    var summary: String { get }
    /// Every property the provider takes, with help (completions, documentation, the API).
    var properties: [ProviderPropertyHelp] { get }
    /// The largest LU in bytes.
    var maximumSize: UInt64 { get }

    /// Checks a bag for `operation` and returns it normalised: names lowercased, values in one
    /// canonical spelling, and for create the defaults filled in. Normalising a normalised bag
    /// changes nothing. Refusals name the property and the rule.
    func normalize(_ properties: [String: String], for operation: LUOperation) throws(LUProviderError) -> [String: String]

    /// create-lu: `source` (what `stmfadm create-lu` names: a path, `ram:NAME`…) with every path
    /// in it or in the (normalised) properties made canonical, so the LU records where its data
    /// really is; refuses a source that cannot hold an LU.
    func resolve(source: String, properties: [String: String]) throws(LUProviderError) -> (source: String, properties: [String: String])

    /// The files an LU of `source` with these properties opens, as they are named (none for an
    /// LU that keeps no file): what no two LUs may share, what a requester must be allowed to
    /// open, and what costs a descriptor.
    func files(source: String, properties: [String: String]) -> [String]

    /// create-lu, with normalised and resolved properties. `overwrite`: the administrator
    /// allowed writing over a backing store that holds other data.
    func create(source: String, properties: [String: String], overwrite: Bool) throws(LUProviderError) -> any ManagedLogicalUnit

    /// import-lu: brings back an LU from what its backing store holds.
    func importLU(source: String, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit

    /// Reopens a stored LU at start-up or configuration import (`size` and `properties` as the
    /// store keeps them).
    func open(guid: LUGUID, source: String, size: UInt64, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit
}

/// A live LU of a provider, as the service manages it.
public protocol ManagedLogicalUnit: Sendable {
    /// What STMF registers and sends commands to.
    var logicalUnit: any LogicalUnit { get }
    /// Capacity in bytes.
    var size: UInt64 { get }
    /// Every property, normalised (what the store keeps and list-lu shows).
    var properties: [String: String] { get }
    /// Persistent reservation state kept with the LU (APTPL), if any, for export.
    var reservations: [UInt8]? { get }
    /// modify-lu with a bag normalised for `.modify`; the change is durable when this returns.
    func modify(_ properties: [String: String]) async throws(LUProviderError)
    /// Service shutdown or delete-lu: flush and release; the LU can be imported again.
    func shutdown() async
    /// Releases the LU at once; `eraseMetadata` also makes its backing store no longer
    /// importable (a create-lu that could not be committed leaves nothing behind).
    func delete(eraseMetadata: Bool)
    /// Calls `lost` once, with the reason, if the LU's store goes away while it runs (a
    /// pass-through device unplugged): the service then takes the LU offline until a reopen
    /// through the provider brings it back.
    func watchAvailability(_ lost: @escaping @Sendable (String) -> Void)
}

public extension ManagedLogicalUnit {
    var guid: LUGUID { logicalUnit.guid }
    /// By default an LU does not lose its store while it runs.
    func watchAvailability(_ lost: @escaping @Sendable (String) -> Void) {}
}

/// What a property bag is checked for.
public enum LUOperation: String, Sendable, Hashable, CaseIterable {
    case create, modify, `import`
}

/// A property a provider takes, for completions and documentation.
public struct ProviderPropertyHelp: Sendable, Hashable {
    public var name: String
    public var help: String
    /// The operations that take it.
    public var operations: Set<LUOperation>

    public init(_ name: String, _ help: String, operations: Set<LUOperation> = [.create]) {
        self.name = name; self.help = help; self.operations = operations
    }
}

/// A provider's refusal or failure: a stable code, a message for the administrator, and what
/// kind of problem it is (the service turns the kind into an HTTP status).
public struct LUProviderError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The request is wrong (a property, a path): 400.
        case invalidRequest
        /// It conflicts with what exists (data in the way, already initialised): 409.
        case conflict
        /// The file system refused the service: 403.
        case permissionDenied
        /// No room on the backing store: 507.
        case noSpace
        /// What the backing store holds is damaged or foreign: 422.
        case invalidData
        /// The machine failed (I/O): 500.
        case failed
    }

    public var kind: Kind
    public var code: String
    public var message: String

    public init(_ kind: Kind, code: String, _ message: String) {
        self.kind = kind; self.code = code; self.message = message
    }

    public var description: String { message }
}

/// COMSTAR's property names and value syntax shared by every LU provider (`stmfadm create-lu
/// -p`), so the CLIs and the service read them without linking a provider.
public enum LUPropertyName {
    public static let alias = "alias"
    public static let blockSize = "blk"
    public static let guid = "guid"
    /// create-lu only: the host id (8 hex digits) a generated GUID carries instead of this
    /// host's.
    public static let hostID = "host-id"
    public static let managementURL = "mgmt-url"
    public static let metaFile = "meta"
    public static let oui = "oui"
    public static let productID = "pid"
    public static let revision = "rev"
    public static let serial = "serial"
    public static let size = "size"
    public static let vendorID = "vid"
    public static let writeCacheDisabled = "wcd"
    public static let writeProtect = "wp"

    /// A boolean property value: true/on/yes/1/enabled or false/off/no/0/disabled.
    public static func parseBool(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "true", "on", "yes", "1", "enabled": true
        case "false", "off", "no", "0", "disabled": false
        default: nil
        }
    }

    /// A size in bytes with an optional k/m/g/t/p/e suffix (powers of 1024, as libstmf's
    /// strToShift reads them); nil when it is not one or overflows.
    public static func parseSize(_ s: String) -> UInt64? {
        let lower = s.lowercased()
        var mult: UInt64 = 1
        var digits = Substring(lower)
        if let last = lower.last, let shift = ["k": 10, "m": 20, "g": 30, "t": 40, "p": 50, "e": 60][String(last)] {
            mult = 1 << UInt64(shift); digits = lower.dropLast()
        }
        guard let v = UInt64(digits) else { return nil }
        let (r, o) = v.multipliedReportingOverflow(by: mult)
        return o ? nil : r
    }
}
