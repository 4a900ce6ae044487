import Locking
import Synchronization

/// One SCSI task from the moment a port provider submits it until its status is sent: COMSTAR's
/// `scsi_task_t`. The port provider fills in the command and lends the data buffers, STMF tracks
/// it for ordering and task management, an LU provider executes it.
///
/// Port providers keep their tasks in a pool and reuse one as soon as its status went out
/// (`TaskStart.done`, or `TaskPort.sendStatus`), so the command path allocates nothing per
/// command; `prepareForReuse()` clears what STMF kept.
///
/// Who touches what: the command fields belong to the port provider until `Session.submit` and
/// are read-only afterwards; STMF's fields are guarded by the owning session's lock (noted
/// where they are not); the port's `context` fields are the port's alone.
public final class SCSITask: @unchecked Sendable {
    // MARK: The command (set by the port provider before submit)

    /// The 8-byte LUN field as the initiator sent it (SAM-5 4.6).
    public var lunField: UInt64 = 0
    public var cdb = CDB()
    public var attribute: TaskAttribute = .simple
    /// Task tag, unique per I_T nexus while the task exists (FC: S_ID and OX_ID).
    public var tag: UInt64 = 0
    public var direction: DataDirection = .none
    /// Expected data transfer length (FCP_DL).
    public var expectedTransferLength = 0
    /// Data-out: received before submit, or on request (`dataOutOnRequest`).
    public var dataOut: IOBuffer?
    /// Where data-in goes; the LU places at most `dataInLimit` bytes into it.
    public var dataIn: IOBuffer?
    /// The data-out is not there yet: STMF asks for it with `TaskPort.transferData` once the
    /// task is accepted (FC: XFER_RDY), and the port calls `Session.dataTransferred` when done.
    public var dataOutOnRequest = false
    /// Command reference number (FCP CRN), 0 when unused.
    public var crn: UInt8 = 0

    // MARK: The port provider's own (STMF never reads them)

    /// The port's reference for this task (FC: its exchange key).
    public var context: UInt64 = 0
    public var contextObject: AnyObject?

    // MARK: STMF's

    /// The session the task was submitted to (set by `submit`).
    public internal(set) unowned(unsafe) var session: Session?
    var record: LURecord?
    var recorder: (any TaskRecorder)?
    var lun: UInt16 = 0
    var startNanoseconds: UInt64 = 0
    /// Guarded by the session lock.
    var aborted = false
    var abortedWithStatus = false
    /// Admitted to the LU's task set (and not yet left it); guarded by the task set's lock.
    var admitted = false
    /// The async wrapper's resumption (`Session.execute`), instead of `TaskPort.sendStatus`.
    var onComplete: ((TaskResponse) -> Void)?

    /// Where the task is, for an abort to reach the provider that holds it, and which use of
    /// this (pooled) object it is: an abort decided under the session lock acts only while the
    /// same use is still in the same stage.
    struct Control {
        enum Stage { case idle, transferring, running, finished }
        var stage = Stage.idle
        var use: UInt64 = 0
    }
    let control = Locked(Control())

    /// Where the task is in its life: what decides whether a completion during `submit` is
    /// returned from it (`.done`) or reported to the port later (`sendStatus`).
    let phase = Atomic<UInt8>(Phase.idle)
    /// The response of a task that completed while `submit` was still running.
    var inlineResponse = TaskResponse.good

    enum Phase {
        static let idle: UInt8 = 0
        static let submitting: UInt8 = 1
        static let pending: UInt8 = 2
        static let completedInline: UInt8 = 3
    }

    public init() {}

    /// A task for `command` (the async wrapper and control paths).
    public convenience init(_ command: SCSICommand) {
        self.init()
        set(command)
    }

    /// Copies a command's fields in.
    public func set(_ c: SCSICommand) {
        lunField = c.lun; cdb = c.cdb; attribute = c.attribute; tag = c.tag; direction = c.direction
        expectedTransferLength = c.expectedTransferLength; dataOut = c.dataOut; dataIn = c.dataIn; crn = c.crn
        dataOutOnRequest = false
    }

    /// Clears what STMF kept, before a port provider reuses the task for another command.
    public func prepareForReuse() {
        record = nil
        recorder = nil
        onComplete = nil
        aborted = false
        abortedWithStatus = false
        admitted = false
        dataOut = nil
        dataIn = nil
        dataOutOnRequest = false
        contextObject = nil
        phase.store(Phase.idle, ordering: .relaxed)
        control.withLock { c in c.stage = .idle; c.use &+= 1 }
    }

    func setStage(_ stage: Control.Stage) { control.withLock { $0.stage = stage } }

    /// Most data-in bytes the transport can take: min(FCP_DL, buffer capacity) for reads.
    var dataInLimit: Int {
        direction == .read || direction == .bidirectional ? min(expectedTransferLength, dataIn?.capacity ?? 0) : 0
    }
}

/// What a provider answers when it is handed a task: finished already, or later.
public enum TaskStart: Sendable {
    /// The task is over; this is its response. Nothing else will be reported for it.
    case done(TaskResponse)
    /// The task goes on; its completion is reported later, exactly once (the LU's through
    /// `LUTask.complete`, STMF's to the port through `TaskPort.sendStatus`).
    case pending
}
