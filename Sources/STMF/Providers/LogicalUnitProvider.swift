/// A logical unit as an LU provider (e.g. SBD) implements it: COMSTAR's `stmf_lu_t` entry
/// points. STMF owns views, sessions, ordering and task management; the LU owns the SCSI
/// command set for its device type and its own state (capacity, mode pages, reservations).
public protocol LogicalUnit: AnyObject, Sendable {
    var guid: LUGUID { get }
    /// Short human-readable name (`alias`).
    var alias: String { get }

    /// Called when STMF registers the LU; the LU keeps `services` to raise unit attentions.
    func attach(_ services: any LUServices)

    /// Starts one command (never REPORT LUNS: STMF answers those) on the calling thread, which
    /// is the port provider's (an event loop, an I/O completion): it must not block. A command
    /// whose data is at hand finishes here and returns `.done`; one that waits for I/O returns
    /// `.pending` and reports its end once, from any thread, with `task.complete`.
    func start(_ task: LUTask) -> TaskStart

    /// STMF aborted a task this LU is executing (task management, the nexus went away): stop it
    /// if that is possible (a pass-through device's abort), else let it run out. Either way it
    /// is completed as usual; STMF turns its response into the aborted one. Never blocks.
    func abort(_ task: LUTask)

    /// Checks a command before its data phase (no data has moved, no buffer exists): throws
    /// the error it would end with (unsupported opcode, reserved bits, LBA range, transfer
    /// length beyond the LU's limits, write protection, reservation conflict), else returns
    /// how many bytes of data it moves (nil when that is not known from the CDB alone).
    /// Never blocks; `execute` checks again.
    func prepare(_ cdb: CDB, nexus: Nexus) throws(SCSIError) -> Int?

    /// The LU's task-management entry: framework events it must act on (LOGICAL UNIT RESET,
    /// I_T nexus loss, state changes). STMF has aborted and drained the tasks concerned first.
    func handle(_ event: LUEvent)

    /// D_SENSE of the control mode page: format of sense STMF generates for this LU (UAs).
    var descriptorSense: Bool { get }
    /// TAS of the control mode page: aborted tasks of other nexuses get TASK ABORTED status.
    var taskAbortedStatus: Bool { get }
    /// Peripheral device type (0 = direct access block device).
    var peripheralDeviceType: UInt8 { get }
}

public extension LogicalUnit {
    func prepare(_ cdb: CDB, nexus: Nexus) throws(SCSIError) -> Int? { nil }
    /// Runs `task` to its end (tests and control paths): starts it, and waits for the completion
    /// if it is pending. `task`'s own sink, if it has one, is not used.
    func execute(_ task: LUTask) async -> TaskResponse {
        let box = AsyncCompletion()
        return await withCheckedContinuation { (c: CheckedContinuation<TaskResponse, Never>) in
            box.continuation = c
            switch start(task.completing(into: box)) {
            case let .done(r): box.resumeOnce(r)
            case .pending: break
            }
        }
    }
    var descriptorSense: Bool { false }
    var taskAbortedStatus: Bool { false }
    var peripheralDeviceType: UInt8 { 0 }
}

/// Events STMF delivers to a logical unit.
public enum LUEvent: Sendable {
    /// LOGICAL UNIT RESET (or TARGET RESET reaching this LU): release SPC-2 reservations,
    /// restore mode parameters to their saved values.
    case logicalUnitReset
    /// The I_T nexus is gone (logout, link loss, I_T NEXUS RESET): release an SPC-2
    /// reservation it held. Persistent reservations survive.
    case itNexusLoss(Nexus)
    /// STMF moved the LU online or offline.
    case stateChanged(online: Bool)
}

/// Where a unit attention is established (SAM-5 5.14, per I_T_L nexus).
public enum UnitAttentionScope: Sendable, Hashable {
    /// Every I_T nexus that reaches the LU.
    case all
    /// Every I_T nexus except one session's.
    case allExcept(sessionID: UInt64)
    /// One session's.
    case session(UInt64)
    /// The I_T nexus of this initiator through this relative target port (if logged in).
    case nexus(initiator: PortIdentifier, relativeTargetPortID: UInt16)
    /// This initiator through any target port.
    case initiator(PortIdentifier)
}

/// Description of a local target port for REPORT TARGET PORT GROUPS and VPD page 0x83.
public struct TargetPortInfo: Sendable, Hashable {
    public var name: PortIdentifier
    public var relativeID: UInt16
    public var groupID: UInt16
    public var online: Bool

    public init(name: PortIdentifier, relativeID: UInt16, groupID: UInt16, online: Bool) {
        self.name = name; self.relativeID = relativeID; self.groupID = groupID; self.online = online
    }
}

/// What STMF offers an LU provider.
public protocol LUServices: Sendable {
    func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID, scope: UnitAttentionScope)
    /// All target ports of this STMF instance (for RTPG).
    func targetPorts() -> [TargetPortInfo]
    /// Aborts (without waiting) the tasks of the matching nexuses on `lu`, as PREEMPT AND
    /// ABORT requires; they end with no status (TASK ABORTED if the LU's TAS is set).
    func abortTasks(lu: LUGUID, scope: UnitAttentionScope)
}
