/// The sense-key-specific field (SPC-4 4.5.2.4).
public enum SenseKeySpecific: Hashable, Sendable {
    /// Points at the offending byte (and optionally bit) of the CDB (`inCDB == true`) or of
    /// the parameter list.
    case fieldPointer(inCDB: Bool, byte: UInt16, bit: UInt8?)
    /// Progress indication, 0...65535 of 65536.
    case progress(UInt16)

    /// The three SKS bytes with SKSV set.
    public var bytes: (UInt8, UInt8, UInt8) {
        switch self {
        case let .fieldPointer(inCDB, byte, bit):
            var b0: UInt8 = 0x80
            if inCDB { b0 |= 0x40 }
            if let bit { b0 |= 0x08 | (bit & 0x07) }
            return (b0, UInt8(byte >> 8), UInt8(byte & 0xFF))
        case let .progress(p):
            return (0x80, UInt8(p >> 8), UInt8(p & 0xFF))
        }
    }
}

/// Structured sense data. It is encoded in fixed (0x70) or descriptor (0x72) format when the
/// response leaves the target, as the initiator asked through the control mode page's D_SENSE.
public struct SenseData: Hashable, Sendable, CustomStringConvertible {
    public var key: SenseKey
    public var additional: AdditionalSense
    /// INFORMATION field (e.g. the miscompare offset, the failing LBA).
    public var information: UInt64?
    public var commandSpecific: UInt64?
    public var senseKeySpecific: SenseKeySpecific?
    /// Deferred error (0x71/0x73) rather than current (0x70/0x72).
    public var deferred: Bool

    public init(_ key: SenseKey, _ additional: AdditionalSense, information: UInt64? = nil,
                commandSpecific: UInt64? = nil, senseKeySpecific: SenseKeySpecific? = nil,
                deferred: Bool = false) {
        self.key = key
        self.additional = additional
        self.information = information
        self.commandSpecific = commandSpecific
        self.senseKeySpecific = senseKeySpecific
        self.deferred = deferred
    }

    public var description: String { "\(key) \(additional)" }

    /// Length of the encoded form.
    public func encodedLength(descriptor: Bool) -> Int {
        if !descriptor { return 18 }
        var n = 8
        if information != nil { n += 12 }
        if commandSpecific != nil { n += 12 }
        if senseKeySpecific != nil { n += 8 }
        return n
    }

    /// Encodes into `buffer` (truncating to its size); returns the number of bytes written.
    @discardableResult
    public func encode(descriptor: Bool, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let full = encodedLength(descriptor: descriptor)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: full) { tmp in
            tmp.initialize(repeating: 0)
            if descriptor {
                tmp[0] = deferred ? 0x73 : 0x72
                tmp[1] = key.rawValue
                tmp[2] = additional.asc
                tmp[3] = additional.ascq
                tmp[7] = UInt8(full - 8)
                var p = 8
                if let information {
                    tmp[p] = 0x00; tmp[p + 1] = 0x0A; tmp[p + 2] = 0x80
                    putBE64(information, tmp, p + 4); p += 12
                }
                if let commandSpecific {
                    tmp[p] = 0x01; tmp[p + 1] = 0x0A
                    putBE64(commandSpecific, tmp, p + 4); p += 12
                }
                if let sks = senseKeySpecific {
                    tmp[p] = 0x02; tmp[p + 1] = 0x06
                    let b = sks.bytes
                    tmp[p + 4] = b.0; tmp[p + 5] = b.1; tmp[p + 6] = b.2
                    p += 8
                }
            } else {
                tmp[0] = deferred ? 0x71 : 0x70
                tmp[2] = key.rawValue
                if let information, information <= UInt64(UInt32.max) {
                    tmp[0] |= 0x80
                    putBE32(UInt32(information), tmp, 3)
                }
                tmp[7] = 10
                if let commandSpecific, commandSpecific <= UInt64(UInt32.max) {
                    putBE32(UInt32(commandSpecific), tmp, 8)
                }
                tmp[12] = additional.asc
                tmp[13] = additional.ascq
                if let sks = senseKeySpecific {
                    let b = sks.bytes
                    tmp[15] = b.0; tmp[16] = b.1; tmp[17] = b.2
                }
            }
            let n = min(full, buffer.count)
            if n > 0 { buffer.baseAddress!.copyMemory(from: tmp.baseAddress!, byteCount: n) }
            return n
        }
    }

    /// The encoded bytes (allocates; for the error path and tests).
    public func bytes(descriptor: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: encodedLength(descriptor: descriptor))
        out.withUnsafeMutableBytes { _ = encode(descriptor: descriptor, into: $0) }
        return out
    }

    /// Parses fixed or descriptor sense (for initiators and tests).
    public init?(parsing b: [UInt8]) {
        guard b.count >= 8 else { return nil }
        let code = b[0] & 0x7F
        switch code {
        case 0x70, 0x71:
            guard b.count >= 14, let key = SenseKey(rawValue: b[2] & 0x0F) else { return nil }
            var info: UInt64?
            if b[0] & 0x80 != 0 { info = UInt64(b[3]) << 24 | UInt64(b[4]) << 16 | UInt64(b[5]) << 8 | UInt64(b[6]) }
            var sks: SenseKeySpecific?
            if b.count >= 18, b[15] & 0x80 != 0 {
                sks = Self.decodeSKS(key: key, b[15], b[16], b[17])
            }
            self.init(key, AdditionalSense(b[12], b[13]), information: info, senseKeySpecific: sks,
                      deferred: code == 0x71)
        case 0x72, 0x73:
            guard let key = SenseKey(rawValue: b[1] & 0x0F) else { return nil }
            var s = SenseData(key, AdditionalSense(b[2], b[3]), deferred: code == 0x73)
            var p = 8
            let end = min(b.count, 8 + Int(b[7]))
            while p + 2 <= end {
                let type = b[p], len = Int(b[p + 1])
                guard p + 2 + len <= end else { return nil }
                switch type {
                case 0x00 where len >= 0x0A:
                    s.information = Self.be64(b, p + 4)
                case 0x01 where len >= 0x0A:
                    s.commandSpecific = Self.be64(b, p + 4)
                case 0x02 where len >= 0x06:
                    if b[p + 4] & 0x80 != 0 {
                        s.senseKeySpecific = Self.decodeSKS(key: key, b[p + 4], b[p + 5], b[p + 6])
                    }
                default: break
                }
                p += 2 + len
            }
            self = s
        default:
            return nil
        }
    }

    private static func decodeSKS(key: SenseKey, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> SenseKeySpecific {
        let value = UInt16(b) << 8 | UInt16(c)
        if key == .illegalRequest {
            return .fieldPointer(inCDB: a & 0x40 != 0, byte: value, bit: a & 0x08 != 0 ? a & 0x07 : nil)
        }
        return .progress(value)
    }

    private static func be64(_ b: [UInt8], _ o: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(b[o + i]) }
        return v
    }
}

@inline(__always)
func putBE64(_ v: UInt64, _ p: UnsafeMutableBufferPointer<UInt8>, _ o: Int) {
    for i in 0..<8 { p[o + i] = UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64(i))) }
}

@inline(__always)
func putBE32(_ v: UInt32, _ p: UnsafeMutableBufferPointer<UInt8>, _ o: Int) {
    p[o] = UInt8(truncatingIfNeeded: v >> 24); p[o + 1] = UInt8(truncatingIfNeeded: v >> 16)
    p[o + 2] = UInt8(truncatingIfNeeded: v >> 8); p[o + 3] = UInt8(truncatingIfNeeded: v)
}
