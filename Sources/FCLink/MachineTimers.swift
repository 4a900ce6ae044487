import FCPort
import Locking

/// The wall clock and timers of the shells that drive FCPort's machines (`NPort`, the FC
/// initiator): the only place they read the clock or sleep. A timer that fires after it was
/// cancelled is harmless, since a machine ignores ids it no longer runs.
///
/// One task sleeps until the earliest deadline; starting a timer only wakes it when the new
/// deadline is earlier, so thousands of command timers cost a dictionary each.
package final class MachineTimers: Sendable {
    private struct State {
        var deadlines: [MachineTimerID: FCInstant] = [:]
        var sleeper: Task<Void, Never>?
        var wakeAt: FCInstant?
    }

    private let origin = ContinuousClock.now
    private let state = Locked(State())
    private let handler = Locked<(@Sendable ([MachineTimerID]) -> Void)?>(nil)

    package init() {}

    /// Sets what gets the timers that are due, in deadline order (once, before any starts;
    /// capture the owner weakly).
    package func onFire(_ body: @escaping @Sendable ([MachineTimerID]) -> Void) {
        handler.withLock { $0 = body }
    }

    /// Now, as the machines count time.
    package var now: FCInstant { FCInstant(ContinuousClock.now - origin) }

    package func start(_ id: MachineTimerID, deadline: FCInstant) {
        state.withLock { s in
            s.deadlines[id] = deadline
            if let w = s.wakeAt, w <= deadline { return }
            s.sleeper?.cancel()
            s.wakeAt = deadline
            s.sleeper = sleep(until: deadline)
        }
    }

    package func cancel(_ id: MachineTimerID) {
        state.withLock { _ = $0.deadlines.removeValue(forKey: id) }
    }

    /// Stops every timer.
    package func cancelAll() {
        state.withLock { s in
            s.deadlines.removeAll()
            s.sleeper?.cancel()
            s.sleeper = nil
            s.wakeAt = nil
        }
    }

    private func sleep(until deadline: FCInstant) -> Task<Void, Never> {
        let at = origin + deadline.sinceOrigin
        return Task { [weak self] in
            try? await Task.sleep(until: at, clock: .continuous)
            guard !Task.isCancelled else { return }
            self?.wake()
        }
    }

    private func wake() {
        let now = self.now
        let due = state.withLock { s -> [MachineTimerID] in
            let due = s.deadlines.filter { $0.value <= now }.sorted { ($0.value, $0.key.rawValue) < ($1.value, $1.key.rawValue) }
            for (id, _) in due { s.deadlines[id] = nil }
            s.wakeAt = s.deadlines.values.min()
            s.sleeper = s.wakeAt.map { sleep(until: $0) }
            return due.map(\.key)
        }
        if !due.isEmpty, let fire = handler.withLock({ $0 }) { fire(due) }
    }
}
