import Locking
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An I_T nexus: one initiator port logged in to one local target port. The port provider
/// posts commands and task management functions to it.
public final class Session: Sendable, CustomStringConvertible, TaskCompletionSink {
    public let nexus: Nexus
    /// When the nexus was created (seconds since the epoch).
    public let loginTime: Double
    let stmf: STMF
    /// Where the status of tasks `submit` answered `.pending` for goes.
    let port: (any TaskPort)?

    /// One I_T_L nexus: the LU behind a LUN of this session, its pending unit attentions and its
    /// statistics recorder. A class, so the command path takes one reference to it; its queue
    /// is guarded by the session lock.
    final class ITL: @unchecked Sendable {
        let record: LURecord
        var unitAttentions: UnitAttentionQueue
        let recorder: (any TaskRecorder)?
        init(record: LURecord, unitAttentions: UnitAttentionQueue, recorder: (any TaskRecorder)?) {
            self.record = record; self.unitAttentions = unitAttentions; self.recorder = recorder
        }
    }
    /// Task management waiting for aborted tasks to end (a task is known by its object and use).
    struct AbortWaiter {
        var tasks: [(SCSITask, UInt64)]
        var continuation: CheckedContinuation<Void, Never>
    }
    struct State {
        var itls: [UInt16: ITL] = [:]
        var luns: [UInt16] = []
        var inFlight: [UInt64: SCSITask] = [:]
        var abortWaiters: [AbortWaiter] = []
        var closed = false
    }
    private let state: Locked<State>

    init(nexus: Nexus, stmf: STMF, port: (any TaskPort)?) {
        self.nexus = nexus
        self.stmf = stmf
        self.port = port
        var s = State()
        s.inFlight.reserveCapacity(stmf.limits.tasksPerNexus)
        state = Locked(s)
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        loginTime = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    public var description: String { "session \(nexus.sessionID) \(nexus)" }

    /// LUN → LU GUID as this session sees it now.
    public var lunMap: [UInt16: LUGUID] {
        state.withLock { s in s.itls.mapValues { $0.record.guid } }
    }

    /// Pending unit attentions per LUN (for diagnostics and tests).
    public var pendingUnitAttentions: [UInt16: [AdditionalSense]] {
        state.withLock { s in s.itls.compactMapValues { $0.unitAttentions.isEmpty ? nil : $0.unitAttentions.pending } }
    }

    public var tasksInFlight: Int { state.withLock { $0.inFlight.count } }

    /// Tasks marked aborted that have not left their LU yet.
    public var abortedTasksInFlight: Int { state.withLock { s in s.inFlight.values.filter(\.aborted).count } }

    // MARK: Map maintenance (framework lock held)

    func apply(map: [UInt16: LURecord], initial: Bool) {
        state.withLock { s in
            let changed = initial || s.itls.count != map.count || map.contains { s.itls[$0.key]?.record !== $0.value }
            guard changed else { return }
            var previous: [LUGUID: ITL] = [:]
            for itl in s.itls.values { previous[itl.record.guid] = itl }
            var next: [UInt16: ITL] = [:]
            next.reserveCapacity(map.count)
            for (lun, rec) in map {
                var q = previous[rec.guid]?.unitAttentions ?? UnitAttentionQueue()
                if initial {
                    q.establish(.powerOnResetOrBusDeviceReset)
                } else if !(port?.announcesLUNInventoryChanges ?? false) {
                    q.establish(.reportedLUNsDataHasChanged)
                }
                let recorder = previous[rec.guid].map { $0.recorder }
                    ?? stmf.observer?.recorder(lu: rec.guid, targetPort: nexus.targetPort, initiator: nexus.initiator)
                next[lun] = ITL(record: rec, unitAttentions: q, recorder: recorder)
            }
            s.itls = next
            s.luns = next.keys.sorted()
        }
    }

    func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID) {
        state.withLock { s in
            for (lun, itl) in s.itls where itl.record.guid == lu {
                itl.unitAttentions.establish(sense)
            }
        }
    }

    // MARK: Commands

    private enum Route {
        case accepted
        case respond(TaskResponse)
        case respondData([UInt8], Int)
        case overlapped(UInt16, TaskResponse)
    }

    /// Submits a task and starts it on the calling thread (the port provider's). `.done` when
    /// it ended before this returns (STMF answered it, or the LU finished it at once: data in
    /// memory); `.pending` when it goes on, and then `TaskPort.sendStatus` reports its end. A
    /// task submitted with `dataOutOnRequest` has its data fetched through
    /// `TaskPort.transferData` once STMF has accepted it. A response marked `aborted` gets no
    /// status (or TASK ABORTED if `status == .taskAborted`).
    public func submit(_ task: SCSITask) -> TaskStart {
        task.session = self
        task.phase.store(SCSITask.Phase.submitting, ordering: .relaxed)
        switch route(task) {
        case let .respond(r):
            task.phase.store(SCSITask.Phase.idle, ordering: .relaxed)
            return .done(r)
        case let .respondData(bytes, allocation):
            task.phase.store(SCSITask.Phase.idle, ordering: .relaxed)
            return .done(respond(task, bytes, allocation))
        case let .overlapped(lun, response):
            task.phase.store(SCSITask.Phase.idle, ordering: .relaxed)
            abort(markAborted(where: { $0.lun == lun }, withStatus: false, unitAttention: nil))
            return .done(response)
        case .accepted:
            if task.dataOutOnRequest {
                task.setStage(.transferring)
                if let port { port.transferData(task) } else { dataTransferred(task, ok: false) }
            } else {
                admit(task)
            }
            let (pending, _) = task.phase.compareExchange(expected: SCSITask.Phase.submitting,
                                                          desired: SCSITask.Phase.pending, ordering: .acquiringAndReleasing)
            return pending ? .pending : .done(task.inlineResponse)
        }
    }

    /// Executes one command and returns its response (tests and control paths: the command
    /// path uses `submit`). When the response is `aborted` the port provider sends no status
    /// (or TASK ABORTED if `status == .taskAborted`).
    public func execute(_ cmd: SCSICommand) async -> TaskResponse {
        let task = SCSITask(cmd)
        return await withCheckedContinuation { (c: CheckedContinuation<TaskResponse, Never>) in
            task.onComplete = { c.resume(returning: $0) }
            if case let .done(r) = submit(task) { c.resume(returning: r) }
        }
    }

    /// The data-out a task was submitted without has arrived (`ok`), or will not (the exchange
    /// was aborted, the link lost): the task then ends as aborted. From any thread.
    public func dataTransferred(_ task: SCSITask, ok: Bool) {
        if ok {
            admit(task)
        } else {
            state.withLock { _ in task.aborted = true }
            finish(task, TaskResponse(status: .good, aborted: true))
        }
    }

    /// What the checks common to every command decided: an answer STMF gives itself, or the
    /// LU (and LUN) that executes the command.
    private enum FrontEnd {
        case respond(TaskResponse)
        case respondData([UInt8], Int)
        case lu(ITL, UInt16)
    }

    /// The checks every command gets before it reaches an LU (lock held): task attribute, CDB
    /// length, NACA, REPORT LUNS, and the answers for a LUN with no LU.
    private func frontEnd(lun lunField: UInt64, cdb: CDB, attribute: TaskAttribute, _ s: State) -> FrontEnd {
        let op = cdb.opcode
        let address = LUNAddress(field: lunField)
        if s.closed { return .respond(TaskResponse(status: .busy, aborted: true)) }
        let itl: ITL? = if case let .lun(n) = address { s.itls[n] } else { nil }
        let descriptor = itl?.record.lu.descriptorSense ?? false
        if attribute == .aca {
            return .respond(TaskResponse(error: SCSIError(.illegalRequest, .invalidMessageError), descriptorSense: descriptor))
        }
        if let expected = CDB.expectedLength(opcode: op), cdb.count < expected {
            return .respond(TaskResponse(error: .invalidFieldInCDB(byte: 0), descriptorSense: descriptor))
        }
        if cdb.count > 0, cdb.control & 0x04 != 0 {   // NACA: ACA is not supported
            let controlIndex = op == OperationCode.variableLength ? 1 : (CDB.expectedLength(opcode: op) ?? cdb.count) - 1
            return .respond(TaskResponse(error: .invalidFieldInCDB(byte: controlIndex, bit: 2), descriptorSense: descriptor))
        }
        if op == OperationCode.reportLUNs {
            do throws(SCSIError) {
                let (data, alloc) = try ReportLUNs.parameterData(cdb: cdb, luns: s.luns)
                return .respondData(data, alloc)
            } catch {
                return .respond(TaskResponse(error: error, descriptorSense: descriptor))
            }
        }
        guard let itl, case let .lun(n) = address else {
            let wellKnown = address == .reportLUNsWellKnown
            do throws(SCSIError) {
                switch op {
                case OperationCode.inquiry:
                    let (d, a) = try NoLogicalUnit.inquiry(cdb: cdb, wellKnown: wellKnown)
                    return .respondData(d, a)
                case OperationCode.requestSense:
                    if wellKnown { return .respondData(SenseData(.noSense, .noAdditionalSense).bytes(descriptor: cdb[1] & 1 != 0), Int(cdb[4])) }
                    let (d, a) = NoLogicalUnit.requestSense(cdb: cdb)
                    return .respondData(d, a)
                case OperationCode.testUnitReady where wellKnown:
                    return .respond(.good)
                default:
                    throw wellKnown ? SCSIError.invalidOperationCode : SCSIError.logicalUnitNotSupported
                }
            } catch {
                return .respond(TaskResponse(error: error, descriptorSense: false))
            }
        }
        return .lu(itl, n)
    }

    /// INQUIRY, REPORT LUNS and REQUEST SENSE never consume a unit attention.
    private static func consumesUnitAttention(_ op: UInt8) -> Bool {
        op != OperationCode.inquiry && op != OperationCode.requestSense
    }

    /// The session's checks, and the task registered (for abort and task management) when it
    /// goes to an LU: one lock section.
    private func route(_ task: SCSITask) -> Route {
        let op = task.cdb.opcode
        return state.withLock { s -> Route in
            let (itl, n): (ITL, UInt16)
            switch frontEnd(lun: task.lunField, cdb: task.cdb, attribute: task.attribute, s) {
            case let .respond(r): return .respond(r)
            case let .respondData(d, a): return .respondData(d, a)
            case let .lu(i, lun): (itl, n) = (i, lun)
            }
            let descriptor = itl.record.lu.descriptorSense
            if s.inFlight[task.tag] != nil {
                // SAM-5 5.8.3: an overlapped command aborts the task set of this I_T_L nexus and
                // is itself terminated with OVERLAPPED COMMANDS ATTEMPTED.
                return .overlapped(n, TaskResponse(error: SCSIError(.abortedCommand, .overlappedCommandsAttempted), descriptorSense: descriptor))
            }
            if Self.consumesUnitAttention(op), let ua = s.itls[n]!.unitAttentions.next() {
                return .respond(TaskResponse(error: .unitAttention(ua), descriptorSense: descriptor))
            }
            if let full = Self.full(s, lun: n, taskSet: itl.record.taskSet, limits: stmf.limits, occupy: true) {
                return .respond(TaskResponse(status: full))
            }
            task.record = itl.record
            task.recorder = itl.recorder
            task.lun = n
            task.aborted = false
            task.abortedWithStatus = false
            if itl.recorder != nil { task.startNanoseconds = Self.monotonicNanoseconds() }
            s.inFlight[task.tag] = task
            return .accepted
        }
    }

    /// TASK SET FULL or BUSY when a new task would pass the nexus's or the LU's limit (lock
    /// held); nil when it fits, and with `occupy` its place in the LU's task set is then taken.
    private static func full(_ s: State, lun: UInt16, taskSet: TaskSet, limits: STMF.Limits, occupy: Bool) -> SCSIStatus? {
        // SAM-5 5.3.1: TASK SET FULL when this initiator has a task in the task set, else BUSY.
        func refusal() -> SCSIStatus { s.inFlight.values.contains { $0.lun == lun } ? .taskSetFull : .busy }
        if s.inFlight.count >= limits.tasksPerNexus { return refusal() }
        if occupy ? !taskSet.occupy(limit: limits.tasksPerLU) : taskSet.occupancy >= limits.tasksPerLU { return refusal() }
        return nil
    }

    /// The checks a port provider runs before any data moves (FCP: before XFER_RDY, and
    /// before it allocates a buffer for either direction): the session's own checks, a pending
    /// unit attention (reported now, as LIO and SCST do, rather than after the data phase), and
    /// the LU's `prepare` (opcode, reserved bits, range, transfer length against the LU's
    /// limits, write protection, reservations). `.respond` ends the command with that response
    /// and no data phase; `.proceed` says how many bytes the CDB calls for (nil: the LU cannot
    /// tell), so the port never allocates more than that.
    public func prepare(lun: UInt64, cdb: CDB, attribute: TaskAttribute) -> Preparation {
        let op = cdb.opcode
        let decided = state.withLock { s -> Either in
            switch frontEnd(lun: lun, cdb: cdb, attribute: attribute, s) {
            case let .respond(r): return .decided(.respond(r))
            case let .respondData(d, a): return .decided(.proceed(dataLength: min(d.count, a)))
            case let .lu(itl, n):
                if Self.consumesUnitAttention(op), let ua = s.itls[n]!.unitAttentions.next() {
                    return .decided(.respond(TaskResponse(error: .unitAttention(ua), descriptorSense: itl.record.lu.descriptorSense)))
                }
                if let full = Self.full(s, lun: n, taskSet: itl.record.taskSet, limits: stmf.limits, occupy: false) {
                    return .decided(.respond(TaskResponse(status: full)))   // no data phase for a task that cannot run
                }
                return .lu(itl.record.lu)
            }
        }
        switch decided {
        case let .decided(p): return p
        case let .lu(lu):
            do throws(SCSIError) {
                return .proceed(dataLength: try lu.prepare(cdb, nexus: nexus))
            } catch {
                return .respond(TaskResponse(error: error, descriptorSense: lu.descriptorSense))
            }
        }
    }

    private enum Either { case decided(Preparation), lu(any LogicalUnit) }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    private func respond(_ task: SCSITask, _ bytes: [UInt8], _ allocation: Int) -> TaskResponse {
        let t = LUTask(cdb: task.cdb, lun: 0, nexus: nexus, attribute: task.attribute, tag: task.tag,
                       dataOut: nil, dataIn: task.dataIn, dataInLimit: task.dataInLimit,
                       expectedTransferLength: task.expectedTransferLength, direction: task.direction)
        return t.respond(with: bytes, allocationLength: allocation)
    }

    /// Admits a task whose data is in place to its LU's task set and starts it, unless it has to
    /// wait behind an ORDERED task (the `leave` that lets it start starts it then).
    private func admit(_ task: SCSITask) {
        if task.record!.taskSet.enter(task) { run(task) }
    }

    private func luTask(_ task: SCSITask) -> LUTask {
        LUTask(cdb: task.cdb, lun: task.lun, nexus: nexus, attribute: task.attribute, tag: task.tag,
               dataOut: task.dataOut, dataIn: task.dataIn, dataInLimit: task.dataInLimit,
               expectedTransferLength: task.expectedTransferLength, direction: task.direction,
               task: task, sink: self)
    }

    /// Starts an admitted task in its LU on this thread.
    private func run(_ task: SCSITask) {
        task.setStage(.running)
        switch task.record!.lu.start(luTask(task)) {
        case let .done(r): finish(task, r)
        case .pending: break
        }
    }

    /// An LU's completion of a task it answered `.pending` for.
    public func taskCompleted(_ task: LUTask, _ response: TaskResponse) {
        finish(task.task!, response)
    }

    /// The task is over: it leaves its task set (starting those it held back), is unregistered,
    /// wakes task management waiting for it, and its response goes to the port (or back from
    /// `submit`, when it ended before that returned).
    private func finish(_ task: SCSITask, _ r: TaskResponse) {
        let record = task.record!
        let ready = record.taskSet.leave(task)
        let (aborted, withStatus, resumed) = state.withLock { s -> (Bool, Bool, [CheckedContinuation<Void, Never>]) in
            if s.inFlight[task.tag] === task { s.inFlight[task.tag] = nil }
            record.taskSet.vacate()
            var resumed: [CheckedContinuation<Void, Never>] = []
            if !s.abortWaiters.isEmpty {
                let use = task.control.withLock { $0.use }
                var i = 0
                while i < s.abortWaiters.count {
                    s.abortWaiters[i].tasks.removeAll { $0.0 === task && $0.1 == use }
                    if s.abortWaiters[i].tasks.isEmpty {
                        resumed.append(s.abortWaiters.remove(at: i).continuation)
                    } else {
                        i += 1
                    }
                }
            }
            return (task.aborted, task.abortedWithStatus, resumed)
        }
        task.setStage(.finished)
        var response = r
        if aborted {
            response = TaskResponse(status: withStatus ? .taskAborted : r.status, aborted: true)
        } else if let recorder = task.recorder {
            recorder.record(direction: task.direction, bytes: r.dataLength, status: r.status,
                            nanoseconds: Self.monotonicNanoseconds() &- task.startNanoseconds)
        }
        deliver(task, response)
        for c in resumed { c.resume() }
        for t in ready { t.session!.run(t) }
    }

    /// Hands the response over: back to `submit` when the task ended while it was running,
    /// else to the async wrapper or the port. The port may reuse the task at once.
    private func deliver(_ task: SCSITask, _ r: TaskResponse) {
        task.inlineResponse = r
        let (inline, _) = task.phase.compareExchange(expected: SCSITask.Phase.submitting,
                                                     desired: SCSITask.Phase.completedInline, ordering: .acquiringAndReleasing)
        if inline { return }
        if let c = task.onComplete {
            task.onComplete = nil
            c(r)
        } else {
            port?.sendStatus(task, r)
        }
    }

    // MARK: Task management

    /// An aborted task as it was when it was marked: the object and which use of it.
    struct Marked {
        let task: SCSITask
        let use: UInt64
    }

    /// Marks matching tasks aborted and returns them; optionally establishes a unit attention
    /// on the LUs they ran on. `abort` then reaches the providers holding them.
    func markAborted(where match: (SCSITask) -> Bool, withStatus: Bool,
                     unitAttention: AdditionalSense?) -> [Marked] {
        state.withLock { s in
            var marked: [Marked] = []
            for t in s.inFlight.values where !t.aborted && match(t) {
                t.aborted = true
                t.abortedWithStatus = withStatus
                if let ua = unitAttention { s.itls[t.lun]?.unitAttentions.establish(ua) }
                marked.append(Marked(task: t, use: t.control.withLock { $0.use }))
            }
            return marked
        }
    }

    /// Reaches each marked task where it is: a task still queued behind an ORDERED one is taken
    /// out and ended; one whose data-out is being fetched is aborted in its port; one running
    /// is aborted in its LU (which ends it as usual). A task that moved on or ended meanwhile
    /// is left alone (it is aborted where it ends).
    func abort(_ marked: [Marked]) {
        for m in marked {
            let t = m.task
            guard let record = t.record else { continue }
            let (removed, ready) = record.taskSet.cancel(t)
            if removed {
                finish(t, TaskResponse(status: .good, aborted: true))
            } else {
                t.control.withLock { c in
                    guard c.use == m.use else { return }
                    switch c.stage {
                    case .transferring: port?.abort(t)
                    case .running: record.lu.abort(luTask(t))
                    case .idle, .finished: break
                    }
                }
            }
            for r in ready { r.session!.run(r) }
        }
    }

    /// Waits until every marked task of this session has ended.
    func waitFor(_ marked: [Marked]) async {
        guard !marked.isEmpty else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done: Bool = state.withLock { s in
                let live = marked.filter { m in s.inFlight[m.task.tag] === m.task && m.task.control.withLock { $0.use } == m.use }
                if live.isEmpty { return true }
                s.abortWaiters.append(AbortWaiter(tasks: live.map { ($0.task, $0.use) }, continuation: c))
                return false
            }
            if done { c.resume() }
        }
    }

    /// Aborts matching tasks and waits until they have left their providers.
    func abortAndWait(where match: (SCSITask) -> Bool, withStatus: Bool = false, unitAttention: AdditionalSense? = nil) async {
        let marked = markAborted(where: match, withStatus: withStatus, unitAttention: unitAttention)
        abort(marked)
        await waitFor(marked)
    }

    /// Closes the session: aborts and waits for every task; returns the LUs it reached.
    func close() async -> [LURecord] {
        let records: [LURecord] = state.withLock { s in
            s.closed = true
            return s.itls.values.map(\.record)
        }
        await abortAndWait(where: { _ in true })
        var seen = Set<ObjectIdentifier>()
        return records.filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    private func record(for lunField: UInt64) -> LURecord? {
        guard case let .lun(n) = LUNAddress(field: lunField) else { return nil }
        return state.withLock { $0.itls[n]?.record }
    }

    /// Performs a task management function received on this nexus.
    public func taskManagement(_ function: TaskManagementFunction) async -> TaskManagementResponse {
        switch function {
        case let .abortTask(tag, lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            await abortAndWait(where: { $0.tag == tag && $0.record === rec })
            return .functionComplete

        case let .abortTaskSet(lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            await abortAndWait(where: { $0.record === rec })
            return .functionComplete

        case let .clearTaskSet(lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            await stmf.abortTasks(on: rec.guid, requester: self, reason: .clearTaskSet)
            return .functionComplete

        case let .logicalUnitReset(lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            await reset(rec)
            return .functionComplete

        case .itNexusReset:
            await abortAndWait(where: { _ in true })
            let records: [LURecord] = state.withLock { s in
                for lun in s.itls.keys { s.itls[lun]!.unitAttentions.establish(.itNexusLossOccurred) }
                return s.itls.values.map(\.record)
            }
            for r in records { r.lu.handle(.itNexusLoss(nexus)) }
            return .functionComplete

        case .targetReset:
            // Every LU reachable through this target port.
            var seen = Set<LUGUID>()
            var records: [LURecord] = []
            for session in stmf.sessions(of: nexus.targetPort) {
                for r in session.state.withLock({ $0.itls.values.map(\.record) }) where seen.insert(r.guid).inserted {
                    records.append(r)
                }
            }
            for r in records { await reset(r) }
            return .functionComplete

        case let .clearACA(lunField):
            guard record(for: lunField) != nil else { return .incorrectLogicalUnitNumber }
            // NACA=1 is refused in every CDB, so no ACA condition can exist.
            return .functionRejected

        case let .queryTask(tag, lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            let exists = state.withLock { s in s.inFlight[tag].map { $0.record === rec && !$0.aborted } ?? false }
            return exists ? .functionSucceeded : .functionComplete
        }
    }

    /// LOGICAL UNIT RESET: abort every task on the LU, let the LU reset its state, and
    /// establish BUS DEVICE RESET FUNCTION OCCURRED for every nexus.
    private func reset(_ rec: LURecord) async {
        await stmf.abortTasks(on: rec.guid, requester: self, reason: .reset)
        rec.lu.handle(.logicalUnitReset)
        stmf.establishUnitAttention(.busDeviceResetFunctionOccurred, lu: rec.guid, scope: .all)
    }
}
