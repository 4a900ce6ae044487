/// Frames from targets: FCP_DATA, XFER_RDY, FCP_RSP, and the BLS of aborts. A frame for an
/// exchange we do not have with its sender is discarded.
extension InitiatorExchangeMachine {
    mutating func receive(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer, now: FCInstant) -> [Action] {
        switch (h.type, h.routing) {
        case (.fcp, .fcpData): data(h, payload)
        case (.fcp, .transferReady): transferReady(h, payload)
        case (.fcp, .fcpResponse): response(h, payload)
        case (.bls, .baAcc), (.bls, .baRjt): abortAnswered(h, now: now)
        case (.bls, .abts): targetAborted(h, now: now)
        default: []
        }
    }

    /// Data-in, placed at its relative offset; beyond FCP_DL (or for a command without
    /// data-in) it is a violation the command fails with at FCP_RSP.
    private mutating func data(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) -> [Action] {
        _ = withExchange(h.originatorExchangeID, target: h.source) { ex in
            guard ex.phase == .active else { return }
            if h.responderExchangeID != FrameHeader.unassignedExchange { ex.rxid = h.responderExchangeID }
            guard ex.direction == .read else {
                ex.violation = ex.violation ?? "FCP_DATA on a command without data-in"
                return
            }
            let offset = h.control.contains(.relativeOffset) ? Int(h.parameter) : ex.received.count
            guard offset + payload.count <= ex.expectedLength else {
                ex.violation = ex.violation
                    ?? "FCP_DATA at offset \(offset) + \(payload.count) beyond FCP_DL \(ex.expectedLength)"
                return
            }
            if payload.count > 0 {
                ex.data.withUnsafeMutableBytes { d in
                    (d.baseAddress! + offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
                }
            }
            ex.received.insert(offset, length: payload.count)
        }
        return []
    }

    /// XFER_RDY: the burst it asks for, as one data-out sequence.
    private mutating func transferReady(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) -> [Action] {
        let xfer: TransferReady
        do throws(FCPDecodeError) { xfer = try TransferReady.decode(payload) } catch { return [] }
        let send = withExchange(h.originatorExchangeID, target: h.source) { ex -> Action? in
            guard ex.phase == .active else { return nil }
            if h.responderExchangeID != FrameHeader.unassignedExchange { ex.rxid = h.responderExchangeID }
            let offset = Int(xfer.relativeOffset), length = Int(xfer.burstLength)
            guard ex.direction == .write, offset + length <= ex.dataOut.count else {
                ex.violation = ex.violation ?? "XFER_RDY for \(offset)+\(length) beyond FCP_DL \(ex.expectedLength)"
                return nil
            }
            let header = FrameHeader(routing: .fcpData, destination: ex.target, source: ex.source, type: .fcp,
                                     control: [.endSequence, .sequenceInitiative], sequenceID: ex.dataSequenceID,
                                     originatorExchangeID: ex.oxid, responderExchangeID: ex.rxid)
            ex.dataSequenceID &+= 1
            return .sendSequence(header, data: ex.dataOut[offset..<(offset + length)], relativeOffset: UInt32(offset),
                                 maximumPayload: min(FCFrame.maximumPayload, max(256, ex.maximumPayload)))
        }
        return (send ?? nil).map { [$0] } ?? []
    }

    /// FCP_RSP ends the exchange cleanly: the OX_ID is free at once. The command completes
    /// unless the FCP_RSP is undecodable, a violation was seen, or GOOD status comes without
    /// all the data the target says it moved (a lost FCP_DATA frame).
    private mutating func response(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) -> [Action] {
        let oxid = h.originatorExchangeID
        guard exchanges[oxid]?.target == h.source, exchanges[oxid]?.phase == .active else { return [] }
        var ex = exchanges.removeValue(forKey: oxid)!
        timers.cancel(ex.timer)
        let done: [Action] = [.cancelTimer(ex.timer), .releaseExchangeID(oxid)]
        let rsp: FCPResponse
        do throws(FCPDecodeError) { rsp = try FCPResponse.decode(payload) } catch {
            return done + [.completed(oxid: oxid, .failure(.transport("undecodable FCP_RSP")))]
        }
        if let v = ex.violation { return done + [.completed(oxid: oxid, .failure(.transport(v)))] }
        var data: [UInt8] = []
        if ex.direction == .read {
            swap(&data, &ex.data)
            var moved = ex.expectedLength
            if case .underflow(let n) = rsp.residual { moved -= min(moved, Int(n)) }
            if rsp.status == .good && !ex.received.covers(moved) {
                let missing = moved - min(moved, ex.received.count)
                return done + [.completed(oxid: oxid, .failure(.transport("\(missing) bytes of FCP_DATA missing")))]
            }
            if moved < data.count { data.removeLast(data.count - moved) }
        }
        return done + [.completed(oxid: oxid, .success(Completion(response: rsp, data: data)))]
    }

    /// BA_ACC or BA_RJT to our ABTS: the exchange is over at the target; the command fails
    /// now and its OX_ID stays reserved for R_A_TOV.
    private mutating func abortAnswered(_ h: FrameHeader, now: FCInstant) -> [Action] {
        let oxid = h.originatorExchangeID
        guard exchanges[oxid]?.target == h.source, case .aborting(let reason)? = exchanges[oxid]?.phase else { return [] }
        return quarantine(oxid, reporting: reason, now: now)
    }

    /// The target aborted the exchange: BA_ACC (whether or not we know it), the command fails
    /// with `.aborted`, the OX_ID is quarantined.
    private mutating func targetAborted(_ h: FrameHeader, now: FCInstant) -> [Action] {
        var reply = h.reply(routing: .baAcc, type: .bls)
        reply.control = [.endSequence, .lastSequence, .sequenceInitiative]
        let accept = BAAccept.abortingExchange(oxID: h.originatorExchangeID, rxID: h.responderExchangeID)
        let actions: [Action] = [.send(FCFrame(header: reply, payload: accept.encoded()))]
        guard exchanges[h.originatorExchangeID]?.target == h.source else { return actions }
        return actions + quarantine(h.originatorExchangeID, reporting: .aborted, now: now)
    }
}
