#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import Runtime
import STMF
import Synchronization

/// A regular file or a block device. On the command path reads and writes go through the event
/// loop's io_uring ring straight between the task's `IOBuffer` and the descriptor (see
/// `FileTransfer`); the async methods here serve control paths, on the runtime's blocking pool.
public final class FileBackingStore: BackingStore {
    public let kind: BackingKind
    public let path: String
    let fd: Int32
    /// Byte offset of LU block 0 in the file (the metadata area precedes it when in-band).
    let dataOffset: UInt64
    private let size: Atomic<UInt64>
    private let closed = Atomic<Bool>(false)

    init(path: String, fd: Int32, kind: BackingKind, dataOffset: UInt64, dataBytes: UInt64) {
        self.path = path; self.fd = fd; self.kind = kind; self.dataOffset = dataOffset
        self.size = Atomic(dataBytes)
    }

    public var dataBytes: UInt64 { size.load(ordering: .relaxed) }
    public var unmapReadsZero: Bool { kind == .file }
    public var thinProvisioned: Bool { kind == .file }

    public func read(into buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        precondition(bufferOffset + count <= buffer.capacity)
        let fd = fd, at = Int64(dataOffset + offset), p = UncheckedPointer(buffer.bytes.baseAddress! + bufferOffset)
        let rc = await Blocking.run { withExtendedLifetime(buffer) { BlockingCalls.read(fd, p.raw, count, at) } }
        if rc != 0 { throw .unrecoveredReadError }
    }

    public func write(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        precondition(bufferOffset + count <= buffer.capacity)
        let fd = fd, at = Int64(dataOffset + offset), p = UncheckedPointer(buffer.bytes.baseAddress! + bufferOffset)
        let rc = await Blocking.run { withExtendedLifetime(buffer) { BlockingCalls.writeAll(fd, p.raw, count, at) } }
        if rc != 0 { throw .writeError }
    }

    public func flush() async throws(SCSIError) {
        let fd = fd
        let rc = await Blocking.run { BlockingCalls.datasync(fd) }
        if rc != 0 { throw .writeError }
    }

    public func unmap(offset: UInt64, length: UInt64) async throws(SCSIError) {
        guard length > 0 else { return }
        let fd = fd, file = kind == .file, at = dataOffset + offset
        let rc = await Blocking.run {
            file ? -stmf_punch_hole(fd, off_t(at), off_t(length)) : -stmf_blockdev_discard(fd, at, length)
        }
        if rc == EOPNOTSUPP || rc == ENOTTY {
            try await writeZeroes(offset: offset, length: length)
        } else if rc != 0 {
            throw .writeError
        }
    }

    public func writeZeroes(offset: UInt64, length: UInt64) async throws(SCSIError) {
        guard length > 0 else { return }
        let fd = fd, file = kind == .file, at = dataOffset + offset
        let rc = await Blocking.run {
            file ? BlockingCalls.zeroRange(fd, Int64(at), Int(length)) : -stmf_blockdev_zeroout(fd, at, length)
        }
        if rc != 0 { throw .writeError }
    }

    public func resize(to bytes: UInt64) throws(SBDError) {
        switch kind {
        case .file:
            if ftruncate(fd, off_t(dataOffset + bytes)) != 0 { throw .io(operation: "ftruncate", path: path, errno: errno) }
        case .blockDevice:
            var dev: UInt64 = 0
            let rc = stmf_blockdev_size(fd, &dev)
            if rc != 0 { throw .io(operation: "BLKGETSIZE64", path: path, errno: -rc) }
            if dataOffset + bytes > dev { throw .sizeExceedsDevice(requested: bytes, available: dev - dataOffset) }
        case .ram:
            break
        }
        size.store(bytes, ordering: .relaxed)
    }

    public func readAhead(offset: UInt64, length: UInt64) {
        _ = posix_fadvise(fd, off_t(dataOffset + offset), off_t(min(length, UInt64(Int64.max))), POSIX_FADV_WILLNEED)
    }

    /// A file's data and holes (SEEK_DATA / SEEK_HOLE; two lseek calls per run, which touch
    /// only the extent tree); a block device counts as mapped throughout. A hole is shrunk to
    /// whole multiples of `granularity`: a block partly holding data is mapped.
    public func provisioning(offset: UInt64, length: UInt64, granularity: UInt64, maximumRuns: Int) async -> [ProvisioningRun] {
        guard kind == .file, length > 0 else { return [ProvisioningRun(length: length, mapped: true)] }
        let g = max(granularity, 1)
        let base = dataOffset + offset, end = length   // positions below are relative to base
        var runs: [ProvisioningRun] = []
        var pos: UInt64 = 0
        func hole(to b: UInt64) {
            let lo = (pos + g - 1) / g * g, hi = b == end ? end : b / g * g
            if lo < hi {
                appendRun(&runs, lo - pos, mapped: true)
                appendRun(&runs, hi - lo, mapped: false)
                pos = hi
            }
        }
        while pos < end && runs.count <= maximumRuns {
            let data = stmf_seek_data(fd, off_t(base + pos))
            if data < 0 && data != -off_t(ENXIO) { break }   // no SEEK_DATA here: the rest counts as mapped
            let d = data < 0 ? end : min(UInt64(data) - base, end)   // ENXIO: only a hole remains
            hole(to: d)
            if d >= end { break }
            let h = stmf_seek_hole(fd, off_t(base + d))
            let e = h < 0 ? end : min(UInt64(h) - base, end)
            appendRun(&runs, e - pos, mapped: true)
            pos = e
        }
        if pos < end && runs.count < maximumRuns { appendRun(&runs, end - pos, mapped: true) }
        return Array(runs.prefix(maximumRuns))
    }

    public func close() {
        if !closed.exchange(true, ordering: .relaxed) { _ = Glibc.close(fd) }
    }

    deinit { close() }
}

/// A buffer address handed to a pool thread (the buffer is kept alive by the caller).
struct UncheckedPointer: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
    init(_ p: UnsafeMutableRawPointer) { raw = p }
}
