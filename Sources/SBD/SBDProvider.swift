#if canImport(Glibc)
import Glibc
#endif
import STMF

/// SBD as an LU provider of stmfd's registry, under the name `sbd`: create-lu, import-lu,
/// modify-lu and delete-lu from property bags named as `stmfadm create-lu -p` names them
/// (`SBDProperties` is their typed form). The source of an LU is its backing file or block
/// device (an absolute path), or `ram:NAME` for a RAM LU.
public struct SBDProvider: LUProvider {
    public static let name = "sbd"
    /// The source of a RAM logical unit: `ram:NAME`.
    public static let ramPrefix = "ram:"

    public init() {}

    public var name: String { Self.name }
    public var summary: String { "disk logical units on files, block devices and RAM (COMSTAR's sbd)" }
    public var maximumSize: UInt64 { SBDProperties.maximumSize }
    public var properties: [ProviderPropertyHelp] { Self.help }

    static let help: [ProviderPropertyHelp] = [
        .init("alias", "a name for the LU (printable ASCII, up to 255 characters); list-lu shows the data file when it is unset",
              operations: [.create, .modify]),
        .init("blk", "logical block size in bytes: a power of two from 512 to 65536 (default 512)"),
        .init("guid", "the LU's NAA type 6 GUID, 32 hex digits (default: generated)"),
        .init("host-id", "the host id a generated GUID carries, 8 hex digits (default: this host's, gethostid)"),
        .init("meta", "a separate metadata file (default: the metadata sits in front of the data)", operations: [.create, .import]),
        .init("mgmt-url", "management URL (printable ASCII, up to 1024 characters)", operations: [.create, .modify]),
        .init("oui", "the IEEE OUI of a generated GUID, 6 hex digits"),
        .init("pid", "INQUIRY product identification, up to 16 characters (default SBD DISK)"),
        .init("rev", "INQUIRY product revision level, up to 4 characters (default 1.0)"),
        .init("serial", "unit serial number (printable ASCII, up to 252 characters)"),
        .init("size", "size in bytes, k/m/g/t suffixes allowed, a multiple of blk (default: the file's size; modify-lu only grows it)",
              operations: [.create, .modify]),
        .init("vid", "INQUIRY vendor identification, up to 8 characters (default STMF)"),
        .init("wcd", "write cache disabled: every write is durable before it completes (true/false, default false)",
              operations: [.create, .modify]),
        .init("wp", "write protect (true/false, default false)", operations: [.create, .modify]),
    ]

    public func normalize(_ properties: [String: String], for operation: LUOperation) throws(LUProviderError) -> [String: String] {
        do throws(SBDError) {
            switch operation {
            case .create: return try Self.creation(properties)
            case .modify: return try Self.modification(properties).bag
            case .import:
                var out: [String: String] = [:]
                for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
                    guard name.lowercased() == LUPropertyName.metaFile else {
                        throw .invalidProperty(name: name, value: value, reason: "import-lu takes no property but meta")
                    }
                    guard !value.isEmpty else { throw .invalidProperty(name: name, value: value, reason: "must be a path") }
                    out[LUPropertyName.metaFile] = value
                }
                return out
            }
        } catch { throw error.providerError }
    }

    /// create-lu's bag: checked, defaults filled in. `host-id` is used up here: a GUID is
    /// generated with it (unless `guid` names one), as COMSTAR's sbd does, so the bag that is
    /// stored names the GUID and not the host id.
    static func creation(_ properties: [String: String]) throws(SBDError) -> [String: String] {
        var options = properties
        var hostID: UInt32?
        if let key = options.keys.first(where: { $0.lowercased() == LUPropertyName.hostID }), let v = options.removeValue(forKey: key) {
            guard v.utf8.count == 8, v.allSatisfy(\.isHexDigit), let h = UInt32(v, radix: 16) else {
                throw .invalidProperty(name: key, value: v, reason: "must be 8 hexadecimal digits")
            }
            hostID = h
        }
        var p = try SBDProperties(options: options)
        if let hostID, p.guid == nil { p.guid = LUGUIDGenerator.shared.next(oui: p.ouiValue, hostID: hostID).description }
        return p.propertyBag
    }

    /// What modify-lu may change (alias, mgmt-url, wcd, wp, size), checked, with the
    /// normalised bag it came from.
    static func modification(_ properties: [String: String]) throws(SBDError) -> (change: SBDModification, bag: [String: String]) {
        var m = SBDModification()
        var bag: [String: String] = [:]
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            let key = name.lowercased()
            switch key {
            case LUPropertyName.size:
                guard let v = SBDProperties.parseSize(value) else { throw .invalidProperty(name: name, value: value, reason: "not a size: " + Wording.sizeRule) }
                m.size = v; bag[key] = String(v)
            case LUPropertyName.alias: m.alias = .some(value); bag[key] = value
            case LUPropertyName.managementURL: m.managementURL = .some(value); bag[key] = value
            case LUPropertyName.writeCacheDisabled:
                let b = try SBDProperties.parseBool(name, value)
                m.writeCacheDisabled = b; bag[key] = String(b)
            case LUPropertyName.writeProtect:
                let b = try SBDProperties.parseBool(name, value)
                m.writeProtect = b; bag[key] = String(b)
            default: throw .notModifiable(name)
            }
        }
        return (m, bag)
    }

    public func resolve(source: String, properties: [String: String]) throws(LUProviderError) -> (source: String, properties: [String: String]) {
        var p = properties
        let ram = source.hasPrefix(Self.ramPrefix)
        if !ram { try Self.requireAbsolute(source) }
        do throws(SBDError) {
            if let meta = p[LUPropertyName.metaFile] { p[LUPropertyName.metaFile] = try BackingPath.resolve(meta).path }
            return (ram ? source : try BackingPath.resolve(source).path, p)
        } catch { throw error.providerError }
    }

    public func files(source: String, properties: [String: String]) -> [String] {
        (source.hasPrefix(Self.ramPrefix) ? [] : [source]) + (properties[LUPropertyName.metaFile].map { [$0] } ?? [])
    }

    public func create(source: String, properties: [String: String], overwrite: Bool) throws(LUProviderError) -> any ManagedLogicalUnit {
        if !source.hasPrefix(Self.ramPrefix) { try Self.requireAbsolute(source) }
        do throws(SBDError) {
            let p = try SBDProperties(options: properties)
            let backing: SBDBacking = source.hasPrefix(Self.ramPrefix) ? .ram : .path(source)
            return SBDManagedUnit(lu: try SBDLogicalUnit.create(properties: p, backing: backing, overwrite: overwrite))
        } catch { throw error.providerError }
    }

    public func importLU(source: String, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        let path = try normalize(properties, for: .import)[LUPropertyName.metaFile] ?? source
        if !path.hasPrefix(Self.ramPrefix) { try Self.requireAbsolute(path) }
        do throws(SBDError) {
            return SBDManagedUnit(lu: try SBDLogicalUnit.importLU(path: path))
        } catch {
            var e = error.providerError
            if !e.message.contains(path) { e.message = "\(path): " + e.message }
            throw e
        }
    }

    /// RAM LUs come back empty with their stored properties; file LUs from their metadata.
    public func open(guid: LUGUID, source: String, size: UInt64, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        do throws(SBDError) {
            if source.hasPrefix(Self.ramPrefix) {
                var p = try SBDProperties(options: properties)
                p.guid = guid.description
                p.size = size
                return SBDManagedUnit(lu: try SBDLogicalUnit.create(properties: p, backing: .ram))
            }
            return SBDManagedUnit(lu: try SBDLogicalUnit.importLU(path: properties[LUPropertyName.metaFile] ?? source))
        } catch { throw error.providerError }
    }

    static func requireAbsolute(_ path: String) throws(LUProviderError) {
        guard path.hasPrefix("/") else {
            throw LUProviderError(.invalidRequest, code: "INVALID_PATH", "\(path): the backing file must be an absolute path (or ram:NAME)")
        }
    }
}

/// A live SBD logical unit as the service manages it.
struct SBDManagedUnit: ManagedLogicalUnit {
    let lu: SBDLogicalUnit

    var logicalUnit: any LogicalUnit { lu }
    var size: UInt64 { lu.blockCount * UInt64(lu.blockSize) }
    var properties: [String: String] { lu.properties.propertyBag }
    var reservations: [UInt8]? { lu.metadataRecord.reservations }

    func modify(_ properties: [String: String]) async throws(LUProviderError) {
        do throws(SBDError) {
            try await lu.modify(try SBDProvider.modification(properties).change)
        } catch { throw error.providerError }
    }

    func shutdown() async { await lu.shutdown() }
    func delete(eraseMetadata: Bool) { lu.delete(eraseMetadata: eraseMetadata) }
}

extension SBDError {
    /// The refusal as the service reports it: the code and kind (hence HTTP status) of each
    /// SBD error, with SBD's message.
    public var providerError: LUProviderError {
        switch self {
        case .invalidProperty, .unknownProperty, .notModifiable, .sizeRequired, .shrinkNotSupported:
            LUProviderError(.invalidRequest, code: "INVALID_PROPERTY", description)
        case .sizeExceedsDevice:
            LUProviderError(.invalidRequest, code: "INVALID_PROPERTY", description)
        case .alreadyInitialized:
            LUProviderError(.conflict, code: "ALREADY_INITIALIZED", description)
        case .invalidPath, .unsupportedBacking:
            LUProviderError(.invalidRequest, code: "INVALID_PATH", description)
        case .deleted:
            LUProviderError(.conflict, code: "LU_DELETED", description)
        case .holdsData:
            LUProviderError(.conflict, code: "HOLDS_DATA", description)
        case let .io(_, _, errno) where errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG:
            LUProviderError(.invalidRequest, code: "PATH_NOT_FOUND", description)
        case let .io(_, _, errno) where errno == EACCES || errno == EPERM || errno == EROFS:
            LUProviderError(.permissionDenied, code: "PERMISSION_DENIED", description)
        case let .io(_, _, errno) where errno == ENOSPC || errno == EDQUOT || errno == EFBIG:
            LUProviderError(.noSpace, code: "NO_SPACE", description)
        case let .io(_, _, errno) where errno == EMFILE || errno == ENFILE:
            LUProviderError(.noSpace, code: "TOO_MANY_OPEN_FILES", description)
        // What the administrator named cannot be used as asked (a directory, a device that
        // is not a disk, a file another program holds): a refusal, not a failure of stmfd.
        case let .io(_, _, errno) where errno == EISDIR || errno == EINVAL || errno == ENXIO || errno == ENODEV || errno == EOVERFLOW:
            LUProviderError(.invalidRequest, code: "INVALID_PATH", description)
        case let .io(_, _, errno) where errno == EBUSY || errno == ETXTBSY || errno == EEXIST:
            LUProviderError(.conflict, code: "FILE_BUSY", description)
        case .metadata:
            LUProviderError(.invalidData, code: "METADATA_INVALID", description)
        default:
            LUProviderError(.failed, code: "LU_IO_FAILED", description)
        }
    }
}
