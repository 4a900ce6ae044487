import SBD
import STMF

/// Everything stmfd's configuration store holds, as values: what `ConfigStore` persists and
/// what an export document (`ExportDocument`) carries.
public struct StoredConfiguration: Codable, Sendable, Equatable {
    public struct LU: Codable, Sendable, Equatable {
        public var guid: String
        public var file: String
        public var meta: String?
        public var size: UInt64
        public var properties: LUProperties
        public var online: Bool
        /// Persistent reservation state (APTPL), as kept in the LU metadata.
        public var reservations: [UInt8]?
        public init(guid: String, file: String, meta: String?, size: UInt64, properties: LUProperties, online: Bool, reservations: [UInt8]?) {
            self.guid = guid; self.file = file; self.meta = meta; self.size = size
            self.properties = properties; self.online = online; self.reservations = reservations
        }
    }
    public struct TargetPort: Codable, Sendable, Equatable {
        public var name: String
        public var provider: String
        public var alias: String
        public var properties: [String: String]
        public var online: Bool
        public var relativeID: UInt16
        public init(name: String, provider: String, alias: String, properties: [String: String], online: Bool, relativeID: UInt16) {
            self.name = name; self.provider = provider; self.alias = alias; self.properties = properties
            self.online = online; self.relativeID = relativeID
        }
    }

    public var logicalUnits: [LU] = []
    public var hostGroups: [GroupInfo] = []
    public var targetGroups: [GroupInfo] = []
    public var viewEntries: [ViewEntryInfo] = []
    public var targetPorts: [TargetPort] = []
    public var settings: [String: String] = [:]

    public init() {}
}

extension StoredConfiguration {
    /// The checks import makes of each logical unit before anything is stored: a valid GUID
    /// listed once, valid properties, and a size no larger than an LU can be (the store keeps
    /// it as a signed 64-bit integer).
    public func checkLogicalUnits() throws(APIError) {
        var seen = Set<String>()
        for lu in logicalUnits {
            guard LUGUID(lu.guid) != nil, seen.insert(lu.guid).inserted else {
                throw .badRequest("logical unit \(lu.guid) is invalid or listed twice")
            }
            do { try lu.properties.validate() } catch { throw .badRequest(error.description) }
            guard lu.size <= SBDProperties.maximumSize else {
                throw .badRequest("logical unit \(lu.guid) has a size of \(lu.size) bytes, larger than the \(SBDProperties.maximumSize) an LU can hold")
            }
        }
    }
}
