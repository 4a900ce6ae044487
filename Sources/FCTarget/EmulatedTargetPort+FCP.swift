import FCLink
import FCPort
import STMF

extension EmulatedTargetPort {
    /// The STMF task tag of an FC exchange: unique per I_T nexus while the exchange lives.
    static func tag(_ key: ExchangeKey) -> UInt64 { UInt64(key.source.rawValue) << 16 | UInt64(key.oxID) }

    func frame(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let me = localID, h.destination == me else { return }
        switch (h.routing, h.type) {
        case (.fcpCommand, .fcp): command(h, payload)
        case (.fcpData, .fcp): data(h, payload)
        case (.abts, .bls): abort(h)
        default: return     // class 3: unexpected frames are discarded
        }
    }

    // MARK: FCP_CMND

    private func command(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let key = ExchangeKey(source: h.source, oxID: h.originatorExchangeID)
        guard let entry = table.withLock({ $0.sessions[h.source] }) else {
            // FCP-4: a command without an image pair is discarded and the initiator logged out.
            if let port = nport.withLock({ $0 }), let me = port.portID {
                Task { _ = try? await port.request(.logo(LOGO(portID: me.rawValue, portName: portName)), to: h.source) }
            }
            return
        }
        let cmd: FCPCommand
        do throws(FCPDecodeError) { cmd = try FCPCommand.decode(payload) } catch {
            respond(h, rxID: 0xFFFF, FCPResponse(responseCode: error.responseCode))
            return
        }
        if let tmf = cmd.taskManagementFunction {
            Task {
                let r = await entry.session.taskManagement(tmf)
                respond(h, rxID: 0xFFFF, FCPResponse(taskManagement: r))
            }
            return
        }
        let dl = Int(cmd.dataLength)
        // Before any data moves or any buffer exists: STMF's and the LU's checks. A command that
        // is going to fail ends here with its status, sense and residual (no XFER_RDY), and
        // the buffer is sized by what the CDB calls for, never by FCP_DL alone.
        let cdb = CDB(cmd.cdb)
        let preparation = entry.session.prepare(lun: cmd.lun, cdb: cdb, attribute: cmd.taskAttribute.taskAttribute)
        let size = preparation.allocation(expected: dl)
        let task = SCSITask()
        task.lunField = cmd.lun
        task.cdb = cdb
        task.attribute = cmd.taskAttribute.taskAttribute
        task.tag = Self.tag(key)
        task.context = task.tag
        task.direction = cmd.direction.dataDirection
        task.expectedTransferLength = dl
        task.crn = cmd.commandReferenceNumber
        if cmd.direction == .write && size > 0 {
            task.dataOut = IOBuffer(capacity: size)
            task.dataOutOnRequest = true
        } else if cmd.direction == .read && size > 0 {
            task.dataIn = IOBuffer(capacity: size)
        }
        enum Admission { case proceed, overlapped, duplicate, refused(TaskResponse) }
        let admission = table.withLock { t -> Admission in
            if let live = t.exchanges[key] {
                // The same FCP_CMND again on a live exchange is the frame delivered twice, not a
                // new command (an initiator reuses an OX_ID only after the exchange ended).
                if live.command == cmd { t.duplicateFrames += 1; return .duplicate }
                return .overlapped
            }
            if case let .respond(r) = preparation { return .refused(r) }
            t.exchanges[key] = Exchange(rxID: t.allocateRX(), phase: .executing, command: cmd,
                                        session: entry.session, remote: entry.remote,
                                        dataOut: task.dataOut, dataLength: size, task: task, header: h,
                                        lastActivity: .now)
            return .proceed
        }
        switch admission {
        case .duplicate:
            return
        case .overlapped:
            // SAM-5: a new command with the tag of a live task is an overlapped command.
            let err = SCSIError(.abortedCommand, .overlappedCommandsAttempted)
            respond(h, rxID: 0xFFFF, FCPResponse(TaskResponse(error: err, descriptorSense: false), expectedLength: dl))
            return
        case let .refused(r):
            respond(h, rxID: 0xFFFF, FCPResponse(r, expectedLength: dl))
            return
        case .proceed:
            break
        }
        if case let .done(r) = entry.session.submit(task) { sendStatus(task, r) }
    }

    // MARK: FCP_DATA (write data)

    private func data(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        let key = ExchangeKey(source: h.source, oxID: h.originatorExchangeID)
        enum Outcome { case more, complete, badOffset(SCSITask?), unknown }
        let outcome = table.withLock { t -> Outcome in
            guard var x = t.exchanges[key], x.phase == .receivingData, let buf = x.dataOut else { return .unknown }
            let offset = Int(h.parameter)
            guard h.control.contains(.relativeOffset), offset + payload.count <= buf.capacity else {
                t.exchanges[key] = nil
                return .badOffset(x.task)
            }
            if payload.count > 0 {
                (buf.bytes.baseAddress! + offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
            }
            x.received.insert(offset, length: payload.count)
            x.lastActivity = .now
            if x.received.covers(buf.capacity) {
                buf.count = buf.capacity
                x.phase = .executing
                t.exchanges[key] = x
                return .complete
            }
            t.exchanges[key] = x
            return .more
        }
        switch outcome {
        case .more, .unknown: return
        case .complete:
            if let task = table.withLock({ $0.exchanges[key]?.task }) { task.session?.dataTransferred(task, ok: true) }
        case let .badOffset(task):
            if let task { task.session?.dataTransferred(task, ok: false) }
            if table.withLock({ $0.sessions[h.source] != nil }) {
                respond(h, rxID: h.responderExchangeID, FCPResponse(responseCode: FCPResponseCode(rawValue: 3)))
            }
        }
    }

    // MARK: TaskPort

    /// XFER_RDY for the whole data-out; `data` collects the frames and hands the task back.
    public func transferData(_ task: SCSITask) {
        let key = Self.key(task.context)
        let x: Exchange? = table.withLock { t in
            guard var x = t.exchanges[key], x.task === task else { return nil }
            x.phase = .receivingData
            x.lastActivity = .now
            t.exchanges[key] = x
            return x
        }
        guard let x else {
            task.session?.dataTransferred(task, ok: false)   // the exchange is gone (ABTS, logout)
            return
        }
        var xh = x.header.reply(routing: .transferReady, type: .fcp,
                                control: [.exchangeResponder, .endSequence, .sequenceInitiative], responderExchangeID: x.rxID)
        xh.sequenceID = 1
        var out = [UInt8]()
        FCFrame(header: xh, payload: TransferReady(relativeOffset: 0, burstLength: UInt32(x.dataLength)).encoded()).encode(into: &out, record: true)
        send(records: out)
    }

    /// A task being sent its data-out was aborted: the exchange is forgotten and the task handed
    /// back as failed (later, off the caller's thread: STMF calls this under its task lock).
    public func abort(_ task: SCSITask) {
        let key = Self.key(task.context)
        let dropped = table.withLock { t -> Bool in
            guard let x = t.exchanges[key], x.task === task, x.phase == .receivingData else { return false }
            t.exchanges[key] = nil
            return true
        }
        if dropped, let session = task.session {
            Task { session.dataTransferred(task, ok: false) }
        }
    }

    /// The task's data-in and FCP_RSP (nothing for an exchange aborted or dropped meanwhile,
    /// or a task STMF ended as aborted).
    public func sendStatus(_ task: SCSITask, _ response: TaskResponse) {
        let key = Self.key(task.context)
        let x: Exchange? = table.withLock { t in
            guard let cur = t.exchanges[key], cur.task === task else { return nil }
            t.exchanges[key] = nil
            return cur
        }
        guard let x, !response.aborted else { return }
        let h = x.header
        let dl = Int(x.command.dataLength)
        var out = [UInt8]()
        if let dataIn = task.dataIn, response.dataLength > 0 {
            let n = min(response.dataLength, dl)
            var dh = h.reply(routing: .fcpData, type: .fcp, control: [.exchangeResponder, .endSequence],
                             responderExchangeID: x.rxID)
            dh.sequenceID = 1
            let splitter = SequenceSplitter(maximumPayload: max(256, min(x.remote.receiveDataFieldSize, FCFrame.maximumPayload)))
            let data = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(dataIn.bytes)[0..<n])
            // A long sequence goes out in pieces as it is encoded, so the fabric and the
            // initiator work on the first frames while the rest are built.
            let frames = splitter.frameCount(n)
            var first = 0
            while first < frames {
                let piece = first..<min(frames, first + Self.framesPerWrite)
                splitter.encode(header: dh, data: data, frames: piece, into: &out, records: true)
                first = piece.upperBound
                if first < frames {
                    send(records: out)
                    out.removeAll(keepingCapacity: true)
                }
            }
        }
        appendResponse(h, rxID: x.rxID, FCPResponse(response, expectedLength: dl), into: &out)
        send(records: out)
    }

    static func key(_ context: UInt64) -> ExchangeKey {
        ExchangeKey(source: FCID(UInt32(truncatingIfNeeded: context >> 16)), oxID: UInt16(truncatingIfNeeded: context))
    }

    /// Data frames per socket write of a long FCP_DATA sequence (128 KiB at 2 KiB frames).
    static let framesPerWrite = 64

    private func appendResponse(_ h: FrameHeader, rxID: UInt16, _ r: FCPResponse, into out: inout [UInt8]) {
        var rh = h.reply(routing: .fcpResponse, type: .fcp, responderExchangeID: rxID)
        rh.sequenceID = 2
        FCFrame(header: rh, payload: r.encoded()).encode(into: &out, record: true)
    }

    private func respond(_ h: FrameHeader, rxID: UInt16, _ r: FCPResponse) {
        var out = [UInt8]()
        appendResponse(h, rxID: rxID, r, into: &out)
        send(records: out)
    }

    // MARK: ABTS

    /// ABTS: the exchange's task is aborted in STMF (waiting until it has left the LU), the
    /// exchange forgotten, and BA_ACC sent. An exchange the target no longer knows is
    /// acknowledged too, so the initiator can reuse its OX_ID after R_A_TOV.
    private func abort(_ h: FrameHeader) {
        let key = ExchangeKey(source: h.source, oxID: h.originatorExchangeID)
        let x = table.withLock { t in t.exchanges.removeValue(forKey: key) }
        let rx = x?.rxID ?? h.responderExchangeID
        if let x, x.phase == .receivingData, let task = x.task { task.session?.dataTransferred(task, ok: false) }
        Task {
            if let x, x.phase == .executing {
                _ = await x.session.taskManagement(.abortTask(tag: Self.tag(key), lun: x.command.lun))
            }
            var bh = h.reply(routing: .baAcc, type: .bls, responderExchangeID: rx)
            bh.control = [.exchangeResponder, .lastSequence, .endSequence, .sequenceInitiative]
            var out = [UInt8]()
            FCFrame(header: bh, payload: BAAccept.abortingExchange(oxID: h.originatorExchangeID, rxID: rx).encoded())
                .encode(into: &out, record: true)
            send(records: out)
        }
    }

    /// Drops exchanges whose write data stopped arriving for 2 × R_A_TOV (the initiator has
    /// long since timed out and aborted); no response is sent for them.
    func reclaimStaleExchanges() {
        guard let port = nport.withLock({ $0 }) else { return }
        let limit = port.exchangeTimeout
        let now = ContinuousClock.now
        let waiting = table.withLock { t -> [SCSITask] in
            let stale = t.exchanges.filter { $0.value.phase == .receivingData && now - $0.value.lastActivity > limit }
            for k in stale.keys { t.exchanges[k] = nil }
            t.reclaimed += stale.count
            return stale.values.compactMap(\.task)
        }
        for task in waiting { task.session?.dataTransferred(task, ok: false) }
    }
}
