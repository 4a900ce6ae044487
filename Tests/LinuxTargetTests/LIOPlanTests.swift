import LinuxTarget
import STMF
import TCMU
import Testing

/// What the LIO binding builds from STMF's views, without a kernel: one TCMU device per LU,
/// initiator and port the views call for, and the minimal change between two states.
struct LIOPlanTests {
    let lu1 = LUGUID("600144F0000000000000000000000001")!
    let lu2 = LUGUID("600144F0000000000000000000000002")!
    let t1 = WWN(0x2100_001B_3200_0001), t2 = WWN(0x2100_001B_3200_0002)
    let i1 = WWN(0x2100_001B_3200_00A1), i2 = WWN(0x2100_001B_3200_00A2)

    func snapshot(_ views: ViewConfiguration, lus: [LUGUID: ResourceState], ports: [WWN: ResourceState]) -> ViewSnapshot {
        var p: [PortIdentifier: ViewSnapshot.Port] = [:]
        for (i, (w, state)) in ports.sorted(by: { $0.key < $1.key }).enumerated() {
            p[.wwn(w)] = .init(relativeID: UInt16(i + 1), groupID: 0, state: state)
        }
        return ViewSnapshot(generation: 1, change: .views, views: views, logicalUnits: lus, targetPorts: p)
    }

    @Test func oneDevicePerLUInitiatorAndPortTheViewsShow() throws {
        var v = ViewConfiguration()
        try v.addViewEntry(lu: lu1, lun: 0)
        try v.createHostGroup("hosts")
        try v.addHostGroupMember("hosts", .wwn(i2))
        try v.addViewEntry(lu: lu2, hostGroup: .named("hosts"), lun: 5)
        let s = snapshot(v, lus: [lu1: .online, lu2: .online], ports: [t1: .online, t2: .online])
        let ports = [LIOPort(wwpn: t1, fabric: .loopback, initiators: [i1]), LIOPort(wwpn: t2, fabric: .loopback, initiators: [i2])]
        let clones = LIOPlan.clones(s, ports: ports)
        #expect(Set(clones) == [
            LIOClone(lu: lu1, initiator: i1, port: t1, lun: 0),
            LIOClone(lu: lu1, initiator: i2, port: t2, lun: 0),
            LIOClone(lu: lu2, initiator: i2, port: t2, lun: 5),
        ])
    }

    @Test func offlinePortsAndLUsHaveNoDevice() throws {
        var v = ViewConfiguration()
        try v.addViewEntry(lu: lu1, lun: 0)
        try v.addViewEntry(lu: lu2, lun: 1)
        let ports = [LIOPort(wwpn: t1, fabric: .loopback, initiators: [i1])]
        #expect(LIOPlan.clones(snapshot(v, lus: [lu1: .online, lu2: .online], ports: [t1: .offline]), ports: ports).isEmpty)
        #expect(LIOPlan.clones(snapshot(v, lus: [lu1: .online, lu2: .offline], ports: [t1: .online]), ports: ports)
                == [LIOClone(lu: lu1, initiator: i1, port: t1, lun: 0)])
    }

    @Test func hbaPortsServeTheInitiatorsHostGroupsNameAndThoseLoggedIn() throws {
        var v = ViewConfiguration()
        try v.createHostGroup("a")
        try v.addHostGroupMember("a", .wwn(i1))
        try v.addHostGroupMember("a", .iqn("iqn.2024-01.org.example:x"))
        try v.addViewEntry(lu: lu1, hostGroup: .named("a"), lun: 2)
        try v.addViewEntry(lu: lu2, lun: 3)
        let hba = LIOPort(wwpn: t1, fabric: .qla2xxx, initiators: [i2])   // i2 logged in on a dynamic ACL
        #expect(LIOPlan.initiators(of: hba, in: v) == [i2, i1])
        let clones = LIOPlan.clones(snapshot(v, lus: [lu1: .online, lu2: .online], ports: [t1: .online]), ports: [hba])
        #expect(Set(clones) == [
            LIOClone(lu: lu1, initiator: i1, port: t1, lun: 2), LIOClone(lu: lu2, initiator: i1, port: t1, lun: 3),
            LIOClone(lu: lu2, initiator: i2, port: t1, lun: 3),
        ])
        #expect(hba.targetPath == "qla2xxx/21:00:00:1b:32:00:00:01")
        #expect(LIOPort(wwpn: t1, fabric: .loopback, initiators: []).targetPath == "loopback/fc.2100001b32000001")
    }

    @Test func aLUNChangeRelinksAndNothingElseMoves() {
        let a = LIOClone(lu: lu1, initiator: i1, port: t1, lun: 0)
        let b = LIOClone(lu: lu2, initiator: i1, port: t1, lun: 1)
        let moved = LIOClone(lu: lu2, initiator: i1, port: t1, lun: 7)
        let (remove, add) = LIOPlan.diff(current: [a, b], desired: [a, moved])
        #expect(remove == [b])
        #expect(add == [moved])
        #expect(LIOPlan.diff(current: [a, b], desired: [b, a]) == ([], []))
    }

    @Test func deviceNamesNameTheNexusAndParseBack() {
        let c = LIOClone(lu: lu1, initiator: i1, port: t2, lun: 9)
        #expect(c.deviceName == "600144f0000000000000000000000001_2100001b320000a1_2100001b32000002")
        let parsed = LIOClone.parse(deviceName: c.deviceName)
        #expect(parsed?.lu == lu1 && parsed?.initiator == i1 && parsed?.port == t2)
        #expect(LIOClone.parse(deviceName: "disk1") == nil)
        #expect(LIOClone.parse(deviceName: "600144f0000000000000000000000001_zz_2100001b32000002") == nil)
    }

    @Test func dynamicSessionsAsTheKernelPrintsThem() {
        // Each name is followed by a newline and a NUL (the attribute's length counts them).
        let text = "21:00:00:1b:32:00:00:a1\n\u{0}21:00:00:1b:32:00:00:a2\n\u{0}"
        #expect(LIOBinding.parseDynamicSessions(text) == [i1, i2])
        #expect(LIOBinding.parseDynamicSessions("").isEmpty)
        #expect(LIOBinding.parseDynamicSessions("garbage\n\u{0}").isEmpty)
    }

    @Test func dataDirectionFromTheCDB() {
        #expect(DataDirection.of(CDB([0x2A, 0, 0, 0, 0, 0, 0, 0, 8, 0]), dataLength: 4096) == .write)
        #expect(DataDirection.of(CDB([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]), dataLength: 4096) == .read)
        #expect(DataDirection.of(CDB([0x12, 0, 0, 0, 36, 0]), dataLength: 36) == .read)
        #expect(DataDirection.of(CDB([0x00, 0, 0, 0, 0, 0]), dataLength: 0) == DataDirection.none)
        #expect(DataDirection.of(CDB([0x5F, 0, 0, 0, 0, 0, 0, 0, 24, 0]), dataLength: 24) == .write)
        #expect(DataDirection.of(CDB([0x8B] + [UInt8](repeating: 0, count: 15)), dataLength: 512) == .write)   // ORWRITE(16)
        // VERIFY(10) moves data out only with BYTCHK.
        #expect(DataDirection.of(CDB([0x2F, 0x02, 0, 0, 0, 0, 0, 0, 1, 0]), dataLength: 512) == .write)
        #expect(DataDirection.of(CDB([0x2F, 0x00, 0, 0, 0, 0, 0, 0, 1, 0]), dataLength: 512) == DataDirection.none)
        // WRITE(32) by its service action.
        var w32 = [UInt8](repeating: 0, count: 32)
        w32[0] = 0x7F; w32[7] = 0x18; w32[9] = 0x0B
        #expect(DataDirection.of(CDB(w32), dataLength: 512) == .write)
    }
    /// An HBA port lets unknown initiators log in (generate_node_acls=1) only while a view for
    /// all hosts reaches it with an online LU; host-group views need only their members' ACLs.
    @Test func unknownInitiatorsMayLogInOnlyForAViewOnAllHosts() throws {
        let port = LIOPort(wwpn: t1, fabric: .qla2xxx, initiators: [])
        var v = ViewConfiguration()
        try v.createHostGroup("hosts")
        try v.addHostGroupMember("hosts", .wwn(i1))
        try v.addViewEntry(lu: lu1, hostGroup: .named("hosts"), lun: 0)
        #expect(!LIOPlan.acceptsUnknownInitiators(snapshot(v, lus: [lu1: .online], ports: [t1: .online]), port: port))
        // A view for all hosts, but through another port's target group only.
        try v.createTargetGroup("other")
        try v.addTargetGroupMember("other", .wwn(t2))
        try v.addViewEntry(lu: lu2, targetGroup: .named("other"), lun: 1)
        #expect(!LIOPlan.acceptsUnknownInitiators(snapshot(v, lus: [lu1: .online, lu2: .online], ports: [t1: .online, t2: .online]), port: port))
        let other = LIOPort(wwpn: t2, fabric: .qla2xxx, initiators: [])
        #expect(LIOPlan.acceptsUnknownInitiators(snapshot(v, lus: [lu1: .online, lu2: .online], ports: [t1: .online, t2: .online]), port: other))
        // ... and not while that LU is offline.
        #expect(!LIOPlan.acceptsUnknownInitiators(snapshot(v, lus: [lu1: .online, lu2: .offline], ports: [t1: .online, t2: .online]), port: other))
        // A view for all hosts and all targets reaches every port.
        let lu3 = LUGUID("600144F0000000000000000000000003")!
        try v.addViewEntry(lu: lu3, lun: 2)
        #expect(LIOPlan.acceptsUnknownInitiators(snapshot(v, lus: [lu1: .online, lu2: .online, lu3: .online], ports: [t1: .online, t2: .online]), port: port))
    }
}
