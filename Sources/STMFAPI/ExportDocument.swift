import Checksum
import Foundation

/// The `stmfadm export` document: a header line, then the configuration as JSON.
///
///     {"format":"swift-stmf-config","version":2,"length":N,"sha256":"…"}\n
///     <N bytes of JSON>
///
/// `length` and `sha256` cover the body exactly, so a truncated, extended or altered file is
/// refused before anything is applied. Nothing is ever cut short: the body is the whole
/// configuration at any size (COMSTAR's svccfg export silently truncated LU data over 2 KiB).
///
/// Version 2 stores each LU as its provider's name and property bag (strings). Version 1,
/// written before the provider registry, stored SBD's typed properties; it is still read, and
/// its LUs come out as version 2's (`StoredConfiguration.LU` reads both shapes).
public enum ExportDocument {
    public static let format = "swift-stmf-config"
    /// The version this code writes.
    public static let version = 2
    /// The versions it reads.
    public static let readableVersions = 1...version

    struct Header: Codable {
        var format: String
        var version: Int
        var length: Int
        var sha256: String
    }

    public struct Body: Codable, Sendable, Equatable {
        public var exportedAt: String
        public var configuration: StoredConfiguration
    }

    public enum DecodeError: Error, CustomStringConvertible, Equatable {
        case notAnExport
        case unsupportedVersion(Int)
        case truncated(expected: Int, actual: Int)
        case checksumMismatch
        case malformed(String)

        public var description: String {
            switch self {
            case .notAnExport: "not a swift-stmf configuration export (bad header line)"
            case let .unsupportedVersion(v): "export format version \(v) is not supported by this stmfd (supports \(ExportDocument.readableVersions.lowerBound) to \(ExportDocument.version))"
            case let .truncated(e, a): "export is damaged: body is \(a) bytes, header says \(e) (truncated or extended)"
            case .checksumMismatch: "export is damaged: SHA-256 of the body does not match the header (altered)"
            case let .malformed(m): "export is damaged: \(m)"
            }
        }
    }

    public static func encode(_ configuration: StoredConfiguration, exportedAt: String) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let body = Array(try enc.encode(Body(exportedAt: exportedAt, configuration: configuration))) + [0x0A]
        let header = Header(format: format, version: version, length: body.count, sha256: SHA256.hex(body))
        let headerEncoder = JSONEncoder()
        headerEncoder.outputFormatting = [.sortedKeys]
        return Array(try headerEncoder.encode(header)) + [0x0A] + body
    }

    /// The SHA-256 the header line of a document names (nil when it has no readable header).
    public static func headerChecksum(_ bytes: [UInt8]) -> String? {
        guard let nl = bytes.firstIndex(of: 0x0A), nl < 4096,
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[0..<nl])), header.format == format else { return nil }
        return header.sha256.lowercased()
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> Body {
        guard let nl = bytes.firstIndex(of: 0x0A), nl < 4096 else { throw .notAnExport }
        guard let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[0..<nl])), header.format == format else {
            throw .notAnExport
        }
        guard readableVersions.contains(header.version) else { throw .unsupportedVersion(header.version) }
        let body = bytes[(nl + 1)...]
        guard body.count == header.length else { throw .truncated(expected: header.length, actual: body.count) }
        guard SHA256.hex(body) == header.sha256.lowercased() else { throw .checksumMismatch }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(body))
        } catch {
            throw .malformed("\(error)")
        }
    }
}
