import STMF

/// Everything stmfd's configuration store holds, as values: what `ConfigStore` persists and
/// what an export document (`ExportDocument`) carries.
public struct StoredConfiguration: Codable, Sendable, Equatable {
    /// A logical unit: its provider by name and the provider's property bag, with what every
    /// LU has (GUID, source, size, desired state, reservations).
    public struct LU: Codable, Sendable, Equatable {
        public var guid: String
        /// The LU provider's registry name.
        public var provider: String
        /// What the provider made the LU from (for `sbd`: the backing file, device or `ram:NAME`).
        public var file: String
        public var size: UInt64
        /// Every property, as the provider normalised them.
        public var properties: [String: String]
        public var online: Bool
        /// Persistent reservation state (APTPL), as kept in the LU metadata.
        public var reservations: [UInt8]?
        public init(guid: String, provider: String = defaultLUProvider, file: String, size: UInt64, properties: [String: String],
                    online: Bool, reservations: [UInt8]?) {
            self.guid = guid; self.provider = provider; self.file = file; self.size = size
            self.properties = properties; self.online = online; self.reservations = reservations
        }

        enum CodingKeys: String, CodingKey {
            case guid, provider, file, size, properties, online, reservations
            /// Format 1: the meta file, also under `properties`.
            case meta
        }

        /// Reads both shapes: format 2's, and format 1's, where every LU was SBD's (no
        /// `provider`), its properties SBD's typed JSON, and the meta file also a field.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            guid = try c.decode(String.self, forKey: .guid)
            provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? defaultLUProvider
            file = try c.decode(String.self, forKey: .file)
            size = try c.decode(UInt64.self, forKey: .size)
            var bag = try PropertyBag.decodeIfPresent(c, forKey: .properties) ?? [:]
            if let meta = try c.decodeIfPresent(String.self, forKey: .meta), bag[LUPropertyName.metaFile] == nil {
                bag[LUPropertyName.metaFile] = meta
            }
            properties = bag
            online = try c.decode(Bool.self, forKey: .online)
            reservations = try c.decodeIfPresent([UInt8].self, forKey: .reservations)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(guid, forKey: .guid)
            try c.encode(provider, forKey: .provider)
            try c.encode(file, forKey: .file)
            try c.encode(size, forKey: .size)
            try c.encode(properties, forKey: .properties)
            try c.encode(online, forKey: .online)
            try c.encodeIfPresent(reservations, forKey: .reservations)
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
    /// listed once, a registered provider, properties that provider accepts, and a size no
    /// larger than an LU of it can be (the store keeps it as a signed 64-bit integer). Returns
    /// the configuration with each LU's properties as its provider normalises them.
    public func checkingLogicalUnits(with providers: ProviderRegistry) throws(APIError) -> StoredConfiguration {
        var out = self
        var seen = Set<String>()
        for (i, lu) in logicalUnits.enumerated() {
            guard LUGUID(lu.guid) != nil, seen.insert(lu.guid).inserted else {
                throw .badRequest("logical unit \(lu.guid) is invalid or listed twice")
            }
            guard let provider = providers.logicalUnitProvider(named: lu.provider) else {
                throw .unknownProvider(lu.provider, known: providers.logicalUnitProviderNames)
            }
            do { out.logicalUnits[i].properties = try provider.normalize(lu.properties, for: .create) } catch {
                throw .badRequest(error.message)
            }
            let limit = min(provider.maximumSize, UInt64(Int64.max))
            guard lu.size <= limit else {
                throw .badRequest("logical unit \(lu.guid) has a size of \(lu.size) bytes, larger than the \(limit) an LU can hold")
            }
        }
        return out
    }
}
