import STMF

/// The FCP exchanges an initiator originates, as a pure state machine: FCP_CMND out,
/// XFER_RDY in → data out (split to the target's receive size), FCP_DATA in (a duplicated
/// frame counts once), FCP_RSP in → completed; a timeout → ABTS → BA_ACC/BA_RJT (or no
/// answer within R_A_TOV) → failed; an OX_ID that did not end cleanly stays unused for R_A_TOV;
/// link loss fails everything; a target's ABTS is accepted; FCP violations (data beyond FCP_DL,
/// a bad XFER_RDY, missing data) fail the command.
///
/// Each event returns the actions for the runtime, in order. OX_IDs come from the caller (the
/// N_Port's pool); the machine hands them back with `releaseExchangeID` once it is done with
/// them — except after link loss, when the N_Port has freed them all already.
public struct InitiatorExchangeMachine: Sendable {
    /// One command to run as one exchange.
    public struct Command: Sendable {
        public var oxid: UInt16
        public var source: FCID
        public var target: FCID
        public var command: FCPCommand
        /// Data-out for a write (FCP_DL bytes).
        public var dataOut: [UInt8]
        /// The target's largest data field (its PLOGI receive size): data-out frames are cut to it.
        public var maximumPayload: Int
        /// How long before the command is aborted with ABTS.
        public var timeout: Duration
        /// The caller's tag, by which `abort(.tag)` finds the command.
        public var tag: UInt64?

        public init(oxid: UInt16, source: FCID, target: FCID, command: FCPCommand, dataOut: [UInt8] = [],
                    maximumPayload: Int, timeout: Duration, tag: UInt64? = nil) {
            self.oxid = oxid
            self.source = source
            self.target = target
            self.command = command
            self.dataOut = dataOut
            self.maximumPayload = maximumPayload
            self.timeout = timeout
            self.tag = tag
        }
    }

    /// A command the target completed: its FCP_RSP, and data-in cut to what the target moved
    /// (FCP_DL minus an underflow residual).
    public struct Completion: Sendable, Equatable {
        public var response: FCPResponse
        public var data: [UInt8]
    }

    /// Why a command did not complete.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// No FCP_RSP within the command's timeout; the exchange was aborted.
        case timeout
        /// Aborted on request, or by the target (its ABTS).
        case aborted
        /// The link went down.
        case linkDown
        /// The target's login ended.
        case notLoggedIn(FCID)
        /// The target broke FCP (data beyond FCP_DL, missing data, a bad XFER_RDY or FCP_RSP).
        case transport(String)

        public var description: String {
            switch self {
            case .timeout: "timed out"
            case .aborted: "aborted"
            case .linkDown: "link down"
            case .notLoggedIn(let id): "not logged in to \(id)"
            case .transport(let m): m
            }
        }
    }

    /// Which exchanges an abort is for.
    public enum Selection: Sendable, Equatable {
        case tag(UInt64)
        /// Every exchange with this target; every exchange when nil.
        case target(FCID?)
    }

    /// An event for the machine. A frame's payload is read during `handle` only.
    public enum Event {
        /// Start a command. `linkEpoch` is the machine's `linkEpoch` when its OX_ID was taken:
        /// if the link was lost since, the command fails with `.linkDown` without being sent.
        case start(Command, linkEpoch: Int)
        /// A frame from a target: FCP_DATA, XFER_RDY, FCP_RSP, BA_ACC, BA_RJT, ABTS.
        case frame(FrameHeader, UnsafeRawBufferPointer)
        case timerFired(MachineTimerID)
        /// ABTS the active exchanges `selection` names; they fail with `reason` once answered.
        case abort(Selection, reason: Failure)
        /// The target at this N_Port ID logged out: its commands fail with `.notLoggedIn`.
        case remoteLoggedOut(FCID)
        /// The link went down: every command fails with `.linkDown`, every exchange is forgotten.
        case linkLost
    }

    /// What the runtime does, in order.
    public enum Action: Sendable, Equatable {
        case send(FCFrame)
        /// Send `data` as one sequence: frames of at most `maximumPayload` bytes with this header,
        /// relative offsets from `relativeOffset`, End_Sequence and the header's sequence
        /// initiative on the last (`SequenceSplitter`).
        case sendSequence(FrameHeader, data: ArraySlice<UInt8>, relativeOffset: UInt32, maximumPayload: Int)
        case startTimer(MachineTimerID, deadline: FCInstant)
        case cancelTimer(MachineTimerID)
        /// The command on this OX_ID ended (reported once per started command).
        case completed(oxid: UInt16, Result<Completion, Failure>)
        /// The OX_ID may be used again.
        case releaseExchangeID(UInt16)
    }

    /// R_A_TOV: how long an unanswered ABTS waits and an OX_ID stays quarantined.
    public var resourceAllocationTimeout: Duration
    /// Counts link losses (see `Event.start`).
    public internal(set) var linkEpoch = 0
    var exchanges: [UInt16: InitiatorExchange] = [:]
    var timers = TimerTable<UInt16>()

    public init(resourceAllocationTimeout: Duration = .seconds(10)) {
        self.resourceAllocationTimeout = resourceAllocationTimeout
    }

    /// Exchanges held: active, aborting or quarantined.
    public var count: Int { exchanges.count }

    /// Active exchanges (not aborting, not ended) that `selection` names.
    public func activeExchanges(_ selection: Selection) -> Int {
        exchanges.values.filter { $0.phase == .active && $0.matches(selection) }.count
    }

    /// Applies `event`, which happened at `now`; returns what to do, in order.
    public mutating func handle(_ event: Event, at now: FCInstant) -> [Action] {
        switch event {
        case .start(let command, let epoch): start(command, linkEpoch: epoch, now: now)
        case .frame(let h, let payload): receive(h, payload, now: now)
        case .timerFired(let id): timerFired(id, now: now)
        case .abort(let selection, let reason): abort(selection, reason: reason, now: now)
        case .remoteLoggedOut(let target): fail(.notLoggedIn(target), now: now) { $0.target == target }
        case .linkLost: linkLost()
        }
    }

    private mutating func start(_ c: Command, linkEpoch epoch: Int, now: FCInstant) -> [Action] {
        guard epoch == linkEpoch, exchanges[c.oxid] == nil else { return [.completed(oxid: c.oxid, .failure(.linkDown))] }
        let timer = timers.start(c.oxid)
        exchanges[c.oxid] = InitiatorExchange(c, timer: timer)
        let header = FrameHeader(routing: .fcpCommand, destination: c.target, source: c.source, type: .fcp,
                                 control: .request, originatorExchangeID: c.oxid)
        return [.send(FCFrame(header: header, payload: c.command.encoded())), .startTimer(timer, deadline: now + c.timeout)]
    }

    /// Runs `body` on the exchange `oxid` in place (its data buffer is not copied) when it is
    /// one with `target`. `body` must not touch the machine.
    mutating func withExchange<R>(_ oxid: UInt16, target: FCID, _ body: (inout InitiatorExchange) -> R) -> R? {
        guard exchanges[oxid]?.target == target else { return nil }
        return body(&exchanges[oxid]!)
    }

    /// Gives an exchange a new timer at `deadline` (cancelling the one it had, unless that fired).
    mutating func retime(_ ex: inout InitiatorExchange, deadline: FCInstant) -> [Action] {
        let cancel: [Action] = timers.cancel(ex.timer) ? [.cancelTimer(ex.timer)] : []
        ex.timer = timers.start(ex.oxid)
        return cancel + [.startTimer(ex.timer, deadline: deadline)]
    }
}
