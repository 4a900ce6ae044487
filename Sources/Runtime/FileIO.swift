#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import CURing
import Locking

/// Who gets the result of a file operation: bytes moved, or -errno. Called once, on the thread
/// that owns the `FileIO` (its event loop; a pool thread for `FileIO.detached`).
public protocol FileIOCompletion: AnyObject {
    func fileIOCompleted(_ result: Int32, tag: UInt64)
}

/// File reads, writes and flushes whose completions come back to one event loop: through the
/// loop's own io_uring ring, or — where the kernel refuses io_uring (`io_uring_disabled`, a
/// seccomp filter, no support) — through a small pool of threads doing blocking calls and
/// handing results back to the loop. The engine is chosen once, when the loop is created.
///
/// Operations are queued from the loop thread and submitted together at the end of the loop's
/// turn (one `io_uring_submit` for all of them). Nothing is allocated per operation: the
/// caller's scatter/gather vector is used as it is (it must stay valid until the completion),
/// and completions are matched through a table of reusable slots.
public final class FileIO: @unchecked Sendable {
    /// Which engine to use.
    public enum Engine: Sendable, Equatable {
        /// io_uring unless the kernel refuses it, then the thread pool.
        case automatic
        case uring
        case threads
    }

    /// The engine in use, as `stmfadm list-state` shows it.
    public enum Kind: String, Sendable {
        case uring = "io_uring"
        case threads = "thread pool"
    }

    public enum Operation: UInt8, Sendable {
        case read, write, datasync
    }

    public let kind: Kind
    /// Why io_uring is not used (nil when it is).
    public let refusal: String?
    private weak var loop: EventLoop?

    // io_uring engine
    private let ring: OpaquePointer?
    // thread-pool engine (and the detached one)
    private let pool: BlockingPool?

    /// The descriptor the loop watches for completions.
    let completionDescriptor: Int32?

    // Slots: the completion target and tag of each operation in flight (loop thread).
    private var targets: [FileIOCompletion?] = []
    private var tags: [UInt64] = []
    private var free: [Int] = []
    private(set) var hasQueued = false
    /// Operations in flight.
    public private(set) var inFlight = 0

    init(loop: EventLoop?, engine: Engine) {
        self.loop = loop
        var fd: Int32 = -1
        var why: String?
        var r: OpaquePointer?
        if engine != .threads {
            r = stmf_uring_create(256, &fd)
            if r == nil {
                let e = errno
                why = "io_uring refused: \(String(cString: strerror(e)))" + (e == EPERM ? " (kernel.io_uring_disabled or a seccomp filter)" : "")
                precondition(engine != .uring, "io_uring was asked for and \(why!)")
            }
        }
        if let r {
            ring = r
            pool = nil
            kind = .uring
            refusal = nil
            completionDescriptor = fd
        } else {
            ring = nil
            let p = BlockingPool(threads: loop == nil ? 4 : 2, name: (loop?.name ?? "detached") + "-io", signalled: loop != nil)
            pool = p
            kind = .threads
            refusal = engine == .threads ? "threads asked for" : why
            completionDescriptor = loop == nil ? nil : p.completionFD
        }
        targets.reserveCapacity(256)
        tags.reserveCapacity(256)
    }

    deinit {
        if let ring { stmf_uring_destroy(ring) }
    }

    /// A `FileIO` for callers that run on no event loop (control paths): the thread pool, whose
    /// threads call the completions themselves.
    public static let detached = FileIO(loop: nil, engine: .threads)

    /// What the process's event loops use, decided by creating one ring (for `list-state`).
    public static let engineInUse: (kind: Kind, refusal: String?) = {
        var fd: Int32 = -1
        if let r = stmf_uring_create(8, &fd) { stmf_uring_destroy(r); return (.uring, nil) }
        return (.threads, "io_uring refused: \(String(cString: strerror(errno)))")
    }()

    /// Queues an operation on `fd` at `offset` over `count` vectors (nothing for `datasync`).
    /// `target.fileIOCompleted` gets the result on this `FileIO`'s loop. From the loop thread
    /// (any thread for `detached`).
    public func submit(_ op: Operation, fd: Int32, vectors: UnsafePointer<iovec>?, count: Int, offset: UInt64,
                       _ target: FileIOCompletion, tag: UInt64) {
        if let pool {
            if loop == nil {
                pool.enqueue(.init(op: op, fd: fd, vectors: vectors, count: count, offset: offset,
                                   target: target, tag: tag, slot: -1))
                return
            }
            let slot = takeSlot(target, tag)
            pool.enqueue(.init(op: op, fd: fd, vectors: vectors, count: count, offset: offset,
                               target: nil, tag: 0, slot: slot))
            return
        }
        let slot = takeSlot(target, tag)
        let uop: Int32 = switch op {
        case .read: Int32(STMF_URING_READV.rawValue)
        case .write: Int32(STMF_URING_WRITEV.rawValue)
        case .datasync: Int32(STMF_URING_FDATASYNC.rawValue)
        }
        while stmf_uring_queue(ring, uop, fd, vectors, UInt32(count), offset, UInt64(slot)) == -EBUSY {
            _ = stmf_uring_submit(ring)   // the submission queue is full: hand it over now
        }
        hasQueued = true
    }

    private func takeSlot(_ target: FileIOCompletion, _ tag: UInt64) -> Int {
        inFlight += 1
        if let s = free.popLast() {
            targets[s] = target
            tags[s] = tag
            return s
        }
        targets.append(target)
        tags.append(tag)
        return targets.count - 1
    }

    /// Hands queued operations to the kernel (the loop calls this once per turn).
    func submitQueued() {
        guard hasQueued, let ring else { return }
        hasQueued = false
        _ = stmf_uring_submit(ring)
    }

    /// Runs the completions that arrived (the loop calls this when its descriptor is readable).
    func reap() {
        var slots = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                     UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var results = (Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0),
                       Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0), Int32(0))
        if let ring {
            stmf_uring_ack(completionDescriptor!)
            while true {
                let n = withUnsafeMutableBytes(of: &slots) { s in
                    withUnsafeMutableBytes(of: &results) { r in
                        Int(stmf_uring_reap(ring, s.baseAddress!.assumingMemoryBound(to: UInt64.self),
                                            r.baseAddress!.assumingMemoryBound(to: Int32.self), 16))
                    }
                }
                if n == 0 { break }
                for i in 0..<n {
                    let slot = withUnsafeBytes(of: &slots) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
                    let res = withUnsafeBytes(of: &results) { $0.load(fromByteOffset: i * 4, as: Int32.self) }
                    complete(Int(slot), res)
                }
            }
        } else if let pool {
            pool.drain { slot, res in complete(slot, res) }
        }
    }

    private func complete(_ slot: Int, _ result: Int32) {
        guard slot >= 0, slot < targets.count, let target = targets[slot] else { return }
        let tag = tags[slot]
        targets[slot] = nil
        free.append(slot)
        inFlight -= 1
        target.fileIOCompleted(result, tag: tag)
    }

    /// The loop is ending: operations still in flight are waited for and dropped.
    func shutdown() {
        pool?.stop()
    }
}

/// Threads doing blocking file calls: the fallback engine where io_uring is refused, and the
/// engine of `FileIO.detached`. Results go back through a completion queue and an eventfd
/// (for a loop), or straight to the target (detached).
final class BlockingPool: @unchecked Sendable {
    struct Job {
        /// Any blocking work instead of a file operation (`Blocking.run`).
        var work: (@Sendable () -> Void)? = nil
        var op: FileIO.Operation
        var fd: Int32
        var vectors: UnsafePointer<iovec>?
        var count: Int
        var offset: UInt64
        var target: FileIOCompletion?
        var tag: UInt64
        var slot: Int
    }

    /// The job queue, guarded by `queueLock`'s mutex (which its condition sleeps on).
    private var items: [Job] = []
    private var head = 0
    private var stopping = false
    private let queueLock = PthreadCondition()
    private let done = Locked<[(Int, Int32)]>([])
    let completionFD: Int32

    /// `signalled`: results go to a loop through the completion queue and an eventfd (none is
    /// opened for the detached pool, whose threads call the targets themselves).
    init(threads: Int, name: String, signalled: Bool) {
        completionFD = signalled ? stmf_eventfd() : -1
        for _ in 0..<threads {
            let ctx = Unmanaged.passRetained(self).toOpaque()
            var t = pthread_t()
            let rc = pthread_create(&t, nil, { ctx in
                let pool = Unmanaged<BlockingPool>.fromOpaque(ctx!).takeRetainedValue()
                pool.work()
                return nil
            }, ctx)
            precondition(rc == 0, "cannot start file I/O thread: \(rc)")
            pthread_detach(t)
        }
    }

    func enqueue(_ job: Job) {
        queueLock.lock()
        items.append(job)
        queueLock.signal()
        queueLock.unlock()
    }

    func stop() {
        queueLock.lock()
        stopping = true
        queueLock.broadcast()
        queueLock.unlock()
    }

    private func next() -> Job? {
        queueLock.lock()
        defer { queueLock.unlock() }
        while head == items.count {
            if stopping { return nil }
            queueLock.wait()
        }
        let j = items[head]
        head += 1
        if head == items.count { items.removeAll(keepingCapacity: true); head = 0 }
        return j
    }

    private func work() {
        while let job = next() {
            if let w = job.work { w(); continue }
            let r = Self.perform(job)
            if let target = job.target {
                target.fileIOCompleted(r, tag: job.tag)
            } else {
                done.withLock { $0.append((job.slot, r)) }
                var one: UInt64 = 1
                _ = write(completionFD, &one, 8)
            }
        }
    }

    /// Takes the finished operations (loop thread).
    func drain(_ body: (Int, Int32) -> Void) {
        var v: UInt64 = 0
        _ = read(completionFD, &v, 8)
        let finished = done.withLock { d in defer { d.removeAll(keepingCapacity: true) }; return d }
        for (slot, r) in finished { body(slot, r) }
    }

    /// One blocking operation, all of it: bytes moved (a read past the end of the file fills
    /// zeroes and counts them), or -errno.
    static func perform(_ j: Job) -> Int32 {
        switch j.op {
        case .datasync:
            while true {
                let rc = stmf_datasync(j.fd)
                if rc == -EINTR { continue }
                return rc
            }
        case .read, .write:
            var moved = 0
            var offset = off_t(j.offset)
            for i in 0..<j.count {
                let v = j.vectors![i]
                var done = 0
                while done < v.iov_len {
                    let p = v.iov_base! + done
                    let n = j.op == .read ? pread(j.fd, p, v.iov_len - done, offset) : pwrite(j.fd, p, v.iov_len - done, offset)
                    if n < 0 { if errno == EINTR { continue }; return -errno }
                    if n == 0 {
                        if j.op == .write { return -EIO }
                        memset(p, 0, v.iov_len - done)   // past the end of the file reads zero
                        offset += off_t(v.iov_len - done)
                        done = v.iov_len
                        break
                    }
                    done += n
                    offset += off_t(n)
                }
                moved += done
            }
            return Int32(clamping: moved)
        }
    }
}

/// A pthread mutex and condition (the pool's job queue sleeps on it).
final class PthreadCondition: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let c = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil); pthread_cond_init(c, nil) }
    func lock() { pthread_mutex_lock(m) }
    func unlock() { pthread_mutex_unlock(m) }
    func wait() { pthread_cond_wait(c, m) }
    func signal() { pthread_cond_signal(c) }
    func broadcast() { pthread_cond_broadcast(c) }
}

/// Blocking system calls for control paths that run on no event loop (metadata writes, hole
/// punching, flushes from management requests): done on `FileIO.detached`'s threads, so neither
/// Swift's cooperative threads nor an event loop ever block on them.
public enum Blocking {
    /// Runs `body` on a pool thread and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            FileIO.detached.enqueue { c.resume(returning: body()) }
        }
    }
}

extension FileIO {
    /// Queues blocking work on the pool (the detached `FileIO` only).
    func enqueue(_ work: @escaping @Sendable () -> Void) {
        pool!.enqueue(.init(work: work, op: .read, fd: -1, vectors: nil, count: 0, offset: 0, target: nil, tag: 0, slot: -1))
    }
}
