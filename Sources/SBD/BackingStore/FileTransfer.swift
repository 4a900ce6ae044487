#if canImport(Glibc)
import Glibc
#endif
import Locking
import Runtime
import STMF

/// One READ or WRITE of a file or block-device LU on the command path: queued on the calling
/// event loop's `FileIO` (io_uring) straight between the task's buffer and the descriptor,
/// completed on that loop. A short transfer continues where it stopped (a read that meets the
/// end of the file reads zeroes); a write with FUA, or with the write cache disabled, is
/// followed by an fdatasync before the task completes. Transfers are pooled per LU, so a
/// command allocates nothing.
final class FileTransfer: FileIOCompletion, @unchecked Sendable {
    enum Phase { case read, write, sync }

    unowned(unsafe) let lu: SBDLogicalUnit
    private var task: LUTask?
    private var phase = Phase.read
    private var vector = iovec()
    private var fd: Int32 = -1
    private var buffer: UnsafeMutableRawPointer?
    private var total = 0
    private var done = 0
    private var fileOffset: UInt64 = 0
    private var syncAfter = false
    private var rangeToken: Int?
    private var response = TaskResponse.good
    private unowned(unsafe) var io: FileIO?

    init(lu: SBDLogicalUnit) { self.lu = lu }

    /// Starts the transfer; its task completes on `io`'s loop.
    func start(_ t: LUTask, _ p: Phase, file: FileBackingStore, buffer: UnsafeMutableRawPointer, count: Int,
               offset: UInt64, syncAfter: Bool, rangeToken: Int?, response: TaskResponse, io: FileIO) {
        task = t
        phase = p
        fd = file.fd
        self.buffer = buffer
        total = count
        done = 0
        fileOffset = file.dataOffset + offset
        self.syncAfter = syncAfter
        self.rangeToken = rangeToken
        self.response = response
        self.io = io
        next()
    }

    private func next() {
        if phase == .sync {
            io!.submit(.datasync, fd: fd, vectors: nil, count: 0, offset: 0, self, tag: 0)
            return
        }
        vector.iov_base = buffer! + done
        vector.iov_len = total - done
        withUnsafePointer(to: &vector) { v in
            io!.submit(phase == .read ? .read : .write, fd: fd, vectors: v, count: 1, offset: fileOffset + UInt64(done), self, tag: 0)
        }
    }

    func fileIOCompleted(_ result: Int32, tag: UInt64) {
        if result < 0 {
            finish(TaskResponse(error: phase == .read ? .unrecoveredReadError : .writeError, descriptorSense: lu.descriptorSense))
            return
        }
        switch phase {
        case .read:
            if result == 0 && done < total {
                memset(buffer! + done, 0, total - done)   // past the end of the file reads zero
                done = total
            } else {
                done += Int(result)
            }
            if done < total { next() } else { finish(response) }
        case .write:
            if result == 0 { finish(TaskResponse(error: .writeError, descriptorSense: lu.descriptorSense)); return }
            done += Int(result)
            if done < total { next(); return }
            if syncAfter { phase = .sync; next() } else { finish(response) }
        case .sync:
            finish(response)
        }
    }

    private func finish(_ r: TaskResponse) {
        if let token = rangeToken { lu.writeRanges.release(token) }
        let t = task!
        task = nil
        buffer = nil
        lu.transfers.withLock { $0.append(self) }
        t.complete(r)
    }
}

extension SBDLogicalUnit {
    /// A pooled transfer.
    func transfer() -> FileTransfer {
        transfers.withLock { $0.popLast() } ?? FileTransfer(lu: self)
    }

    /// READ from a file LU through the loop's io_uring ring.
    func startRead(_ t: LUTask, _ s: Snapshot, _ x: Transfer, _ file: FileBackingStore, _ loop: EventLoop) throws(SCSIError) -> TaskStart {
        try checkTransfer(x, s, writing: false)
        if x.blocks == 0 { return .done(.good) }
        let intended = Int(x.blocks) << Int(blockShift)
        guard let buf = t.dataIn else { return .done(TaskResponse(status: .good, intendedLength: intended)) }
        let n = min(intended, t.dataInLimit, buf.capacity)
        if n == 0 { return .done(TaskResponse(status: .good, dataLength: 0, intendedLength: intended)) }
        transfer().start(t, .read, file: file, buffer: buf.bytes.baseAddress!, count: n, offset: x.lba << blockShift,
                         syncAfter: false, rangeToken: nil,
                         response: TaskResponse(status: .good, dataLength: n, intendedLength: intended), io: loop.files)
        return .pending
    }

    /// WRITE to a file LU through the loop's io_uring ring (an fdatasync after it for FUA or
    /// with the write cache disabled); nil when the range is held by COMPARE AND WRITE or
    /// ORWRITE (the async path then waits for it).
    func startWrite(_ t: LUTask, _ s: Snapshot, _ x: Transfer, _ file: FileBackingStore, _ loop: EventLoop) throws(SCSIError) -> TaskStart? {
        try checkTransfer(x, s, writing: true)
        if x.blocks == 0 { return .done(.good) }
        let need = Int(x.blocks) << Int(blockShift)
        guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
        guard let token = writeRanges.tryAcquire(lba: x.lba, count: UInt64(x.blocks), exclusive: false) else { return nil }
        transfer().start(t, .write, file: file, buffer: out.bytes.baseAddress!, count: need, offset: x.lba << blockShift,
                         syncAfter: x.fua || !s.wce, rangeToken: token,
                         response: TaskResponse(status: .good, dataLength: need, intendedLength: need), io: loop.files)
        return .pending
    }
}
