import FCPort
import Locking
import Runtime

/// The clock and timers of the shells that drive FCPort's machines (`NPort`, the FC initiator):
/// time from an event loop's clock (injectable), and one loop timer at a time for the earliest
/// deadline, so a timer per command costs a heap entry rather than a scheduled closure. A timer
/// that fires after it was cancelled is harmless, since a machine ignores ids it no longer runs.
package final class MachineTimers: Sendable {
    private struct State {
        var pending: [MachineTimerID: UInt64] = [:]
        var heap = DeadlineHeap()
        /// The loop timer that is set, and for when.
        var armed: (deadline: UInt64, timer: EventLoop.TimerID)?
    }

    private let loop: EventLoop
    /// The loop clock's reading that is the machines' time zero.
    private let origin: UInt64
    private let state = Locked(State())
    private let handler = Locked<(@Sendable ([MachineTimerID]) -> Void)?>(nil)

    package init(loop: EventLoop = EventLoopGroup.shared.next()) {
        self.loop = loop
        origin = loop.clock.now()
    }

    /// Sets what gets the timers that are due (once, before any starts; capture the owner
    /// weakly).
    package func onFire(_ body: @escaping @Sendable ([MachineTimerID]) -> Void) {
        handler.withLock { $0 = body }
    }

    /// Now, as the machines count time.
    package var now: FCInstant { FCInstant(.nanoseconds(Int64(loop.clock.now() &- origin))) }

    package func start(_ id: MachineTimerID, deadline: FCInstant) {
        let at = origin &+ deadline.sinceOrigin.nanoseconds
        let rearm = state.withLock { s -> Bool in
            s.pending[id] = at
            s.heap.push(at, id)
            // Cancelled timers stay in the heap until their deadline comes up: rebuild it when
            // they outnumber the running ones.
            if s.heap.count > 2 * s.pending.count + 1024 { s.heap.rebuild(from: s.pending) }
            if let a = s.armed, a.deadline <= at { return false }
            return true
        }
        if rearm { arm() }
    }

    package func cancel(_ id: MachineTimerID) {
        state.withLock { _ = $0.pending.removeValue(forKey: id) }
    }

    /// Stops every timer.
    package func cancelAll() {
        let armed = state.withLock { s -> EventLoop.TimerID? in
            s.pending.removeAll()
            s.heap = DeadlineHeap()
            defer { s.armed = nil }
            return s.armed?.timer
        }
        if let armed { loop.cancel(armed) }
    }

    /// Sets the loop timer for the earliest running deadline (replacing a later one).
    private func arm() {
        state.withLock { s in
            guard let next = s.heap.first(in: s.pending) else { return }
            if let a = s.armed {
                if a.deadline <= next { return }
                loop.cancel(a.timer)
            }
            let t = loop.schedule(at: next) { [weak self] in self?.fire() }
            s.armed = (next, t)
        }
    }

    private func fire() {
        let now = loop.clock.now()
        let due = state.withLock { s -> [MachineTimerID] in
            s.armed = nil
            var due: [MachineTimerID] = []
            while let (at, id) = s.heap.top, at <= now {
                s.heap.pop()
                if s.pending[id] == at { s.pending[id] = nil; due.append(id) }
            }
            return due
        }
        arm()
        if !due.isEmpty, let f = handler.withLock({ $0 }) { f(due) }
    }
}

/// A binary min-heap of (deadline, timer).
struct DeadlineHeap {
    private var items: [(UInt64, MachineTimerID)] = []
    var count: Int { items.count }
    var top: (UInt64, MachineTimerID)? { items.first }

    mutating func push(_ at: UInt64, _ id: MachineTimerID) {
        items.append((at, id))
        var i = items.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard items[i].0 < items[p].0 else { break }
            items.swapAt(i, p)
            i = p
        }
    }

    mutating func pop() {
        let last = items.removeLast()
        guard !items.isEmpty else { return }
        items[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < items.count && items[l].0 < items[m].0 { m = l }
            if r < items.count && items[r].0 < items[m].0 { m = r }
            if m == i { break }
            items.swapAt(i, m)
            i = m
        }
    }

    /// The earliest deadline still running (cancelled entries at the top are dropped).
    mutating func first(in pending: [MachineTimerID: UInt64]) -> UInt64? {
        while let (at, id) = top {
            if pending[id] == at { return at }
            pop()
        }
        return nil
    }

    mutating func rebuild(from pending: [MachineTimerID: UInt64]) {
        self = DeadlineHeap()
        for (id, at) in pending { push(at, id) }
    }
}
