#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import Locking
import Synchronization

/// One thread running to completion whatever becomes ready: descriptors (epoll), work handed
/// over from other threads, timers, and file I/O completions of its own io_uring ring. The
/// product's threads are these loops (and the file-I/O fallback pool when io_uring is refused):
/// STMF, SBD, FCPort and the providers spawn none of their own.
///
/// Everything registered with a loop runs on its thread; the only calls other threads may make
/// are `execute`, `schedule`/`cancel` and `stop`. After the events of one wake-up have run, the
/// loop runs its `batchEnd` hooks, so code that gathers output (a link's answers) writes once.
public final class EventLoop: @unchecked Sendable {
    public let name: String
    public let clock: any LoopClock
    /// File I/O with completions on this loop (io_uring, or the blocking-pool fallback).
    public private(set) var files: FileIO!

    private let epfd: Int32
    private let wakeFD: Int32
    private let inbox = Locked(Inbox())
    private struct Inbox {
        var work: [@Sendable () -> Void] = []
        var sleeping = false
        var stopping = false
    }

    // Loop-thread state.
    private var handlers: [UInt64: (UInt32) -> Void] = [:]
    private var nextCookie: UInt64 = 16
    private var timers = TimerHeap()
    private var batchHooks: [UInt64: () -> Void] = [:]
    /// The loop's thread, for `stop` to join (touched by the starting and stopping thread).
    private var thread: pthread_t?
    /// The loop thread's identity (0 until it runs), read by any thread for `inEventLoop`.
    private let threadID = Atomic<UInt>(0)
    private let started = Atomic<Bool>(false)

    private static let wakeCookie: UInt64 = 1
    private static let ioCookie: UInt64 = 2

    /// The loop the calling thread runs, if any.
    public static var current: EventLoop? {
        guard let p = pthread_getspecific(currentKey) else { return nil }
        return Unmanaged<EventLoop>.fromOpaque(p).takeUnretainedValue()
    }
    nonisolated(unsafe) private static let currentKey: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// A loop (not yet running: `start`). `fileIO` picks the engine: io_uring unless refused.
    public init(name: String, clock: any LoopClock = MonotonicClock(), fileIO: FileIO.Engine = .automatic) {
        self.name = name
        self.clock = clock
        epfd = stmf_epoll_create()
        wakeFD = stmf_eventfd()
        precondition(epfd >= 0 && wakeFD >= 0, "cannot create an event loop: \(String(cString: strerror(errno)))")
        _ = stmf_epoll_set(epfd, wakeFD, STMF_EPOLLIN, Self.wakeCookie, 0)
        files = FileIO(loop: self, engine: fileIO)
        if let fd = files.completionDescriptor {
            _ = stmf_epoll_set(epfd, fd, STMF_EPOLLIN, Self.ioCookie, 0)
        }
    }

    deinit {
        close(epfd)
        close(wakeFD)
    }

    /// Whether the caller runs on this loop's thread.
    public var inEventLoop: Bool {
        threadID.load(ordering: .acquiring) == UInt(pthread_self())
    }

    /// Starts the loop's thread.
    public func start() {
        started.store(true, ordering: .releasing)
        let ctx = Unmanaged.passRetained(self).toOpaque()
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { ctx in
            let loop = Unmanaged<EventLoop>.fromOpaque(ctx!).takeRetainedValue()
            loop.run()
            return nil
        }, ctx)
        precondition(rc == 0, "cannot start event loop \(name): \(rc)")
        thread = t
    }

    /// Ends the loop after the work already handed over; waits for its thread unless called on it.
    public func stop() {
        inbox.withLock { $0.stopping = true }
        wake()
        if let thread, !inEventLoop { pthread_join(thread, nil) }
        thread = nil
    }

    // MARK: Work from any thread

    /// Runs `work` on the loop's thread and waits for it to have run (control paths only: a
    /// thread that blocks here serves nothing meanwhile). On the loop's own thread it runs now.
    public func runAndWait(_ work: @escaping @Sendable () -> Void) {
        if inEventLoop { work(); return }
        let done = Atomic<Bool>(false)
        execute { work(); done.store(true, ordering: .releasing) }
        while !done.load(ordering: .acquiring) { usleep(200) }
    }

    /// Runs `work` on the loop's thread, after what is running now.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        let wasSleeping = inbox.withLock { i -> Bool in
            i.work.append(work)
            let s = i.sleeping
            i.sleeping = false
            return s
        }
        if wasSleeping { wake() }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // MARK: Descriptors (loop thread)

    /// A registered descriptor; `remove` stops watching it.
    public struct Registration: Sendable, Hashable {
        let cookie: UInt64
        let fd: Int32
    }

    /// Watches `fd` for input (and for room to write when `writable` is asked for): `handler`
    /// gets the epoll event mask. Loop thread only.
    public func register(fd: Int32, writable: Bool = false, _ handler: @escaping (UInt32) -> Void) -> Registration {
        precondition(inEventLoop || !started.load(ordering: .acquiring), "EventLoop.register off the loop thread")
        let cookie = nextCookie
        nextCookie += 1
        handlers[cookie] = handler
        _ = stmf_epoll_set(epfd, fd, Self.mask(writable), cookie, 0)
        return Registration(cookie: cookie, fd: fd)
    }

    /// Asks for (or stops asking for) room-to-write events on a registered descriptor.
    public func setWritable(_ r: Registration, _ writable: Bool) {
        _ = stmf_epoll_set(epfd, r.fd, Self.mask(writable), r.cookie, 1)
    }

    public func remove(_ r: Registration) {
        handlers[r.cookie] = nil
        _ = stmf_epoll_remove(epfd, r.fd)
    }

    private static func mask(_ writable: Bool) -> UInt32 {
        STMF_EPOLLIN | STMF_EPOLLRDHUP | (writable ? STMF_EPOLLOUT : 0)
    }

    /// Runs `hook` after every wake-up's events, until the returned id is removed (loop thread).
    public func addBatchEndHook(_ hook: @escaping () -> Void) -> UInt64 {
        let id = nextCookie
        nextCookie += 1
        batchHooks[id] = hook
        return id
    }

    public func removeBatchEndHook(_ id: UInt64) { batchHooks[id] = nil }

    // MARK: Timers

    /// A scheduled timer, for `cancel`.
    public struct TimerID: Sendable, Hashable { let raw: UInt64 }

    /// Runs `work` on the loop at `deadline` (the loop clock's nanoseconds). From any thread.
    @discardableResult
    public func schedule(at deadline: UInt64, _ work: @escaping @Sendable () -> Void) -> TimerID {
        let id = TimerID(raw: timerIDs.withLock { $0 &+= 1; return $0 })
        if inEventLoop {
            timers.insert(deadline: deadline, id: id.raw, work)
        } else {
            execute { [self] in timers.insert(deadline: deadline, id: id.raw, work) }
        }
        return id
    }

    /// Runs `work` after `delay`.
    @discardableResult
    public func schedule(after delay: Duration, _ work: @escaping @Sendable () -> Void) -> TimerID {
        schedule(at: clock.now() &+ delay.nanoseconds, work)
    }

    public func cancel(_ id: TimerID) {
        if inEventLoop { timers.cancel(id.raw) } else { execute { [self] in timers.cancel(id.raw) } }
    }

    private let timerIDs = Locked<UInt64>(0)

    // MARK: The loop

    private func run() {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        let max = 64
        let cookies = UnsafeMutablePointer<UInt64>.allocate(capacity: max)
        let events = UnsafeMutablePointer<UInt32>.allocate(capacity: max)
        defer { cookies.deallocate(); events.deallocate() }
        var pending: [@Sendable () -> Void] = []
        while true {
            // Work handed over first; then sleep until a descriptor, a timer or new work.
            inbox.withLock { swap(&pending, &$0.work) }
            for w in pending { w() }
            pending.removeAll(keepingCapacity: true)
            timers.takeDue(upTo: clock.now(), into: &pending)
            for w in pending { w() }
            pending.removeAll(keepingCapacity: true)
            // The turn's output (batch-end hooks) and file I/O go out before the loop sleeps.
            for hook in batchHooks.values { hook() }
            files.submitQueued()
            let timeout = sleepTimeout(now: clock.now())
            if timeout != 0 && !prepareToSleep() { continue }
            if inbox.withLock({ $0.stopping && $0.work.isEmpty }) { break }
            let n = stmf_epoll_wait(epfd, cookies, events, Int32(max), timeout)
            inbox.withLock { $0.sleeping = false }
            if n < 0 { continue }   // EINTR
            for i in 0..<Int(n) {
                switch cookies[i] {
                case Self.wakeCookie:
                    var v: UInt64 = 0
                    _ = read(wakeFD, &v, 8)
                case Self.ioCookie:
                    files.reap()
                default:
                    handlers[cookies[i]]?(events[i])
                }
            }
        }
        files.shutdown()
    }

    /// Moves handed-over work out, and marks the loop as about to sleep when there is none:
    /// false when there was work (the loop goes round again instead of sleeping).
    private func prepareToSleep() -> Bool {
        inbox.withLock { i in
            if !i.work.isEmpty || i.stopping { return false }
            i.sleeping = true
            return true
        }
    }

    /// Milliseconds until the nearest timer (-1: none; 0: one is due).
    private func sleepTimeout(now: UInt64) -> Int32 {
        if inbox.withLock({ !$0.work.isEmpty || $0.stopping }) { return 0 }
        if files.hasQueued { return 0 }
        guard let next = timers.nextDeadline else { return -1 }
        if next <= now { return 0 }
        return Int32(min((next - now + 999_999) / 1_000_000, 60_000))
    }
}

/// The event bits a descriptor handler receives.
public enum IOEvent {
    public static let readable: UInt32 = STMF_EPOLLIN
    public static let writable: UInt32 = STMF_EPOLLOUT
    /// The peer closed, or the descriptor failed: read to see how.
    public static let hangup: UInt32 = STMF_EPOLLHUP | STMF_EPOLLERR | STMF_EPOLLRDHUP
}
