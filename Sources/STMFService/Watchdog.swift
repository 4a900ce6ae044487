#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Locking
import Runtime

/// systemd's watchdog (`WatchdogSec=` in the unit): while `$WATCHDOG_USEC` is set (and
/// `$WATCHDOG_PID`, when set, names this process), stmfd sends `WATCHDOG=1` every half of that
/// interval from a timer on one of the runtime's event loops, which own every thread and timer
/// of the product. A loop that stops turning stops the pings, and systemd restarts the service.
public final class Watchdog: Sendable {
    /// The interval between pings: half of what systemd allows.
    public let interval: Duration
    private let loop: EventLoop
    private let state = Locked<(timer: EventLoop.TimerID?, stopped: Bool, pings: Int)>((nil, false, 0))
    private let send: @Sendable (String) -> Void

    /// The watchdog systemd asks for through the environment, or nil.
    public static func fromEnvironment(loop: EventLoop = EventLoopGroup.shared.next(),
                                       send: @escaping @Sendable (String) -> Void = SystemdNotify.send) -> Watchdog? {
        guard let text = getenv("WATCHDOG_USEC").map({ String(cString: $0) }), let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = getenv("WATCHDOG_PID").map({ String(cString: $0) }), let p = Int32(pid), p != getpid() { return nil }
        return Watchdog(interval: .microseconds(Int64(usec / 2)), loop: loop, send: send)
    }

    public init(interval: Duration, loop: EventLoop, send: @escaping @Sendable (String) -> Void) {
        self.interval = interval
        self.loop = loop
        self.send = send
    }

    /// Pings at once, then every `interval`.
    public func start() {
        tick()
    }

    private func tick() {
        let go = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.pings += 1
            return true
        }
        guard go else { return }
        send("WATCHDOG=1")
        let id = loop.schedule(after: interval) { [weak self] in self?.tick() }
        state.withLock { s in
            if s.stopped { loop.cancel(id) } else { s.timer = id }
        }
    }

    public func stop() {
        let id = state.withLock { s -> EventLoop.TimerID? in
            s.stopped = true
            defer { s.timer = nil }
            return s.timer
        }
        if let id { loop.cancel(id) }
    }

    /// Pings sent so far.
    public var pings: Int { state.withLock { $0.pings } }
}
