/// Why a received frame was discarded. A real FC port drops such frames silently and counts
/// them (Link Error Status Block); the exchange it belonged to recovers by timeout.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than SOF + header + CRC + EOF.
    case truncated(length: Int)
    /// Data field longer than FC's 2112 bytes.
    case oversized(payloadLength: Int)
    /// Data field not a whole number of words.
    case misaligned(payloadLength: Int)
    /// CRC mismatch (FC-FS-4: the frame is invalid).
    case badCRC(expected: UInt32, found: UInt32)
    case unknownStartOfFrame(UInt32)
    case unknownEndOfFrame(UInt32)
    /// F_CTL fill bytes larger than the data field.
    case badFill(Int)

    public var description: String {
        switch self {
        case .truncated(let n): "truncated frame (\(n) bytes)"
        case .oversized(let n): "data field of \(n) bytes exceeds 2112"
        case .misaligned(let n): "data field of \(n) bytes is not word aligned"
        case .badCRC(let e, let f): "bad CRC (computed \(hex32(e)), frame carries \(hex32(f)))"
        case .unknownStartOfFrame(let v): "unknown SOF \(hex32(v))"
        case .unknownEndOfFrame(let v): "unknown EOF \(hex32(v))"
        case .badFill(let n): "fill byte count \(n) exceeds the data field"
        }
    }
}

func hex32(_ v: UInt32) -> String {
    let h = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - h.count)) + h
}

/// One FC-2 frame with its delimiters. On the emulated link and in pcaps (link type 225,
/// LINKTYPE_FC_2_WITH_FRAME_DELIMS) it is SOF(4) + header(24) + data field padded to a word
/// (F_CTL fill bytes) + CRC-32 (little-endian, as Wireshark and Linux fcoe store it) + EOF(4).
public struct FCFrame: Hashable, Sendable {
    public var start: StartOfFrame
    public var header: FrameHeader
    /// The data field without fill bytes.
    public var payload: [UInt8]
    public var end: EndOfFrame

    /// FC's largest data field.
    public static let maximumPayload = 2112
    /// Bytes around the data field: SOF, header, CRC, EOF.
    public static let overhead = 4 + FrameHeader.length + 4 + 4

    public init(start: StartOfFrame = .initiate3, header: FrameHeader, payload: [UInt8] = [],
                end: EndOfFrame? = nil) {
        self.start = start
        self.header = header
        self.payload = payload
        self.end = end ?? (header.control.contains(.endSequence) ? .terminate : .normal)
    }

    /// Length on the wire.
    public var encodedLength: Int { Self.overhead + (payload.count + 3) & ~3 }

    /// The encoded frame.
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        encode(into: &out)
        return out
    }

    /// Appends the encoded frame to `out`, as a frame-stream record if `record` is set.
    public func encode(into out: inout [UInt8], record: Bool = false) {
        payload.withUnsafeBytes { p in
            Self.encode(start: start, header: header, payload: p, end: end, into: &out, record: record)
        }
    }

    /// Appends a frame whose data field is `payload` (any length ≤ 2112; fill bytes added);
    /// with `record`, prefixed by its length as a `FrameStream` record.
    public static func encode(start: StartOfFrame, header: FrameHeader, payload: UnsafeRawBufferPointer,
                              end: EndOfFrame, into out: inout [UInt8], record: Bool = false) {
        let fill = (4 - payload.count & 3) & 3
        let dataLength = payload.count + fill
        let total = overhead + dataLength
        let prefix = record ? FrameStream.prefixLength : 0
        out.reserveCapacity(out.count + total + prefix)
        // Appended in pieces (no zero fill of the whole frame first): length prefix, SOF and
        // header from the stack, the payload, fill; then the CRC over header and data field.
        var head = (UInt32(total).bigEndian, start.rawValue.bigEndian, UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &head) { h in
            var fh = header
            fh.control = fh.control.withFillBytes(fill)
            fh.write(to: h.baseAddress! + 8)
        }
        withUnsafeBytes(of: &head) { h in
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: h[(record ? 0 : 4)..<32]))
        }
        let headerAt = out.count - FrameHeader.length
        if payload.count > 0 { out.append(contentsOf: payload) }
        for _ in 0..<fill { out.append(0) }
        let crc = out.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[headerAt..<(headerAt + FrameHeader.length + dataLength)])) }
        var tail = (crc.littleEndian, end.rawValue.bigEndian)
        withUnsafeBytes(of: &tail) { out.append(contentsOf: $0) }
    }

    /// Decodes and validates one whole frame (delimiters, size, alignment, CRC, fill).
    public init(decoding bytes: UnsafeRawBufferPointer) throws(FrameError) {
        let (start, header, range, end) = try Self.validate(bytes)
        self.start = start
        self.header = header
        self.end = end
        payload = Array(bytes[range])
    }

    /// Decodes `bytes` as one whole frame.
    public init(decoding bytes: [UInt8]) throws(FrameError) {
        let r: Result<FCFrame, FrameError> = bytes.withUnsafeBytes { p in
            do throws(FrameError) { return .success(try FCFrame(decoding: p)) } catch { return .failure(error) }
        }
        self = try r.get()
    }

    /// Checks a frame without copying its payload: returns the delimiters, the header and the
    /// byte range of the data field (fill bytes excluded) within `bytes`.
    public static func validate(_ bytes: UnsafeRawBufferPointer) throws(FrameError)
        -> (StartOfFrame, FrameHeader, Range<Int>, EndOfFrame) {
        let n = bytes.count
        guard n >= overhead, let base = bytes.baseAddress else { throw .truncated(length: n) }
        let dataLength = n - overhead
        guard dataLength <= maximumPayload else { throw .oversized(payloadLength: dataLength) }
        guard dataLength & 3 == 0 else { throw .misaligned(payloadLength: dataLength) }
        let sofRaw = UInt32(bigEndian: base.loadUnaligned(as: UInt32.self))
        guard let sof = StartOfFrame(rawValue: sofRaw) else { throw .unknownStartOfFrame(sofRaw) }
        let eofRaw = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
        guard let eof = EndOfFrame(rawValue: eofRaw) else { throw .unknownEndOfFrame(eofRaw) }
        let carried = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: n - 8, as: UInt32.self))
        let computed = CRC32.update(0, UnsafeRawBufferPointer(start: base + 4, count: FrameHeader.length + dataLength))
        guard carried == computed else { throw .badCRC(expected: computed, found: carried) }
        let header = FrameHeader(reading: base + 4)
        let fill = header.control.fillBytes
        guard fill <= dataLength else { throw .badFill(fill) }
        return (sof, header, 28..<(28 + dataLength - fill), eof)
    }
}
