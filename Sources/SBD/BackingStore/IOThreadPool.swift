#if canImport(Glibc)
import Glibc
#endif
import CSystemShims

/// A small pool of dedicated POSIX threads that perform blocking file and block-device
/// system calls, so the Swift cooperative pool never blocks on I/O. A job is a plain struct
/// (no closure, no allocation beyond the ring slot) carrying the task's continuation; the
/// worker resumes it with 0 or an errno value.
final class IOThreadPool: @unchecked Sendable {
    enum Op: UInt8 { case read, write, datasync, punchHole, zeroRange, discard, zeroOut }

    struct Job {
        var op: Op
        var fd: Int32
        var buffer: UnsafeMutableRawPointer?
        var count: Int
        var offset: Int64
        var cont: UnsafeContinuation<Int32, Never>?
    }

    static let shared = IOThreadPool(threads: 4)

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    // Ring buffer, guarded by `mutex`.
    private var ring: [Job?]
    private var head = 0
    private var queued = 0

    init(threads: Int) {
        mutex = .allocate(capacity: 1); pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1); pthread_cond_init(cond, nil)
        ring = Array(repeating: nil, count: 256)
        for _ in 0..<threads {
            var tid = pthread_t()
            let ctx = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(&tid, nil, { ctx in
                let pool = Unmanaged<IOThreadPool>.fromOpaque(ctx!).takeRetainedValue()
                pool.workerLoop()
                return nil
            }, ctx)
            precondition(rc == 0, "cannot start I/O thread: \(rc)")
            pthread_detach(tid)
        }
    }

    /// Runs `op` on a pool thread; returns 0 or an errno.
    func perform(_ op: Op, fd: Int32, buffer: UnsafeMutableRawPointer?, count: Int, offset: Int64) async -> Int32 {
        await withUnsafeContinuation { (c: UnsafeContinuation<Int32, Never>) in
            submit(Job(op: op, fd: fd, buffer: buffer, count: count, offset: offset, cont: c))
        }
    }

    private func submit(_ job: Job) {
        pthread_mutex_lock(mutex)
        if queued == ring.count {
            // Grow (rare): unroll the ring into a larger one.
            var bigger = [Job?](repeating: nil, count: ring.count * 2)
            for i in 0..<queued { bigger[i] = ring[(head + i) % ring.count] }
            ring = bigger; head = 0
        }
        ring[(head + queued) % ring.count] = job
        queued += 1
        pthread_cond_signal(cond)
        pthread_mutex_unlock(mutex)
    }

    private func workerLoop() {
        while true {
            pthread_mutex_lock(mutex)
            while queued == 0 { pthread_cond_wait(cond, mutex) }
            let job = ring[head]!
            ring[head] = nil
            head = (head + 1) % ring.count
            queued -= 1
            pthread_mutex_unlock(mutex)
            let rc = Self.run(job)
            job.cont!.resume(returning: rc)
        }
    }

    nonisolated(unsafe) private static let zeroChunk: UnsafeMutableRawPointer = calloc(1, 1 << 20)!

    /// Executes one job synchronously (also used on control paths that may block).
    static func run(_ job: Job) -> Int32 {
        switch job.op {
        case .read:
            var done = 0
            while done < job.count {
                let n = pread(job.fd, job.buffer! + done, job.count - done, off_t(job.offset) + off_t(done))
                if n < 0 { if errno == EINTR { continue }; return errno }
                if n == 0 { memset(job.buffer! + done, 0, job.count - done); break } // past EOF reads zero
                done += n
            }
            return 0
        case .write:
            return writeAll(job.fd, UnsafeRawPointer(job.buffer!), job.count, job.offset)
        case .datasync:
            while true {
                let rc = stmf_datasync(job.fd)
                if rc == -EINTR { continue }
                return -rc
            }
        case .punchHole:
            return -stmf_punch_hole(job.fd, off_t(job.offset), off_t(job.count))
        case .zeroRange:
            let rc = stmf_zero_range(job.fd, off_t(job.offset), off_t(job.count))
            if rc == 0 { return 0 }
            // Filesystem without ZERO_RANGE: write zeroes.
            var done = 0
            while done < job.count {
                let n = min(job.count - done, 1 << 20)
                let e = writeAll(job.fd, UnsafeRawPointer(zeroChunk), n, job.offset + Int64(done))
                if e != 0 { return e }
                done += n
            }
            return 0
        case .discard:
            return -stmf_blockdev_discard(job.fd, UInt64(job.offset), UInt64(job.count))
        case .zeroOut:
            return -stmf_blockdev_zeroout(job.fd, UInt64(job.offset), UInt64(job.count))
        }
    }

    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int, _ offset: Int64) -> Int32 {
        var done = 0
        while done < count {
            let n = pwrite(fd, p + done, count - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; return errno }
            if n == 0 { return EIO }
            done += n
        }
        return 0
    }
}
