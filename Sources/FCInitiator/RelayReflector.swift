import FCLink
import FCPort
import Foundation
import STMF
import Locking
import Synchronization

/// The raw limit of the emulated topology: an N_Port with the FCP target feature that answers
/// every FCP_CMND without decoding SCSI. A read gets FCP_DL bytes of FCP_DATA (split to the
/// initiator's PLOGI receive size, one socket write) and a GOOD FCP_RSP; a write gets an
/// XFER_RDY for FCP_DL and, once that many data bytes arrived, the FCP_RSP; anything else just
/// the FCP_RSP. ABTS gets BA_ACC. Driven by the same initiator code as a real target, the
/// difference between the two is the cost of STMF, the LU provider and the target port.
///
/// Everything but `hold` runs on the link's reader thread, so its scratch state needs no lock.
public final class RelayReflector: @unchecked Sendable {
    public let nport: NPort
    private let box: Box

    final class Box: @unchecked Sendable {
        var nport: NPort!
        /// Write exchanges waiting for data: (initiator, OX_ID) → (bytes still due, RX_ID, FCP_DL).
        var writes: [UInt64: (remaining: Int, rxid: UInt16)] = [:]
        var nextRXID: UInt16 = 1
        var out: [UInt8] = []
        var zeros = [UInt8](repeating: 0x5A, count: 1 << 20)
        let goodResponse = FCPResponse().encoded()
        let counters = Locked((commands: 0, aborts: 0, held: 0))
        let hold = Atomic<Bool>(false)
        var receiveSizes: [FCID: Int] = [:]
    }

    public init(portName: WWN, nodeName: WWN? = nil, fabricPath: String, receiveDataFieldSize: Int = 2048) {
        let box = Box()
        var handlers = NPort.Handlers()
        handlers.processLogin = { _, _ in [.targetFunction, .readXferRdyDisabled] }
        handlers.frame = { h, p in box.frame(h, p) }
        handlers.logout = { r in box.receiveSizes[r.id] = nil }
        nport = NPort(configuration: .init(portName: portName, nodeName: nodeName ?? WWN(portName.rawValue ^ 0x0100_0000_0000_0000),
                                           features: .target, symbolicName: "fcinit relay reflector",
                                           receiveDataFieldSize: receiveDataFieldSize, fabricPath: fabricPath),
                      handlers: handlers)
        box.nport = nport
        self.box = box
    }

    public func start() { nport.start() }
    @discardableResult
    public func waitOnline(timeout: Duration = .seconds(10)) async throws(NPortError) -> FCID {
        try await nport.waitOnline(timeout: timeout)
    }
    public func stop() async { await nport.stop() }

    /// While set, FCP_CMNDs are swallowed unanswered (to test timeouts and aborts).
    public var hold: Bool {
        get { box.hold.load(ordering: .relaxed) }
        set { box.hold.store(newValue, ordering: .relaxed) }
    }

    /// FCP_CMNDs answered, ABTS received, FCP_CMNDs swallowed while holding.
    public var counters: (commands: Int, aborts: Int, held: Int) { box.counters.withLock { $0 } }
}

extension RelayReflector.Box {
    func frame(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        switch (h.type, h.routing) {
        case (.fcp, .fcpCommand): command(h, payload)
        case (.fcp, .fcpData): dataOut(h, payload)
        case (.bls, .abts): abort(h)
        default: break
        }
    }

    private func key(_ h: FrameHeader) -> UInt64 { UInt64(h.source.rawValue) << 16 | UInt64(h.originatorExchangeID) }

    private func command(_ h: FrameHeader, _ p: UnsafeRawBufferPointer) {
        guard p.count >= FCPCommand.minimumSize else { return }
        if hold.load(ordering: .relaxed) {
            counters.withLock { $0.held += 1 }
            return
        }
        counters.withLock { $0.commands += 1 }
        let flags = p[11]
        let dl = Int(UInt32(p[p.count - 4]) << 24 | UInt32(p[p.count - 3]) << 16 | UInt32(p[p.count - 2]) << 8
                     | UInt32(p[p.count - 1]))
        let rxid = nextRXID
        nextRXID = nextRXID >= 0xFFFE ? 1 : nextRXID + 1
        out.removeAll(keepingCapacity: true)
        if flags & 0x02 != 0 && dl > 0 {               // RDDATA
            if zeros.count < dl { zeros = [UInt8](repeating: 0x5A, count: dl) }
            let size = receiveSize(h.source)
            let header = FrameHeader(routing: .fcpData, destination: h.source, source: h.destination, type: .fcp,
                                     control: [.exchangeResponder, .endSequence], sequenceID: 1,
                                     originatorExchangeID: h.originatorExchangeID, responderExchangeID: rxid)
            zeros.withUnsafeBytes { z in
                _ = SequenceSplitter(maximumPayload: size).encode(header: header, data: UnsafeRawBufferPointer(rebasing: z[0..<dl]),
                                                                  into: &out, records: true)
            }
            appendResponse(h, rxid: rxid)
        } else if flags & 0x01 != 0 && dl > 0 {        // WRDATA
            writes[key(h)] = (dl, rxid)
            let xfer = TransferReady(relativeOffset: 0, burstLength: UInt32(dl)).encoded()
            let header = FrameHeader(routing: .transferReady, destination: h.source, source: h.destination, type: .fcp,
                                     control: [.exchangeResponder, .endSequence, .sequenceInitiative], sequenceID: 1,
                                     originatorExchangeID: h.originatorExchangeID, responderExchangeID: rxid)
            xfer.withUnsafeBytes { x in
                FCFrame.encode(start: .initiate3, header: header, payload: x, end: .terminate, into: &out, record: true)
            }
        } else {
            appendResponse(h, rxid: rxid)
        }
        nport.send(records: out)
    }

    private func dataOut(_ h: FrameHeader, _ p: UnsafeRawBufferPointer) {
        let k = key(h)
        guard var w = writes[k] else { return }
        w.remaining -= p.count
        if w.remaining > 0 { writes[k] = w; return }
        writes[k] = nil
        out.removeAll(keepingCapacity: true)
        appendResponse(h, rxid: w.rxid)
        nport.send(records: out)
    }

    private func appendResponse(_ h: FrameHeader, rxid: UInt16) {
        let header = FrameHeader(routing: .fcpResponse, destination: h.source, source: h.destination, type: .fcp,
                                 control: .finalReply, sequenceID: 2,
                                 originatorExchangeID: h.originatorExchangeID, responderExchangeID: rxid)
        goodResponse.withUnsafeBytes { r in
            FCFrame.encode(start: .initiate3, header: header, payload: r, end: .terminate, into: &out, record: true)
        }
    }

    private func abort(_ h: FrameHeader) {
        counters.withLock { $0.aborts += 1 }
        writes[key(h)] = nil
        let acc = BAAccept.abortingExchange(oxID: h.originatorExchangeID, rxID: h.responderExchangeID)
        nport.send(FCFrame(header: h.reply(routing: .baAcc, type: .bls), payload: acc.encoded()))
    }

    private func receiveSize(_ id: FCID) -> Int {
        if let n = receiveSizes[id] { return n }
        let n = min(FCFrame.maximumPayload, max(256, nport.remotePort(id)?.receiveDataFieldSize ?? 2048))
        receiveSizes[id] = n
        return n
    }
}
