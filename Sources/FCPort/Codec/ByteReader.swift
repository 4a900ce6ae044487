import STMF

/// Big-endian field reads at fixed byte offsets of a payload, as the FC standards lay them out
/// ("word 1, bits 15-0" is `u16(at: 6)`). Decoders check the payload length before reading;
/// an out-of-range offset is a programming error and traps.
struct ByteReader<Bytes: RandomAccessCollection<UInt8>> {
    let bytes: Bytes

    init(_ bytes: Bytes) { self.bytes = bytes }

    /// Number of bytes in the payload.
    var count: Int { bytes.count }

    /// The byte at `offset` from the start of the payload.
    subscript(offset: Int) -> UInt8 {
        bytes[bytes.index(bytes.startIndex, offsetBy: offset)]
    }

    /// A 16-bit big-endian field at `offset`.
    func u16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// A 24-bit big-endian field (an FC port identifier) at `offset`.
    func u24(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 16 | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2])
    }

    /// A 32-bit big-endian field at `offset`.
    func u32(at offset: Int) -> UInt32 {
        UInt32(u16(at: offset)) << 16 | UInt32(u16(at: offset + 2))
    }

    /// A 64-bit big-endian field at `offset`.
    func u64(at offset: Int) -> UInt64 {
        UInt64(u32(at: offset)) << 32 | UInt64(u32(at: offset + 4))
    }

    /// A world-wide name (8 bytes, big-endian) at `offset`.
    func wwn(at offset: Int) -> WWN { WWN(u64(at: offset)) }

    /// A copy of `length` bytes from `offset`.
    func bytes(at offset: Int, count length: Int) -> [UInt8] {
        let start = bytes.index(bytes.startIndex, offsetBy: offset)
        return Array(bytes[start..<bytes.index(start, offsetBy: length)])
    }

    /// A copy of the bytes from `offset` to the end.
    func bytes(from offset: Int) -> [UInt8] { bytes(at: offset, count: count - offset) }
}
