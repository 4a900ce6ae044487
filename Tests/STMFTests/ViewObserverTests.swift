import Locking
import Testing
@testable import STMF

/// A back end as the LIO binding will be one: it records every snapshot, and reads STMF back
/// from inside the callback (which would deadlock if STMF called it holding its lock).
final class RecordingObserver: ViewObserver {
    let stmf: STMF
    private let seen = Locked<[(snapshot: ViewSnapshot, liveViews: ViewConfiguration)]>([])
    init(_ stmf: STMF) { self.stmf = stmf }

    func viewsChanged(_ snapshot: ViewSnapshot) {
        let live = stmf.views
        seen.withLock { $0.append((snapshot, live)) }
    }

    var snapshots: [ViewSnapshot] { seen.withLock { $0.map(\.snapshot) } }
    var liveViews: [ViewConfiguration] { seen.withLock { $0.map(\.liveViews) } }
    var changes: [ViewChange] { snapshots.map(\.change) }
}

@Suite struct ViewObserverTests {
    static let target = try! PortIdentifier(parsing: "wwn.5000000000000001")
    static let hostA = try! PortIdentifier(parsing: "wwn.2100000000000001")
    static let hostB = try! PortIdentifier(parsing: "wwn.2100000000000002")

    @Test func everySuccessfulChangeIsObservedWithASnapshotToCompileFrom() async throws {
        let stmf = STMF()
        let observer = RecordingObserver(stmf)
        stmf.addViewObserver(observer)
        stmf.addViewObserver(observer)          // once only
        let t = Self.target
        let port = try stmf.registerTargetPort(t, provider: NullPort(), relativeID: 3)
        try await stmf.setTargetPortState(t, online: true)
        try await stmf.setTargetPortState(t, online: true)   // already online: no change, nothing told
        #expect(observer.changes == [.targetPort(t), .targetPort(t)])
        #expect(observer.snapshots.first?.targetPorts[t] == .init(relativeID: 3, groupID: 0, state: .offline))
        #expect(observer.snapshots.last?.targetPorts[t] == .init(relativeID: 3, groupID: 0, state: .online))

        let lu = ProbeLU(1)
        try stmf.registerLogicalUnit(lu)
        #expect(observer.snapshots.last?.logicalUnits == [lu.guid: .offline])
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        #expect(observer.snapshots.last?.logicalUnits == [lu.guid: .online])

        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.createHostGroup("hosts") }
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addHostGroupMember("hosts", Self.hostA) }
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: lu.guid, hostGroup: .named("hosts"), lun: 5)
        }
        // What a back end compiles from the snapshot is what STMF gives the sessions.
        let session = try port.createSession(initiator: Self.hostA)
        let mapped = observer.snapshots.last!
        #expect(mapped.change == .views)
        #expect(mapped.views == stmf.views)
        #expect(mapped.lunMap(targetPort: t, initiator: Self.hostA) == [5: lu.guid])
        #expect(mapped.lunMap(targetPort: t, initiator: Self.hostB).isEmpty)
        let (_, report) = await session.send(reportLUNsCDB)
        #expect(luns(fromReport: report) == [LUNAddress.field(for: 5)])

        // A refused change tells nobody.
        let before = observer.snapshots.count
        #expect(throws: STMFError.self) {
            try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.createHostGroup("hosts") }
        }
        #expect(observer.snapshots.count == before)

        // Offline: the entry stays in the views, the LU leaves every LUN map.
        try await stmf.setLogicalUnitState(lu.guid, online: false)
        #expect(observer.snapshots.last?.change == .logicalUnit(lu.guid))
        #expect(observer.snapshots.last?.views.views(of: lu.guid).count == 1)
        #expect(observer.snapshots.last?.lunMap(targetPort: t, initiator: Self.hostA).isEmpty == true)

        stmf.replaceViews(ViewConfiguration())
        #expect(observer.snapshots.last?.change == .views)
        #expect(observer.snapshots.last?.views == ViewConfiguration())
        try await stmf.deregisterLogicalUnit(lu.guid)
        #expect(observer.snapshots.last?.logicalUnits.isEmpty == true)
        try await stmf.deregisterTargetPort(t)
        #expect(observer.snapshots.last?.targetPorts.isEmpty == true)

        #expect(observer.changes == [
            .targetPort(t), .targetPort(t), .logicalUnit(lu.guid), .logicalUnit(lu.guid), .views, .views, .views,
            .logicalUnit(lu.guid), .views, .logicalUnit(lu.guid), .logicalUnit(lu.guid), .targetPort(t), .targetPort(t),
        ])
        // Generations increase; the observer could read STMF during each call, and saw what it was told.
        let generations = observer.snapshots.map(\.generation)
        #expect(generations == generations.sorted() && Set(generations).count == generations.count)
        #expect(observer.liveViews == observer.snapshots.map(\.views))

        stmf.removeViewObserver(observer)
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.createTargetGroup("ports") }
        #expect(observer.changes.count == 13)
    }

    @Test func everyObserverIsToldAndTheLastSnapshotIsTheCurrentState() async throws {
        let stmf = STMF()
        let a = RecordingObserver(stmf), b = RecordingObserver(stmf)
        stmf.addViewObserver(a)
        stmf.addViewObserver(b)
        // Changes from many tasks at once: each observer hears each one; the highest generation
        // each has seen carries the final configuration.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<32 {
                group.addTask {
                    try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.createHostGroup("g\(i)") }
                }
            }
            try await group.waitForAll()
        }
        for o in [a, b] {
            #expect(o.snapshots.count == 32)
            let newest = try #require(o.snapshots.max { $0.generation < $1.generation })
            #expect(newest.views == stmf.views)
            #expect(newest.views.hostGroups.count == 32)
        }
        #expect(stmf.viewSnapshot().generation > a.snapshots.map(\.generation).max()!)
    }
}
