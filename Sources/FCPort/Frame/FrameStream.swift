/// Primitive sequences (FC-FS-4 §7.4): the link state an emulated port sees. The fabric sends
/// `.idle` when a port's link comes up (or is attached) and `.notOperational` when it goes down.
public enum LinkPrimitive: UInt32, Sendable, Hashable {
    /// NOS: Not_Operational — link failure.
    case notOperational = 0xBC55_BF45
    /// OLS: Offline — the port is being taken offline.
    case offline = 0xBC35_8A55
    /// LR: Link_Reset.
    case linkReset = 0xBC49_BF49
    /// Idle: the link is active.
    case idle = 0xBC95_B5B5
}

/// One unit of the emulated link: a frame or a primitive sequence.
public enum FrameStreamRecord {
    case frame(UnsafeRawBufferPointer)
    case primitive(LinkPrimitive)
}

/// The byte stream between an emulated port and the fabric: records of a 32-bit big-endian
/// length followed by that many bytes — an encoded `FCFrame` (≥ 36 bytes) or a 4-byte
/// primitive sequence. Anything else is a protocol violation that ends the link.
public enum FrameStream {
    public static let prefixLength = 4
    /// The largest record body: a full frame.
    public static let maximumRecord = FCFrame.overhead + FCFrame.maximumPayload

    public enum Violation: Error, Sendable, CustomStringConvertible {
        case badLength(Int)
        case unknownPrimitive(UInt32)
        public var description: String {
            switch self {
            case .badLength(let n): "frame stream record of \(n) bytes"
            case .unknownPrimitive(let v): "unknown primitive sequence \(hex32(v))"
            }
        }
    }

    /// Appends a primitive-sequence record.
    public static func append(_ primitive: LinkPrimitive, to out: inout [UInt8]) {
        withUnsafeBytes(of: UInt32(4).bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: primitive.rawValue.bigEndian) { out.append(contentsOf: $0) }
    }

    /// Parses the complete records at the start of `bytes`, calling `body` for each; returns the
    /// number of bytes consumed (a partial record at the end is left for the next read).
    public static func parse(_ bytes: UnsafeRawBufferPointer,
                             _ body: (FrameStreamRecord, UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        var at = 0
        while bytes.count - at >= prefixLength {
            let base = bytes.baseAddress! + at
            let n = Int(UInt32(bigEndian: base.loadUnaligned(as: UInt32.self)))
            guard n == 4 || (n >= FCFrame.overhead && n <= maximumRecord) else { throw Violation.badLength(n) }
            guard bytes.count - at - prefixLength >= n else { break }
            let recordBytes = UnsafeRawBufferPointer(start: base, count: prefixLength + n)
            let rec = UnsafeRawBufferPointer(start: base + prefixLength, count: n)
            if n == 4 {
                let v = UInt32(bigEndian: rec.baseAddress!.loadUnaligned(as: UInt32.self))
                guard let prim = LinkPrimitive(rawValue: v) else { throw Violation.unknownPrimitive(v) }
                try body(.primitive(prim), recordBytes)
            } else {
                try body(.frame(rec), recordBytes)
            }
            at += prefixLength + n
        }
        return at
    }
}
