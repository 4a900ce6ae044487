import STMF

/// Appends big-endian fields to a payload being built.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    mutating func u8(_ v: UInt8) { bytes.append(v) }

    /// Appends a 16-bit big-endian value.
    mutating func u16(_ v: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends the low 24 bits of `v` big-endian (an FC port identifier).
    mutating func u24(_ v: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Appends a 32-bit big-endian value.
    mutating func u32(_ v: UInt32) {
        u16(UInt16(truncatingIfNeeded: v >> 16))
        u16(UInt16(truncatingIfNeeded: v))
    }

    /// Appends a 64-bit big-endian value.
    mutating func u64(_ v: UInt64) {
        u32(UInt32(truncatingIfNeeded: v >> 32))
        u32(UInt32(truncatingIfNeeded: v))
    }

    /// Appends a world-wide name (8 bytes).
    mutating func wwn(_ w: WWN) { u64(w.rawValue) }

    /// Appends a reserved byte and a 24-bit port identifier: the usual FC "port ID word".
    mutating func portIDWord(_ id: UInt32, flags: UInt8 = 0) {
        u8(flags)
        u24(id)
    }

    /// Appends `n` zero bytes.
    mutating func zeros(_ n: Int) { bytes.append(contentsOf: repeatElement(0, count: n)) }

    /// Appends raw bytes.
    mutating func append(_ b: some Sequence<UInt8>) { bytes.append(contentsOf: b) }

    /// Appends an ELS command word: the command code and three zero bytes.
    mutating func commandWord(_ code: UInt8) {
        u8(code)
        zeros(3)
    }
}

extension Array where Element == UInt8 {
    /// The bytes cut or zero-filled to exactly `count` (fixed-size payload fields).
    func zeroPadded(to count: Int) -> [UInt8] {
        if self.count == count { return self }
        return Array(prefix(count)) + [UInt8](repeating: 0, count: Swift.max(0, count - self.count))
    }
}
