@testable import FCPort
import STMF
import Testing

/// An `InitiatorExchangeMachine` driven event by event, with a manual clock.
struct InitiatorHarness: DrivenMachine {
    static let source = FCID(initiatorID)
    static let target = FCID(targetID)
    static let rxid: UInt16 = 0x0042
    var machine = InitiatorExchangeMachine(resourceAllocationTimeout: .seconds(1))
    var timers = ManualTimers()
    var sent: [FCFrame] = []
    var completed: [UInt16: Result<InitiatorExchangeMachine.Completion, InitiatorExchangeMachine.Failure>] = [:]
    var released: [UInt16] = []

    mutating func handle(_ event: InitiatorExchangeMachine.Event) {
        apply(machine.handle(event, at: timers.now))
    }

    mutating func handleTimer(_ id: MachineTimerID) { handle(.timerFired(id)) }

    mutating func apply(_ actions: [InitiatorExchangeMachine.Action]) {
        for a in actions {
            switch a {
            case .send(let f): sent.append(roundTrip(f))
            case .sendSequence(let h, let data, let offset, let maximumPayload):
                var records: [UInt8] = []
                data.withUnsafeBytes { p in
                    _ = SequenceSplitter(maximumPayload: maximumPayload).encode(header: h, data: p, relativeOffset: offset,
                                                                                into: &records, records: true)
                }
                sent += frames(ofRecords: records)
            case .startTimer(let id, let deadline): timers.start(id, deadline)
            case .cancelTimer(let id): timers.cancel(id)
            case .completed(let oxid, let result):
                #expect(completed[oxid] == nil, "OX_ID \(oxid) reported twice")
                completed[oxid] = result
            case .releaseExchangeID(let oxid): released.append(oxid)
            }
        }
    }

    mutating func takeSent() -> [FCFrame] { defer { sent = [] }; return sent }

    /// The first frame sent since the last take (all are taken); throws when there is none.
    mutating func firstSent() throws -> FCFrame {
        guard let f = takeSent().first else { throw MissingFrame() }
        return f
    }

    /// Starts a read of `length` bytes on `oxid`.
    mutating func read(_ oxid: UInt16, length: Int, timeout: Duration = .seconds(2), tag: UInt64? = nil,
                       target: FCID = InitiatorHarness.target) {
        start(oxid, FCPCommand(lun: 0, cdb: [0x88] + [UInt8](repeating: 0, count: 15), direction: .read,
                               dataLength: UInt32(length)), timeout: timeout, tag: tag, target: target)
    }

    /// Starts a write of `data` on `oxid`, the target taking frames of `maximumPayload` bytes.
    mutating func write(_ oxid: UInt16, _ data: [UInt8], maximumPayload: Int = 2048, timeout: Duration = .seconds(2)) {
        start(oxid, FCPCommand(lun: 0, cdb: [0x8A] + [UInt8](repeating: 0, count: 15), direction: .write,
                               dataLength: UInt32(data.count)),
              dataOut: data, maximumPayload: maximumPayload, timeout: timeout)
    }

    mutating func start(_ oxid: UInt16, _ command: FCPCommand, dataOut: [UInt8] = [], maximumPayload: Int = 2048,
                        timeout: Duration = .seconds(2), tag: UInt64? = nil, target: FCID = InitiatorHarness.target) {
        handle(.start(.init(oxid: oxid, source: Self.source, target: target, command: command, dataOut: dataOut,
                            maximumPayload: maximumPayload, timeout: timeout, tag: tag),
                      linkEpoch: machine.linkEpoch))
    }

    /// A frame from the target on exchange `oxid`.
    mutating func fromTarget(_ routing: RoutingControl, oxid: UInt16, _ payload: [UInt8], type: FrameType = .fcp,
                             offset: UInt32? = nil, source: FCID = InitiatorHarness.target) {
        var h = FrameHeader(routing: routing, destination: Self.source, source: source, type: type,
                            control: [.exchangeResponder, .endSequence], originatorExchangeID: oxid, responderExchangeID: Self.rxid)
        if let offset {
            h.control.insert(.relativeOffset)
            h.parameter = offset
        }
        let frame = roundTrip(FCFrame(header: h, payload: payload))
        frame.payload.withUnsafeBytes { handle(.frame(frame.header, $0)) }
    }

    mutating func data(oxid: UInt16, offset: Int, _ bytes: [UInt8]) {
        fromTarget(.fcpData, oxid: oxid, bytes, offset: UInt32(offset))
    }

    mutating func response(oxid: UInt16, _ rsp: FCPResponse = FCPResponse()) {
        fromTarget(.fcpResponse, oxid: oxid, rsp.encoded())
    }

    mutating func transferReady(oxid: UInt16, offset: Int, length: Int) {
        fromTarget(.transferReady, oxid: oxid, TransferReady(relativeOffset: UInt32(offset), burstLength: UInt32(length)).encoded())
    }

    mutating func baAcc(oxid: UInt16) {
        fromTarget(.baAcc, oxid: oxid, BAAccept.abortingExchange(oxID: oxid, rxID: Self.rxid).encoded(), type: .bls)
    }
}
