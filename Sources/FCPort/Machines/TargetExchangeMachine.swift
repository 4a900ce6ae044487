import STMF

/// The FCP exchanges a target port is responder of, as a pure state machine (FCP-4): FCP_CMND in
/// (decoded, checked against the image pairs, a repeated frame told from an overlapped
/// command), the command handed to the SCSI layer (`admit`), XFER_RDY out when the SCSI layer
/// asks for data-out, FCP_DATA in placed into the task's buffer (relative offsets, a
/// duplicated frame counted once, data beyond the burst refused), FCP_DATA and FCP_RSP out
/// when the task ends, task management functions, ABTS answered with BA_ACC once the task has
/// left the LU, exchanges whose data-out stopped arriving reclaimed after 2 × R_A_TOV, image
/// pairs ended by LOGO/PRLO/link loss taking their exchanges with them.
///
/// Every event returns its actions by appending to the caller's array (`handle(_:at:into:)`),
/// so a runtime that reuses one array allocates nothing per frame. Nothing here touches a
/// socket, a thread or a clock: `now` comes with every event.
public struct TargetExchangeMachine: Sendable {
    /// An exchange, by originator and OX_ID (unique while it lives); also the SCSI task tag.
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var source: FCID
        public var oxID: UInt16
        public init(source: FCID, oxID: UInt16) { self.source = source; self.oxID = oxID }
        /// The SCSI task tag of this exchange (unique per I_T nexus while it lives).
        public var tag: UInt64 { UInt64(source.rawValue) << 16 | UInt64(oxID) }
        public init(tag: UInt64) { source = FCID(UInt32(truncatingIfNeeded: tag >> 16)); oxID = UInt16(truncatingIfNeeded: tag) }
        public var description: String { "\(source)/\(String(oxID, radix: 16))" }
    }

    /// An event for the machine. A frame's payload is read during `handle` only.
    public enum Event {
        /// A PRLI established an image pair with the initiator at `source`, whose largest data
        /// field is `receiveSize` bytes.
        case sessionBegan(FCID, receiveSize: Int)
        /// The image pair ended (LOGO, PRLO, implicit logout).
        case sessionEnded(FCID)
        /// The link went down: every image pair and exchange is gone.
        case linkLost
        /// An FCP or BLS frame addressed to this port.
        case frame(FrameHeader, UnsafeRawBufferPointer)
        /// The SCSI layer refused the command before any data moved: its response goes out with
        /// FCP_RESID_UNDER of all of FCP_DL and no data phase.
        case refused(Key, TaskResponse)
        /// The SCSI layer asks for the data-out of the command into `buffer` (`length` bytes).
        case dataRequested(Key, buffer: IOBuffer, length: Int)
        /// The task ended: data-in (`response.dataLength` bytes of `dataIn`) and FCP_RSP go out,
        /// unless the response is marked aborted (nothing is sent).
        case completed(Key, TaskResponse, dataIn: IOBuffer?)
        /// A task management function the machine asked for (`taskManagement`) is done.
        case taskManagementDone(Key, TaskManagementResponse)
        /// The task an ABTS aborted has left the SCSI layer: BA_ACC may go.
        case abortDone(Key)
        /// The SCSI layer aborted a task whose data-out is being received (task management from
        /// any nexus): the exchange is dropped without a frame (`dataFailed` follows).
        case abandon(Key)
        case timerFired(MachineTimerID)
    }

    /// What the runtime does, in order.
    public enum Action: Sendable {
        /// A new command: ask the SCSI layer (prepare, then submit), which answers with
        /// `refused`, `dataRequested` or `completed`.
        case admit(Key, FCPCommand)
        /// Send FCP_RSP for the exchange (`rxID`), as a reply to `header` (the FCP_CMND's).
        case sendResponse(FrameHeader, rxID: UInt16, FCPResponse)
        /// Send XFER_RDY for `length` bytes from relative offset 0.
        case sendTransferReady(FrameHeader, rxID: UInt16, length: Int)
        /// Send `length` bytes of `data` as one FCP_DATA sequence in frames of at most
        /// `maximumPayload` bytes, then FCP_RSP.
        case sendDataAndResponse(FrameHeader, rxID: UInt16, data: IOBuffer, length: Int, maximumPayload: Int, FCPResponse)
        /// Send BA_ACC for the exchange.
        case sendBasicAccept(FrameHeader, rxID: UInt16)
        /// The data-out of the exchange has all arrived (the SCSI layer runs the task now).
        case dataReceived(Key)
        /// The data-out will not arrive (ABTS, reclaim, logout, link loss, a bad frame): the
        /// task ends without running.
        case dataFailed(Key)
        /// Run a task management function for the initiator; answer with `taskManagementDone`.
        case taskManagement(Key, TaskManagementFunction)
        /// Abort the task of an exchange that is executing (ABTS); answer with `abortDone`.
        case abortTask(Key, lun: UInt64)
        /// A frame from a port without an image pair: FCP-4 says to discard it and log it out.
        case logout(FCID)
        case startTimer(MachineTimerID, deadline: FCInstant)
        case cancelTimer(MachineTimerID)
    }

    struct Exchange {
        /// admitted: handed to the SCSI layer (which may ask for data-out); receivingData: XFER_RDY
        /// sent; executing: the data is in, the task runs; aborting: an ABTS waits for the task.
        enum Phase { case admitted, receivingData, executing, aborting }
        var rxID: UInt16
        var phase: Phase
        var command: FCPCommand
        var header: FrameHeader
        var buffer: IOBuffer?
        var length = 0
        var received = ReceivedRanges()
        var lastActivity: FCInstant
    }

    /// 2 × R_A_TOV: how long an exchange may wait for data-out frames before it is reclaimed.
    public var dataTimeout: Duration
    var sessions: [FCID: Int] = [:]       // image pairs: initiator → its receive data field size
    var exchanges: [Key: Exchange] = [:]
    var nextRX: UInt16 = 0
    var sweep: MachineTimerID?
    var timerIDs: UInt64 = 0
    /// Exchanges dropped because their data-out stopped arriving.
    public private(set) var reclaimed = 0
    /// FCP_CMND frames received twice for a live exchange (discarded).
    public private(set) var duplicateFrames = 0

    public init(dataTimeout: Duration) {
        self.dataTimeout = dataTimeout
        exchanges.reserveCapacity(512)
    }

    /// Exchanges open (admitted, receiving data, executing or aborting).
    public var openExchanges: Int { exchanges.count }
    /// Image pairs.
    public var sessionCount: Int { sessions.count }
    public func hasSession(_ id: FCID) -> Bool { sessions[id] != nil }

    /// Applies `event`, which happened at `now`, appending what to do to `actions`.
    public mutating func handle(_ event: Event, at now: FCInstant, into actions: inout [Action]) {
        switch event {
        case let .sessionBegan(id, size):
            drop(where: { $0.source == id }, into: &actions)   // a new PRLI replaces the old image pair
            sessions[id] = size
        case let .sessionEnded(id):
            sessions[id] = nil
            drop(where: { $0.source == id }, into: &actions)
        case .linkLost:
            sessions.removeAll()
            drop(where: { _ in true }, into: &actions)
            if let s = sweep { actions.append(.cancelTimer(s)); sweep = nil }
        case let .frame(h, payload):
            frame(h, payload, now: now, into: &actions)
        case let .refused(key, r):
            guard let x = exchanges.removeValue(forKey: key) else { return }
            actions.append(.sendResponse(x.header, rxID: x.rxID, FCPResponse(r, expectedLength: Int(x.command.dataLength))))
        case let .dataRequested(key, buffer, length):
            guard var x = exchanges[key], x.phase == .admitted else {
                actions.append(.dataFailed(key))   // the exchange is gone (ABTS, logout)
                return
            }
            x.phase = .receivingData
            x.buffer = buffer
            x.length = length
            x.received = ReceivedRanges()
            x.lastActivity = now
            exchanges[key] = x
            actions.append(.sendTransferReady(x.header, rxID: x.rxID, length: length))
            armSweep(now: now, into: &actions)
        case let .completed(key, r, dataIn):
            guard let x = exchanges[key], x.phase != .aborting else { return }
            exchanges[key] = nil
            guard !r.aborted else { return }
            let dl = Int(x.command.dataLength)
            let rsp = FCPResponse(r, expectedLength: dl)
            if let dataIn, r.dataLength > 0 {
                let size = sessions[key.source] ?? FCFrame.maximumPayload
                actions.append(.sendDataAndResponse(x.header, rxID: x.rxID, data: dataIn, length: min(r.dataLength, dl),
                                                    maximumPayload: max(256, min(size, FCFrame.maximumPayload)), rsp))
            } else {
                actions.append(.sendResponse(x.header, rxID: x.rxID, rsp))
            }
        case let .taskManagementDone(key, r):
            guard let x = exchanges.removeValue(forKey: key) else { return }
            actions.append(.sendResponse(x.header, rxID: x.rxID, FCPResponse(taskManagement: r)))
        case let .abortDone(key):
            guard let x = exchanges[key], x.phase == .aborting else { return }
            exchanges[key] = nil
            actions.append(.sendBasicAccept(x.header, rxID: x.rxID))
        case let .abandon(key):
            guard let x = exchanges[key], x.phase == .receivingData else { return }
            exchanges[key] = nil
            actions.append(.dataFailed(key))
        case let .timerFired(id):
            guard id == sweep else { return }
            sweep = nil
            reclaim(now: now, into: &actions)
            armSweep(now: now, into: &actions)
        }
    }

    // MARK: Frames

    private mutating func frame(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer, now: FCInstant, into actions: inout [Action]) {
        switch (h.routing, h.type) {
        case (.fcpCommand, .fcp): command(h, payload, now: now, into: &actions)
        case (.fcpData, .fcp): data(h, payload, now: now, into: &actions)
        case (.abts, .bls): abts(h, into: &actions)
        default: return     // class 3: unexpected frames are discarded
        }
    }

    private mutating func command(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer, now: FCInstant, into actions: inout [Action]) {
        guard sessions[h.source] != nil else {
            // FCP-4: a command without an image pair is discarded and the initiator logged out.
            actions.append(.logout(h.source))
            return
        }
        let cmd: FCPCommand
        do throws(FCPDecodeError) { cmd = try FCPCommand.decode(payload) } catch {
            actions.append(.sendResponse(h, rxID: FrameHeader.unassignedExchange, FCPResponse(responseCode: error.responseCode)))
            return
        }
        let key = Key(source: h.source, oxID: h.originatorExchangeID)
        if let live = exchanges[key] {
            // The same FCP_CMND again on a live exchange is the frame delivered twice, not a
            // new command (an initiator reuses an OX_ID only after the exchange ended).
            if live.command == cmd { duplicateFrames += 1; return }
            // SAM-5: a new command with the tag of a live task is an overlapped command.
            let err = SCSIError(.abortedCommand, .overlappedCommandsAttempted)
            actions.append(.sendResponse(h, rxID: FrameHeader.unassignedExchange,
                                         FCPResponse(TaskResponse(error: err, descriptorSense: false), expectedLength: Int(cmd.dataLength))))
            return
        }
        nextRX = nextRX >= 0xFFFE ? 1 : nextRX + 1
        exchanges[key] = Exchange(rxID: nextRX, phase: .admitted, command: cmd, header: h, lastActivity: now)
        if let tmf = cmd.taskManagementFunction {
            actions.append(.taskManagement(key, tmf))
        } else {
            actions.append(.admit(key, cmd))
        }
    }

    private mutating func data(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer, now: FCInstant, into actions: inout [Action]) {
        let key = Key(source: h.source, oxID: h.originatorExchangeID)
        guard var x = exchanges[key], x.phase == .receivingData, let buf = x.buffer else { return }   // stale: discarded
        let offset = Int(h.parameter)
        guard h.control.contains(.relativeOffset), offset >= 0, offset + payload.count <= x.length else {
            // Data the command did not ask for: the exchange ends with FCP_RSP code 3 (FCP-4 9.4).
            exchanges[key] = nil
            actions.append(.dataFailed(key))
            actions.append(.sendResponse(x.header, rxID: x.rxID, FCPResponse(responseCode: FCPResponseCode(rawValue: 3))))
            return
        }
        if payload.count > 0 {
            (buf.bytes.baseAddress! + offset).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        }
        x.received.insert(offset, length: payload.count)
        x.lastActivity = now
        if x.received.covers(x.length) {
            buf.count = x.length
            x.phase = .executing
            x.buffer = nil
            exchanges[key] = x
            actions.append(.dataReceived(key))
        } else {
            exchanges[key] = x
        }
    }

    /// ABTS: an exchange receiving data ends at once; an executing one is aborted in the SCSI
    /// layer first (BA_ACC when it has left the LU); one the port no longer knows is
    /// acknowledged too, so the initiator can reuse its OX_ID after R_A_TOV.
    private mutating func abts(_ h: FrameHeader, into actions: inout [Action]) {
        let key = Key(source: h.source, oxID: h.originatorExchangeID)
        guard var x = exchanges[key] else {
            actions.append(.sendBasicAccept(h, rxID: h.responderExchangeID))
            return
        }
        switch x.phase {
        case .receivingData:
            exchanges[key] = nil
            actions.append(.dataFailed(key))
            actions.append(.sendBasicAccept(h, rxID: x.rxID))
        case .admitted, .executing:   // handed to the SCSI layer: its task may be running
            x.phase = .aborting
            x.header = h
            exchanges[key] = x
            actions.append(.abortTask(key, lun: x.command.lun))
        case .aborting:
            return   // the first ABTS is being served
        }
    }

    // MARK: Reclaiming

    private mutating func drop(where match: (Key) -> Bool, into actions: inout [Action]) {
        guard !exchanges.isEmpty else { return }
        var gone: [Key] = []
        for (k, x) in exchanges where match(k) {
            gone.append(k)
            if x.phase == .receivingData { actions.append(.dataFailed(k)) }
        }
        for k in gone { exchanges[k] = nil }
    }

    /// Drops exchanges whose data-out stopped arriving for 2 × R_A_TOV (the initiator has long
    /// since timed out and aborted); no response is sent for them.
    private mutating func reclaim(now: FCInstant, into actions: inout [Action]) {
        var stale: [Key] = []
        for (k, x) in exchanges where x.phase == .receivingData && now - x.lastActivity > dataTimeout { stale.append(k) }
        for k in stale {
            exchanges[k] = nil
            actions.append(.dataFailed(k))
        }
        reclaimed += stale.count
    }

    /// One timer for every exchange waiting for data: at the earliest moment one could go stale.
    private mutating func armSweep(now: FCInstant, into actions: inout [Action]) {
        guard sweep == nil else { return }
        var earliest: FCInstant?
        for x in exchanges.values where x.phase == .receivingData {
            if earliest == nil || x.lastActivity < earliest! { earliest = x.lastActivity }
        }
        guard let earliest else { return }
        timerIDs &+= 1
        let id = MachineTimerID(rawValue: timerIDs)
        sweep = id
        let due = earliest + dataTimeout
        actions.append(.startTimer(id, deadline: due < now ? now : due + .milliseconds(1)))
    }
}
