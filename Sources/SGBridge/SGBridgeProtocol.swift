#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The wire protocol between the preloaded shim (`libfcinit-sgshim.so`) and `SGBridgeServer`.
///
/// The authoritative description, field by field, is the C header
/// `CModules/CSGShim/include/fcinit_sgbridge.h`; these constants mirror it (a test compares
/// them). In short, little-endian throughout:
///
/// - request: 32-byte header (magic "SGBQ", version, CDB length, id, direction, timeout ms,
///   transfer length), the CDB, then the data-out bytes when the direction is to-device;
/// - reply: 32-byte header (magic "SGBR", version, status, sense length, id, host status,
///   driver status, residual, data-in length), the sense bytes, then the data-in bytes.
///
/// Several requests may be outstanding on one connection; replies are matched by id.
public enum SGBridgeProtocol {
    public static let version: UInt16 = 1
    public static let requestMagic: UInt32 = 0x5142_4753  // "SGBQ"
    public static let replyMagic: UInt32 = 0x5242_4753    // "SGBR"
    public static let requestHeaderSize = 32
    public static let replyHeaderSize = 32
    public static let maxCDBLength = 260
    public static let maxSenseLength = 252
    public static let maxTransfer = 64 * 1024 * 1024

    /// Environment variables the shim reads.
    public static let deviceVariable = "FCINIT_DEVICE"
    public static let socketVariable = "FCINIT_SGBRIDGE"
    public static let debugVariable = "FCINIT_SGSHIM_DEBUG"
    public static let lunVariable = "FCINIT_LUN"

    /// The variable of path `index` of a multipath device set: `FCINIT_DEVICE`, `FCINIT_DEVICE_1`…
    public static func variable(_ base: String, path index: Int) -> String {
        index == 0 ? base : "\(base)_\(index)"
    }

    /// A decoded request header (the fixed 32 bytes).
    public struct RequestHeader: Sendable, Equatable {
        public var cdbLength: Int
        public var id: UInt64
        public var direction: SGRequest.Direction
        public var timeoutMilliseconds: UInt32
        public var transferLength: Int
        /// Bytes of data-out that follow the CDB.
        public var dataOutLength: Int { direction == .toDevice ? transferLength : 0 }
    }

    /// A decoded reply header (the fixed 32 bytes).
    public struct ReplyHeader: Sendable, Equatable {
        public var status: UInt8
        public var senseLength: Int
        public var id: UInt64
        public var hostStatus: UInt16
        public var driverStatus: UInt16
        public var residual: Int32
        public var dataInLength: Int
    }

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case badMagic(UInt32)
        case badVersion(UInt16)
        case badCDBLength(Int)
        case badDirection(UInt8)
        case transferTooLong(Int)
        case badSenseLength(Int)

        public var description: String {
            switch self {
            case .badMagic(let m): "bad magic 0x" + String(m, radix: 16)
            case .badVersion(let v): "unsupported protocol version \(v)"
            case .badCDBLength(let n): "CDB length \(n) outside 1...\(SGBridgeProtocol.maxCDBLength)"
            case .badDirection(let d): "bad data direction \(d)"
            case .transferTooLong(let n): "transfer length \(n) above \(SGBridgeProtocol.maxTransfer)"
            case .badSenseLength(let n): "sense length \(n) above \(SGBridgeProtocol.maxSenseLength)"
            }
        }
    }

    // MARK: requests

    public static func decodeRequestHeader(_ raw: UnsafeRawBufferPointer) throws(DecodingError) -> RequestHeader {
        precondition(raw.count >= requestHeaderSize)
        let magic = raw.le(UInt32.self, 0)
        guard magic == requestMagic else { throw .badMagic(magic) }
        let v = raw.le(UInt16.self, 4)
        guard v == version else { throw .badVersion(v) }
        let cdbLength = Int(raw.le(UInt16.self, 6))
        guard (1...maxCDBLength).contains(cdbLength) else { throw .badCDBLength(cdbLength) }
        guard let direction = SGRequest.Direction(rawValue: raw[16]) else { throw .badDirection(raw[16]) }
        let transfer = Int(raw.le(UInt32.self, 24))
        guard transfer <= maxTransfer else { throw .transferTooLong(transfer) }
        return RequestHeader(cdbLength: cdbLength, id: raw.le(UInt64.self, 8), direction: direction,
                             timeoutMilliseconds: raw.le(UInt32.self, 20),
                             transferLength: direction == .none ? 0 : transfer)
    }

    /// The whole request frame (header, CDB, data-out) as the shim would send it.
    public static func encode(request r: SGRequest) -> [UInt8] {
        let out = r.direction == .toDevice ? r.dataOut.count : 0
        var f = [UInt8](repeating: 0, count: requestHeaderSize)
        f.withUnsafeMutableBytes { p in
            p.putLE(requestMagic, 0)
            p.putLE(version, 4)
            p.putLE(UInt16(truncatingIfNeeded: r.cdb.count), 6)
            p.putLE(r.id, 8)
            p[16] = r.direction.rawValue
            p.putLE(r.timeoutMilliseconds, 20)
            p.putLE(UInt32(truncatingIfNeeded: r.direction == .toDevice ? out : r.transferLength), 24)
        }
        f += r.cdb
        if out > 0 { f += r.dataOut }
        return f
    }

    // MARK: replies

    /// Writes the 32-byte reply header for `reply` to request `id` into `p`, with the sense and
    /// data-in lengths as they will be sent.
    @_spi(Fuzzing) public static func encodeReplyHeader(_ reply: SGReply, id: UInt64, senseLength: Int, dataInLength: Int,
                                  into p: UnsafeMutableRawBufferPointer) {
        p.putLE(replyMagic, 0)
        p.putLE(version, 4)
        p[6] = reply.status
        p[7] = UInt8(senseLength)
        p.putLE(id, 8)
        p.putLE(reply.hostStatus, 16)
        p.putLE(reply.driverStatus, 18)
        let residual = Int32(clamping: reply.residual)
        p.putLE(UInt32(bitPattern: residual), 20)
        p.putLE(UInt32(dataInLength), 24)
        p.putLE(UInt32(0), 28)
    }

    public static func decodeReplyHeader(_ raw: UnsafeRawBufferPointer) throws(DecodingError) -> ReplyHeader {
        precondition(raw.count >= replyHeaderSize)
        let magic = raw.le(UInt32.self, 0)
        guard magic == replyMagic else { throw .badMagic(magic) }
        let v = raw.le(UInt16.self, 4)
        guard v == version else { throw .badVersion(v) }
        let sense = Int(raw[7])
        guard sense <= maxSenseLength else { throw .badSenseLength(sense) }
        let din = Int(raw.le(UInt32.self, 24))
        guard din <= maxTransfer else { throw .transferTooLong(din) }
        return ReplyHeader(status: raw[6], senseLength: sense, id: raw.le(UInt64.self, 8),
                           hostStatus: raw.le(UInt16.self, 16), driverStatus: raw.le(UInt16.self, 18),
                           residual: Int32(bitPattern: raw.le(UInt32.self, 20)), dataInLength: din)
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func le<T: FixedWidthInteger>(_: T.Type, _ offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always) func putLE<T: FixedWidthInteger>(_ v: T, _ offset: Int) {
        storeBytes(of: v.littleEndian, toByteOffset: offset, as: T.self)
    }
}
