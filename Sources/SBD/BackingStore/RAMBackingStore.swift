#if canImport(Glibc)
import Glibc
#endif
import STMF
import Locking
import Synchronization

/// Memory all RAM LUs drawing on it may hold together, in 1 MiB chunks.
public final class RAMBudget: Sendable {
    public let limit: UInt64
    /// Bytes of chunks allocated against this budget.
    public let allocated = Atomic<UInt64>(0)

    public init(limit: UInt64) { self.limit = limit }

    /// stmfd's budget: `$STMF_RAM_BUDGET` (a size, e.g. `8g`) when set, else half of physical memory.
    public static let shared: RAMBudget = {
        if let text = getenv("STMF_RAM_BUDGET").map({ String(cString: $0) }), let v = SBDProperties.parseSize(text) {
            return RAMBudget(limit: v)
        }
        let pages = UInt64(max(0, sysconf(Int32(_SC_PHYS_PAGES)))), page = UInt64(max(0, sysconf(Int32(_SC_PAGESIZE))))
        return RAMBudget(limit: pages * page / 2)
    }()

    /// Takes `bytes` unless that would pass the limit.
    func take(_ bytes: UInt64) -> Bool {
        if allocated.add(bytes, ordering: .relaxed).newValue <= limit { return true }
        allocated.subtract(bytes, ordering: .relaxed)
        return false
    }

    func give(_ bytes: UInt64) { allocated.subtract(bytes, ordering: .relaxed) }
}

/// Memory-backed store, sparse: 1 MiB chunks are allocated on first write into a map (a
/// RAM LU of any size costs nothing until it is written), absent chunks read as zero. Chunks
/// are never freed before the store is (unmap zeroes them), so copies run outside the lock
/// that guards the map. Every RAM LU of the process draws its chunks from one budget
/// (`RAMBudget.shared`); a write that would exceed it fails with SPACE ALLOCATION FAILED
/// WRITE PROTECT, as a thin-provisioned disk out of space does (SBC-4 4.7.3.7).
public final class RAMBackingStore: BackingStore {
    static let chunkShift = 20
    static let chunkSize = 1 << chunkShift
    let budget: RAMBudget

    struct Chunks: @unchecked Sendable { var map: [Int: UnsafeMutableRawPointer] = [:] }
    private let chunks = Locked(Chunks())
    private let size: Atomic<UInt64>

    public init(bytes: UInt64, budget: RAMBudget = .shared) {
        size = Atomic(bytes)
        self.budget = budget
    }

    deinit {
        chunks.withLock { c in
            for p in c.map.values { free(p) }
            budget.give(UInt64(c.map.count) << UInt64(Self.chunkShift))
        }
    }

    public var kind: BackingKind { .ram }
    public var dataBytes: UInt64 { size.load(ordering: .relaxed) }
    public var unmapReadsZero: Bool { true }
    public var thinProvisioned: Bool { true }

    /// Chunk `i`, allocated (within the budget) when `allocate`; nil when absent or refused.
    private func chunk(_ i: Int, allocate: Bool) -> UnsafeMutableRawPointer? {
        chunks.withLock { c -> UnsafeMutableRawPointer? in
            if let p = c.map[i] { return p }
            guard allocate else { return nil }
            let bytes = UInt64(Self.chunkSize)
            guard budget.take(bytes) else { return nil }
            guard let p = calloc(1, Self.chunkSize) else {
                budget.give(bytes)
                return nil
            }
            c.map[i] = p
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
        readNow(into: buffer, bufferOffset: bufferOffset, count: count, offset: offset)
    }

    public func write(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        try writeNow(from: buffer, bufferOffset: bufferOffset, count: count, offset: offset)
    }

    /// Copies [offset, offset+count) into the buffer on the caller's thread (never blocks).
    func readNow(into buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) {
        let base = buffer.bytes.baseAddress! + bufferOffset
        forEach(offset: offset, count: count) { ci, within, done, n in
            if let p = chunk(ci, allocate: false) { memcpy(base + done, p + within, n) } else { memset(base + done, 0, n) }
        }
    }

    /// Copies the buffer into [offset, offset+count) on the caller's thread (never blocks).
    func writeNow(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) throws(SCSIError) {
        let base = buffer.bytes.baseAddress! + bufferOffset
        var refused = false
        forEach(offset: offset, count: count) { ci, within, done, n in
            guard !refused, let p = chunk(ci, allocate: true) else { refused = true; return }
            memcpy(p + within, base + done, n)
        }
        if refused { throw .spaceAllocationFailed }
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
            appendRun(&runs, n, mapped: chunk(ci, allocate: false) != nil)
            done += n
        }
        return Array(runs.prefix(maximumRuns))
    }

    public func close() {}
}
