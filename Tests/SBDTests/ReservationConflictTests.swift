import Testing
@testable import STMF
@testable import SBD

extension ReservationTests {
    @Suite struct Conflicts {
        let holder = nexus(hostA), registered = nexus(hostB), stranger = nexus(hostC)

        /// a holds a reservation of `type`, b is registered, c is not.
        func state(_ type: UInt8) throws -> ReservationState {
            var s = ReservationState()
            try register(&s, holder, sak: 0xA)
            try register(&s, registered, sak: 0xB)
            try reserve(&s, holder, key: 0xA, type: type)
            return s
        }

        @Test func noReservationNoConflict() throws {
            var s = ReservationState()
            try register(&s, holder, sak: 0xA)
            for cdb in [read10, write10, modeSelect6, syncCache10] {
                #expect(!s.conflicts(cdb, nexus: stranger))
            }
        }

        struct Row: Sendable, CustomTestStringConvertible {
            var type: UInt8
            var registered: (read: Bool, write: Bool)
            var unregistered: (read: Bool, write: Bool)
            var testDescription: String { "type \(type)" }
        }

        /// Expected conflicts for a registered non-holder and an unregistered I_T nexus
        /// (SPC-4 table 66 / SBC-3 table 13).
        @Test(arguments: [
            Row(type: PRType.we, registered: (false, true), unregistered: (false, true)),
            Row(type: PRType.ea, registered: (true, true), unregistered: (true, true)),
            Row(type: PRType.weRO, registered: (false, false), unregistered: (false, true)),
            Row(type: PRType.eaRO, registered: (false, false), unregistered: (true, true)),
            Row(type: PRType.weAR, registered: (false, false), unregistered: (false, true)),
            Row(type: PRType.eaAR, registered: (false, false), unregistered: (true, true)),
        ])
        func matrix(row: Row) throws {
            let s = try state(row.type)
            let (regReadExpected, regWriteExpected) = row.registered
            let (unRead, unWrite) = row.unregistered
            // The holder is never in conflict.
            for cdb in [read10, write10, modeSelect6, syncCache10, modeSense6] {
                #expect(!s.conflicts(cdb, nexus: holder))
            }
            // Registered non-holder. (For WE/EA a registration does not help.)
            #expect(s.conflicts(read10, nexus: registered) == regReadExpected)
            #expect(s.conflicts(write10, nexus: registered) == regWriteExpected)
            #expect(s.conflicts(modeSense6, nexus: registered) == regReadExpected)
            #expect(s.conflicts(rsoc, nexus: registered) == regReadExpected)
            #expect(s.conflicts(modeSelect6, nexus: registered) == regWriteExpected)
            #expect(s.conflicts(syncCache10, nexus: registered) == regWriteExpected)
            // Unregistered.
            #expect(s.conflicts(read10, nexus: stranger) == unRead)
            #expect(s.conflicts(write10, nexus: stranger) == unWrite)
            #expect(s.conflicts(modeSense6, nexus: stranger) == unRead)
            #expect(s.conflicts(modeSelect6, nexus: stranger) == unWrite)
            // The same initiator through another port is another I_T nexus.
            #expect(s.conflicts(write10, nexus: nexus(hostA, port: 2)) == unWrite)
            // Always allowed.
            for cdb in [inquiry, tur, requestSense, reportLUNs, readCapacity10, readCapacity16, rtpg,
                        prinCDB(0), proutCDB(SA.register, length: 24), proutCDB(SA.preempt, type: 1, length: 24)] {
                #expect(!s.conflicts(cdb, nexus: stranger))
            }
            // SPC-2 RESERVE/RELEASE conflict while registrations exist (CRH=0), for everyone.
            for n in [holder, registered, stranger] {
                #expect(s.conflicts(reserve6, nexus: n))
                #expect(s.conflicts(release10, nexus: n))
            }
        }

        @Test func startStopAndPreventAllow() throws {
            let s = try state(PRType.ea)
            #expect(!s.conflicts(CDB([0x1B, 0, 0, 0, 0x01, 0]), nexus: stranger)) // START
            #expect(s.conflicts(CDB([0x1B, 0, 0, 0, 0x00, 0]), nexus: stranger)) // STOP
            #expect(!s.conflicts(CDB([0x1E, 0, 0, 0, 0x00, 0]), nexus: stranger)) // ALLOW
            #expect(s.conflicts(CDB([0x1E, 0, 0, 0, 0x01, 0]), nexus: stranger)) // PREVENT
            // READ (32) is a read, WRITE (32) a write.
            let we = try state(PRType.we)
            var read32 = [UInt8](repeating: 0, count: 32); read32[0] = 0x7F; read32[7] = 0x18; read32[9] = 0x09
            var write32 = read32; write32[9] = 0x0B
            #expect(!we.conflicts(CDB(read32), nexus: stranger))
            #expect(we.conflicts(CDB(write32), nexus: stranger))
        }
    }

    @Suite struct SPC2 {
        let a = nexus(hostA), b = nexus(hostB)

        @Test func reserveRelease() throws {
            var s = ReservationState()
            #expect(!s.conflicts(reserve6, nexus: a))
            try s.reserve(cdb: reserve6, nexus: a)
            #expect(s.spc2Holder == ITNexusID(a))
            // Holder: nothing conflicts, except PR commands (regardless of initiator).
            for cdb in [read10, write10, modeSelect6, reserve10] { #expect(!s.conflicts(cdb, nexus: a)) }
            #expect(s.conflicts(prinCDB(0), nexus: a))
            #expect(s.conflicts(proutCDB(SA.register, length: 24), nexus: a))
            // Others: everything but INQUIRY, REQUEST SENSE, REPORT LUNS and RELEASE.
            for cdb in [read10, write10, tur, readCapacity10, modeSense6, reserve6, reserve10, prinCDB(0)] {
                #expect(s.conflicts(cdb, nexus: b))
            }
            for cdb in [inquiry, requestSense, reportLUNs, release6, release10] { #expect(!s.conflicts(cdb, nexus: b)) }
            expectError(conflict) { _ = try s.reserve(cdb: reserve10, nexus: b) }
            expectError(conflict) { _ = try s.persistentReserveIn(cdb: prinCDB(0), nexus: a) }
            expectError(conflict) { try register(&s, a, sak: 1) }
            // RELEASE from a non-holder: GOOD, nothing changes.
            #expect(try s.release(cdb: release6, nexus: b) == ReservationEffects())
            #expect(s.spc2Holder == ITNexusID(a))
            // The holder may reserve again.
            try s.reserve(cdb: reserve10, nexus: a)
            try s.release(cdb: release10, nexus: a)
            #expect(s.spc2Holder == nil)
            try s.release(cdb: release10, nexus: a)
        }

        @Test func invalidFields() throws {
            var s = ReservationState()
            expectError(fieldInCDB(1, 4)) { _ = try s.reserve(cdb: CDB([0x16, 0x10, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 0)) { _ = try s.reserve(cdb: CDB([0x16, 0x01, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 4)) { _ = try s.reserve(cdb: CDB([0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 1)) { _ = try s.reserve(cdb: CDB([0x56, 0x02, 0, 0, 0, 0, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 0)) { _ = try s.reserve(cdb: CDB([0x56, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 4)) { _ = try s.release(cdb: CDB([0x57, 0x10, 0, 0, 0, 0, 0, 0, 0, 0]), nexus: a) }
            expectError(fieldInCDB(1, 0)) { _ = try s.release(cdb: CDB([0x17, 0x01, 0, 0, 0, 0]), nexus: a) }
            #expect(s.spc2Holder == nil)
        }

        @Test func interplayWithPersistentReservations() throws {
            var s = ReservationState()
            try register(&s, a, sak: 0xA)
            // Registrations exist: RESERVE and RELEASE conflict for everyone, the registrant too.
            expectError(conflict) { _ = try s.reserve(cdb: reserve6, nexus: a) }
            expectError(conflict) { _ = try s.reserve(cdb: reserve6, nexus: b) }
            expectError(conflict) { _ = try s.release(cdb: release6, nexus: b) }
            try register(&s, a, key: 0xA, sak: 0)
            try s.reserve(cdb: reserve6, nexus: b)
            #expect(s.spc2Holder == ITNexusID(b))
        }

        @Test func nexusLossAndReset() throws {
            var s = ReservationState()
            try s.reserve(cdb: reserve6, nexus: a)
            s.nexusLost(b)
            #expect(s.spc2Holder == ITNexusID(a))
            s.nexusLost(nexus(hostA, port: 2))
            #expect(s.spc2Holder == ITNexusID(a))
            s.nexusLost(a)
            #expect(s.spc2Holder == nil)
            // PR is untouched by nexus loss and LU reset.
            try register(&s, a, sak: 0xA)
            try reserve(&s, a, key: 0xA, type: PRType.ea)
            let before = s
            s.nexusLost(a)
            s.logicalUnitReset()
            #expect(s == before)
            // LU reset releases the SPC-2 reservation.
            var t = ReservationState()
            try t.reserve(cdb: reserve10, nexus: b)
            t.logicalUnitReset()
            #expect(t.spc2Holder == nil)
            #expect(!t.conflicts(write10, nexus: a))
        }
    }
}
