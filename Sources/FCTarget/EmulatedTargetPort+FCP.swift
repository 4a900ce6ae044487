import FCLink
import FCPort
import Runtime
import STMF

/// The port's FCP side: a shell over `TargetExchangeMachine` that runs on the port's event loop.
/// Frames arrive on it; STMF's calls (`transferData`, `sendStatus`, `abort`) and task-management
/// results that come from other threads are handed over to it; the actions are carried out
/// there, and the frames of one turn leave in one write (the link gathers them). Tasks and
/// data buffers are pooled, so a command whose data is in memory costs no thread hop.
extension EmulatedTargetPort {
    /// Runs `body` on the port's loop (now, when already there).
    func onLoop(_ body: @escaping @Sendable () -> Void) {
        if loop.inEventLoop { body() } else { loop.execute(body) }
    }

    /// Feeds one event to the machine and carries out its actions (loop thread).
    func handle(_ event: TargetExchangeMachine.Event) {
        let c = core
        c.machine.handle(event, at: c.now(loop), into: &c.actions)
        perform()
    }

    func frame(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        guard let me = localID, h.destination == me else { return }
        handle(.frame(h, payload))
    }

    /// Carries out the machine's actions (loop thread). Acting may feed the machine again (a
    /// command finished at once): those actions join the same list.
    private func perform() {
        let c = core
        guard !c.performing else { return }
        c.performing = true
        var i = 0
        while i < c.actions.count {
            let a = c.actions[i]
            i += 1
            switch a {
            case let .admit(key, cmd): admit(key, cmd)
            case let .sendResponse(h, rx, rsp): appendResponse(h, rxID: rx, rsp)
            case let .sendTransferReady(h, rx, length):
                var xh = h.reply(routing: .transferReady, type: .fcp,
                                 control: [.exchangeResponder, .endSequence, .sequenceInitiative], responderExchangeID: rx)
                xh.sequenceID = 1
                TransferReady(relativeOffset: 0, burstLength: UInt32(length)).withEncoded { appendFrame(xh, $0) }
            case let .sendDataAndResponse(h, rx, data, length, maxPayload, rsp):
                var dh = h.reply(routing: .fcpData, type: .fcp, control: [.exchangeResponder, .endSequence], responderExchangeID: rx)
                dh.sequenceID = 1
                let splitter = SequenceSplitter(maximumPayload: maxPayload)
                let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(data.bytes)[0..<length])
                // A long sequence goes out in pieces as it is encoded, so the fabric and the
                // initiator work on the first frames while the rest are built.
                let frames = splitter.frameCount(length)
                var first = 0
                while first < frames {
                    let piece = first..<min(frames, first + Self.framesPerWrite)
                    splitter.encode(header: dh, data: bytes, frames: piece, into: &c.out, records: true)
                    first = piece.upperBound
                    if first < frames { flush() }
                }
                appendResponse(h, rxID: rx, rsp)
            case let .sendBasicAccept(h, rx):
                var bh = h.reply(routing: .baAcc, type: .bls, responderExchangeID: rx)
                bh.control = [.exchangeResponder, .lastSequence, .endSequence, .sequenceInitiative]
                FCFrame(header: bh, payload: BAAccept.abortingExchange(oxID: h.originatorExchangeID, rxID: rx).encoded())
                    .encode(into: &c.out, record: true)
            case let .dataReceived(key):
                if let task = c.tasks[key] { task.session?.dataTransferred(task, ok: true) }
            case let .dataFailed(key):
                if let task = c.tasks[key] { task.session?.dataTransferred(task, ok: false) }
            case let .taskManagement(key, fn):
                guard let session = c.sessions[key.source]?.session else { continue }
                Task { [self] in
                    let r = await session.taskManagement(fn)
                    onLoop { self.handle(.taskManagementDone(key, r)) }
                }
            case let .abortTask(key, lun):
                guard let session = c.sessions[key.source]?.session else { continue }
                Task { [self] in
                    _ = await session.taskManagement(.abortTask(tag: key.tag, lun: lun))
                    onLoop { self.handle(.abortDone(key)) }
                }
            case let .logout(id):
                if let port = nport.withLock({ $0 }), let me = port.portID {
                    Task { _ = try? await port.request(.logo(LOGO(portID: me.rawValue, portName: portName)), to: id) }
                }
            case let .startTimer(id, deadline):
                loop.schedule(at: c.origin &+ deadline.sinceOrigin.nanoseconds) { [self] in handle(.timerFired(id)) }
            case .cancelTimer:
                break   // a timer that fires after it was cancelled is not recognised by the machine
            }
        }
        c.actions.removeAll(keepingCapacity: true)
        c.performing = false
        flush()
    }

    /// Hands what was encoded to the link (it writes at the end of the loop's turn).
    private func flush() {
        let c = core
        guard !c.out.isEmpty else { return }
        c.out.withUnsafeBytes { send(records: $0) }
        c.out.removeAll(keepingCapacity: true)
    }

    private func appendResponse(_ h: FrameHeader, rxID: UInt16, _ r: FCPResponse) {
        var rh = h.reply(routing: .fcpResponse, type: .fcp, responderExchangeID: rxID)
        rh.sequenceID = 2
        r.withEncoded { appendFrame(rh, $0) }
    }

    /// Appends a single-frame sequence (SOFi3; EOFt when it ends the sequence).
    private func appendFrame(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) {
        FCFrame.encode(start: .initiate3, header: h, payload: payload, end: h.control.contains(.endSequence) ? .terminate : .normal,
                       into: &core.out, record: true)
    }

    /// Data frames per socket write of a long FCP_DATA sequence (128 KiB at 2 KiB frames).
    static let framesPerWrite = 64

    // MARK: The SCSI side

    /// A new command: STMF's and the LU's checks before any data moves or any buffer exists,
    /// then a pooled task with a buffer sized by what the CDB calls for (never by FCP_DL alone),
    /// submitted on this loop.
    private func admit(_ key: TargetExchangeMachine.Key, _ cmd: FCPCommand) {
        let c = core
        guard let session = c.sessions[key.source]?.session else { return }
        let dl = Int(cmd.dataLength)
        let cdb = CDB(cmd.cdb)
        let preparation = session.prepare(lun: cmd.lun, cdb: cdb, attribute: cmd.taskAttribute.taskAttribute)
        if case let .respond(r) = preparation {
            c.machine.handle(.refused(key, r), at: c.now(loop), into: &c.actions)
            return
        }
        let size = preparation.allocation(expected: dl)
        let task = c.pool.task()
        task.lunField = cmd.lun
        task.cdb = cdb
        task.attribute = cmd.taskAttribute.taskAttribute
        task.tag = key.tag
        task.context = key.tag
        task.direction = cmd.direction.dataDirection
        task.expectedTransferLength = dl
        task.crn = cmd.commandReferenceNumber
        if cmd.direction == .write && size > 0 {
            task.dataOut = c.pool.buffer(size)
            task.dataOutOnRequest = true
        } else if cmd.direction == .read && size > 0 {
            task.dataIn = c.pool.buffer(size)
        }
        c.tasks[key] = task
        if case let .done(r) = session.submit(task) { completed(task, r) }
    }

    /// A task's end (loop thread): the machine sends its data and status, the task and its
    /// buffers go back to the pool.
    private func completed(_ task: SCSITask, _ r: TaskResponse) {
        let c = core
        let key = TargetExchangeMachine.Key(tag: task.context)
        guard c.tasks[key] === task else { return }
        c.tasks[key] = nil
        c.machine.handle(.completed(key, r, dataIn: task.dataIn), at: c.now(loop), into: &c.actions)
        // The data-in was encoded by the machine's action before the buffer is reused.
        perform()
        c.pool.recycle(task)
    }

    // MARK: TaskPort

    /// XFER_RDY for the data-out; the machine collects the frames and hands the task back.
    public func transferData(_ task: SCSITask) {
        onLoop { [self] in
            let key = TargetExchangeMachine.Key(tag: task.context)
            guard core.tasks[key] === task, let buffer = task.dataOut else {
                task.session?.dataTransferred(task, ok: false)
                return
            }
            handle(.dataRequested(key, buffer: buffer, length: buffer.capacity))   // sized by `admit`
        }
    }

    /// STMF aborted a task whose data-out is being received: the machine forgets the exchange
    /// and the task ends (on the loop, never on the caller's thread: STMF holds a lock here).
    public func abort(_ task: SCSITask) {
        let context = task.context
        loop.execute { [self] in
            let key = TargetExchangeMachine.Key(tag: context)
            guard core.tasks[key] === task else { return }
            handle(.abandon(key))
        }
    }

    /// The end of a task `submit` answered `.pending` for.
    public func sendStatus(_ task: SCSITask, _ response: TaskResponse) {
        onLoop { [self] in completed(task, response) }
    }
}

/// Tasks and data buffers the port reuses (loop thread only). Buffers are kept by their exact
/// size (a command's allocation is what its CDB moves, so the sizes in use are few): at most a
/// few per size, and a size not asked for in a while gives way to a new one.
final class TaskPool {
    /// The buffers of one size (a class, so taking and giving back one mutates in place:
    /// an array inside a dictionary value is copied when popped through the subscript).
    final class Bin {
        var buffers: [IOBuffer] = []
        init() { buffers.reserveCapacity(TaskPool.keepPerSize) }
    }
    private var tasks: [SCSITask] = []
    private var bins: [Int: Bin] = [:]
    static let keepPerSize = 64
    static let sizesKept = 16

    init() { tasks.reserveCapacity(1024) }

    func task() -> SCSITask { tasks.popLast() ?? SCSITask() }

    /// A buffer of exactly `size` bytes.
    func buffer(_ size: Int) -> IOBuffer {
        if let b = bins[size]?.buffers.popLast() {
            b.count = 0
            return b
        }
        return IOBuffer(capacity: size)
    }

    func recycle(_ task: SCSITask) {
        keep(task.dataIn)
        keep(task.dataOut)
        task.prepareForReuse()
        if tasks.count < 1024 { tasks.append(task) }
    }

    private func keep(_ b: IOBuffer?) {
        guard let b else { return }
        let bin: Bin
        if let existing = bins[b.capacity] {
            bin = existing
        } else {
            if bins.count >= Self.sizesKept { bins.remove(at: bins.startIndex) }
            bin = Bin()
            bins[b.capacity] = bin
        }
        if bin.buffers.count < Self.keepPerSize { bin.buffers.append(b) }
    }
}
