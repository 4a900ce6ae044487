/// Pending unit attention conditions of one I_T_L nexus, oldest first (SAM-5 5.14).
/// Duplicates collapse; a reset-class condition (29/xx) supersedes everything queued before
/// it, since a reset clears the state those conditions described; the queue is bounded so a
/// silent initiator cannot make it grow without end.
public struct UnitAttentionQueue: Sendable, Hashable {
    public private(set) var pending: [AdditionalSense] = []
    public static let capacity = 16

    public init() {}

    public var isEmpty: Bool { pending.isEmpty }

    public mutating func establish(_ c: AdditionalSense) {
        if c.asc == 0x29 { pending.removeAll() }
        if pending.contains(c) { return }
        if pending.count == Self.capacity { pending.removeFirst() }
        pending.append(c)
    }

    public mutating func next() -> AdditionalSense? {
        pending.isEmpty ? nil : pending.removeFirst()
    }

    public mutating func clear() { pending.removeAll() }
}
