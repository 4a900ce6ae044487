import FCPort
import Locking
import Runtime

/// The clock and timers of the shells that drive FCPort's machines (`NPort`, the FC initiator):
/// an event loop's timers on the loop's clock (injectable), the only place the shells read the
/// time. A timer that fires after it was cancelled is harmless, since a machine ignores ids it
/// no longer runs.
package final class MachineTimers: Sendable {
    private let loop: EventLoop
    /// The loop clock's reading that is the machines' time zero.
    private let origin: UInt64
    private let running = Locked<[MachineTimerID: EventLoop.TimerID]>([:])
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
        let t = loop.schedule(at: at) { [weak self] in
            guard let self, self.running.withLock({ $0.removeValue(forKey: id) }) != nil else { return }
            self.handler.withLock { $0 }?([id])
        }
        running.withLock { $0[id] = t }
    }

    package func cancel(_ id: MachineTimerID) {
        if let t = running.withLock({ $0.removeValue(forKey: id) }) { loop.cancel(t) }
    }

    /// Stops every timer.
    package func cancelAll() {
        let all = running.withLock { r in defer { r.removeAll() }; return Array(r.values) }
        for t in all { loop.cancel(t) }
    }
}
