#if canImport(Glibc)
import Glibc
#endif
import STMF
import Synchronization

/// Memory-backed store, sparse: 1 MiB chunks are allocated on first write, absent chunks
/// read as zero. Chunks are never freed before the store is (unmap zeroes them), so copies
/// run outside the lock that guards the chunk table.
public final class RAMBackingStore: BackingStore {
    static let chunkShift = 20
    static let chunkSize = 1 << chunkShift

    struct Chunks: @unchecked Sendable { var table: [UnsafeMutableRawPointer?] }
    private let chunks: Mutex<Chunks>
    private let size: Atomic<UInt64>

    public init(bytes: UInt64) {
        let n = Int((bytes + UInt64(Self.chunkSize) - 1) >> UInt64(Self.chunkShift))
        chunks = Mutex(Chunks(table: Array(repeating: nil, count: n)))
        size = Atomic(bytes)
    }

    deinit { chunks.withLock { for p in $0.table { free(p) } } }

    public var kind: BackingKind { .ram }
    public var dataBytes: UInt64 { size.load(ordering: .relaxed) }
    public var unmapReadsZero: Bool { true }
    public var thinProvisioned: Bool { true }

    private func chunk(_ i: Int, allocate: Bool) -> UnsafeMutableRawPointer? {
        chunks.withLock { c -> UnsafeMutableRawPointer? in
            if let p = c.table[i] { return p }
            guard allocate else { return nil }
            let p = calloc(1, Self.chunkSize)!
            c.table[i] = p
            return p
        }
    }

    /// Walks [offset, offset+count) chunk by chunk.
    private func forEach(offset: UInt64, count: Int, _ body: (Int, Int, Int, Int) -> Void) {
        var done = 0
        while done < count {
            let pos = offset + UInt64(done)
            let ci = Int(pos >> UInt64(Self.chunkShift))
            let within = Int(pos & UInt64(Self.chunkSize - 1))
            let n = min(count - done, Self.chunkSize - within)
            body(ci, within, done, n)
            done += n
        }
    }

    public func read(into buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        let base = buffer.bytes.baseAddress! + bufferOffset
        forEach(offset: offset, count: count) { ci, within, done, n in
            if let p = chunk(ci, allocate: false) { memcpy(base + done, p + within, n) } else { memset(base + done, 0, n) }
        }
    }

    public func write(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        let base = buffer.bytes.baseAddress! + bufferOffset
        forEach(offset: offset, count: count) { ci, within, done, n in
            memcpy(chunk(ci, allocate: true)! + within, base + done, n)
        }
    }

    public func flush() async throws(SCSIError) {}

    public func unmap(offset: UInt64, length: UInt64) async throws(SCSIError) {
        try await writeZeroes(offset: offset, length: length)
    }

    public func writeZeroes(offset: UInt64, length: UInt64) async throws(SCSIError) {
        forEach(offset: offset, count: Int(length)) { ci, within, _, n in
            if let p = chunk(ci, allocate: false) { memset(p + within, 0, n) }
        }
    }

    public func resize(to bytes: UInt64) throws(SBDError) {
        let n = Int((bytes + UInt64(Self.chunkSize) - 1) >> UInt64(Self.chunkShift))
        chunks.withLock { c in
            while c.table.count < n { c.table.append(nil) }
        }
        size.store(bytes, ordering: .relaxed)
    }

    /// A chunk never written is deallocated; one written is mapped (UNMAP zeroes it in place).
    public func provisioning(offset: UInt64, length: UInt64, granularity: UInt64, maximumRuns: Int) async -> [ProvisioningRun] {
        var runs: [ProvisioningRun] = []
        var done: UInt64 = 0
        while done < length && runs.count <= maximumRuns {
            let pos = offset + done
            let ci = Int(pos >> UInt64(Self.chunkShift))
            let n = min(length - done, UInt64(Self.chunkSize) - (pos & UInt64(Self.chunkSize - 1)))
            appendRun(&runs, n, mapped: ci < chunks.withLock({ $0.table.count }) && chunk(ci, allocate: false) != nil)
            done += n
        }
        return Array(runs.prefix(maximumRuns))
    }

    public func close() {}
}
