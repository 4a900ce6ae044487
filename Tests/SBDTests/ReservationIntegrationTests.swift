import Foundation
import Testing
@testable import SBD
@testable import STMF

/// Persistent and SPC-2 reservations of a file-backed SBD LU seen through STMF: several
/// initiators on two target ports, conflicts, PR IN data, unit attentions, task aborts,
/// resets, nexus loss and APTPL across delete + import.
@Suite("Reservations through STMF")
struct ReservationIntegrationTests {
    static let blockSize = 512
    static let size: UInt64 = 256 * 1024

    enum PR {
        static let register: UInt8 = 0, reserve: UInt8 = 1, release: UInt8 = 2, clear: UInt8 = 3
        static let preempt: UInt8 = 4, preemptAndAbort: UInt8 = 5
        static let we: UInt8 = 1, ea: UInt8 = 3, weRO: UInt8 = 5
    }

    struct Setup {
        let dir: E2ETempDir
        let path: String
        let lu: SBDLogicalUnit
        let fabric: E2EFabric
        let a: Session   // host A through port 1
        let b: Session   // host B through port 1
        let c: Session   // host C through port 2
    }

    static func setup(guid: String) async throws -> Setup {
        let dir = try E2ETempDir()
        let path = dir.path("pr-lu.img")
        let lu = try SBDLogicalUnit.create(properties: e2eProperties(size: size, guid: guid), backing: .path(path))
        let fabric = try await E2EFabric(portCount: 2)
        try await fabric.add(lu)
        let a = try fabric.session(e2eHostA, port: 0)
        let b = try fabric.session(e2eHostB, port: 0)
        let c = try fabric.session(e2eHostC, port: 1)
        for s in [a, b, c] { #expect(await s.e2eClearUAs() == [.powerOnResetOrBusDeviceReset]) }
        return Setup(dir: dir, path: path, lu: lu, fabric: fabric, a: a, b: b, c: c)
    }

    // MARK: helpers

    static func prOut(_ s: Session, _ sa: UInt8, type: UInt8 = 0, key: UInt64 = 0, sak: UInt64 = 0,
                      aptpl: Bool = false) async -> E2EReply {
        let list = e2ePRList(key: key, sak: sak, aptpl: aptpl)
        return await s.e2e(e2ePROut(sa, type: type, length: list.count), out: list)
    }

    static func readKeys(_ s: Session) async -> [UInt8] {
        let r = await s.e2e(e2ePRIn(0), inLength: 1024)
        #expect(r.status == .good, "READ KEYS: \(r.response)")
        return r.data
    }

    static func readReservation(_ s: Session) async -> [UInt8] {
        let r = await s.e2e(e2ePRIn(1), inLength: 1024)
        #expect(r.status == .good, "READ RESERVATION: \(r.response)")
        return r.data
    }

    static func keysData(generation: UInt32, _ keys: [UInt64]) -> [UInt8] {
        e2eBE(UInt64(generation), 4) + e2eBE(UInt64(8 * keys.count), 4) + keys.flatMap { e2eBE($0, 8) }
    }

    static func reservationData(generation: UInt32, key: UInt64? = nil, type: UInt8 = 0) -> [UInt8] {
        guard let key else { return e2eBE(UInt64(generation), 4) + [0, 0, 0, 0] }
        return e2eBE(UInt64(generation), 4) + [0, 0, 0, 16] + e2eBE(key, 8) + [0, 0, 0, 0, 0, type, 0, 0]
    }

    static func read(_ s: Session, lba: UInt64 = 0) async -> SCSIStatus {
        await s.e2e(e2eRead10(lba, 1), inLength: blockSize).status
    }

    static func write(_ s: Session, lba: UInt64 = 0, byte: UInt8 = 0x5A) async -> SCSIStatus {
        await s.e2e(e2eWrite10(lba, 1), out: [UInt8](repeating: byte, count: blockSize)).status
    }

    static func expectUA(_ s: Session, _ asc: AdditionalSense, _ comment: String = "",
                         sourceLocation: SourceLocation = #_sourceLocation) async {
        let r = await s.e2e(e2eTUR)
        #expect(r.status == .checkCondition, "\(comment) \(r.response)", sourceLocation: sourceLocation)
        #expect(r.sense?.key == .unitAttention, sourceLocation: sourceLocation)
        #expect(r.sense?.additional == asc, "\(comment) got \(String(describing: r.sense))",
                sourceLocation: sourceLocation)
    }

    static func expectNoUA(_ s: Session, sourceLocation: SourceLocation = #_sourceLocation) async {
        let r = await s.e2e(e2eTUR)
        #expect(r.status == .good, "\(r.response)", sourceLocation: sourceLocation)
    }

    // MARK: tests

    @Test func writeExclusiveAndExclusiveAccessConflicts() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E101")
        let (a, b, c) = (t.a, t.b, t.c)
        defer { t.lu.delete() }

        // No registrations: everyone reads and writes; READ KEYS/RESERVATION are empty.
        for s in [a, b, c] {
            #expect(await Self.read(s) == .good)
            #expect(await Self.write(s) == .good)
        }
        #expect(await Self.readKeys(c) == Self.keysData(generation: 0, []))
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 0))

        // REGISTER A and B (generation 1, 2).
        #expect(await Self.prOut(a, PR.register, sak: 0xAAAA).status == .good)
        #expect(await Self.prOut(b, PR.register, sak: 0xBBBB).status == .good)
        #expect(await Self.readKeys(c) == Self.keysData(generation: 2, [0xAAAA, 0xBBBB]))
        // Registration alone restricts nobody.
        #expect(await Self.write(c) == .good)
        // RESERVE with a wrong key conflicts; with the right key succeeds (generation unchanged).
        #expect(await Self.prOut(a, PR.reserve, type: PR.we, key: 0xBBBB).status == .reservationConflict)
        #expect(await Self.prOut(c, PR.reserve, type: PR.we, key: 0xCCCC).status == .reservationConflict)
        #expect(await Self.prOut(a, PR.reserve, type: PR.we, key: 0xAAAA).status == .good)
        #expect(await Self.readReservation(b) == Self.reservationData(generation: 2, key: 0xAAAA, type: PR.we))
        // Another RESERVE by B conflicts while A holds it.
        #expect(await Self.prOut(b, PR.reserve, type: PR.we, key: 0xBBBB).status == .reservationConflict)

        // Write Exclusive: everyone reads; only the holder writes.
        #expect(await Self.read(a) == .good)
        #expect(await Self.write(a) == .good)
        #expect(await Self.read(b) == .good)
        #expect(await Self.write(b) == .reservationConflict)
        #expect(await Self.read(c) == .good)
        #expect(await Self.write(c) == .reservationConflict)
        #expect(await c.e2e(e2eWriteSame10(0, 1), out: [UInt8](repeating: 0, count: Self.blockSize)).status == .reservationConflict)
        #expect(await c.e2e(e2eSyncCache10()).status == .reservationConflict)
        #expect(await c.e2e(e2eInquiry(), inLength: 96).status == .good)
        #expect(await c.e2e(e2eReadCapacity16(), inLength: 32).status == .good)

        // RELEASE by a non-holder registrant is GOOD and changes nothing.
        #expect(await Self.prOut(b, PR.release, type: PR.we, key: 0xBBBB).status == .good)
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 2, key: 0xAAAA, type: PR.we))
        // RELEASE with the wrong type: INVALID RELEASE OF PERSISTENT RESERVATION.
        let badRelease = await Self.prOut(a, PR.release, type: PR.ea, key: 0xAAAA)
        #expect(badRelease.status == .checkCondition)
        #expect(badRelease.sense?.key == .illegalRequest)
        #expect(badRelease.sense?.additional == .invalidReleaseOfPersistentReservation)
        // RELEASE by the holder: no reservation; a WE release raises no UA.
        #expect(await Self.prOut(a, PR.release, type: PR.we, key: 0xAAAA).status == .good)
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 2))
        await Self.expectNoUA(b)
        #expect(await Self.write(c) == .good)

        // Exclusive Access: the holder only, for reads as well.
        #expect(await Self.prOut(a, PR.reserve, type: PR.ea, key: 0xAAAA).status == .good)
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 2, key: 0xAAAA, type: PR.ea))
        #expect(await Self.read(a) == .good)
        #expect(await Self.write(a) == .good)
        #expect(await Self.read(b) == .reservationConflict)
        #expect(await Self.write(b) == .reservationConflict)
        #expect(await Self.read(c) == .reservationConflict)
        #expect(await Self.write(c) == .reservationConflict)
        #expect(await c.e2e(e2eTUR).status == .good)
        #expect(await c.e2e(e2eInquiry(), inLength: 96).status == .good)

        // SPC-2 RESERVE/RELEASE conflict while registrations exist, whoever sends them.
        for s in [a, b, c] {
            #expect(await s.e2e([0x16, 0, 0, 0, 0, 0]).status == .reservationConflict)
            #expect(await s.e2e([0x17, 0, 0, 0, 0, 0]).status == .reservationConflict)
        }

        // PREEMPT: B takes A's registration and the reservation (same type).
        #expect(await Self.prOut(b, PR.preempt, type: PR.ea, key: 0xBBBB, sak: 0xAAAA).status == .good)
        #expect(await Self.readKeys(c) == Self.keysData(generation: 3, [0xBBBB]))
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 3, key: 0xBBBB, type: PR.ea))
        // A gets REGISTRATIONS PREEMPTED once; B (the preemptor) and C (never registered) none.
        await Self.expectUA(a, .registrationsPreempted, "A after PREEMPT")
        await Self.expectNoUA(a)
        await Self.expectNoUA(b)
        await Self.expectNoUA(c)
        #expect(await Self.read(a) == .reservationConflict)
        #expect(await Self.read(b) == .good)
        #expect(await Self.write(b) == .good)
        // A, no longer registered, can neither reserve nor release with its old key.
        #expect(await Self.prOut(a, PR.release, type: PR.ea, key: 0xAAAA).status == .reservationConflict)

        // CLEAR by the holder: everything goes; the other registrant... (none left) gets nothing.
        #expect(await Self.prOut(a, PR.register, sak: 0xA2A2).status == .good)
        #expect(await Self.prOut(b, PR.clear, key: 0xBBBB).status == .good)
        #expect(await Self.readKeys(c) == Self.keysData(generation: 5, []))
        #expect(await Self.readReservation(c) == Self.reservationData(generation: 5))
        await Self.expectUA(a, .reservationsPreempted, "A after CLEAR")
        await Self.expectNoUA(b)
        for s in [a, b, c] { #expect(await Self.write(s) == .good) }
    }

    @Test func preemptAndAbortEndsThePreemptedNexusTasks() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E102")
        let (a, b, c) = (t.a, t.b, t.c)
        defer { t.lu.delete() }
        #expect(await Self.prOut(a, PR.register, sak: 0xA1).status == .good)
        #expect(await Self.prOut(c, PR.register, sak: 0xC1).status == .good)
        #expect(await Self.prOut(a, PR.reserve, type: PR.weRO, key: 0xA1).status == .good)
        // Registrants-only: the registered C writes.
        #expect(await Self.write(c) == .good)
        #expect(await Self.write(b) == .reservationConflict)

        // C keeps large writes in flight while A preempts-and-aborts C's key.
        let big = 256   // blocks per write = 128 KiB
        let stream = Task {
            var outcomes: [String] = []
            var conflicts = 0
            for i in 0..<20_000 where conflicts < 3 {
                let r = await c.e2e(e2eWrite16(UInt64(i % 2) * UInt64(big), big), out: [UInt8](repeating: 0xC1, count: big * Self.blockSize))
                if r.response.aborted {
                    #expect(r.status == .taskAborted, "aborted C task reports TASK ABORTED (TAS=1): \(r.response)")
                    outcomes.append("aborted")
                } else if r.status == .good {
                    outcomes.append("good")
                } else if r.status == .reservationConflict {
                    outcomes.append("conflict")
                    conflicts += 1
                } else if r.status == .checkCondition, r.sense?.key == .unitAttention {
                    #expect(r.sense?.additional == .registrationsPreempted)
                    outcomes.append("ua")
                } else {
                    Issue.record("unexpected outcome for C's write: \(r.response)")
                    outcomes.append("other")
                }
            }
            return outcomes
        }
        try await Task.sleep(for: .milliseconds(20))
        #expect(await Self.prOut(a, PR.preemptAndAbort, type: PR.weRO, key: 0xA1, sak: 0xC1).status == .good)
        let outcomes = await stream.value
        // After the preemption C is unregistered: every later write conflicts (after one UA).
        let afterPreempt = outcomes.drop { $0 == "good" }
        #expect(!afterPreempt.isEmpty, "the preemption landed after all the writes: \(outcomes)")
        #expect(afterPreempt.allSatisfy { ["aborted", "conflict", "ua"].contains($0) }, "\(outcomes)")
        #expect(afterPreempt.filter { $0 == "ua" }.count <= 1, "\(outcomes)")
        #expect(c.tasksInFlight == 0)
        #expect(await Self.readKeys(b) == Self.keysData(generation: 3, [0xA1]))
        #expect(await Self.readReservation(b) == Self.reservationData(generation: 3, key: 0xA1, type: PR.weRO))
        if !afterPreempt.contains("ua") { await Self.expectUA(c, .registrationsPreempted, "C after PREEMPT AND ABORT") }
        await Self.expectNoUA(c)
        await Self.expectNoUA(a)
        await Self.expectNoUA(b)
        #expect(await Self.write(c) == .reservationConflict)
        #expect(await Self.write(a) == .good)
    }

    @Test func resetsAndNexusLossReleaseSPC2ButNotPR() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E103")
        let (a, b, c) = (t.a, t.b, t.c)
        defer { t.lu.delete() }
        let reserve6: [UInt8] = [0x16, 0, 0, 0, 0, 0], release6: [UInt8] = [0x17, 0, 0, 0, 0, 0]

        // SPC-2: A reserves; B and C conflict on media access and on RESERVE; INQUIRY passes.
        #expect(await a.e2e(reserve6).status == .good)
        #expect(await a.e2e(reserve6).status == .good)           // again by the holder
        #expect(await b.e2e(reserve6).status == .reservationConflict)
        #expect(await Self.read(b) == .reservationConflict)
        #expect(await Self.write(c) == .reservationConflict)
        #expect(await b.e2e(e2eInquiry(), inLength: 96).status == .good)
        #expect(await Self.read(a) == .good)
        #expect(await Self.write(a) == .good)
        // PR commands conflict while the SPC-2 reservation exists.
        #expect(await b.e2e(e2ePRIn(0), inLength: 1024).status == .reservationConflict)
        #expect(await Self.prOut(b, PR.register, sak: 0xB).status == .reservationConflict)
        // RELEASE(6) by a non-holder: GOOD, nothing released.
        #expect(await b.e2e(release6).status == .good)
        #expect(await Self.read(b) == .reservationConflict)
        // RELEASE(6) by the holder frees it.
        #expect(await a.e2e(release6).status == .good)
        #expect(await Self.read(b) == .good)

        // LOGICAL UNIT RESET releases it (and raises BUS DEVICE RESET FUNCTION OCCURRED everywhere).
        #expect(await a.e2e(reserve6).status == .good)
        #expect(await Self.read(c) == .reservationConflict)
        #expect(await b.taskManagement(.logicalUnitReset(lun: LUNAddress.field(for: 0))) == .functionComplete)
        for s in [a, b, c] { await Self.expectUA(s, .busDeviceResetFunctionOccurred) }
        #expect(await Self.read(c) == .good)
        #expect(await c.e2e(reserve6).status == .good)
        #expect(await Self.read(a) == .reservationConflict)

        // I_T nexus loss of the holder (session removal) releases it.
        await t.fabric.ports[1].removeSession(c)
        #expect(await Self.read(a) == .good)
        #expect(await Self.write(b) == .good)
        // I_T NEXUS RESET too.
        #expect(await b.e2e(reserve6).status == .good)
        #expect(await Self.write(a) == .reservationConflict)
        #expect(await b.taskManagement(.itNexusReset) == .functionComplete)
        await Self.expectUA(b, .itNexusLossOccurred)
        #expect(await Self.write(a) == .good)

        // Persistent reservations survive both.
        let c2 = try t.fabric.session(e2eHostC, port: 1)
        #expect(await c2.e2eClearUAs() == [.powerOnResetOrBusDeviceReset])
        #expect(await Self.prOut(a, PR.register, sak: 0xA).status == .good)
        #expect(await Self.prOut(c2, PR.register, sak: 0xC).status == .good)
        #expect(await Self.prOut(a, PR.reserve, type: PR.ea, key: 0xA).status == .good)
        let keys = Self.keysData(generation: 2, [0xA, 0xC])
        let resv = Self.reservationData(generation: 2, key: 0xA, type: PR.ea)
        #expect(await b.taskManagement(.logicalUnitReset(lun: LUNAddress.field(for: 0))) == .functionComplete)
        for s in [a, b, c2] { await Self.expectUA(s, .busDeviceResetFunctionOccurred) }
        #expect(await Self.readKeys(b) == keys)
        #expect(await Self.readReservation(b) == resv)
        #expect(await Self.read(c2) == .reservationConflict)
        // The holder's nexus goes away: the reservation and its registration stay.
        await t.fabric.ports[0].removeSession(a)
        #expect(await Self.readKeys(b) == keys)
        #expect(await Self.readReservation(b) == resv)
        #expect(await Self.read(b) == .reservationConflict)
        // A logs in again (same I_T nexus identity): still the holder.
        let a2 = try t.fabric.session(e2eHostA, port: 0)
        #expect(await a2.e2eClearUAs() == [.powerOnResetOrBusDeviceReset])
        #expect(await Self.write(a2) == .good)
        #expect(await b.taskManagement(.itNexusReset) == .functionComplete)
        #expect(await Self.readReservation(c2) == resv)
    }

    @Test func registrationsArePerITNexusAcrossPorts() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E106")
        defer { t.lu.delete() }
        let a1 = t.a
        let a2 = try t.fabric.session(e2eHostA, port: 1)     // the same initiator through port 2
        let b2 = try t.fabric.session(e2eHostB, port: 1)
        for s in [a2, b2] { #expect(await s.e2eClearUAs() == [.powerOnResetOrBusDeviceReset]) }

        #expect(await Self.prOut(a1, PR.register, sak: 0xA1).status == .good)
        #expect(await Self.prOut(a1, PR.reserve, type: PR.ea, key: 0xA1).status == .good)
        // A through the other port is another I_T nexus: neither registered nor holder.
        #expect(await Self.read(a1) == .good)
        #expect(await Self.read(a2) == .reservationConflict)
        #expect(await Self.prOut(a2, PR.reserve, type: PR.ea, key: 0xA1).status == .reservationConflict)
        #expect(await Self.prOut(a2, PR.register, sak: 0xA2).status == .good)
        #expect(await Self.read(a2) == .reservationConflict)
        // B registers with ALL_TG_PT: one registration per target port, one generation step.
        let list = e2ePRList(sak: 0xBB, allTgPt: true)
        #expect(await t.b.e2e(e2ePROut(PR.register, length: list.count), out: list).status == .good)
        #expect(await Self.readKeys(t.c) == Self.keysData(generation: 3, [0xA1, 0xA2, 0xBB, 0xBB]))
        // Write Exclusive - All Registrants (type 7): every registered nexus writes; the
        // reservation key reads as zero.
        #expect(await Self.prOut(a1, PR.release, type: PR.ea, key: 0xA1).status == .good)
        #expect(await Self.prOut(a2, PR.reserve, type: 7, key: 0xA2).status == .good)
        #expect(await Self.readReservation(t.c) == Self.reservationData(generation: 3, key: 0, type: 7))
        for s in [a1, a2, t.b, b2] { #expect(await Self.write(s) == .good) }
        #expect(await Self.write(t.c) == .reservationConflict)
        #expect(await Self.read(t.c) == .good)
        // PREEMPT of B's key removes B on both ports and tells both B nexuses.
        #expect(await Self.prOut(a1, PR.preempt, type: 7, key: 0xA1, sak: 0xBB).status == .good)
        #expect(await Self.readKeys(t.c) == Self.keysData(generation: 4, [0xA1, 0xA2]))
        #expect(await Self.readReservation(t.c) == Self.reservationData(generation: 4, key: 0, type: 7))
        await Self.expectUA(t.b, .registrationsPreempted, "B through port 1")
        await Self.expectUA(b2, .registrationsPreempted, "B through port 2")
        for s in [a1, a2, t.c] { await Self.expectNoUA(s) }
        #expect(await Self.write(b2) == .reservationConflict)
        #expect(await Self.write(a2) == .good)
    }

    @Test func aptplSurvivesDeleteAndImport() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E104")
        let (a, b) = (t.a, t.b)
        #expect(await Self.prOut(a, PR.register, sak: 0x1111_2222_3333_4444, aptpl: true).status == .good)
        #expect(await Self.prOut(b, PR.register, sak: 0x5555, aptpl: true).status == .good)
        #expect(await Self.prOut(a, PR.reserve, type: PR.weRO, key: 0x1111_2222_3333_4444).status == .good)
        #expect(await Self.readKeys(a) == Self.keysData(generation: 2, [0x1111_2222_3333_4444, 0x5555]))
        #expect(await Self.readReservation(a) == Self.reservationData(generation: 2, key: 0x1111_2222_3333_4444, type: PR.weRO))
        // REPORT CAPABILITIES says PTPL_A.
        let caps = await a.e2e(e2ePRIn(2), inLength: 8)
        #expect(caps.status == .good)
        #expect(caps.data.count == 8 && caps.data[3] & 0x01 == 0x01, "\(caps.data)")

        try await t.fabric.stmf.deregisterLogicalUnit(t.lu.guid)
        t.lu.delete()
        let lu = try SBDLogicalUnit.importLU(path: t.path)
        defer { lu.delete() }
        let fabric = try await E2EFabric(portCount: 2)
        try await fabric.add(lu)
        let a2 = try fabric.session(e2eHostA, port: 0)
        let b2 = try fabric.session(e2eHostB, port: 0)
        let c2 = try fabric.session(e2eHostC, port: 1)
        for s in [a2, b2, c2] { #expect(await s.e2eClearUAs() == [.powerOnResetOrBusDeviceReset]) }
        // Same keys and reservation; PRgeneration restarts at 0 at power on.
        #expect(await Self.readKeys(c2) == Self.keysData(generation: 0, [0x1111_2222_3333_4444, 0x5555]))
        #expect(await Self.readReservation(c2) == Self.reservationData(generation: 0, key: 0x1111_2222_3333_4444, type: PR.weRO))
        // And it is enforced against the same nexuses.
        #expect(await Self.write(a2) == .good)
        #expect(await Self.write(b2) == .good)          // registrant of a registrants-only reservation
        #expect(await Self.write(c2) == .reservationConflict)
        #expect(await Self.read(c2) == .good)

        // Later changes are persisted too: RELEASE, and B unregistering.
        #expect(await Self.prOut(a2, PR.release, type: PR.weRO, key: 0x1111_2222_3333_4444).status == .good)
        // Releasing a registrants-only reservation tells the other registrants.
        await Self.expectUA(b2, .reservationsReleased, "B after RELEASE of WE_RO")
        await Self.expectNoUA(c2)
        let unreg = await Self.prOut(b2, PR.register, key: 0x5555, sak: 0, aptpl: true)
        #expect(unreg.status == .good, "\(unreg.response)")
        let lu2 = try await Self.reimport(lu, fabric: fabric, path: t.path)
        let (f2, s2) = try await Self.attach(lu2)
        #expect(await Self.readKeys(s2) == Self.keysData(generation: 0, [0x1111_2222_3333_4444]))
        #expect(await Self.readReservation(s2) == Self.reservationData(generation: 0))
        // A REGISTER with APTPL=0 turns persistence off: nothing survives the next import.
        let a3 = try f2.session(e2eHostA)
        await a3.e2eClearUAs()
        #expect(await Self.prOut(a3, PR.register, key: 0x1111_2222_3333_4444, sak: 0x9999).status == .good)
        #expect(await Self.prOut(a3, PR.reserve, type: PR.ea, key: 0x9999).status == .good)
        let lu3 = try await Self.reimport(lu2, fabric: f2, path: t.path)
        let (_, s3) = try await Self.attach(lu3)
        #expect(await Self.readKeys(s3) == Self.keysData(generation: 0, []))
        #expect(await Self.readReservation(s3) == Self.reservationData(generation: 0))
        lu3.delete()
    }

    /// Takes `lu` out of `fabric`, deletes it and imports its file again.
    static func reimport(_ lu: SBDLogicalUnit, fabric: E2EFabric, path: String) async throws -> SBDLogicalUnit {
        try await fabric.stmf.deregisterLogicalUnit(lu.guid)
        lu.delete()
        return try SBDLogicalUnit.importLU(path: path)
    }

    /// A new STMF with `lu` and a session of host C, UAs cleared.
    static func attach(_ lu: SBDLogicalUnit) async throws -> (E2EFabric, Session) {
        let fabric = try await E2EFabric()
        try await fabric.add(lu)
        let s = try fabric.session(e2eHostC)
        #expect(await s.e2eClearUAs() == [.powerOnResetOrBusDeviceReset])
        return (fabric, s)
    }

    @Test func withoutAPTPLRegistrationsDoNotSurviveImport() async throws {
        let t = try await Self.setup(guid: "600144F0000000000000000000E2E105")
        #expect(await Self.prOut(t.a, PR.register, sak: 0x77).status == .good)
        #expect(await Self.prOut(t.a, PR.reserve, type: PR.ea, key: 0x77).status == .good)
        try await t.fabric.stmf.deregisterLogicalUnit(t.lu.guid)
        t.lu.delete()
        let lu = try SBDLogicalUnit.importLU(path: t.path)
        defer { lu.delete() }
        let fabric = try await E2EFabric()
        try await fabric.add(lu)
        let b = try fabric.session(e2eHostB)
        #expect(await b.e2eClearUAs() == [.powerOnResetOrBusDeviceReset])
        #expect(await Self.readKeys(b) == Self.keysData(generation: 0, []))
        #expect(await Self.readReservation(b) == Self.reservationData(generation: 0))
        #expect(await Self.write(b) == .good)
    }
}
