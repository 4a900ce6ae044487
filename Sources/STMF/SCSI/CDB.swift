/// A command descriptor block. CDBs of up to 32 bytes (every fixed-length CDB and the 32-byte
/// variable-length ones) are stored inline, so building one allocates nothing; longer ones
/// (FCP's additional CDB allows up to 260 bytes) spill to the heap.
public struct CDB: Sendable, Hashable {
    @usableFromInline var inline: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var spill: [UInt8]?
    public private(set) var count: Int

    public init() { count = 0 }

    /// From an array without going through the generic path (which reads element by element
    /// through the collection's witness table when it is not specialised, allocating).
    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { CDB($0) }
    }

    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        count = bytes.count
        if count > 32 {
            spill = Array(bytes)
        } else {
            withUnsafeMutableBytes(of: &inline) { raw in
                var i = 0
                for b in bytes { raw[i] = b; i += 1 }
            }
        }
    }

    public init(_ raw: UnsafeRawBufferPointer) {
        count = raw.count
        if count > 32 {
            spill = Array(raw)
        } else if count > 0 {
            withUnsafeMutableBytes(of: &inline) { $0.baseAddress!.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
        }
    }

    public static func == (a: CDB, b: CDB) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i] != b[i] { return false }
        return true
    }

    public func hash(into h: inout Hasher) {
        for i in 0..<count { h.combine(self[i]) }
    }

    /// Byte `i`; bytes past the end read as 0 so decoders can check lengths once.
    @inlinable @inline(__always)
    public subscript(i: Int) -> UInt8 {
        guard i >= 0, i < count else { return 0 }
        if let spill { return spill[i] }
        return withUnsafeBytes(of: inline) { $0[i] }
    }

    @inlinable public var opcode: UInt8 { self[0] }
    /// Service action of the 0x9E/0xA3/0xA4/0x5E/0x5F families (low 5 bits of byte 1).
    public var serviceAction: UInt8 { self[1] & 0x1F }
    /// The CONTROL byte (last byte of the CDB).
    public var control: UInt8 {
        if opcode == OperationCode.variableLength { return self[1] }
        return self[(Self.expectedLength(opcode: opcode) ?? count) - 1]
    }

    @inlinable @inline(__always) public func u16(_ o: Int) -> UInt16 { UInt16(self[o]) << 8 | UInt16(self[o + 1]) }
    @inlinable @inline(__always) public func u24(_ o: Int) -> UInt32 { UInt32(self[o]) << 16 | UInt32(self[o + 1]) << 8 | UInt32(self[o + 2]) }
    @inlinable @inline(__always) public func u32(_ o: Int) -> UInt32 { UInt32(u16(o)) << 16 | UInt32(u16(o + 2)) }
    @inlinable @inline(__always) public func u64(_ o: Int) -> UInt64 { UInt64(u32(o)) << 32 | UInt64(u32(o + 4)) }

    public var bytes: [UInt8] { (0..<count).map { self[$0] } }

    /// The CDB length implied by the group code of the operation code (SPC-4 4.2.5.1), nil
    /// for the variable-length (0x7F) and vendor-specific groups.
    public static func expectedLength(opcode: UInt8) -> Int? {
        switch opcode >> 5 {
        case 0: 6
        case 1, 2: 10
        case 4: 16
        case 5: 12
        default: nil
        }
    }
}
