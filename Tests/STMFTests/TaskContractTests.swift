import Locking
import Testing
@testable import STMF

private let blockingCDB: [UInt8] = [ProbeLU.blockingOpcode, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
private let tur: [UInt8] = [0, 0, 0, 0, 0, 0]
/// WRITE(10) of one block: the probe LU answers it GOOD like any non-blocking command.
private let write10: [UInt8] = [0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0]

/// A port provider that records what STMF asks of it; data-out is "received" when the test
/// says so (`deliverData`), or at once with `immediateData` (as TCMU's data area is).
final class RecordingPort: TaskPort, @unchecked Sendable {
    struct Log {
        var statuses: [(UInt64, TaskResponse)] = []
        var transfers: [UInt64] = []
        var aborts: [UInt64] = []
        var waiting: [SCSITask] = []
    }
    let log = Locked(Log())
    var immediateData = false

    func transferData(_ task: SCSITask) {
        log.withLock { $0.transfers.append(task.tag) }
        if immediateData {
            task.dataOut?.count = task.dataOut?.capacity ?? 0
            task.session?.dataTransferred(task, ok: true)
        } else {
            log.withLock { $0.waiting.append(task) }
        }
    }

    func sendStatus(_ task: SCSITask, _ response: TaskResponse) {
        log.withLock { $0.statuses.append((task.tag, response)) }
    }

    func abort(_ task: SCSITask) {
        log.withLock { $0.aborts.append(task.tag) }
    }

    /// The data of every task waiting for it arrives (or fails).
    func deliverData(ok: Bool = true) {
        let ts = log.withLock { l in defer { l.waiting = [] }; return l.waiting }
        for t in ts {
            t.dataOut?.count = t.dataOut?.capacity ?? 0
            t.session?.dataTransferred(t, ok: ok)
        }
    }

    var statuses: [(UInt64, TaskResponse)] { log.withLock { $0.statuses } }
    var transfers: [UInt64] { log.withLock { $0.transfers } }
    var aborts: [UInt64] { log.withLock { $0.aborts } }
}

/// The synchronous submission contract between a port provider, STMF and an LU provider:
/// `.done` for what ends at once, `.pending` then exactly one `sendStatus`, data-out fetched on
/// request once STMF has accepted the task, aborts reaching the provider holding the task.
@Suite struct TaskContractTests {
    func ready() async throws -> (Fixture, ProbeLU, RecordingPort, Session) {
        let f = try await Fixture()
        let lu = try await f.addLU(1)
        let port = RecordingPort()
        let s = try f.port.createSession(initiator: Fixture.hostA, taskPort: port)
        _ = await s.tur()   // the power-on unit attention
        return (f, lu, port, s)
    }

    func task(_ cdb: [UInt8], tag: UInt64, attribute: TaskAttribute = .simple, dataOut: Int = 0) -> SCSITask {
        let t = SCSITask()
        t.lunField = LUNAddress.field(for: 0)
        t.cdb = CDB(cdb)
        t.tag = tag
        t.attribute = attribute
        if dataOut > 0 {
            t.direction = .write
            t.expectedTransferLength = dataOut
            t.dataOut = IOBuffer(capacity: dataOut)
            t.dataOutOnRequest = true
        }
        return t
    }

    @Test func aCommandThatEndsAtOnceIsDoneAndNeverReportedAgain() async throws {
        let (_, _, port, s) = try await ready()
        guard case let .done(r) = s.submit(task(tur, tag: 1)) else { Issue.record("TEST UNIT READY did not end at once"); return }
        #expect(r.status == .good)
        #expect(port.statuses.isEmpty)
        #expect(s.tasksInFlight == 0)
        // STMF's own answers (REPORT LUNS) are done too.
        guard case .done = s.submit(task(reportLUNsCDB, tag: 2)) else { Issue.record("REPORT LUNS pending"); return }
    }

    @Test func aPendingTaskIsReportedOnceThroughSendStatus() async throws {
        let (_, lu, port, s) = try await ready()
        guard case .pending = s.submit(task(blockingCDB, tag: 9)) else { Issue.record("blocking command ended"); return }
        #expect(s.tasksInFlight == 1)
        #expect(port.statuses.isEmpty)
        lu.releaseAll()
        #expect(port.statuses.map(\.0) == [9])
        #expect(port.statuses.first?.1.status == .good)
        #expect(s.tasksInFlight == 0)
    }

    @Test func dataOutIsFetchedOnlyOnceTheTaskIsAccepted() async throws {
        let (f, lu, port, s) = try await ready()
        // Accepted: STMF asks for the data, the LU runs only when it has arrived.
        guard case .pending = s.submit(task(write10, tag: 5, dataOut: 512)) else { Issue.record("write ended before its data"); return }
        #expect(port.transfers == [5])
        #expect(!lu.executedTags.contains(5))
        port.deliverData()
        #expect(lu.executedTags.contains(5))
        #expect(port.statuses.map(\.0) == [5])
        // Refused before the data phase (a unit attention, here): no data is asked for.
        try await f.addLU(2)   // REPORTED LUNS DATA HAS CHANGED
        guard case let .done(r) = s.submit(task(write10, tag: 6, dataOut: 512)) else { Issue.record("no unit attention"); return }
        #expect(r.status == .checkCondition)
        #expect(port.transfers == [5])
    }

    @Test func dataAlreadyInPlaceRunsTheTaskWithinSubmit() async throws {
        let (_, lu, port, s) = try await ready()
        port.immediateData = true
        guard case let .done(r) = s.submit(task(write10, tag: 7, dataOut: 512)) else { Issue.record("pending"); return }
        #expect(r.status == .good)
        #expect(lu.executedTags.contains(7))
        #expect(port.statuses.isEmpty)   // done from submit: never reported twice
    }

    @Test func dataThatNeverArrivesEndsTheTaskAborted() async throws {
        let (_, lu, port, s) = try await ready()
        guard case .pending = s.submit(task(write10, tag: 8, dataOut: 512)) else { Issue.record("ended"); return }
        port.deliverData(ok: false)
        #expect(!lu.executedTags.contains(8))
        #expect(port.statuses.count == 1 && port.statuses[0].1.aborted)
        #expect(s.tasksInFlight == 0)
    }

    @Test func abortTaskReachesThePortDuringTheDataPhaseAndTheLUWhileRunning() async throws {
        let (_, lu, port, s) = try await ready()
        // Waiting for data-out: the port is asked to stop it; the task ends when it says so.
        guard case .pending = s.submit(task(write10, tag: 20, dataOut: 512)) else { Issue.record("ended"); return }
        let tmf = Task { await s.taskManagement(.abortTask(tag: 20, lun: 0)) }
        #expect(await eventually { port.aborts == [20] })
        port.deliverData(ok: false)
        #expect(await tmf.value == .functionComplete)
        #expect(port.statuses.last.map { $0.0 == 20 && $0.1.aborted } == true)
        // Running in the LU: the LU's abort entry is called, the task still completes there.
        guard case .pending = s.submit(task(blockingCDB, tag: 21)) else { Issue.record("ended"); return }
        let tmf2 = Task { await s.taskManagement(.abortTask(tag: 21, lun: 0)) }
        #expect(await eventually { lu.abortedTags == [21] })
        lu.releaseAll()
        #expect(await tmf2.value == .functionComplete)
        #expect(port.statuses.last.map { $0.0 == 21 && $0.1.aborted } == true)
        #expect(port.statuses.count == 2)
    }

    @Test func tasksHeldBehindAnOrderedTaskStartWhenItEnds() async throws {
        let (_, lu, port, s) = try await ready()
        guard case .pending = s.submit(task(blockingCDB, tag: 1, attribute: .ordered)) else { Issue.record("ended"); return }
        // Queued, not started: pending, and the LU has not seen them.
        guard case .pending = s.submit(task(tur, tag: 2)) else { Issue.record("SIMPLE passed an ORDERED task"); return }
        guard case .pending = s.submit(task(tur, tag: 3, attribute: .ordered)) else { Issue.record("ORDERED passed"); return }
        #expect(lu.executedTags.filter { $0 < 100 } == [1])
        lu.releaseAll()
        // The ORDERED task's end started the SIMPLE one, whose end started the next ORDERED.
        #expect(port.statuses.map(\.0) == [1, 2, 3])
        #expect(lu.executedTags.filter { $0 < 100 } == [1, 2, 3])
        #expect(s.tasksInFlight == 0)
    }

    @Test func aQueuedTaskAbortedNeverRunsAndIsReportedAborted() async throws {
        let (_, lu, port, s) = try await ready()
        guard case .pending = s.submit(task(blockingCDB, tag: 1, attribute: .ordered)) else { Issue.record("ended"); return }
        guard case .pending = s.submit(task(tur, tag: 2)) else { Issue.record("ended"); return }
        #expect(await s.taskManagement(.abortTask(tag: 2, lun: 0)) == .functionComplete)
        #expect(port.statuses.map(\.0) == [2] && port.statuses[0].1.aborted)
        lu.releaseAll()
        #expect(!lu.executedTags.contains(2))
        #expect(port.statuses.map(\.0) == [2, 1])
    }

    @Test func aReusedTaskObjectIsAFreshTask() async throws {
        let (_, lu, port, s) = try await ready()
        let t = task(blockingCDB, tag: 30)
        guard case .pending = s.submit(t) else { Issue.record("ended"); return }
        lu.releaseAll()
        #expect(port.statuses.count == 1)
        // The port reuses the object for another command on the same nexus.
        t.prepareForReuse()
        t.cdb = CDB(tur)
        t.tag = 31
        guard case let .done(r) = s.submit(t) else { Issue.record("pending"); return }
        #expect(r.status == .good && !r.aborted)
        #expect(port.statuses.count == 1)
    }
}
