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

/// What STMF asks of a port provider for each task it submitted (COMSTAR's `lport_xfer_data`,
/// `lport_send_status` and `lport_abort`; Linux's `write_pending`, `queue_status` and
/// `aborted_task`). Every call may come from any thread: the port's own loop, an I/O completion,
/// a task-management caller. None may block.
public protocol TaskPort: AnyObject, Sendable {
    /// Fetch the data-out of a task submitted with `dataOutOnRequest` into its `dataOut` buffer
    /// (FC: XFER_RDY and FCP_DATA), then call `Session.dataTransferred(task, ok:)`; the call may
    /// come before this returns when the data is already in place.
    func transferData(_ task: SCSITask)

    /// The end of a task `submit` answered `.pending` for, exactly once: send its status and its
    /// data-in (`response.dataLength` bytes of `dataIn`). A response marked `aborted` gets no
    /// status (or TASK ABORTED, `status == .taskAborted`); the port frees what it held.
    func sendStatus(_ task: SCSITask, _ response: TaskResponse)

    /// STMF aborted the task (task management, another nexus, the session ends): stop a data
    /// transfer that is under way (its `dataTransferred(ok: false)` follows). Status is still
    /// reported once through `sendStatus`, marked aborted.
    func abort(_ task: SCSITask)

    /// Whether the transport itself tells an initiator its LUN inventory changed (LIO raises
    /// REPORTED LUNS DATA HAS CHANGED whenever a LUN is linked to or unlinked from a nexus):
    /// STMF then raises none of its own, so the initiator never sees the condition twice.
    var announcesLUNInventoryChanges: Bool { get }
}

extension TaskPort {
    public var announcesLUNInventoryChanges: Bool { false }
}
