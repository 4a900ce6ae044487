/// One FCP exchange an initiator originated, as `InitiatorExchangeMachine` keeps it.
struct InitiatorExchange: Sendable {
    enum Phase: Sendable, Equatable {
        /// Waiting for XFER_RDY / FCP_DATA / FCP_RSP.
        case active
        /// ABTS sent; waiting for BA_ACC/BA_RJT (R_A_TOV), then failing with the reason.
        case aborting(InitiatorExchangeMachine.Failure)
        /// Reported; the OX_ID stays reserved until the timer (R_A_TOV) ends it.
        case quarantined
    }

    let oxid: UInt16
    let source: FCID
    let target: FCID
    let direction: FCPCommand.Direction
    /// FCP_DL.
    let expectedLength: Int
    let dataOut: [UInt8]
    /// The target's largest data field.
    let maximumPayload: Int
    let tag: UInt64?
    var rxid = FrameHeader.unassignedExchange
    var phase = Phase.active
    var timer: MachineTimerID
    /// Data-in, FCP_DL bytes.
    var data: [UInt8]
    /// Data-in that has arrived (a duplicated frame counts once, so it cannot hide a lost one).
    var received = ReceivedRanges()
    /// The first FCP violation seen; the command fails with it at FCP_RSP.
    var violation: String?
    var dataSequenceID: UInt8 = 1

    init(_ c: InitiatorExchangeMachine.Command, timer: MachineTimerID) {
        oxid = c.oxid
        source = c.source
        target = c.target
        direction = c.command.direction
        expectedLength = Int(c.command.dataLength)
        dataOut = direction == .write ? c.dataOut : []
        data = direction == .read ? [UInt8](repeating: 0, count: expectedLength) : []
        maximumPayload = c.maximumPayload
        tag = c.tag
        self.timer = timer
    }

    /// Whether the command has been reported (completed or failed).
    var reported: Bool { phase == .quarantined }

    func matches(_ selection: InitiatorExchangeMachine.Selection) -> Bool {
        switch selection {
        case .tag(let t): tag == t
        case .target(let t): t == nil || t == target
        }
    }

    /// The ABTS for this exchange (abort the whole exchange: parameter bit 0 clear).
    var abts: FCFrame {
        FCFrame(header: FrameHeader(routing: .abts, destination: target, source: source, type: .bls,
                                    control: [.endSequence, .sequenceInitiative], originatorExchangeID: oxid,
                                    responderExchangeID: rxid, parameter: 0))
    }
}
