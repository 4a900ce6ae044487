#if canImport(Glibc)
import Glibc
#endif
import Foundation
import CSystemShims
import Runtime
import STMF
import Locking

/// Everything needed to bring an SBD logical unit back from its backing store alone.
public struct SBDMetadataRecord: Codable, Sendable, Equatable {
    public var properties: SBDProperties
    /// The GUID (also in `properties.guid`), as 32 hex digits.
    public var guid: String
    public var kind: BackingKind
    /// Path of the data file or device (needed when the metadata is in a separate file).
    public var dataPath: String?
    /// Byte offset of block 0 in the data file (64 KiB when the metadata is in-band).
    public var dataOffset: UInt64
    public var blockCount: UInt64
    /// Saved mode parameters (MODE SELECT with SP=1).
    public var savedWriteCacheEnabled: Bool
    public var savedDescriptorSense: Bool
    /// `ReservationState.encoded()` when APTPL is set.
    public var reservations: [UInt8]?
}

/// On-disk layout of the metadata area.
///
/// The area is the first 64 KiB of the backing file or device (LU data starts right after
/// it), or of the separate `meta` file. It holds two 32 KiB slots. Each slot is
///
///     0  magic "SBDLUMD\0"      8  version (BE16)     10 header length (BE16) = 40
///     12 payload length (BE32)  16 generation (BE64)  24 CRC-32C (BE32)  28 reserved (12)
///     40 payload: the JSON-encoded `SBDMetadataRecord`
///
/// where the CRC-32C covers the whole header except the CRC field itself, and the payload.
/// An update writes the slot that does NOT hold the newest valid copy, with generation + 1, then fdatasyncs before the command
/// that caused it completes. A torn or lost update therefore leaves the previous generation
/// intact in the other slot; a reader takes the valid slot with the highest generation.
/// A signature with no valid copy is `checksumMismatch`; no signature at all is `foreign`.
enum SBDMetadataLayout {
    static let areaSize = 65536
    static let slotSize = 32768
    static let headerLength = 40
    static let version: UInt16 = 1
    static let magic: [UInt8] = Array("SBDLUMD".utf8) + [0]

    static func encodeSlot(_ record: SBDMetadataRecord, generation: UInt64) throws(SBDMetadataError) -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let payload: [UInt8]
        do { payload = Array(try enc.encode(record)) } catch { throw .malformed("cannot encode: \(error)") }
        guard headerLength + payload.count <= slotSize else { throw .tooLarge(payload.count) }
        var s = magic
        s.be16(version); s.be16(UInt16(headerLength)); s.be32(UInt32(payload.count)); s.be64(generation)
        s += [0, 0, 0, 0]                               // CRC, filled below
        s += [UInt8](repeating: 0, count: 12)
        s += payload
        s.put32(s.withUnsafeBytes { checksum($0, payloadLength: payload.count) }, at: 24)
        return s
    }

    /// CRC-32C of the header without its CRC field (bytes 0..<24 and 28..<40) and the payload.
    static func checksum(_ p: UnsafeRawBufferPointer, payloadLength: Int) -> UInt32 {
        var crc = CRC32C.update(0, UnsafeRawBufferPointer(rebasing: p[0..<24]))
        crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: p[28..<headerLength]))
        return CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: p[headerLength..<(headerLength + payloadLength)]))
    }

    enum SlotResult { case empty, damaged, badVersion(UInt16), valid(SBDMetadataRecord, UInt64) }

    static func decodeSlot(_ b: ArraySlice<UInt8>) -> SlotResult {
        let b = Array(b)
        guard b.count >= headerLength, Array(b[0..<8]) == magic else { return .empty }
        return b.withUnsafeBytes { p -> SlotResult in
            let v = rd16(p, 8)
            guard v == version else { return .badVersion(v) }
            guard Int(rd16(p, 10)) == headerLength else { return .damaged }
            let len = Int(rd32(p, 12))
            guard headerLength + len <= b.count else { return .damaged }
            guard checksum(p, payloadLength: len) == rd32(p, 24) else { return .damaged }
            let data = Data(p[headerLength..<(headerLength + len)])
            guard let r = try? JSONDecoder().decode(SBDMetadataRecord.self, from: data) else { return .damaged }
            return .valid(r, rd64(p, 16))
        }
    }

    /// Picks the newest valid copy of a full metadata area.
    static func decodeArea(_ area: [UInt8]) throws(SBDMetadataError) -> (SBDMetadataRecord, generation: UInt64, slot: Int) {
        guard area.count >= areaSize else { throw .truncated(expected: UInt64(areaSize), actual: UInt64(area.count)) }
        var best: (SBDMetadataRecord, UInt64, Int)?
        var sawSignature = false
        var badVersion: UInt16?
        for slot in 0..<2 {
            switch decodeSlot(area[(slot * slotSize)..<((slot + 1) * slotSize)]) {
            case .empty: break
            case .damaged: sawSignature = true
            case let .badVersion(v): sawSignature = true; badVersion = v
            case let .valid(r, g):
                sawSignature = true
                if best == nil || g > best!.1 { best = (r, g, slot) }
            }
        }
        if let best { return best }
        if let badVersion { throw .unsupportedVersion(badVersion) }
        throw sawSignature ? .checksumMismatch : .foreign
    }
}

/// Where the metadata area lives and how it is updated.
final class SBDMetadataArea: Sendable {
    enum Location: Sendable {
        /// A descriptor (in-band backing file/device or separate meta file); the area is at 0.
        case descriptor(Int32, path: String, owned: Bool)
        case memory
    }

    let location: Location
    private struct Cursor { var generation: UInt64; var slot: Int; var memory: [UInt8] }
    private let cursor: Locked<Cursor>

    init(location: Location, generation: UInt64 = 0, slot: Int = 1) {
        self.location = location
        cursor = Locked(Cursor(generation: generation, slot: slot, memory: []))
    }

    /// Reads the whole area from a descriptor (control path; blocking).
    static func readArea(fd: Int32, path: String) throws(SBDError) -> [UInt8] {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .io(operation: "fstat", path: path, errno: errno) }
        var size = UInt64(st.st_size)
        if (st.st_mode & S_IFMT) == S_IFBLK {
            var dev: UInt64 = 0
            if stmf_blockdev_size(fd, &dev) == 0 { size = dev }
        }
        guard size >= UInt64(SBDMetadataLayout.areaSize) else {
            throw .metadata(.truncated(expected: UInt64(SBDMetadataLayout.areaSize), actual: size))
        }
        var area = [UInt8](repeating: 0, count: SBDMetadataLayout.areaSize)
        let rc = area.withUnsafeMutableBytes { p in
            BlockingCalls.read(fd, p.baseAddress!, p.count, 0)
        }
        if rc != 0 { throw .io(operation: "pread", path: path, errno: rc) }
        return area
    }

    private func nextSlot(_ record: SBDMetadataRecord) throws(SBDError) -> (bytes: [UInt8], slot: Int, gen: UInt64) {
        let (gen, slot) = cursor.withLock { ($0.generation + 1, 1 - $0.slot) }
        do { return (try SBDMetadataLayout.encodeSlot(record, generation: gen), slot, gen) }
        catch { throw .metadata(error) }
    }

    private func commit(slot: Int, gen: UInt64, bytes: [UInt8]) {
        cursor.withLock { c in
            c.generation = gen; c.slot = slot
            if case .memory = location {
                if c.memory.count < SBDMetadataLayout.areaSize { c.memory = [UInt8](repeating: 0, count: SBDMetadataLayout.areaSize) }
                c.memory.replaceSubrange((slot * SBDMetadataLayout.slotSize)..<(slot * SBDMetadataLayout.slotSize + bytes.count), with: bytes)
            }
        }
    }

    /// Writes a new generation, blocking the caller (create/import; never the cooperative pool's I/O path).
    func writeSync(_ record: SBDMetadataRecord) throws(SBDError) {
        let (bytes, slot, gen) = try nextSlot(record)
        if case let .descriptor(fd, path, _) = location {
            var e = bytes.withUnsafeBytes { BlockingCalls.writeAll(fd, $0.baseAddress!, $0.count, Int64(slot * SBDMetadataLayout.slotSize)) }
            if e == 0 { e = -stmf_datasync(fd) }
            if e != 0 { throw .io(operation: "write metadata", path: path, errno: e) }
        }
        commit(slot: slot, gen: gen, bytes: bytes)
    }

    /// Writes a new generation through the I/O threads, durable on return.
    func write(_ record: SBDMetadataRecord) async throws(SBDError) {
        let (bytes, slot, gen) = try nextSlot(record)
        if case let .descriptor(fd, path, _) = location {
            let e = await Blocking.run {
                let e = bytes.withUnsafeBytes { BlockingCalls.writeAll(fd, $0.baseAddress!, $0.count, Int64(slot * SBDMetadataLayout.slotSize)) }
                return e == 0 ? BlockingCalls.datasync(fd) : e
            }
            if e != 0 { throw .io(operation: "write metadata", path: path, errno: e) }
        }
        commit(slot: slot, gen: gen, bytes: bytes)
    }

    /// Zeroes the signature of both slots (delete with erase).
    func erase() {
        if case let .descriptor(fd, _, _) = location {
            let zero = [UInt8](repeating: 0, count: 8)
            for slot in 0..<2 {
                _ = zero.withUnsafeBytes { BlockingCalls.writeAll(fd, $0.baseAddress!, 8, Int64(slot * SBDMetadataLayout.slotSize)) }
            }
            _ = stmf_datasync(fd)
        }
    }

    func close() {
        if case let .descriptor(fd, _, owned) = location, owned { _ = Glibc.close(fd) }
    }
}
