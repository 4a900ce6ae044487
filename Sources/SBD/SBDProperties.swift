import STMF

/// The properties of an SBD logical unit, as `stmfadm create-lu -p name=value` takes them.
/// Coding keys are COMSTAR's property names.
public struct SBDProperties: Codable, Sendable, Equatable {
    /// LU size in bytes (a multiple of `blockSize`). Required for a new file smaller than it.
    public var size: UInt64?
    /// Logical block size: a power of two, 512...65536.
    public var blockSize: UInt32 = 512
    /// NAA-6 GUID (32 hex digits); generated when nil.
    public var guid: String?
    public var serial: String?
    public var vendorID: String = "STMF"
    public var productID: String = "SBD DISK"
    public var revision: String = "1.0"
    public var alias: String?
    public var managementURL: String?
    /// Write cache disabled: every write is durable before GOOD (WCE = !wcd).
    public var writeCacheDisabled: Bool = false
    /// Write protect: writes fail with DATA PROTECT / WRITE PROTECTED.
    public var writeProtect: Bool = false
    /// OUI (6 hex digits) for generated GUIDs.
    public var oui: String?
    /// Separate metadata file; when nil the metadata sits in front of the data.
    public var metaFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case size, blockSize = "blk", guid, serial, vendorID = "vid", productID = "pid", revision = "rev"
        case alias, managementURL = "mgmt-url", writeCacheDisabled = "wcd", writeProtect = "wp", oui, metaFile = "meta"
    }

    public init() {}

    public init(from d: any Decoder) throws {
        let c = try d.container(keyedBy: CodingKeys.self)
        size = try c.decodeIfPresent(UInt64.self, forKey: .size)
        blockSize = try c.decodeIfPresent(UInt32.self, forKey: .blockSize) ?? 512
        guid = try c.decodeIfPresent(String.self, forKey: .guid)
        serial = try c.decodeIfPresent(String.self, forKey: .serial)
        vendorID = try c.decodeIfPresent(String.self, forKey: .vendorID) ?? "STMF"
        productID = try c.decodeIfPresent(String.self, forKey: .productID) ?? "SBD DISK"
        revision = try c.decodeIfPresent(String.self, forKey: .revision) ?? "1.0"
        alias = try c.decodeIfPresent(String.self, forKey: .alias)
        managementURL = try c.decodeIfPresent(String.self, forKey: .managementURL)
        writeCacheDisabled = try c.decodeIfPresent(Bool.self, forKey: .writeCacheDisabled) ?? false
        writeProtect = try c.decodeIfPresent(Bool.self, forKey: .writeProtect) ?? false
        oui = try c.decodeIfPresent(String.self, forKey: .oui)
        metaFile = try c.decodeIfPresent(String.self, forKey: .metaFile)
    }

    /// Parses `-p name=value` options (COMSTAR names; booleans true/false, on/off, yes/no,
    /// 1/0; size accepts k/m/g/t suffixes) and validates the result.
    public init(options: [String: String]) throws(SBDError) {
        self.init()
        for (name, value) in options.sorted(by: { $0.key < $1.key }) {
            guard let key = CodingKeys(rawValue: name.lowercased()) else { throw .unknownProperty(name) }
            switch key {
            case .size:
                guard let v = Self.parseSize(value) else { throw .invalidProperty(name: name, value: value, reason: "not a size: " + Wording.sizeRule) }
                size = v
            case .blockSize:
                guard let v = UInt32(value) else { throw .invalidProperty(name: name, value: value, reason: "not a number") }
                blockSize = v
            case .guid: guid = value
            case .serial: serial = value
            case .vendorID: vendorID = value
            case .productID: productID = value
            case .revision: revision = value
            case .alias: alias = value
            case .managementURL: managementURL = value
            case .writeCacheDisabled: writeCacheDisabled = try Self.parseBool(name, value)
            case .writeProtect: writeProtect = try Self.parseBool(name, value)
            case .oui: oui = value
            case .metaFile: metaFile = value
            }
        }
        try validate()
    }

    /// COMSTAR boolean property values: true/on/yes/1/enabled, false/off/no/0/disabled.
    public static func parseBool(_ name: String, _ v: String) throws(SBDError) -> Bool {
        guard let b = LUPropertyName.parseBool(v) else { throw .invalidProperty(name: name, value: v, reason: "expected true or false") }
        return b
    }

    public static func parseSize(_ s: String) -> UInt64? { LUPropertyName.parseSize(s) }

    /// The properties as a provider property bag: every property that is set, named as
    /// `stmfadm create-lu -p` names it, sizes in bytes and booleans as true/false, so
    /// `SBDProperties(options: p.propertyBag) == p`.
    public var propertyBag: [String: String] {
        var bag: [String: String] = [
            LUPropertyName.blockSize: String(blockSize), LUPropertyName.vendorID: vendorID,
            LUPropertyName.productID: productID, LUPropertyName.revision: revision,
            LUPropertyName.writeCacheDisabled: String(writeCacheDisabled), LUPropertyName.writeProtect: String(writeProtect),
        ]
        bag[LUPropertyName.size] = size.map { String($0) }
        bag[LUPropertyName.guid] = guid
        bag[LUPropertyName.serial] = serial
        bag[LUPropertyName.alias] = alias
        bag[LUPropertyName.managementURL] = managementURL
        bag[LUPropertyName.oui] = oui
        bag[LUPropertyName.metaFile] = metaFile
        return bag
    }

    private static func printableASCII(_ s: String) -> Bool { s.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } }

    /// The largest LU: its data plus the in-band metadata area must fit a file offset (off_t,
    /// 2^63 - 1), in whole 1 MiB units so every block size divides it.
    public static let maximumSize: UInt64 = (UInt64(Int64.max) - (1 << 20)) / (1 << 20) * (1 << 20)

    /// Checks every property; the error names the property and the rule.
    public func validate() throws(SBDError) {
        guard blockSize >= 512, blockSize <= 65536, blockSize & (blockSize - 1) == 0 else {
            throw .invalidProperty(name: "blk", value: "\(blockSize)", reason: "must be a power of two from 512 to 65536")
        }
        if let size {
            guard size >= UInt64(blockSize), size % UInt64(blockSize) == 0 else {
                throw .invalidProperty(name: "size", value: "\(size)", reason: "must be a nonzero multiple of the block size \(blockSize)")
            }
            guard size <= Self.maximumSize else {
                throw .invalidProperty(name: "size", value: "\(size)", reason: "larger than the \(Self.maximumSize) bytes a logical unit can hold (file offsets are 63-bit)")
            }
        }
        if let guid, LUGUID(guid) == nil {
            throw .invalidProperty(name: "guid", value: guid, reason: Wording.guidRule)
        }
        func text(_ name: String, _ v: String?, max: Int, nonEmpty: Bool = false) throws(SBDError) {
            guard let v else { return }
            guard Self.printableASCII(v) else { throw .invalidProperty(name: name, value: v, reason: "must be printable ASCII") }
            guard v.utf8.count <= max else { throw .invalidProperty(name: name, value: v, reason: "longer than \(max) characters") }
            if nonEmpty && v.isEmpty { throw .invalidProperty(name: name, value: v, reason: "must not be empty") }
        }
        try text("vid", vendorID, max: 8, nonEmpty: true)
        try text("pid", productID, max: 16, nonEmpty: true)
        try text("rev", revision, max: 4, nonEmpty: true)
        try text("serial", serial, max: 252, nonEmpty: true)
        try text("alias", alias, max: 255)
        try text("mgmt-url", managementURL, max: 1024)
        if let oui {
            guard oui.utf8.count == 6, oui.allSatisfy(\.isHexDigit) else {
                throw .invalidProperty(name: "oui", value: oui, reason: "must be 6 hex digits")
            }
        }
        if let metaFile, metaFile.isEmpty { throw .invalidProperty(name: "meta", value: metaFile, reason: "must be a path") }
    }

    var ouiValue: UInt32 { oui.flatMap { UInt32($0, radix: 16) } ?? LUGUID.defaultOUI }
}

/// A change requested by modify-lu; nil fields are left alone.
public struct SBDModification: Sendable, Equatable {
    public var size: UInt64?
    public var alias: String??
    public var writeCacheDisabled: Bool?
    public var writeProtect: Bool?
    public var managementURL: String??
    public init(size: UInt64? = nil, alias: String?? = nil, writeCacheDisabled: Bool? = nil,
                writeProtect: Bool? = nil, managementURL: String?? = nil) {
        self.size = size; self.alias = alias; self.writeCacheDisabled = writeCacheDisabled
        self.writeProtect = writeProtect; self.managementURL = managementURL
    }
}
