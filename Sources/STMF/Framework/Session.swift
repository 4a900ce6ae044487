import Locking
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A task STMF is tracking for abort and task management. Its mutable fields are guarded by
/// the owning session's lock.
final class InFlightTask: @unchecked Sendable {
    let tag: UInt64
    let lun: UInt16
    let lu: LUGUID
    let ticket: UInt64
    let taskSet: TaskSet
    var aborted = false
    var abortedWithStatus = false
    var finished = false
    var waiters: [CheckedContinuation<Void, Never>] = []

    init(tag: UInt64, lun: UInt16, lu: LUGUID, ticket: UInt64, taskSet: TaskSet) {
        self.tag = tag; self.lun = lun; self.lu = lu; self.ticket = ticket; self.taskSet = taskSet
    }
}

/// An I_T nexus: one initiator port logged in to one local target port. The port provider
/// posts commands and task management functions to it.
public final class Session: Sendable, CustomStringConvertible {
    public let nexus: Nexus
    /// When the nexus was created (seconds since the epoch).
    public let loginTime: Double
    let stmf: STMF

    struct ITL {
        let record: LURecord
        var unitAttentions: UnitAttentionQueue
        let recorder: (any TaskRecorder)?
    }
    struct State {
        var itls: [UInt16: ITL] = [:]
        var luns: [UInt16] = []
        var inFlight: [UInt64: InFlightTask] = [:]
        var closed = false
    }
    private let state = Locked(State())

    init(nexus: Nexus, stmf: STMF) {
        self.nexus = nexus
        self.stmf = stmf
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
                q.establish(initial ? .powerOnResetOrBusDeviceReset : .reportedLUNsDataHasChanged)
                let recorder = previous[rec.guid].map { $0.recorder }
                    ?? stmf.observer?.recorder(lu: rec.guid, targetPort: nexus.targetPort)
                next[lun] = ITL(record: rec, unitAttentions: q, recorder: recorder)
            }
            s.itls = next
            s.luns = next.keys.sorted()
        }
    }

    func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID) {
        state.withLock { s in
            for (lun, itl) in s.itls where itl.record.guid == lu {
                s.itls[lun]!.unitAttentions.establish(sense)
            }
        }
    }

    // MARK: Commands

    private enum Route {
        case run(LURecord, UInt16, InFlightTask, (any TaskRecorder)?)
        case respond(TaskResponse)
        case respondData([UInt8], Int)
        case overlapped(UInt16, TaskResponse)
    }

    /// Executes one command and returns its response. When the response is `aborted` the
    /// port provider sends no status (or TASK ABORTED if `status == .taskAborted`).
    public func execute(_ cmd: SCSICommand) async -> TaskResponse {
        let route = self.route(cmd)
        switch route {
        case let .respond(r):
            return r
        case let .respondData(bytes, allocation):
            return respond(cmd, bytes, allocation)
        case let .overlapped(lun, response):
            _ = markAborted(where: { $0.lun == lun }, withStatus: false, unitAttention: nil)
            return response
        case let .run(record, lun, task, recorder):
            guard let recorder else { return await run(cmd, record: record, lun: lun, task: task) }
            let start = Self.monotonicNanoseconds()
            let r = await run(cmd, record: record, lun: lun, task: task)
            if !r.aborted {
                recorder.record(direction: cmd.direction, bytes: r.dataLength, status: r.status,
                                nanoseconds: Self.monotonicNanoseconds() &- start)
            }
            return r
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

    private func route(_ cmd: SCSICommand) -> Route {
        let op = cmd.cdb.opcode
        return state.withLock { s -> Route in
            let (itl, n): (ITL, UInt16)
            switch frontEnd(lun: cmd.lun, cdb: cmd.cdb, attribute: cmd.attribute, s) {
            case let .respond(r): return .respond(r)
            case let .respondData(d, a): return .respondData(d, a)
            case let .lu(i, lun): (itl, n) = (i, lun)
            }
            let descriptor = itl.record.lu.descriptorSense
            if s.inFlight[cmd.tag] != nil {
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
            let task = InFlightTask(tag: cmd.tag, lun: n, lu: itl.record.guid, ticket: itl.record.taskSet.ticket(),
                                    taskSet: itl.record.taskSet)
            s.inFlight[cmd.tag] = task
            return .run(itl.record, n, task, itl.recorder)
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

    private func respond(_ cmd: SCSICommand, _ bytes: [UInt8], _ allocation: Int) -> TaskResponse {
        let limit = cmd.direction == .read || cmd.direction == .bidirectional
            ? min(cmd.expectedTransferLength, cmd.dataIn?.capacity ?? 0) : 0
        let task = LUTask(cdb: cmd.cdb, lun: 0, nexus: nexus, attribute: cmd.attribute, tag: cmd.tag,
                          dataOut: nil, dataIn: cmd.dataIn, dataInLimit: limit,
                          expectedTransferLength: cmd.expectedTransferLength, direction: cmd.direction)
        return task.respond(with: bytes, allocationLength: allocation)
    }

    private func run(_ cmd: SCSICommand, record: LURecord, lun: UInt16, task: InFlightTask) async -> TaskResponse {
        let admitted = await record.taskSet.enter(cmd.attribute, ticket: task.ticket, isCancelled: { isAborted(task) })
        var response: TaskResponse
        if admitted && !isAborted(task) {
            let limit = cmd.direction == .read || cmd.direction == .bidirectional
                ? min(cmd.expectedTransferLength, cmd.dataIn?.capacity ?? 0) : 0
            let luTask = LUTask(cdb: cmd.cdb, lun: lun, nexus: nexus, attribute: cmd.attribute, tag: cmd.tag,
                                dataOut: cmd.dataOut, dataIn: cmd.dataIn, dataInLimit: limit,
                                expectedTransferLength: cmd.expectedTransferLength, direction: cmd.direction)
            response = await record.lu.execute(luTask)
            record.taskSet.leave(cmd.attribute)
        } else {
            if admitted { record.taskSet.leave(cmd.attribute) }
            response = TaskResponse(status: .good)
        }
        let (aborted, withStatus, waiters) = finish(task)
        for w in waiters { w.resume() }
        if aborted {
            return TaskResponse(status: withStatus ? .taskAborted : response.status, aborted: true)
        }
        return response
    }

    private func isAborted(_ t: InFlightTask) -> Bool {
        state.withLock { _ in t.aborted }
    }

    private func finish(_ t: InFlightTask) -> (Bool, Bool, [CheckedContinuation<Void, Never>]) {
        state.withLock { s in
            if s.inFlight[t.tag] === t { s.inFlight[t.tag] = nil }
            t.taskSet.vacate()
            t.finished = true
            let w = t.waiters
            t.waiters = []
            return (t.aborted, t.abortedWithStatus, w)
        }
    }

    // MARK: Task management

    /// Marks matching tasks aborted (cancelling those still waiting in a task set) and
    /// returns them; optionally establishes a unit attention on the LUs they ran on.
    func markAborted(where match: (InFlightTask) -> Bool, withStatus: Bool,
                     unitAttention: AdditionalSense?) -> [InFlightTask] {
        let tasks: [InFlightTask] = state.withLock { s in
            let ts = s.inFlight.values.filter { !$0.aborted && match($0) }
            for t in ts {
                t.aborted = true
                t.abortedWithStatus = withStatus
                if let ua = unitAttention { s.itls[t.lun]?.unitAttentions.establish(ua) }
            }
            return ts
        }
        for t in tasks { t.taskSet.cancel(ticket: t.ticket) }
        return tasks
    }

    func waitFor(_ tasks: [InFlightTask]) async {
        for t in tasks {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let done: Bool = state.withLock { _ in
                    if t.finished { return true }
                    t.waiters.append(c)
                    return false
                }
                if done { c.resume() }
            }
        }
    }

    /// Closes the session: aborts and waits for every task; returns the LUs it reached.
    func close() async -> [LURecord] {
        let records: [LURecord] = state.withLock { s in
            s.closed = true
            return s.itls.values.map(\.record)
        }
        let tasks = markAborted(where: { _ in true }, withStatus: false, unitAttention: nil)
        await waitFor(tasks)
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
            let ts = markAborted(where: { $0.tag == tag && $0.lu == rec.guid }, withStatus: false, unitAttention: nil)
            await waitFor(ts)
            return .functionComplete

        case let .abortTaskSet(lunField):
            guard let rec = record(for: lunField) else { return .incorrectLogicalUnitNumber }
            let ts = markAborted(where: { $0.lu == rec.guid }, withStatus: false, unitAttention: nil)
            await waitFor(ts)
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
            let tasks = markAborted(where: { _ in true }, withStatus: false, unitAttention: nil)
            await waitFor(tasks)
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
            let exists = state.withLock { s in s.inFlight[tag].map { $0.lu == rec.guid && !$0.aborted } ?? false }
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
