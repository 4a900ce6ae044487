/// Small big-endian helpers for building parameter data on the control path (for STMF's SCSI
/// library and the LU providers of this package).
extension Array where Element == UInt8 {
    @inline(__always) package mutating func be16(_ v: UInt16) { append(UInt8(v >> 8)); append(UInt8(v & 0xFF)) }
    @inline(__always) package mutating func be24(_ v: UInt32) { append(UInt8((v >> 16) & 0xFF)); append(UInt8((v >> 8) & 0xFF)); append(UInt8(v & 0xFF)) }
    @inline(__always) package mutating func be32(_ v: UInt32) { be16(UInt16(v >> 16)); be16(UInt16(v & 0xFFFF)) }
    @inline(__always) package mutating func be64(_ v: UInt64) { be32(UInt32(v >> 32)); be32(UInt32(v & 0xFFFF_FFFF)) }
    package mutating func put16(_ v: UInt16, at o: Int) { self[o] = UInt8(v >> 8); self[o + 1] = UInt8(v & 0xFF) }
    package mutating func put32(_ v: UInt32, at o: Int) { put16(UInt16(v >> 16), at: o); put16(UInt16(v & 0xFFFF), at: o + 2) }
    package mutating func put64(_ v: UInt64, at o: Int) { put32(UInt32(v >> 32), at: o); put32(UInt32(v & 0xFFFF_FFFF), at: o + 4) }
    /// `s` as ASCII, space padded (or truncated) to `n` bytes.
    package mutating func ascii(_ s: String, padTo n: Int) {
        var b = Array(s.utf8.prefix(n))
        while b.count < n { b.append(0x20) }
        append(contentsOf: b)
    }
}

@inline(__always) package func rd16(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt16 { UInt16(p[o]) << 8 | UInt16(p[o + 1]) }
@inline(__always) package func rd32(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt32 { UInt32(rd16(p, o)) << 16 | UInt32(rd16(p, o + 2)) }
@inline(__always) package func rd64(_ p: UnsafeRawBufferPointer, _ o: Int) -> UInt64 { UInt64(rd32(p, o)) << 32 | UInt64(rd32(p, o + 4)) }

/// Index of the highest set bit of a nonzero byte (for SKS bit pointers).
@inline(__always) package func highestBit(_ v: UInt8) -> Int { 7 - v.leadingZeroBitCount }
