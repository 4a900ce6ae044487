#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A page-aligned byte buffer owned by a port provider and lent to the LU provider for one
/// task: the LU reads data-out from it and places data-in into it, so payloads are copied at
/// most once between the transport's buffers and the backing store. Buffers are meant to be
/// pooled and reused by the port provider (`IOBufferPool`).
///
/// Exclusive use is the protocol's job: while a task runs only its LU touches the buffer, and
/// a task is never completed back to the port before the LU is done with it.
public final class IOBuffer: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer
    /// Valid bytes: for data-out, what the initiator sent.
    public var count: Int

    public var capacity: Int { bytes.count }
    /// Whether the memory is this buffer's own (freed with it) or lent by its maker.
    private let owned: Bool

    public init(capacity: Int) {
        let size = max(capacity, 1)
        var p: UnsafeMutableRawPointer?
        let rc = posix_memalign(&p, 4096, size)
        precondition(rc == 0 && p != nil, "out of memory allocating \(size) bytes")
        bytes = UnsafeMutableRawBufferPointer(start: p, count: capacity)
        count = 0
        owned = true
    }

    /// A buffer over memory its maker owns and keeps valid while the buffer is in use: a
    /// transport's own data area (TCMU's mapped iovecs), so the LU reads and writes the bytes
    /// where the kernel put or will take them. Nothing is freed with the buffer.
    public init(borrowing memory: UnsafeMutableRawBufferPointer, count: Int = 0) {
        bytes = memory
        self.count = count
        owned = false
    }

    /// A buffer holding a copy of `data` (tests and control paths).
    public convenience init(copying data: [UInt8]) {
        self.init(capacity: data.count)
        data.withUnsafeBytes { if $0.count > 0 { bytes.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        count = data.count
    }

    deinit { if owned { free(bytes.baseAddress) } }

    /// The first `n` bytes as an array (tests and control paths).
    public func array(_ n: Int? = nil) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: bytes[0..<min(n ?? count, capacity)]))
    }
}
