import FCLink
import FCPort
import STMF
import Locking

/// One FCP exchange this initiator originated. Touched only under `ExchangeTable`'s lock.
final class Exchange: @unchecked Sendable {
    enum Phase {
        /// Waiting for XFER_RDY / FCP_DATA / FCP_RSP.
        case active
        /// ABTS sent; waiting for BA_ACC/BA_RJT until `deadline`, then failing with the error.
        case aborting(InitiatorError)
        /// Finished without a clean end: the OX_ID stays reserved until `deadline` (R_A_TOV).
        case quarantined
    }

    let oxid: UInt16
    let source: FCID
    let target: FCID
    let direction: FCPCommand.Direction
    let expectedLength: Int
    let dataOut: [UInt8]
    /// The target's largest data field (its PLOGI receive size).
    let maxPayload: Int
    let tag: UInt64?
    var rxid: UInt16 = FrameHeader.unassignedExchange
    var phase = Phase.active
    var deadline: ContinuousClock.Instant
    /// Data-in, FCP_DL bytes.
    var data: [UInt8]
    /// Data-in that has arrived (a duplicated frame counts once, so it cannot hide a lost one).
    var received = ReceivedRanges()
    var violation: String?
    var dataSequenceID: UInt8 = 1
    var continuation: CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>?

    init(oxid: UInt16, source: FCID, target: FCID, request: SCSIRequest, maxPayload: Int,
         deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>) {
        self.oxid = oxid
        self.source = source
        self.target = target
        direction = request.direction
        expectedLength = request.dataLength
        dataOut = request.direction == .write ? request.dataOut : []
        data = request.direction == .read ? [UInt8](repeating: 0, count: request.readLength) : []
        self.maxPayload = maxPayload
        tag = request.tag
        self.deadline = deadline
        self.continuation = continuation
    }

    /// The ABTS for this exchange (abort the whole exchange: parameter bit 0 clear).
    var abtsHeader: FrameHeader {
        FrameHeader(routing: .abts, destination: target, source: source, type: .bls,
                    control: [.endSequence, .sequenceInitiative], originatorExchangeID: oxid,
                    responderExchangeID: rxid, parameter: 0)
    }
}

/// The FCP exchanges in flight, keyed by OX_ID, and the frame handling that moves them along.
/// The link's reader thread calls `receive`; submitters call `insert`; a watchdog calls `tick`.
final class ExchangeTable: @unchecked Sendable {
    struct State {
        var exchanges: [UInt16: Exchange] = [:]
        var generation = 0
    }

    /// Set once, before the N_Port starts.
    private(set) var nport: NPort!
    let state = Locked(State())

    func attach(_ nport: NPort) { self.nport = nport }

    var generation: Int { state.withLock { $0.generation } }
    var count: Int { state.withLock { $0.exchanges.count } }

    /// Adds an exchange unless the link was lost since `generation` (then false).
    func insert(_ ex: Exchange, generation: Int) -> Bool {
        state.withLock { s in
            guard s.generation == generation, s.exchanges[ex.oxid] == nil else { return false }
            s.exchanges[ex.oxid] = ex
            return true
        }
    }

    // MARK: - Receive path (link reader thread)

    func receive(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        switch (h.type, h.routing) {
        case (.fcp, .fcpData): data(h, payload)
        case (.fcp, .transferReady): transferReady(h, payload)
        case (.fcp, .fcpResponse): response(h, payload)
        case (.bls, .baAcc), (.bls, .baRjt): abortAnswered(h)
        case (.bls, .abts): targetAborted(h)
        default: break
        }
    }

    private func data(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        state.withLock { s in
            guard let ex = s.exchanges[h.originatorExchangeID], ex.target == h.source,
                  case .active = ex.phase else { return }
            if h.responderExchangeID != FrameHeader.unassignedExchange { ex.rxid = h.responderExchangeID }
            guard ex.direction == .read else { ex.violation = "FCP_DATA on a command without data-in"; return }
            let offset = h.control.contains(.relativeOffset) ? Int(h.parameter) : ex.received.count
            guard offset + payload.count <= ex.expectedLength else {
                ex.violation = "FCP_DATA at offset \(offset) + \(payload.count) beyond FCP_DL \(ex.expectedLength)"
                return
            }
            if payload.count > 0 {
                ex.data.withUnsafeMutableBytes { d in
                    (d.baseAddress! + offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
                }
            }
            ex.received.insert(offset, length: payload.count)
        }
    }

    private func transferReady(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let xfer: TransferReady
        do throws(FCPDecodeError) { xfer = try TransferReady.decode(payload) } catch { return }
        let plan = state.withLock { s -> (FrameHeader, [UInt8], Int, Int, Int)? in
            guard let ex = s.exchanges[h.originatorExchangeID], ex.target == h.source,
                  case .active = ex.phase else { return nil }
            if h.responderExchangeID != FrameHeader.unassignedExchange { ex.rxid = h.responderExchangeID }
            let offset = Int(xfer.relativeOffset), length = Int(xfer.burstLength)
            guard ex.direction == .write, offset + length <= ex.dataOut.count else {
                ex.violation = "XFER_RDY for \(offset)+\(length) beyond FCP_DL \(ex.expectedLength)"
                return nil
            }
            let header = FrameHeader(routing: .fcpData, destination: ex.target, source: ex.source, type: .fcp,
                                     control: [.endSequence, .sequenceInitiative], sequenceID: ex.dataSequenceID,
                                     originatorExchangeID: ex.oxid, responderExchangeID: ex.rxid)
            ex.dataSequenceID &+= 1
            return (header, ex.dataOut, offset, length, min(FCFrame.maximumPayload, max(256, ex.maxPayload)))
        }
        guard let (header, out, offset, length, maxPayload) = plan else { return }
        let splitter = SequenceSplitter(maximumPayload: maxPayload)
        var records: [UInt8] = []
        out.withUnsafeBytes { p in
            _ = splitter.encode(header: header, data: UnsafeRawBufferPointer(rebasing: p[offset..<(offset + length)]),
                            relativeOffset: UInt32(offset), into: &records, records: true)
        }
        nport.send(records: records)
    }

    private func response(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let rsp: FCPResponse?
        do throws(FCPDecodeError) { rsp = try FCPResponse.decode(payload) } catch { rsp = nil }
        let done = state.withLock { s -> (CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>, Result<SCSIResult, InitiatorError>)? in
            guard let ex = s.exchanges[h.originatorExchangeID], ex.target == h.source,
                  case .active = ex.phase, let c = ex.continuation else { return nil }
            ex.continuation = nil
            s.exchanges[ex.oxid] = nil
            guard let rsp else { return (c, .failure(.transport("undecodable FCP_RSP"))) }
            if let v = ex.violation { return (c, .failure(.transport(v))) }
            var data: [UInt8] = []
            if ex.direction == .read {
                swap(&data, &ex.data)
                var moved = ex.expectedLength
                if case .underflow(let n) = rsp.residual { moved -= min(moved, Int(n)) }
                // A lost FCP_DATA frame: the target says it moved more than arrived.
                if rsp.status == .good && !ex.received.covers(moved) {
                    return (c, .failure(.transport("\(moved - min(moved, ex.received.count)) bytes of FCP_DATA missing")))
                }
                if moved < data.count { data.removeLast(data.count - moved) }
            }
            return (c, .success(SCSIResult(status: rsp.status, data: data, residual: rsp.residual, sense: rsp.sense,
                                           responseCode: rsp.responseCode)))
        }
        guard let (c, result) = done else { return }
        nport.releaseExchangeID(h.originatorExchangeID)
        c.resume(returning: result)
    }

    /// BA_ACC or BA_RJT to our ABTS: the exchange is over at the target; fail the command now and
    /// keep the OX_ID reserved for R_A_TOV.
    private func abortAnswered(_ h: FrameHeader) {
        let ratov = nport.timeouts.resourceAllocation
        let done = state.withLock { s -> (CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>, InitiatorError)? in
            guard let ex = s.exchanges[h.originatorExchangeID], ex.target == h.source,
                  case .aborting(let error) = ex.phase else { return nil }
            ex.phase = .quarantined
            ex.deadline = .now + ratov
            guard let c = ex.continuation else { return nil }
            ex.continuation = nil
            return (c, error)
        }
        if let (c, e) = done { c.resume(returning: .failure(e)) }
    }

    /// The target aborted the exchange itself: accept, fail the command, quarantine the OX_ID.
    private func targetAborted(_ h: FrameHeader) {
        let ratov = nport.timeouts.resourceAllocation
        let c = state.withLock { s -> CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>? in
            guard let ex = s.exchanges[h.originatorExchangeID], ex.target == h.source else { return nil }
            ex.phase = .quarantined
            ex.deadline = .now + ratov
            defer { ex.continuation = nil }
            return ex.continuation
        }
        let acc = BAAccept.abortingExchange(oxID: h.originatorExchangeID, rxID: h.responderExchangeID)
        var reply = h.reply(routing: .baAcc, type: .bls)
        reply.control = [.endSequence, .lastSequence, .sequenceInitiative]
        nport.send(FCFrame(header: reply, payload: acc.encoded()))
        c?.resume(returning: .failure(.aborted))
    }

    // MARK: - Aborts, timeouts, link loss

    /// Starts an ABTS for the active exchanges `match` selects; returns how many.
    @discardableResult
    func abort(reason: InitiatorError, where match: (Exchange) -> Bool) -> Int {
        let ratov = nport.timeouts.resourceAllocation
        let headers = state.withLock { s -> [FrameHeader] in
            var out: [FrameHeader] = []
            for ex in s.exchanges.values {
                guard case .active = ex.phase, match(ex) else { continue }
                ex.phase = .aborting(reason)
                ex.deadline = .now + ratov
                out.append(ex.abtsHeader)
            }
            return out
        }
        for h in headers { nport.send(FCFrame(header: h)) }
        return headers.count
    }

    /// Fails the exchanges `match` selects at once (the target logged us out).
    func fail(_ error: InitiatorError, where match: (Exchange) -> Bool) {
        let ratov = nport.timeouts.resourceAllocation
        let conts = state.withLock { s -> [CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>] in
            var out: [CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>] = []
            for ex in s.exchanges.values where match(ex) {
                if let c = ex.continuation { out.append(c) }
                ex.continuation = nil
                ex.phase = .quarantined
                ex.deadline = .now + ratov
            }
            return out
        }
        for c in conts { c.resume(returning: .failure(error)) }
    }

    /// The link went down: every exchange is gone (the N_Port freed every OX_ID).
    func linkLost() {
        let conts = state.withLock { s -> [CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>] in
            s.generation += 1
            let out = s.exchanges.values.compactMap(\.continuation)
            for ex in s.exchanges.values { ex.continuation = nil }
            s.exchanges.removeAll()
            return out
        }
        for c in conts { c.resume(returning: .failure(.linkDown)) }
    }

    /// Watchdog step: time out active exchanges (ABTS), give up on unanswered ABTS after R_A_TOV,
    /// and release quarantined OX_IDs after R_A_TOV.
    func tick() {
        let now = ContinuousClock.now
        let ratov = nport.timeouts.resourceAllocation
        var abts: [FrameHeader] = []
        var failed: [(CheckedContinuation<Result<SCSIResult, InitiatorError>, Never>, InitiatorError)] = []
        let released = state.withLock { s -> [UInt16] in
            var free: [UInt16] = []
            for ex in s.exchanges.values where now >= ex.deadline {
                switch ex.phase {
                case .active:
                    ex.phase = .aborting(.timeout)
                    ex.deadline = now + ratov
                    abts.append(ex.abtsHeader)
                case .aborting(let e):
                    ex.phase = .quarantined
                    ex.deadline = now + ratov
                    if let c = ex.continuation { failed.append((c, e)) }
                    ex.continuation = nil
                case .quarantined:
                    free.append(ex.oxid)
                }
            }
            for id in free { s.exchanges[id] = nil }
            return free
        }
        for h in abts { nport.send(FCFrame(header: h)) }
        for id in released { nport.releaseExchangeID(id) }
        for (c, e) in failed { c.resume(returning: .failure(e)) }
    }
}
