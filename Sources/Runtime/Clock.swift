#if canImport(Glibc)
import Glibc
#endif
import Locking

/// Where event loops (and the protocol machines they drive) get the time: the monotonic clock
/// in the product, a clock the test moves by hand in tests. Nanoseconds, from any origin.
public protocol LoopClock: Sendable {
    func now() -> UInt64
}

/// CLOCK_MONOTONIC.
public struct MonotonicClock: LoopClock {
    public init() {}
    @inline(__always)
    public func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// A clock that moves only when told to (tests of timers and timeouts in microseconds of
/// test time).
public final class ManualClock: LoopClock, Sendable {
    private let current: Locked<UInt64>
    public init(start: UInt64 = 1_000_000_000) { current = Locked(start) }
    public func now() -> UInt64 { current.withLock { $0 } }
    public func advance(by nanoseconds: UInt64) { current.withLock { $0 &+= nanoseconds } }
    public func advance(by d: Duration) { advance(by: d.nanoseconds) }
}

extension Duration {
    /// The duration in whole nanoseconds (negative ones count as zero).
    public var nanoseconds: UInt64 {
        let (s, a) = components
        if s < 0 { return 0 }
        return UInt64(s) &* 1_000_000_000 &+ UInt64(a / 1_000_000_000)
    }
}
