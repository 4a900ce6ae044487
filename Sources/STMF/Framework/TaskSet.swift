import Locking
import Synchronization

/// The task set of one logical unit (SAM-5 8.6, TST = 000b: one set shared by every I_T
/// nexus). Enforces the task attributes: HEAD OF QUEUE starts at once; SIMPLE starts unless an
/// ORDERED task is running or waiting; ORDERED starts only when every older task has ended
/// and holds back all newer SIMPLE and ORDERED tasks until it ends.
///
/// The uncontended path (SIMPLE, no ORDERED around) takes the lock once and never suspends.
public final class TaskSet: Sendable {
    private struct Waiter {
        var ticket: UInt64
        var ordered: Bool
        var continuation: CheckedContinuation<Bool, Never>
    }
    private struct State {
        var running = 0            // SIMPLE and HEAD OF QUEUE tasks running
        var orderedRunning = false
        var queue: [Waiter] = []
    }
    private let state = Locked(State())
    private let tickets = Atomic<UInt64>(0)
    /// Tasks of every nexus admitted to this LU and not yet ended (running, queued or aborted).
    private let occupied = Atomic<Int>(0)

    public init() {}

    /// Takes a place for a new task unless `limit` tasks already hold one. Lock-free.
    func occupy(limit: Int) -> Bool {
        if occupied.add(1, ordering: .relaxed).newValue <= limit { return true }
        occupied.subtract(1, ordering: .relaxed)
        return false
    }

    /// Gives back a place `occupy` took.
    func vacate() { occupied.subtract(1, ordering: .relaxed) }

    /// Tasks holding a place in this task set.
    public var occupancy: Int { occupied.load(ordering: .relaxed) }

    /// A task's place in the set, needed to leave it.
    public struct Admission: Sendable {
        public let ordered: Bool
        public let ticket: UInt64
    }

    /// Reserves a ticket before suspending (so an abort can find the waiter). Lock-free, so
    /// callers may take one while holding their own locks.
    public func ticket() -> UInt64 {
        tickets.add(1, ordering: .relaxed).newValue
    }

    /// Waits until the task may start. Returns false if it was cancelled while waiting.
    /// `isCancelled` is asked under the set's lock before the task starts or queues, so an
    /// abort that raced ahead of `enter` (its `cancel` found no waiter) is not missed: the
    /// aborter marks the task cancelled before calling `cancel`.
    public func enter(_ attribute: TaskAttribute, ticket: UInt64, isCancelled: () -> Bool = { false }) async -> Bool {
        let ordered = attribute == .ordered
        let immediate: Bool? = state.withLock { s in
            if isCancelled() { return nil }
            switch attribute {
            case .headOfQueue:
                s.running += 1; return true
            case .ordered:
                if s.running == 0 && !s.orderedRunning && s.queue.isEmpty { s.orderedRunning = true; return true }
                return false
            default:
                if !s.orderedRunning && s.queue.isEmpty { s.running += 1; return true }
                return false
            }
        }
        guard let immediate else { return false }
        if immediate { return true }
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let resumeNow: Bool? = state.withLock { s in
                if isCancelled() { return false }
                // Re-check: the set may have drained between the two lock sections.
                if ordered {
                    if s.running == 0 && !s.orderedRunning && s.queue.isEmpty { s.orderedRunning = true; return true }
                } else if !s.orderedRunning && s.queue.isEmpty {
                    s.running += 1; return true
                }
                s.queue.append(Waiter(ticket: ticket, ordered: ordered, continuation: c))
                return nil
            }
            if let resumeNow { c.resume(returning: resumeNow) }
        }
    }

    /// Leaves the set after the task ended (only for tasks whose `enter` returned true).
    public func leave(_ attribute: TaskAttribute) {
        let ready: [CheckedContinuation<Bool, Never>] = state.withLock { s in
            if attribute == .ordered { s.orderedRunning = false } else { s.running -= 1 }
            return Self.drain(&s)
        }
        for c in ready { c.resume(returning: true) }
    }

    /// Removes a waiting task (abort); it resumes with false. No effect if it already started.
    public func cancel(ticket: UInt64) {
        let (cancelled, ready): (CheckedContinuation<Bool, Never>?, [CheckedContinuation<Bool, Never>]) = state.withLock { s in
            guard let i = s.queue.firstIndex(where: { $0.ticket == ticket }) else { return (nil, []) }
            let w = s.queue.remove(at: i)
            return (w.continuation, Self.drain(&s))
        }
        cancelled?.resume(returning: false)
        for c in ready { c.resume(returning: true) }
    }

    private static func drain(_ s: inout State) -> [CheckedContinuation<Bool, Never>] {
        var ready: [CheckedContinuation<Bool, Never>] = []
        while let head = s.queue.first {
            if head.ordered {
                guard s.running == 0 && !s.orderedRunning else { break }
                s.orderedRunning = true
                ready.append(s.queue.removeFirst().continuation)
                break
            }
            guard !s.orderedRunning else { break }
            s.running += 1
            ready.append(s.queue.removeFirst().continuation)
        }
        return ready
    }

    /// Tasks running or waiting (for tests and statistics).
    public var depth: (running: Int, ordered: Bool, waiting: Int) {
        state.withLock { ($0.running, $0.orderedRunning, $0.queue.count) }
    }
}
