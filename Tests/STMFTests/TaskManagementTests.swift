import Testing
@testable import STMF

private let blockingCDB: [UInt8] = [ProbeLU.blockingOpcode, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]

/// Waits (bounded) until `cond` holds.
func eventually(_ cond: () -> Bool) async -> Bool {
    for _ in 0..<2000 {
        if cond() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return cond()
}

@Suite struct TaskManagementTests {
    func ready() async throws -> (Fixture, ProbeLU, Session, Session) {
        let f = try await Fixture()
        let lu = try await f.addLU(1)
        let a = try f.port.createSession(initiator: Fixture.hostA)
        let b = try f.port.createSession(initiator: Fixture.hostB)
        _ = await a.tur(); _ = await b.tur()
        return (f, lu, a, b)
    }

    @Test func abortTaskEndsABlockedTaskWithoutStatus() async throws {
        let (_, lu, a, _) = try await ready()
        let t = Task { await a.send(blockingCDB, tag: 77, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 1 })
        let tmf = Task { await a.taskManagement(.abortTask(tag: 77, lun: 0)) }
        #expect(await eventually { a.abortedTasksInFlight == 1 })
        lu.releaseAll()
        #expect(await tmf.value == .functionComplete)
        let r = await t.value
        #expect(r.aborted)
        #expect(a.tasksInFlight == 0)
        // Aborting a task that does not exist completes too.
        #expect(await a.taskManagement(.abortTask(tag: 12345, lun: 0)) == .functionComplete)
        #expect(await a.taskManagement(.abortTask(tag: 1, lun: LUNAddress.field(for: 9))) == .incorrectLogicalUnitNumber)
    }

    @Test func queuedTasksBehindAnOrderedTaskAreAbortedWithoutRunning() async throws {
        let (_, lu, a, _) = try await ready()
        let first = Task { await a.send(blockingCDB, tag: 1, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 1 })
        let ordered = Task { await a.send([0, 0, 0, 0, 0, 0], attribute: .ordered, tag: 2, dataIn: 0).0 }
        #expect(await eventually { a.tasksInFlight == 2 })
        let simple = Task { await a.send([0, 0, 0, 0, 0, 0], tag: 3, dataIn: 0).0 }
        #expect(await eventually { a.tasksInFlight == 3 })
        // HEAD OF QUEUE passes them all.
        #expect(await a.send([0, 0, 0, 0, 0, 0], attribute: .headOfQueue, tag: 4, dataIn: 0).0.status == .good)
        #expect(lu.executedTags.contains(4) && !lu.executedTags.contains(2) && !lu.executedTags.contains(3))
        #expect(await a.taskManagement(.queryTask(tag: 3, lun: 0)) == .functionSucceeded)
        let abort = Task { await a.taskManagement(.abortTask(tag: 3, lun: 0)) }
        #expect(await simple.value.aborted)
        #expect(await abort.value == .functionComplete)
        lu.releaseAll()
        #expect(await first.value.status == .good)
        #expect(await ordered.value.status == .good)
        #expect(!lu.executedTags.contains(3))
        // ORDERED ran after the older SIMPLE task.
        let tags = lu.executedTags
        #expect(tags.firstIndex(of: 1)! < tags.firstIndex(of: 2)!)
    }

    @Test func clearTaskSetAbortsEveryNexusAndTellsTheOthers() async throws {
        let (_, lu, a, b) = try await ready()
        let ta = Task { await a.send(blockingCDB, tag: 1, dataIn: 0).0 }
        let tb = Task { await b.send(blockingCDB, tag: 1, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 2 })
        let tmf = Task { await a.taskManagement(.clearTaskSet(lun: 0)) }
        #expect(await eventually { a.abortedTasksInFlight == 1 && b.abortedTasksInFlight == 1 })
        lu.releaseAll()
        #expect(await tmf.value == .functionComplete)
        let ra = await ta.value, rb = await tb.value
        #expect(ra.aborted && rb.aborted)
        #expect(b.pendingUnitAttentions[0] == [.commandsClearedByAnotherInitiator])
        #expect(a.pendingUnitAttentions[0] == nil)
    }

    @Test func clearTaskSetWithTASReportsTaskAbortedToOtherNexuses() async throws {
        let (_, lu, a, b) = try await ready()
        lu.flags.withLock { $0.tas = true }
        let tb = Task { await b.send(blockingCDB, tag: 1, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 1 })
        let tmf = Task { await a.taskManagement(.clearTaskSet(lun: 0)) }
        #expect(await eventually { b.abortedTasksInFlight == 1 })
        lu.releaseAll()
        _ = await tmf.value
        let r = await tb.value
        #expect(r.aborted && r.status == .taskAborted)
        #expect(b.pendingUnitAttentions[0] == nil)
    }

    @Test func logicalUnitResetResetsTheLUAndEstablishesUnitAttentions() async throws {
        let (_, lu, a, b) = try await ready()
        #expect(await a.taskManagement(.logicalUnitReset(lun: 0)) == .functionComplete)
        #expect(lu.events.contains("reset"))
        #expect(a.pendingUnitAttentions[0] == [.busDeviceResetFunctionOccurred])
        #expect(b.pendingUnitAttentions[0] == [.busDeviceResetFunctionOccurred])
        #expect(await a.taskManagement(.logicalUnitReset(lun: LUNAddress.field(for: 3))) == .incorrectLogicalUnitNumber)
    }

    @Test func itNexusResetAndTargetReset() async throws {
        let (_, lu, a, b) = try await ready()
        #expect(await a.taskManagement(.itNexusReset) == .functionComplete)
        #expect(a.pendingUnitAttentions[0] == [.itNexusLossOccurred])
        #expect(b.pendingUnitAttentions[0] == nil)
        #expect(lu.events.contains("nexusLoss \(Fixture.hostA)"))
        #expect(await b.taskManagement(.targetReset) == .functionComplete)
        #expect(b.pendingUnitAttentions[0] == [.busDeviceResetFunctionOccurred])
        #expect(a.pendingUnitAttentions[0] == [.busDeviceResetFunctionOccurred])
    }

    @Test func clearACAIsRejectedAndAbortTaskSetIsPerNexus() async throws {
        let (_, lu, a, b) = try await ready()
        #expect(await a.taskManagement(.clearACA(lun: 0)) == .functionRejected)
        let ta = Task { await a.send(blockingCDB, tag: 1, dataIn: 0).0 }
        let tb = Task { await b.send(blockingCDB, tag: 1, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 2 })
        let tmf = Task { await a.taskManagement(.abortTaskSet(lun: 0)) }
        #expect(await eventually { a.abortedTasksInFlight == 1 })
        lu.releaseAll()
        _ = await tmf.value
        #expect(await ta.value.aborted)
        #expect(!(await tb.value.aborted))
    }

    @Test func overlappedTagIsRefused() async throws {
        let (_, lu, a, _) = try await ready()
        let t = Task { await a.send(blockingCDB, tag: 9, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 1 })
        let r = await a.send([0, 0, 0, 0, 0, 0], tag: 9, dataIn: 0).0
        #expect(r.sense?.additional == .overlappedCommandsAttempted)
        lu.releaseAll()
        // The task already using the tag is aborted too.
        #expect(await t.value.aborted)
    }

    @Test func logoutAbortsTasksAndReleasesTheNexus() async throws {
        let (f, lu, a, _) = try await ready()
        let t = Task { await a.send(blockingCDB, tag: 1, dataIn: 0).0 }
        #expect(await eventually { lu.blockedCount == 1 })
        let logout = Task { await f.port.removeSession(a) }
        #expect(await eventually { a.abortedTasksInFlight == 1 })
        lu.releaseAll()
        await logout.value
        #expect(await t.value.aborted)
        #expect(lu.events.contains("nexusLoss \(Fixture.hostA)"))
        #expect(f.port.sessions.count == 1)
    }
}

/// SAM-5 5.3.1: a task STMF has no room for gets TASK SET FULL when its initiator already has a
/// task in the task set, BUSY when it has none; places are given back as tasks end.
@Suite struct TaskLimitTests {
    static let block: [UInt8] = [ProbeLU.blockingOpcode, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    static let tur: [UInt8] = [0, 0, 0, 0, 0, 0]

    /// An STMF with `limits`, one probe LU at LUN 0 and sessions from hosts A and B.
    static func setUp(_ limits: STMF.Limits) async throws -> (STMF, ProbeLU, Session, Session) {
        let stmf = STMF(limits: limits)
        let port = try stmf.registerTargetPort(Fixture.targetName, provider: NullPort())
        try await stmf.setTargetPortState(Fixture.targetName, online: true)
        let lu = ProbeLU(1)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addViewEntry(lu: lu.guid, lun: 0) }
        let a = try port.createSession(initiator: Fixture.hostA)
        let b = try port.createSession(initiator: Fixture.hostB)
        _ = await a.tur(); _ = await b.tur()
        return (stmf, lu, a, b)
    }

    @Test func nexusLimitAnswersTaskSetFullAndRecovers() async throws {
        let (stmf, lu, a, b) = try await Self.setUp(.init(tasksPerNexus: 4, tasksPerLU: 100))
        let held = (0..<4).map { i in Task { await a.send(Self.block, tag: UInt64(100 + i), dataIn: 0).0 } }
        #expect(await eventually { lu.blockedCount == 4 })
        // The fifth task of the same nexus: TASK SET FULL, before and at execution, never queued.
        #expect(a.prepare(lun: 0, cdb: CDB(Self.tur), attribute: .simple).refusal == .taskSetFull)
        #expect(await a.send(Self.tur, dataIn: 0).0.status == .taskSetFull)
        #expect(a.tasksInFlight == 4)
        // Another nexus is not limited by this one's tasks.
        #expect(await b.send(Self.tur, dataIn: 0).0.status == .good)
        lu.releaseAll()
        for t in held { #expect(await t.value.status == .good) }
        #expect(await a.send(Self.tur, dataIn: 0).0.status == .good)
        #expect(lu.taskSetOccupancy(stmf) == 0)
    }

    @Test func luLimitAnswersBusyToAnIdleInitiatorAndTaskSetFullToABusyOne() async throws {
        let (stmf, lu, a, b) = try await Self.setUp(.init(tasksPerNexus: 100, tasksPerLU: 3))
        let held = (0..<3).map { i in Task { await a.send(Self.block, tag: UInt64(200 + i), dataIn: 0).0 } }
        #expect(await eventually { lu.blockedCount == 3 })
        #expect(await a.send(Self.tur, dataIn: 0).0.status == .taskSetFull)   // a has tasks in the set
        #expect(await b.send(Self.tur, dataIn: 0).0.status == .busy)          // b has none
        #expect(b.prepare(lun: 0, cdb: CDB(Self.tur), attribute: .simple).refusal == .busy)
        // An aborted task keeps its place until it has left the LU.
        let abort = Task { await a.taskManagement(.abortTask(tag: 200, lun: 0)) }
        #expect(await eventually { a.abortedTasksInFlight == 1 })
        #expect(await b.send(Self.tur, dataIn: 0).0.status == .busy)
        lu.releaseAll()
        #expect(await abort.value == .functionComplete)
        #expect(await held[0].value.aborted)
        for t in held.dropFirst() { #expect(await t.value.status == .good) }
        #expect(await b.send(Self.tur, dataIn: 0).0.status == .good)
        #expect(lu.taskSetOccupancy(stmf) == 0)
    }
}

extension ProbeLU {
    func taskSetOccupancy(_ stmf: STMF) -> Int? { stmf.state.withLock { $0.lus[guid]?.record.taskSet.occupancy } }
}

extension Preparation {
    var refusal: SCSIStatus? { if case let .respond(r) = self { r.status } else { nil } }
}
