@testable import FCPort
import STMF
import Testing

/// An `NPortMachine` driven event by event: frames it sends and what it reports to the FC-4
/// are collected for the test to take.
struct NPortHarness: DrivenMachine {
    static let fabricTimeouts = (errorDetect: UInt32(500), resourceAllocation: UInt32(1000))
    var machine: NPortMachine
    var timers = ManualTimers()
    var sent: [FCFrame] = []
    var reports: [NPortMachine.Action] = []
    var connects = 0
    var disconnects = 0
    private var nextRequest: UInt64 = 1

    init(portName: WWN = initiatorPortName, nodeName: WWN = initiatorNodeName, features: FC4Features = .initiator,
         reconnect: Bool = true) {
        machine = NPortMachine(configuration: .init(portName: portName, nodeName: nodeName, features: features,
                                                    symbolicName: "harness", reconnect: reconnect))
    }

    mutating func handle(_ event: NPortMachine.Event) {
        apply(machine.handle(event, at: timers.now))
    }

    mutating func handleTimer(_ id: MachineTimerID) { handle(.timerFired(id)) }

    mutating func apply(_ actions: [NPortMachine.Action]) {
        for a in actions {
            switch a {
            case .send(let f): sent.append(roundTrip(f))
            case .startTimer(let id, let deadline): timers.start(id, deadline)
            case .cancelTimer(let id): timers.cancel(id)
            case .connect: connects += 1
            case .disconnect: disconnects += 1
            default: reports.append(a)
            }
        }
    }

    mutating func takeSent() -> [FCFrame] { defer { sent = [] }; return sent }
    mutating func takeReports() -> [NPortMachine.Action] { defer { reports = [] }; return reports }

    /// The one frame sent since the last take.
    mutating func sentFrame(sourceLocation: SourceLocation = #_sourceLocation) -> FCFrame? {
        let f = takeSent()
        #expect(f.count == 1, "expected one frame, got \(f.count)", sourceLocation: sourceLocation)
        return f.first
    }

    /// The one frame sent since the last take; throws when there is none.
    mutating func frame(sourceLocation: SourceLocation = #_sourceLocation) throws -> FCFrame {
        guard let f = sentFrame(sourceLocation: sourceLocation) else { throw MissingFrame() }
        return f
    }

    /// Starts a request; returns its id.
    @discardableResult
    mutating func request(_ r: NPortMachine.Request) -> NPortMachine.RequestID {
        let id = NPortMachine.RequestID(rawValue: nextRequest)
        nextRequest += 1
        handle(.request(id, r))
        return id
    }

    /// A frame arriving from the fabric.
    mutating func receive(_ h: FrameHeader, _ payload: [UInt8]) {
        handle(.frame(roundTrip(FCFrame(header: h, payload: payload)).header, payload))
    }

    /// Answers the request `f` with an ELS reply (FLOGI's to `destination`).
    mutating func answer(_ f: FCFrame, _ reply: ELSReply, destination: FCID? = nil) {
        var h = f.header.reply(routing: .elsReply, type: .els, responderExchangeID: 0xFFFF)
        if let destination { h.destination = destination }
        receive(h, reply.encoded())
    }

    /// Answers the name server request `f`.
    mutating func answer(_ f: FCFrame, _ reply: NameServerReply) {
        receive(f.header.reply(routing: .solicitedControl, type: .ct, responderExchangeID: 0xFFFF), reply.encoded())
    }

    /// A request from a remote port (or the fabric) to us.
    mutating func remoteRequest(_ els: ELSRequest, from source: FCID, to destination: FCID? = nil, oxid: UInt16 = 0x0100) {
        receive(FrameHeader(routing: .elsRequest, destination: destination ?? machine.portID ?? .unassigned, source: source,
                            type: .els, control: .request, originatorExchangeID: oxid), els.encoded())
    }

    /// The ELS reply we sent to a remote request.
    mutating func sentReply(to request: ELSCommandCode, sourceLocation: SourceLocation = #_sourceLocation) -> ELSReply? {
        guard let f = sentFrame(sourceLocation: sourceLocation) else { return nil }
        #expect(f.header.routing == .elsReply && f.header.type == .els, sourceLocation: sourceLocation)
        return try? ELSReply.decode(f.payload, request: request)
    }

    /// Starts, connects and brings the link up: FLOGI goes out.
    mutating func linkUp() {
        handle(.start)
        handle(.connected)
        handle(.primitive(.idle))
    }

    /// Start, connect, link up, and answer the whole fabric login: FLOGI assigns `id`.
    mutating func bringOnline(as id: FCID = FCID(initiatorID)) {
        linkUp()
        completeFabricLogin(as: id)
    }

    /// Answers the FLOGI just sent (assigning `id`); returns the name server PLOGI that follows.
    mutating func answerFLOGI(as id: FCID) throws -> FCFrame {
        var fabric = ServiceParameters.fPort(portName: fPortName, fabricName: fabricName)
        fabric.resourceAllocationTimeout = Self.fabricTimeouts.resourceAllocation
        fabric.errorDetectTimeout = Self.fabricTimeouts.errorDetect
        answer(try frame(), .accept(.serviceParameters(fabric)), destination: id)
        return try frame()
    }

    /// Answers FLOGI (assigning `id`), the name server PLOGI and registrations, and SCR.
    mutating func completeFabricLogin(as id: FCID) {
        do {
            let plogi = try answerFLOGI(as: id)
            answer(plogi, .accept(.serviceParameters(.nPort(portName: WWN(0x20FF_FFFC_0000_0000), nodeName: fabricName))))
            for _ in 0..<3 { answer(try frame(), .accept(.registered)) }
            answer(try frame(), .accept(.plain))
        } catch {
            Issue.record("fabric login stopped short")
        }
        #expect(takeReports() == [.online(id)])
    }
}
