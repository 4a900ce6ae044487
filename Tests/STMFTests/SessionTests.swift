import Testing
@testable import STMF

@Suite struct SessionTests {
    @Test func newNexusGetsPowerOnUnitAttentionConsumedOnlyByOrdinaryCommands() async throws {
        let f = try await Fixture()
        try await f.addLU(1)
        let s = try f.port.createSession(initiator: Fixture.hostA)
        #expect(s.pendingUnitAttentions == [0: [.powerOnResetOrBusDeviceReset]])
        // INQUIRY, REPORT LUNS and REQUEST SENSE do not consume it.
        let (inq, _) = await s.send([0x12, 0, 0, 0, 36, 0])
        #expect(inq.status == .good)
        #expect(await s.send(reportLUNsCDB).0.status == .good)
        #expect(await s.send([0x03, 0, 0, 0, 18, 0]).0.status == .good)
        #expect(s.pendingUnitAttentions[0] == [.powerOnResetOrBusDeviceReset])
        let r = await s.tur()
        #expect(r.status == .checkCondition)
        #expect(r.sense == SenseData(.unitAttention, .powerOnResetOrBusDeviceReset))
        #expect(await s.tur().status == .good)
    }

    @Test func reportLUNsListsTheSessionMap() async throws {
        let f = try await Fixture()
        try await f.addLU(1, lun: 0)
        try await f.addLU(2, lun: 300)
        let s = try f.port.createSession(initiator: Fixture.hostA)
        let (r, d) = await s.send(reportLUNsCDB)
        #expect(r.status == .good)
        #expect(luns(fromReport: d) == [0x0000_0000_0000_0000, 0x412C_0000_0000_0000])
        // Select report 1: well-known LUs only; 2: both.
        var cdb = reportLUNsCDB; cdb[2] = 1
        #expect(luns(fromReport: await s.send(cdb).1) == [0xC101_0000_0000_0000])
        cdb[2] = 2
        #expect(luns(fromReport: await s.send(cdb).1).count == 3)
        cdb[2] = 0x40
        let bad = await s.send(cdb).0
        #expect(bad.sense == SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 2, bit: nil)))
        // Allocation length below 16 is refused.
        let short = await s.send([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]).0
        #expect(short.sense?.additional == .invalidFieldInCDB)
        // Truncated to the allocation length, with the full length in the header.
        let (r2, d2) = await s.send([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0])
        #expect(r2.dataLength == 16 && r2.intendedLength == 16 && d2[3] == 16)
    }

    @Test func unmappedLUNsAnswerPeripheralQualifier3AndLogicalUnitNotSupported() async throws {
        let f = try await Fixture()
        try await f.addLU(1, lun: 0)
        let s = try f.port.createSession(initiator: Fixture.hostA)
        let (inq, d) = await s.send([0x12, 0, 0, 0, 96, 0], lun: 5)
        #expect(inq.status == .good)
        #expect(d.first == 0x7F)
        let tur = await s.tur(lun: 5)
        #expect(tur.status == .checkCondition)
        #expect(tur.sense == SenseData(.illegalRequest, .logicalUnitNotSupported))
        let (rs, sd) = await s.send([0x03, 0, 0, 0, 18, 0], lun: 5)
        #expect(rs.status == .good)
        #expect(SenseData(parsing: sd) == SenseData(.illegalRequest, .logicalUnitNotSupported))
        // REPORT LUNS works through an unmapped LUN and the well-known LUN.
        #expect(await s.send(reportLUNsCDB, lun: 9).0.status == .good)
        #expect(await s.send(reportLUNsCDB, lunField: 0xC101_0000_0000_0000).0.status == .good)
        #expect(await s.send([0x12, 0, 0, 0, 36, 0], lunField: 0xC101_0000_0000_0000).1.first == 0x1E)
    }

    @Test func mapChangesApplyToLiveSessionsWithReportedLUNsChanged() async throws {
        let f = try await Fixture()
        try await f.addLU(1, lun: 0)
        let s = try f.port.createSession(initiator: Fixture.hostA)
        _ = await s.tur()   // consume POWER ON
        let lu2 = try await f.addLU(2, lun: 1)
        #expect(s.lunMap == [0: ProbeLU(1).guid, 1: lu2.guid])
        #expect(s.pendingUnitAttentions[0] == [.reportedLUNsDataHasChanged])
        // Offline LU disappears; online again reappears.
        try await f.stmf.setLogicalUnitState(lu2.guid, online: false)
        #expect(s.lunMap.keys.sorted() == [0])
        try await f.stmf.setLogicalUnitState(lu2.guid, online: true)
        #expect(s.lunMap.keys.sorted() == [0, 1])
        // Masking: put host A into a host group that has no views → sees only All views.
        try f.stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.createHostGroup("other")
            let e = v.views(of: lu2.guid)[0]
            try v.removeViewEntry(lu: lu2.guid, id: e.id)
            try v.addViewEntry(lu: lu2.guid, hostGroup: .named("other"), lun: 1)
        }
        #expect(s.lunMap.keys.sorted() == [0])
        try f.stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addHostGroupMember("other", Fixture.hostA) }
        #expect(s.lunMap.keys.sorted() == [0, 1])
        let other = try f.port.createSession(initiator: Fixture.hostB)
        #expect(other.lunMap.keys.sorted() == [0])
        #expect(await other.tur(lun: 1).sense?.additional == .logicalUnitNotSupported)
    }

    @Test func luRaisedUnitAttentionsReachTheRightNexuses() async throws {
        let f = try await Fixture()
        let lu = try await f.addLU(1)
        let a = try f.port.createSession(initiator: Fixture.hostA)
        let b = try f.port.createSession(initiator: Fixture.hostB)
        _ = await a.tur(); _ = await b.tur()
        lu.services?.establishUnitAttention(.capacityDataHasChanged, lu: lu.guid, scope: .all)
        lu.services?.establishUnitAttention(.modeParametersChanged, lu: lu.guid, scope: .allExcept(sessionID: a.nexus.sessionID))
        #expect(a.pendingUnitAttentions[0] == [.capacityDataHasChanged])
        #expect(b.pendingUnitAttentions[0] == [.capacityDataHasChanged, .modeParametersChanged])
        lu.flags.withLock { $0.descriptor = true }
        let r = await b.tur()
        #expect(r.descriptorSense)
        #expect(r.senseBytes?.first == 0x72)
    }

    @Test func commonCDBChecks() async throws {
        let f = try await Fixture()
        try await f.addLU(1)
        let s = try f.port.createSession(initiator: Fixture.hostA)
        _ = await s.tur()
        // NACA=1 in the control byte: ACA is not supported.
        let naca = await s.send([0, 0, 0, 0, 0, 0x04], dataIn: 0).0
        #expect(naca.sense == SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 5, bit: 2)))
        // A CDB shorter than its group's length.
        #expect(await s.send([0x28, 0, 0], dataIn: 0).0.sense?.additional == .invalidFieldInCDB)
        #expect(await s.send([0, 0, 0, 0, 0, 0], attribute: .aca, dataIn: 0).0.status == .checkCondition)
    }

    @Test func targetPortStatesGateSessions() async throws {
        let stmf = STMF()
        let port = try stmf.registerTargetPort(Fixture.targetName, provider: NullPort())
        #expect(throws: STMFError.targetPortNotOnline(Fixture.targetName)) { try port.createSession(initiator: Fixture.hostA) }
        try await stmf.setTargetPortState(Fixture.targetName, online: true)
        let s = try port.createSession(initiator: Fixture.hostA)
        #expect(throws: STMFError.sessionExists(initiator: Fixture.hostA, port: Fixture.targetName)) { try port.createSession(initiator: Fixture.hostA) }
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.createTargetGroup("tg") }
        #expect(throws: STMFError.view(.targetNotOffline(Fixture.targetName))) { try stmf.addTargetGroupMember("tg", Fixture.targetName) }
        try await stmf.setTargetPortState(Fixture.targetName, online: false)
        #expect(port.sessions.isEmpty)
        #expect(await s.tur().aborted)
        try stmf.addTargetGroupMember("tg", Fixture.targetName)
        #expect(stmf.targetPorts().first?.relativeID == 1)
    }
}
