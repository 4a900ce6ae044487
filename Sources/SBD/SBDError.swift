#if canImport(Glibc)
import Glibc
#endif

/// Errors of the SBD management operations (create-lu, import-lu, modify-lu, delete-lu).
public enum SBDError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidProperty(name: String, value: String, reason: String)
    case unknownProperty(String)
    /// modify-lu was given a property it cannot change.
    case notModifiable(String)
    case sizeRequired
    case sizeExceedsDevice(requested: UInt64, available: UInt64)
    case shrinkNotSupported(current: UInt64, requested: UInt64)
    case io(operation: String, path: String, errno: Int32)
    case unsupportedBacking(path: String)
    case alreadyInitialized(path: String)
    /// The path may not hold a logical unit (control characters, /proc, a directory…).
    case invalidPath(path: String, reason: String)
    /// The file or device holds data that is not SBD metadata where the metadata would go.
    case holdsData(path: String, offset: UInt64)
    case metadata(SBDMetadataError)
    case deleted

    public var description: String {
        switch self {
        case let .invalidProperty(n, v, r): "invalid value '\(v)' for property \(n): \(r)"
        case let .unknownProperty(n): "unknown property '\(n)'"
        case let .notModifiable(n): "\(n): property cannot be modified (modifiable: alias, mgmt-url, wcd, wp, size)"
        case .sizeRequired: "size is required: the backing file is smaller than one block after the metadata area"
        case let .sizeExceedsDevice(r, a): "size \(r) exceeds the \(a) bytes available on the device"
        case let .shrinkNotSupported(c, r): "cannot shrink the logical unit from \(c) to \(r) bytes"
        case let .io(op, p, e): "\(op) \(p): \(String(cString: strerror(e)))"
        case let .unsupportedBacking(p): "\(p) is neither a regular file nor a block device"
        case let .alreadyInitialized(p): "\(p) already holds SBD metadata; use import-lu"
        case let .invalidPath(p, r): "\(p): cannot hold a logical unit: \(r)"
        case let .holdsData(p, o): "\(p) holds data (the first non-zero byte is at offset \(o)) and no SBD metadata; refusing to write over it (give --overwrite to use it anyway)"
        case let .metadata(m): m.description
        case .deleted: "the logical unit has been deleted"
        }
    }
}

/// Why the metadata of a backing file or meta file cannot be used.
public enum SBDMetadataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the metadata area or than the data the metadata describes.
    case truncated(expected: UInt64, actual: UInt64)
    /// No SBD metadata signature: not an SBD logical unit.
    case foreign
    case unsupportedVersion(UInt16)
    /// A signature is present but no copy passes its checksum.
    case checksumMismatch
    case malformed(String)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case let .truncated(e, a): "metadata or data is truncated: need \(e) bytes, file has \(a)"
        case .foreign: "not an SBD logical unit (no SBD metadata signature)"
        case let .unsupportedVersion(v): "SBD metadata version \(v) is not supported"
        case .checksumMismatch: "SBD metadata is damaged (checksum mismatch)"
        case let .malformed(m): "SBD metadata is malformed: \(m)"
        case let .tooLarge(n): "SBD metadata record of \(n) bytes does not fit its slot"
        }
    }
}
