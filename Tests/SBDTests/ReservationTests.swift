import Testing
@testable import STMF
@testable import SBD

@Suite struct ReservationTests {
    let a = nexus(hostA), b = nexus(hostB), c = nexus(hostC)

    // MARK: REGISTER / READ KEYS

    @Test func registerAndReadKeys() throws {
        var s = ReservationState()
        #expect(try readKeys(s, a) == [0, 0, 0, 0, 0, 0, 0, 0])
        try register(&s, a, sak: 0xAAAA)
        try register(&s, b, sak: 0xBBBB)
        #expect(try readKeys(s, a) == [0, 0, 0, 2, 0, 0, 0, 16] + be(0xAAAA, 8) + be(0xBBBB, 8))
        #expect(s.generation == 2)

        // Unregistered I_T nexus with a nonzero RESERVATION KEY: conflict, generation unchanged.
        expectError(conflict) { try register(&s, c, key: 5, sak: 0xCCCC) }
        // Registered with the wrong key: conflict.
        expectError(conflict) { try register(&s, a, key: 0xAAAB, sak: 0x1) }
        // Unregistered with SERVICE ACTION RESERVATION KEY zero: nothing happens.
        let e = try register(&s, c, sak: 0)
        #expect(e == ReservationEffects())
        #expect(s.generation == 2)

        // Key change.
        try register(&s, a, key: 0xAAAA, sak: 0xA1)
        #expect(try readKeys(s, a) == [0, 0, 0, 3, 0, 0, 0, 16] + be(0xA1, 8) + be(0xBBBB, 8))
        // Unregister.
        try register(&s, a, key: 0xA1, sak: 0)
        #expect(try readKeys(s, a) == [0, 0, 0, 4, 0, 0, 0, 8] + be(0xBBBB, 8))
        // The same initiator through another port is another I_T nexus.
        try register(&s, nexus(hostB, port: 2), sak: 0xB2)
        #expect(s.registrations.map(\.nexus.relativeTargetPortID) == [1, 2])
    }

    @Test func registerAndIgnoreExistingKey() throws {
        var s = ReservationState()
        try prout(&s, a, SA.registerAndIgnore, list: basicList(key: 0x999, sak: 0x10))
        try prout(&s, a, SA.registerAndIgnore, list: basicList(key: 0x777, sak: 0x20))
        #expect(s.registrations.map(\.key) == [0x20])
        #expect(s.generation == 2)
        try prout(&s, a, SA.registerAndIgnore, list: basicList(key: 0x1, sak: 0))
        #expect(s.registrations.isEmpty)
        #expect(s.generation == 3)
        // SPEC_I_PT is only valid with REGISTER.
        expectError(fieldInList(20, 3)) {
            try prout(&s, a, SA.registerAndIgnore, list: specIPTList(sak: 1, tids: [fcTID(0x1000_0000_0000_000B)]))
        }
    }

    @Test func parameterListAndCDBChecks() throws {
        var s = ReservationState()
        expectError(.parameterListLengthError) { try prout(&s, a, SA.register, list: basicList(sak: 1), length: 23) }
        expectError(.parameterListLengthError) { try prout(&s, a, SA.register, list: basicList(sak: 1) + [0], length: 25) }
        expectError(.parameterListLengthError) { try prout(&s, a, SA.reserve, type: PRType.we, list: [], length: 0) }
        // The buffer must hold what the CDB announces.
        expectError(.parameterListLengthError) { try prout(&s, a, SA.register, list: Array(basicList(sak: 1).prefix(20)), length: 24) }
        expectError(fieldInCDB(1, 4)) { try prout(&s, a, 0x08, list: basicList()) }
        expectError(fieldInCDB(1, 4)) { try prout(&s, a, 0x1F, list: basicList()) }
        try register(&s, a, sak: 1)
        for bad: UInt8 in [0, 2, 4, 9, 0xF] {
            expectError(fieldInCDB(2, 3)) { try reserve(&s, a, key: 1, type: bad) }
            expectError(fieldInCDB(2, 3)) { try prout(&s, a, SA.release, type: bad, list: basicList(key: 1)) }
            expectError(fieldInCDB(2, 3)) { try prout(&s, a, SA.preempt, type: bad, list: basicList(key: 1, sak: 1)) }
        }
        expectError(fieldInCDB(2, 7)) { try prout(&s, a, SA.reserve, type: PRType.we, scope: 1, list: basicList(key: 1)) }
        // Type and scope are ignored by REGISTER and CLEAR.
        try prout(&s, a, SA.register, type: 0xF, scope: 0xF, list: basicList(key: 1, sak: 2))
        // SPEC_I_PT from a registered I_T nexus: INVALID FIELD IN CDB (SPC-4 table 35).
        expectError(SCSIError(.illegalRequest, .invalidFieldInCDB)) {
            try prout(&s, a, SA.register, list: specIPTList(key: 2, sak: 3, tids: [fcTID(0x1000_0000_0000_000B)]))
        }
        // SPEC_I_PT with any other service action.
        expectError(fieldInList(20, 3)) { try prout(&s, a, SA.reserve, type: PRType.we, list: basicList(key: 2, flags: SPEC_I_PT)) }
        #expect(s.registrations.map(\.key) == [2])
        #expect(s.reservation == nil)
    }

    // MARK: RESERVE / RELEASE / READ RESERVATION

    @Test(arguments: PRType.all)
    func reserveEveryType(type: UInt8) throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        #expect(try readReservation(s, a) == [0, 0, 0, 2, 0, 0, 0, 0])
        try reserve(&s, a, key: 0xA, type: type)
        #expect(s.generation == 2) // RESERVE does not change PRgeneration
        let allRegistrants = type == PRType.weAR || type == PRType.eaAR
        let key: UInt64 = allRegistrants ? 0 : 0xA
        #expect(try readReservation(s, b) == [0, 0, 0, 2, 0, 0, 0, 16] + be(key, 8) + [0, 0, 0, 0, 0, type, 0, 0])
        // Repeating the RESERVE from the holder with the same type is GOOD.
        try reserve(&s, a, key: 0xA, type: type)
        // Another type from the holder conflicts.
        expectError(conflict) { try reserve(&s, a, key: 0xA, type: type == PRType.we ? PRType.ea : PRType.we) }
        if allRegistrants {
            // Every registrant is a holder.
            try reserve(&s, b, key: 0xB, type: type)
        } else {
            expectError(conflict) { try reserve(&s, b, key: 0xB, type: type) }
        }
        // Unregistered and wrong-key RESERVE conflict.
        expectError(conflict) { try reserve(&s, c, key: 0, type: type) }
        expectError(conflict) { try reserve(&s, b, key: 0xBAD, type: type) }
    }

    @Test func releaseRules() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try register(&s, c, sak: 0xC)
        // No reservation: GOOD.
        #expect(try prout(&s, a, SA.release, type: PRType.we, list: basicList(key: 0xA)) == ReservationEffects())
        try reserve(&s, a, key: 0xA, type: PRType.we)
        // Unregistered nexus: conflict; wrong key: conflict.
        expectError(conflict) { try prout(&s, nexus(hostI, port: 3), SA.release, type: PRType.we, list: basicList(key: 0)) }
        expectError(conflict) { try prout(&s, a, SA.release, type: PRType.we, list: basicList(key: 0xB)) }
        // Non-holder: GOOD, nothing changes.
        try prout(&s, b, SA.release, type: PRType.ea, list: basicList(key: 0xB))
        #expect(s.reservation?.holder == ITNexusID(a))
        // Holder with the wrong type.
        expectError(SCSIError(.illegalRequest, .invalidReleaseOfPersistentReservation)) {
            try prout(&s, a, SA.release, type: PRType.ea, list: basicList(key: 0xA))
        }
        // WE release: no unit attention, registrations and generation untouched.
        let e = try prout(&s, a, SA.release, type: PRType.we, list: basicList(key: 0xA))
        #expect(e.unitAttentions.isEmpty)
        #expect(s.reservation == nil)
        #expect(s.generation == 3)
        #expect(s.registrations.count == 3)

        // Registrants only: RESERVATIONS RELEASED to the other registrants.
        try reserve(&s, a, key: 0xA, type: PRType.weRO)
        let e2 = try prout(&s, a, SA.release, type: PRType.weRO, list: basicList(key: 0xA))
        #expect(e2.unitAttentions == [ua(.reservationsReleased, b), ua(.reservationsReleased, c)])
        #expect(e2.persist == false)

        // All registrants: any registrant releases it for all.
        try reserve(&s, b, key: 0xB, type: PRType.eaAR)
        let e3 = try prout(&s, c, SA.release, type: PRType.eaAR, list: basicList(key: 0xC))
        #expect(e3.unitAttentions == [ua(.reservationsReleased, a), ua(.reservationsReleased, b)])
        #expect(s.reservation == nil)
    }

    @Test func unregisteringTheHolder() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try reserve(&s, a, key: 0xA, type: PRType.ea)
        var e = try register(&s, a, key: 0xA, sak: 0)
        #expect(s.reservation == nil)
        #expect(e.unitAttentions.isEmpty)

        try register(&s, a, sak: 0xA)
        try reserve(&s, a, key: 0xA, type: PRType.eaRO)
        // Changing the holder's key keeps the reservation, READ RESERVATION shows the new key.
        try register(&s, a, key: 0xA, sak: 0xA2)
        #expect(try readReservation(s, b).dropFirst(8).prefix(8) == ArraySlice(be(0xA2, 8)))
        e = try register(&s, a, key: 0xA2, sak: 0)
        #expect(s.reservation == nil)
        #expect(e.unitAttentions == [ua(.reservationsReleased, b)])

        // All registrants: the reservation lasts until the last registrant goes.
        try register(&s, a, sak: 0xA)
        try reserve(&s, b, key: 0xB, type: PRType.weAR)
        e = try register(&s, b, key: 0xB, sak: 0)
        #expect(s.reservation?.type == .writeExclusiveAllRegistrants)
        #expect(e.unitAttentions.isEmpty)
        try register(&s, a, key: 0xA, sak: 0)
        #expect(s.reservation == nil)
    }

    // MARK: CLEAR

    @Test func clear() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try register(&s, c, sak: 0xC)
        try reserve(&s, b, key: 0xB, type: PRType.we)
        expectError(conflict) { try prout(&s, a, SA.clear, list: basicList(key: 0xB)) }
        expectError(conflict) { try prout(&s, nexus(hostI, port: 3), SA.clear, list: basicList(key: 0)) }
        let e = try prout(&s, a, SA.clear, list: basicList(key: 0xA))
        #expect(e.unitAttentions == [ua(.reservationsPreempted, b), ua(.reservationsPreempted, c)])
        #expect(s.registrations.isEmpty)
        #expect(s.reservation == nil)
        #expect(s.generation == 4)
        #expect(try readKeys(s, a) == [0, 0, 0, 4, 0, 0, 0, 0])
    }

    // MARK: PREEMPT / PREEMPT AND ABORT

    @Test func preemptWithoutReservation() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try register(&s, nexus(hostB, port: 2), sak: 0xB)
        expectError(fieldInList(8)) { try prout(&s, a, SA.preempt, type: PRType.we, list: basicList(key: 0xA, sak: 0)) }
        expectError(conflict) { try prout(&s, a, SA.preempt, type: PRType.we, list: basicList(key: 0xA, sak: 0x77)) }
        expectError(conflict) { try prout(&s, c, SA.preempt, type: PRType.we, list: basicList(key: 0, sak: 0xB)) }
        let e = try prout(&s, a, SA.preempt, type: PRType.we, list: basicList(key: 0xA, sak: 0xB))
        #expect(e.unitAttentions == [ua(.registrationsPreempted, b), ua(.registrationsPreempted, nexus(hostB, port: 2))])
        #expect(e.abortTasksOf.isEmpty)
        #expect(s.registrations.map(\.key) == [0xA])
        #expect(s.reservation == nil) // no reservation is created
        #expect(s.generation == 4)
    }

    @Test func preemptTheHolder() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try register(&s, c, sak: 0xC)
        try reserve(&s, b, key: 0xB, type: PRType.we)
        expectError(fieldInList(8)) { try prout(&s, a, SA.preempt, type: PRType.ea, list: basicList(key: 0xA, sak: 0)) }
        let e = try prout(&s, a, SA.preempt, type: PRType.ea, list: basicList(key: 0xA, sak: 0xB))
        // b loses its registration; c keeps its registration but sees the type change.
        #expect(e.unitAttentions == [ua(.reservationsReleased, c), ua(.registrationsPreempted, b)])
        #expect(s.reservation == PersistentReservation(type: .exclusiveAccess, holder: ITNexusID(a)))
        #expect(s.registrations.map(\.key) == [0xA, 0xC])
        #expect(s.generation == 4)

        // Preempting a non-holder's key leaves the reservation alone.
        let e2 = try prout(&s, a, SA.preempt, type: PRType.we, list: basicList(key: 0xA, sak: 0xC))
        #expect(e2.unitAttentions == [ua(.registrationsPreempted, c)])
        #expect(s.reservation == PersistentReservation(type: .exclusiveAccess, holder: ITNexusID(a)))

        // Preempting its own key changes the type and keeps the issuer registered.
        try register(&s, b, sak: 0xB)
        let e3 = try prout(&s, a, SA.preempt, type: PRType.weRO, list: basicList(key: 0xA, sak: 0xA))
        #expect(s.reservation == PersistentReservation(type: .writeExclusiveRegistrantsOnly, holder: ITNexusID(a)))
        #expect(s.registrations.map(\.key) == [0xA, 0xB])
        #expect(e3.unitAttentions == [ua(.reservationsReleased, b)])
        // Same type again: no RESERVATIONS RELEASED.
        let e4 = try prout(&s, a, SA.preempt, type: PRType.weRO, list: basicList(key: 0xA, sak: 0xA))
        #expect(e4.unitAttentions.isEmpty)
    }

    @Test func preemptAllRegistrants() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try register(&s, c, sak: 0xC)
        try reserve(&s, a, key: 0xA, type: PRType.eaAR)
        // Nonzero key: registrations go, the reservation stays.
        let e = try prout(&s, a, SA.preemptAndAbort, type: PRType.we, list: basicList(key: 0xA, sak: 0xB))
        #expect(e.unitAttentions == [ua(.registrationsPreempted, b)])
        #expect(e.abortTasksOf == [.nexus(initiator: hostB, relativeTargetPortID: 1)])
        #expect(s.reservation == PersistentReservation(type: .exclusiveAccessAllRegistrants, holder: nil))
        expectError(conflict) { try prout(&s, a, SA.preempt, type: PRType.we, list: basicList(key: 0xA, sak: 0xB)) }
        // Zero key: every other registration goes and the issuer holds the new reservation.
        try register(&s, b, sak: 0xB)
        let e2 = try prout(&s, c, SA.preemptAndAbort, type: PRType.we, list: basicList(key: 0xC, sak: 0))
        #expect(e2.unitAttentions == [ua(.registrationsPreempted, a), ua(.registrationsPreempted, b)])
        #expect(e2.abortTasksOf == [.nexus(initiator: hostA, relativeTargetPortID: 1), .nexus(initiator: hostB, relativeTargetPortID: 1)])
        #expect(s.reservation == PersistentReservation(type: .writeExclusive, holder: ITNexusID(c)))
        #expect(s.registrations.map(\.key) == [0xC])
    }

    @Test func preemptAndAbortTheHolder() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        try reserve(&s, b, key: 0xB, type: PRType.ea)
        let e = try prout(&s, a, SA.preemptAndAbort, type: PRType.ea, list: basicList(key: 0xA, sak: 0xB))
        #expect(e.abortTasksOf == [.nexus(initiator: hostB, relativeTargetPortID: 1)])
        #expect(e.unitAttentions == [ua(.registrationsPreempted, b)])
        #expect(s.reservation?.holder == ITNexusID(a))
    }

    // MARK: ALL_TG_PT and READ FULL STATUS

    @Test func allTargetPortsAndReadFullStatus() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA, flags: ALL_TG_PT)
        // FC initiator: both FC ports, not the iSCSI one.
        #expect(s.registrations.map(\.nexus) == [ITNexusID(initiator: hostA, relativeTargetPortID: 1),
                                                 ITNexusID(initiator: hostA, relativeTargetPortID: 2)])
        #expect(s.generation == 1)
        let i = nexus(hostI, port: 3)
        try register(&s, i, sak: 0x1234)
        try reserve(&s, nexus(hostA, port: 2), key: 0xA, type: PRType.weRO)
        // Through port 1, hostA is registered but not the holder.
        #expect(!s.conflicts(write10, nexus: a))

        let full = try s.persistentReserveIn(cdb: prinCDB(3), nexus: a)
        let tidI = iscsiTID("iqn.1994-05.com.redhat:host-i")
        #expect(tidI.count == 4 + 32)
        var expected: [UInt8] = [0, 0, 0, 2]
        expected += be(UInt64(48 + 48 + 24 + tidI.count), 4)
        expected += be(0xA, 8) + [0, 0, 0, 0, 0x02, 0x00, 0, 0, 0, 0, 0, 1] + be(24, 4) + fcTID(0x1000_0000_0000_000A)
        expected += be(0xA, 8) + [0, 0, 0, 0, 0x03, 0x05, 0, 0, 0, 0, 0, 2] + be(24, 4) + fcTID(0x1000_0000_0000_000A)
        expected += be(0x1234, 8) + [0, 0, 0, 0, 0x00, 0x00, 0, 0, 0, 0, 0, 3] + be(UInt64(tidI.count), 4) + tidI
        #expect(full == expected)

        // All registrants: every descriptor has R_HOLDER and the type.
        try prout(&s, nexus(hostA, port: 2), SA.release, type: PRType.weRO, list: basicList(key: 0xA))
        try reserve(&s, i, key: 0x1234, type: PRType.eaAR)
        let full2 = try s.persistentReserveIn(cdb: prinCDB(3), nexus: a)
        #expect(full2[8 + 12] == 0x03 && full2[8 + 13] == 0x08)
        #expect(full2[8 + 48 + 12] == 0x03 && full2[8 + 48 + 13] == 0x08)
        #expect(full2[8 + 96 + 12] == 0x01 && full2[8 + 96 + 13] == 0x08)
    }

    @Test func unregisteringAnAllTargetPortsHolder() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA, flags: ALL_TG_PT)
        try register(&s, b, sak: 0xB)
        try reserve(&s, a, key: 0xA, type: PRType.weRO)
        // Only the I_T nexus that unregisters goes; the other port of hostA is told too.
        let e = try register(&s, a, key: 0xA, sak: 0)
        #expect(s.registrations.map(\.nexus) == [ITNexusID(initiator: hostA, relativeTargetPortID: 2), ITNexusID(b)])
        #expect(e.unitAttentions == [ua(.reservationsReleased, nexus(hostA, port: 2)), ua(.reservationsReleased, b)])
        #expect(s.reservation == nil)
    }

    @Test func allTargetPortsKeepsExistingRegistrations() throws {
        var s = ReservationState()
        try register(&s, nexus(hostA, port: 2), sak: 0x2)
        try register(&s, a, sak: 0xA, flags: ALL_TG_PT)
        #expect(s.registrations.map(\.key) == [0x2, 0xA])
        #expect(s.registrations.map(\.nexus.relativeTargetPortID) == [2, 1])
    }

    // MARK: SPEC_I_PT

    @Test func specifyInitiatorPorts() throws {
        var s = ReservationState()
        let list = specIPTList(sak: 0x55, tids: [fcTID(0x1000_0000_0000_000B), fcTID(0x1000_0000_0000_000C),
                                                   fcTID(0x1000_0000_0000_000A)]) // the issuer itself: ignored
        try prout(&s, a, SA.register, list: list)
        #expect(s.registrations.map(\.nexus) == [ITNexusID(a), ITNexusID(b), ITNexusID(c)])
        #expect(s.registrations.allSatisfy { $0.key == 0x55 })
        #expect(s.generation == 1)

        // iSCSI TransportIDs (format 0 and format 1 with an ISID) on the iSCSI port.
        var t = ReservationState()
        let i = nexus(hostI, port: 3)
        let other = "iqn.1994-05.com.redhat:host-j"
        let third = "iqn.1994-05.com.redhat:host-k"
        try prout(&t, i, SA.register, list: specIPTList(sak: 7, tids: [iscsiTID(other), iscsiTID(third + ",i,0x00023d000001", format: 1)]))
        #expect(t.registrations.map(\.nexus.initiator.description) == ["iqn.1994-05.com.redhat:host-i", other, third])
        #expect(t.registrations.allSatisfy { $0.nexus.relativeTargetPortID == 3 })

        // SPEC_I_PT with ALL_TG_PT: every TransportID on every port of its protocol.
        var u = ReservationState()
        try prout(&u, a, SA.register, list: specIPTList(sak: 9, flags: SPEC_I_PT | ALL_TG_PT, tids: [fcTID(0x1000_0000_0000_000B)]))
        #expect(u.registrations.count == 4)
        #expect(u.registrations.allSatisfy { $0.allTargetPorts })
    }

    @Test func specifyInitiatorPortsErrors() throws {
        var s = ReservationState()
        try register(&s, b, sak: 0xB)
        let before = s
        // A TransportID naming an I_T nexus that is already registered: nothing is registered.
        expectError(fieldInList(52)) {
            try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [fcTID(0x1000_0000_0000_000C), fcTID(0x1000_0000_0000_000B)]))
        }
        // Unknown protocol identifier (SAS) and format code.
        var sas = fcTID(0x5000_0000_0000_0001); sas[0] = 0x06
        expectError(fieldInList(28, 3)) { try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [sas])) }
        var fmt = fcTID(0x1000_0000_0000_000C); fmt[0] = 0x40
        expectError(fieldInList(28, 7)) { try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [fmt])) }
        // FC TransportID with a zero N_Port_Name.
        expectError(fieldInList(36)) { try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [fcTID(0)])) }
        // TransportID of another protocol than the receiving port.
        expectError(fieldInList(28, 3)) {
            try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [iscsiTID("iqn.1994-05.com.redhat:host-j")]))
        }
        let i = nexus(hostI, port: 3)
        // iSCSI: ADDITIONAL LENGTH not a multiple of 4, or past the end; a bad name.
        var odd = iscsiTID("iqn.1994-05.com.redhat:host-j"); odd[3] = 31
        expectError(fieldInList(30)) { try prout(&s, i, SA.register, list: specIPTList(sak: 1, tids: [odd])) }
        var long = iscsiTID("iqn.1994-05.com.redhat:host-j"); long[3] = 64
        expectError(fieldInList(30)) { try prout(&s, i, SA.register, list: specIPTList(sak: 1, tids: [long])) }
        expectError(fieldInList(32)) { try prout(&s, i, SA.register, list: specIPTList(sak: 1, tids: [iscsiTID("not-an-iscsi-name-at-all")])) }
        // A truncated TransportID (the second one has only 8 bytes).
        expectError(fieldInList(52)) {
            try prout(&s, a, SA.register, list: specIPTList(sak: 1, tids: [fcTID(0x1000_0000_0000_000C), Array(fcTID(0x1000_0000_0000_000D).prefix(8))]))
        }
        // TRANSPORTID PARAMETER DATA LENGTH beyond the parameter list; list too short for it.
        var over = specIPTList(sak: 1, tids: [fcTID(0x1000_0000_0000_000C)]); over[27] = 48
        expectError(.parameterListLengthError) { try prout(&s, a, SA.register, list: over) }
        expectError(.parameterListLengthError) { try prout(&s, a, SA.register, list: basicList(sak: 1, flags: SPEC_I_PT) + [0, 0]) }
        #expect(s == before)
    }

    @Test func registrationResources() throws {
        var s = ReservationState()
        for n in 0..<ReservationState.maximumRegistrations {
            try register(&s, nexus(.wwn(WWN(0x1100_0000_0000_0000 | UInt64(n)))), sak: 1)
        }
        expectError(SCSIError(.illegalRequest, .insufficientRegistrationResources)) { try register(&s, a, sak: 1) }
    }

    // MARK: REGISTER AND MOVE

    @Test func registerAndMove() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, c, sak: 0xC)
        try reserve(&s, a, key: 0xA, type: PRType.eaRO)
        // Move to hostB through port 2, which is not registered yet.
        // SCOPE and TYPE are ignored: the reservation keeps its own.
        let e = try prout(&s, a, SA.registerAndMove, type: 0xF, scope: 0xF,
                          list: moveList(key: 0xA, sak: 0xB2, rtpi: 2, tid: fcTID(0x1000_0000_0000_000B)))
        #expect(e == ReservationEffects())
        let b2 = ITNexusID(initiator: hostB, relativeTargetPortID: 2)
        #expect(s.reservation == PersistentReservation(type: .exclusiveAccessRegistrantsOnly, holder: b2))
        #expect(s.registrations.map(\.key) == [0xA, 0xC, 0xB2])
        #expect(s.generation == 3)
        #expect(try readReservation(s, a) == [0, 0, 0, 3, 0, 0, 0, 16] + be(0xB2, 8) + [0, 0, 0, 0, 0, 6, 0, 0])

        // Move back to a registered nexus (key kept) and unregister the source, with APTPL.
        let b2n = nexus(hostB, port: 2)
        let e2 = try prout(&s, b2n, SA.registerAndMove, type: PRType.eaRO,
                           list: moveList(key: 0xB2, sak: 0x99, unreg: true, aptpl: true, rtpi: 1, tid: fcTID(0x1000_0000_0000_000C)))
        #expect(e2.persist)
        #expect(s.persistThroughPowerLoss)
        #expect(s.reservation?.holder == ITNexusID(c))
        #expect(s.registrations.map(\.key) == [0xA, 0xC])
    }

    @Test func registerAndMoveErrors() throws {
        var s = ReservationState()
        try register(&s, a, sak: 0xA)
        try register(&s, b, sak: 0xB)
        let tidC = fcTID(0x1000_0000_0000_000C)
        func move(_ n: Nexus, key: UInt64, sak: UInt64 = 0xC, rtpi: UInt16 = 1, tid: [UInt8]? = nil, type: UInt8 = PRType.we,
                  length: Int? = nil) throws(SCSIError) {
            try prout(&s, n, SA.registerAndMove, type: type, list: moveList(key: key, sak: sak, rtpi: rtpi, tid: tid ?? tidC), length: length)
        }
        // No reservation.
        expectError(SCSIError(.illegalRequest, .invalidFieldInCDB)) { try move(a, key: 0xA) }
        try reserve(&s, a, key: 0xA, type: PRType.we)
        // Not the holder; not registered; wrong key.
        expectError(conflict) { try move(b, key: 0xB) }
        expectError(conflict) { try move(c, key: 0) }
        expectError(conflict) { try move(a, key: 0xB) }
        expectError(fieldInList(8)) { try move(a, key: 0xA, sak: 0) }
        expectError(fieldInList(18)) { try move(a, key: 0xA, rtpi: 9) }
        // To its own initiator port, through this or another target port.
        expectError(fieldInList(24)) { try move(a, key: 0xA, tid: fcTID(0x1000_0000_0000_000A)) }
        expectError(fieldInList(24)) { try move(a, key: 0xA, rtpi: 2, tid: fcTID(0x1000_0000_0000_000A)) }
        // FC TransportID to the iSCSI port.
        expectError(fieldInList(24, 3)) { try move(a, key: 0xA, rtpi: 3) }
        var bad = tidC; bad[0] = 0x0E
        expectError(fieldInList(24, 3)) { try move(a, key: 0xA, tid: bad) }
        // TransportID longer than the list, list shorter than 24.
        expectError(.parameterListLengthError) { try move(a, key: 0xA, length: 40) }
        expectError(.parameterListLengthError) { try move(a, key: 0xA, length: 20) }
        // All registrants reservations cannot be moved.
        try prout(&s, a, SA.release, type: PRType.we, list: basicList(key: 0xA))
        try reserve(&s, a, key: 0xA, type: PRType.weAR)
        expectError(conflict) { try move(a, key: 0xA, type: PRType.weAR) }
        #expect(s.registrations.count == 2)
        #expect(s.generation == 2)
    }

    // MARK: PERSISTENT RESERVE IN

    @Test func reportCapabilitiesAndInvalidServiceAction() throws {
        var s = ReservationState()
        let caps = try s.persistentReserveIn(cdb: prinCDB(2), nexus: a)
        #expect(caps == [0, 8, 0x0D, 0xB0, 0xEA, 0x01, 0, 0])
        try register(&s, a, sak: 1, flags: APTPL)
        #expect(try s.persistentReserveIn(cdb: prinCDB(2), nexus: a)[3] == 0xB1)
        for sa: UInt8 in [4, 5, 0x1F] {
            expectError(fieldInCDB(1, 4)) { _ = try s.persistentReserveIn(cdb: prinCDB(sa), nexus: a) }
        }
    }

    // MARK: APTPL effects

    @Test func aptplPersistEffects() throws {
        var s = ReservationState()
        // Without APTPL nothing is persisted.
        #expect(try register(&s, a, sak: 0xA).persist == false)
        // Setting APTPL persists, and so does every later change, RESERVE included.
        #expect(try register(&s, b, sak: 0xB, flags: APTPL).persist)
        #expect(s.persistThroughPowerLoss)
        #expect(try reserve(&s, a, key: 0xA, type: PRType.we).persist)
        // A failing or no-op command does not.
        expectError(conflict) { try reserve(&s, b, key: 0xB, type: PRType.we) }
        #expect(try reserve(&s, a, key: 0xA, type: PRType.we).persist == false)
        #expect(try prout(&s, b, SA.release, type: PRType.we, list: basicList(key: 0xB)).persist == false)
        // APTPL is ignored outside the register service actions.
        try prout(&s, a, SA.release, type: PRType.we, list: basicList(key: 0xA, flags: 0))
        #expect(s.persistThroughPowerLoss)
        // Turning APTPL off is persisted too; afterwards changes are not.
        #expect(try register(&s, a, key: 0xA, sak: 0xA1).persist)
        #expect(!s.persistThroughPowerLoss)
        #expect(try register(&s, a, key: 0xA1, sak: 0xA2).persist == false)
    }
}
