import Testing
@testable import STMF

@Suite struct ViewConfigurationTests {
    let lu1 = LUGUID(high: 0x6001_44F0_0000_0000, low: 1)
    let lu2 = LUGUID(high: 0x6001_44F0_0000_0000, low: 2)
    let lu3 = LUGUID(high: 0x6001_44F0_0000_0000, low: 3)
    let h1 = try! PortIdentifier(parsing: "wwn.2100000000000001")
    let h2 = try! PortIdentifier(parsing: "wwn.2100000000000002")
    let t1 = try! PortIdentifier(parsing: "wwn.5000000000000001")
    let t2 = try! PortIdentifier(parsing: "wwn.5000000000000002")

    @Test func groupsRefuseDuplicatesReservedNamesAndSecondMembership() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("hg1")
        #expect(throws: ViewError.hostGroupExists("hg1")) { try v.createHostGroup("hg1") }
        #expect(throws: ViewError.invalidGroupName("*")) { try v.createHostGroup("*") }
        #expect(throws: ViewError.invalidGroupName("")) { try v.createTargetGroup("") }
        #expect(throws: ViewError.invalidGroupName("a\nb")) { try v.createHostGroup("a\nb") }
        #expect(throws: ViewError.invalidGroupName("tab\there")) { try v.createTargetGroup("tab\there") }
        #expect(ViewError.invalidGroupName("a\u{1B}[2J").description.hasPrefix("\"a\\u{1B}[2J\": invalid group name"))
        try v.createHostGroup("hg2")
        try v.addHostGroupMember("hg1", h1)
        #expect(throws: ViewError.memberInOtherGroup(member: h1, group: "hg1")) { try v.addHostGroupMember("hg2", h1) }
        #expect(throws: ViewError.memberExists(member: h1, group: "hg1")) { try v.addHostGroupMember("hg1", h1) }
        #expect(throws: ViewError.hostGroupNotFound("nope")) { try v.addHostGroupMember("nope", h2) }
        #expect(throws: ViewError.memberNotFound(member: h2, group: "hg1")) { try v.removeHostGroupMember("hg1", h2) }
        try v.removeHostGroupMember("hg1", h1)
        try v.addHostGroupMember("hg2", h1)
        #expect(v.hostGroup(of: h1) == "hg2")
        #expect(v.hostGroupOrder == ["hg1", "hg2"])
    }

    @Test func viewEntryConflictsFollowCOMSTAR() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("hg1"); try v.createHostGroup("hg2"); try v.createTargetGroup("tg1")
        let all = try v.addViewEntry(lu: lu1)
        #expect(all.id == 0 && all.lun == 0)
        // All/All overlaps everything for the same LU.
        #expect(throws: ViewError.viewEntryExists(lu: lu1, conflicting: 0)) {
            try v.addViewEntry(lu: lu1, hostGroup: .named("hg1"), targetGroup: .named("tg1"))
        }
        try v.removeViewEntry(lu: lu1, id: 0)
        try v.addViewEntry(lu: lu1, hostGroup: .named("hg1"))
        try v.addViewEntry(lu: lu1, hostGroup: .named("hg2"))          // disjoint host groups: fine
        #expect(throws: ViewError.viewEntryExists(lu: lu1, conflicting: 0)) {
            try v.addViewEntry(lu: lu1, hostGroup: .named("hg1"), targetGroup: .named("tg1"))
        }
        #expect(v.views(of: lu1).map(\.id) == [0, 1])
    }

    @Test func lunInUseAndLowestFreeLUN() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("hg1"); try v.createHostGroup("hg2")
        try v.addViewEntry(lu: lu1, hostGroup: .named("hg1"), lun: 0)
        #expect(throws: ViewError.lunInUse(lun: 0, conflictingLU: lu1)) {
            try v.addViewEntry(lu: lu2, hostGroup: .named("hg1"), lun: 0)
        }
        // All hosts overlaps hg1, so LUN 0 is in use there too.
        #expect(throws: ViewError.lunInUse(lun: 0, conflictingLU: lu1)) { try v.addViewEntry(lu: lu2, lun: 0) }
        // hg2 does not overlap hg1: LUN 0 is free there.
        #expect(try v.addViewEntry(lu: lu2, hostGroup: .named("hg2"), lun: 0).lun == 0)
        try v.addViewEntry(lu: lu3, hostGroup: .named("hg1"), lun: 2)
        // Lowest free among overlapping entries: 0 and 2 taken in hg1 → 1.
        let e = try v.addViewEntry(lu: lu2, hostGroup: .named("hg1"))
        #expect(e.lun == 1)
        #expect(throws: ViewError.lunOutOfRange(16384)) { try v.addViewEntry(lu: lu3, hostGroup: .named("hg2"), lun: 16384) }
        #expect(throws: ViewError.hostGroupNotFound("zz")) { try v.addViewEntry(lu: lu3, hostGroup: .named("zz")) }
    }

    @Test func groupsInUseCannotBeDeleted() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("hg1"); try v.createTargetGroup("tg1")
        try v.addViewEntry(lu: lu1, hostGroup: .named("hg1"), targetGroup: .named("tg1"))
        #expect(throws: ViewError.hostGroupInUse("hg1")) { try v.deleteHostGroup("hg1") }
        #expect(throws: ViewError.targetGroupInUse("tg1")) { try v.deleteTargetGroup("tg1") }
        v.removeAllViewEntries(lu: lu1)
        try v.deleteHostGroup("hg1"); try v.deleteTargetGroup("tg1")
        #expect(v.hostGroups.isEmpty && v.targetGroups.isEmpty)
    }

    @Test func sessionMapMergesPortAndHostGroups() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("hg1"); try v.createTargetGroup("tg1")
        try v.addHostGroupMember("hg1", h1); try v.addTargetGroupMember("tg1", t1)
        try v.addViewEntry(lu: lu1, lun: 0)                                                     // everyone
        try v.addViewEntry(lu: lu2, hostGroup: .named("hg1"), lun: 1)                           // h1 anywhere
        try v.addViewEntry(lu: lu3, hostGroup: .named("hg1"), targetGroup: .named("tg1"), lun: 2) // h1 via t1
        #expect(v.lunMap(targetPort: t1, initiator: h1) == [0: lu1, 1: lu2, 2: lu3])
        #expect(v.lunMap(targetPort: t2, initiator: h1) == [0: lu1, 1: lu2])
        #expect(v.lunMap(targetPort: t1, initiator: h2) == [0: lu1])
    }

    @Test func viewsMayNameUnregisteredLUsAndReloadKeepsIDs() throws {
        var v = ViewConfiguration()
        let e = try v.addViewEntry(lu: lu1, lun: 7, requestedID: 5)
        #expect(e.id == 5)
        #expect(try v.addViewEntry(lu: lu1.advanced, lun: 8).id == 0)
        #expect(throws: ViewError.viewEntryNotFound(lu: lu1, id: 9)) { try v.removeViewEntry(lu: lu1, id: 9) }
    }

    @Test func thousandsOfViewsStayConsistent() throws {
        var v = ViewConfiguration()
        for i in 0..<2000 { try v.addViewEntry(lu: LUGUID(high: 0x6001_44F0_0000_0000, low: UInt64(i))) }
        let map = v.lunMap(targetPort: t1, initiator: h1)
        #expect(map.count == 2000)
        #expect(Set(map.keys) == Set(0..<2000))
        #expect(throws: ViewError.lunInUse(lun: 1999, conflictingLU: LUGUID(high: 0x6001_44F0_0000_0000, low: 1999))) {
            try v.addViewEntry(lu: lu1.advanced.advanced, lun: 1999)
        }
    }
}

extension LUGUID {
    var advanced: LUGUID { LUGUID(high: high, low: low &+ 0x1_0000_0000) }
}
