/// A point in time as the protocol machines see it: a duration since an origin the caller
/// chooses (a runtime's clock at start, zero in a test). Machines never read a clock; every
/// event brings `now`, and timer deadlines they hand out are computed from it.
public struct FCInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the origin.
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The origin.
    public static let zero = FCInstant(.zero)

    public static func + (t: FCInstant, d: Duration) -> FCInstant { FCInstant(t.sinceOrigin + d) }
    public static func - (a: FCInstant, b: FCInstant) -> Duration { a.sinceOrigin - b.sinceOrigin }
    public static func < (a: FCInstant, b: FCInstant) -> Bool { a.sinceOrigin < b.sinceOrigin }

    public var description: String { "t+\(sinceOrigin)" }
}

/// An opaque timer a machine asks its runtime to run (`startTimer`) or stop (`cancelTimer`).
/// Ids are never reused by a machine, so a timer that fires after it was cancelled is simply
/// not recognised and ignored.
public struct MachineTimerID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "timer \(rawValue)" }
}

/// Hands out `MachineTimerID`s and remembers what each running timer is for.
struct TimerTable<Purpose: Sendable>: Sendable {
    private var next: UInt64 = 1
    private var running: [MachineTimerID: Purpose] = [:]

    /// Registers a timer for `purpose`; returns its id.
    mutating func start(_ purpose: Purpose) -> MachineTimerID {
        let id = MachineTimerID(rawValue: next)
        next &+= 1
        running[id] = purpose
        return id
    }

    /// Forgets a timer (cancelled); returns whether it was running.
    @discardableResult
    mutating func cancel(_ id: MachineTimerID) -> Bool { running.removeValue(forKey: id) != nil }

    /// The purpose of a timer that fired, removing it; nil for a timer no longer running.
    mutating func fired(_ id: MachineTimerID) -> Purpose? { running.removeValue(forKey: id) }

    /// Forgets every timer; returns their ids (to cancel at the runtime).
    mutating func removeAll() -> [MachineTimerID] {
        let ids = running.keys.sorted { $0.rawValue < $1.rawValue }
        running.removeAll()
        return ids
    }

    var count: Int { running.count }
}

extension Duration {
    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
