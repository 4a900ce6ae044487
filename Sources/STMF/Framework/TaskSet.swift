import Locking
import Synchronization

/// The task set of one logical unit (SAM-5 8.6, TST = 000b: one set shared by every I_T
/// nexus). Enforces the task attributes: HEAD OF QUEUE starts at once; SIMPLE starts unless an
/// ORDERED task is running or waiting; ORDERED starts only when every older task has ended
/// and holds back all newer SIMPLE and ORDERED tasks until it ends.
///
/// Nothing here waits: a task that may not start yet is queued and handed back by the `leave`
/// (or `cancel`) that lets it start, to be started on that caller's thread. The uncontended path
/// (SIMPLE, no ORDERED around) takes the lock once to enter and once to leave.
public final class TaskSet: Sendable {
    private struct State {
        var running = 0            // SIMPLE and HEAD OF QUEUE tasks running
        var orderedRunning = false
        var queue: [SCSITask] = []
    }
    private let state = Locked(State())
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

    /// Admits `task` (true: start it now) or queues it behind an ORDERED task (false: a later
    /// `leave` or `cancel` returns it).
    func enter(_ task: SCSITask) -> Bool {
        state.withLock { s in
            let now: Bool
            switch task.attribute {
            case .headOfQueue:
                s.running += 1; now = true
            case .ordered:
                now = s.running == 0 && !s.orderedRunning && s.queue.isEmpty
                if now { s.orderedRunning = true }
            default:
                now = !s.orderedRunning && s.queue.isEmpty
                if now { s.running += 1 }
            }
            if now { task.admitted = true } else { s.queue.append(task) }
            return now
        }
    }

    /// The task ended: the tasks that may start now, already admitted (the caller starts them).
    func leave(_ task: SCSITask) -> [SCSITask] {
        state.withLock { s in
            guard task.admitted else { return [] }
            task.admitted = false
            if task.attribute == .ordered { s.orderedRunning = false } else { s.running -= 1 }
            return s.queue.isEmpty ? [] : Self.drain(&s)
        }
    }

    /// Takes a queued task out (it was aborted before it could start); returns whether it was
    /// queued, and the tasks that may start now that it is gone.
    func cancel(_ task: SCSITask) -> (removed: Bool, ready: [SCSITask]) {
        state.withLock { s in
            guard let i = s.queue.firstIndex(where: { $0 === task }) else { return (false, []) }
            s.queue.remove(at: i)
            return (true, Self.drain(&s))
        }
    }

    private static func drain(_ s: inout State) -> [SCSITask] {
        var ready: [SCSITask] = []
        while let head = s.queue.first {
            if head.attribute == .ordered {
                guard s.running == 0 && !s.orderedRunning else { break }
                s.orderedRunning = true
                head.admitted = true
                ready.append(s.queue.removeFirst())
                break
            }
            guard !s.orderedRunning else { break }
            s.running += 1
            head.admitted = true
            ready.append(s.queue.removeFirst())
        }
        return ready
    }

    /// Tasks running or waiting (for tests and statistics).
    public var depth: (running: Int, ordered: Bool, waiting: Int) {
        state.withLock { ($0.running, $0.orderedRunning, $0.queue.count) }
    }
}
