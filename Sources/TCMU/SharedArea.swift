import CTCMU

/// The memory the kernel and this process share for one TCMU device: in production the
/// `mmap` of `/dev/uioN` (map0, whole), in tests a heap buffer laid out as the kernel lays it.
///
/// Fields are in the host's byte order: the kernel writes them as native `__u32`/`__u16` on the
/// same CPU (on every Linux target the project builds for, x86-64 and AArch64, that is little
/// endian). Plain fields are read and written with unaligned loads and stores, which is enough
/// for what the kernel does not change while userspace looks at it (an entry between the read
/// cursor and `cmd_head`, a response before `cmd_tail` passes it). The two words the two sides
/// race on are accessed atomically:
///
/// - `cmd_head` (written by the kernel with `smp_store_release` after an entry is complete) is
///   read with **acquire**, so every entry before it is visible once the head is;
/// - `cmd_tail` (written by userspace after the responses) is stored with **release**, so the
///   kernel, which reads `cmd_tail` and then the entries behind it, sees the responses.
///
/// The view does no bounds checking of its own beyond `precondition`s in debug builds; the ring
/// machine checks every offset the kernel gives before it reads or hands out memory.
public struct SharedArea: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer

    /// `bytes` must start at a 4-byte-aligned address (an `mmap` is page aligned) and stay
    /// mapped as long as the view or anything made from it is used.
    public init(_ bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
    }

    public var count: Int { bytes.count }

    /// Whether `[offset, offset + length)` lies inside the area (no overflow).
    @inlinable
    public func contains(offset: Int, length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
    }

    @inlinable
    public func load<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        assert(contains(offset: offset, length: MemoryLayout<T>.size))
        return bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    @inlinable
    public func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        assert(contains(offset: offset, length: MemoryLayout<T>.size))
        bytes.storeBytes(of: value, toByteOffset: offset, as: T.self)
    }

    /// Reads a 32-bit word with acquire ordering (`cmd_head`).
    public func loadAcquire(at offset: Int) -> UInt32 {
        precondition(contains(offset: offset, length: 4) && offset % 4 == 0)
        return ctcmu_load_acquire_u32(bytes.baseAddress! + offset)
    }

    /// Writes a 32-bit word with release ordering (`cmd_tail`).
    public func storeRelease(_ value: UInt32, at offset: Int) {
        precondition(contains(offset: offset, length: 4) && offset % 4 == 0)
        ctcmu_store_release_u32(bytes.baseAddress! + offset, value)
    }

    /// The bytes at `range`, which must lie inside the area.
    public func buffer(_ range: DataRange) -> UnsafeMutableRawBufferPointer {
        precondition(contains(offset: range.offset, length: range.length))
        return UnsafeMutableRawBufferPointer(rebasing: bytes[range.offset..<(range.offset + range.length)])
    }
}

/// A range of the shared area, by offset from the start of the map (the mailbox), as the
/// kernel's `iov_base` and `cdb_off` are.
public struct DataRange: Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var length: Int
    public init(offset: Int, length: Int) { self.offset = offset; self.length = length }
    public var description: String { "[\(offset), +\(length))" }
}
