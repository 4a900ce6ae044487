/// A local target port as a port provider (FC, loopback, LIO bridge…) implements it:
/// COMSTAR's `stmf_local_port_t`. STMF calls it to change the port's state; the provider
/// calls STMF (through its `TargetPortHandle`) to create sessions and post tasks.
public protocol PortProvider: AnyObject, Sendable {
    /// Bring the port online (FC: link up, fabric login, name server registration).
    func online() async throws
    /// Take the port offline: log out every initiator; STMF ends their sessions.
    func offline() async
}

/// The state of a target port or logical unit (COMSTAR's STMF_STATE_*).
public enum ResourceState: String, Sendable, Codable, CaseIterable {
    case offline = "Offline"
    case onlining = "Onlining"
    case online = "Online"
    case offlining = "Offlining"
}
