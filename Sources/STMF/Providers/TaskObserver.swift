/// Statistics hook (COMSTAR's per-LU and per-port kstats): the service gives STMF an
/// observer, STMF asks it once per I_T_L nexus for a recorder and reports every command the
/// LU completes to that recorder — no lookup or lock on the per-command path.
public protocol TaskObserver: Sendable {
    func recorder(lu: LUGUID, targetPort: PortIdentifier) -> any TaskRecorder
    /// The recorder of one I_T_L nexus, named by its initiator too (per-initiator statistics).
    /// By default the I_T_L's recorder is the L and T one's.
    func recorder(lu: LUGUID, targetPort: PortIdentifier, initiator: PortIdentifier) -> any TaskRecorder
}

public extension TaskObserver {
    func recorder(lu: LUGUID, targetPort: PortIdentifier, initiator: PortIdentifier) -> any TaskRecorder {
        recorder(lu: lu, targetPort: targetPort)
    }
}

public protocol TaskRecorder: Sendable {
    /// One completed command: its data direction and bytes moved, final status, and the time
    /// from receipt to completion.
    func record(direction: DataDirection, bytes: Int, status: SCSIStatus, nanoseconds: UInt64)
}
