/// The OX_IDs an N_Port has in use for the exchanges it originates (ELS, CT and FCP alike):
/// handed out round robin over 1…0xFFFE, skipping those in use, so an id just released is
/// the last to be used again.
public struct ExchangeIDPool: Sendable, Equatable {
    private var inUse = Set<UInt16>()
    private var next: UInt16 = 1

    public init() {}

    /// An unused OX_ID, now in use; nil when all 65534 are.
    public mutating func allocate() -> UInt16? {
        for _ in 0..<0xFFFE {
            let id = next
            next = next >= 0xFFFE ? 1 : next + 1
            if inUse.insert(id).inserted { return id }
        }
        return nil
    }

    /// Returns an OX_ID to the pool.
    public mutating func release(_ id: UInt16) { inUse.remove(id) }

    /// Frees every OX_ID (the link went down: no exchange survives it).
    public mutating func releaseAll() { inUse.removeAll() }

    public func contains(_ id: UInt16) -> Bool { inUse.contains(id) }
    public var count: Int { inUse.count }
}
