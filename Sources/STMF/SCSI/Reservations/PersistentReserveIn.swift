
extension ReservationState {
    /// PERSISTENT RESERVE IN (SPC-4 6.15).
    func prIn(cdb: CDB, nexus: Nexus) throws(SCSIError) -> [UInt8] {
        if spc2Holder != nil { throw .reservationConflict }
        guard let sa = PRInServiceAction(rawValue: cdb.serviceAction) else {
            throw .invalidFieldInCDB(byte: 1, bit: 4)
        }
        switch sa {
        case .readKeys: return readKeys()
        case .readReservation: return readReservation()
        case .reportCapabilities: return reportCapabilities()
        case .readFullStatus: return readFullStatus()
        }
    }

    /// The key READ RESERVATION reports: the holder's, or zero for all registrants types.
    var reservationKey: UInt64 {
        guard let r = reservation, let h = r.holder else { return 0 }
        return registrations.first { $0.nexus == h }?.key ?? 0
    }

    /// SPC-4 6.15.2.
    func readKeys() -> [UInt8] {
        var d: [UInt8] = []
        d.reserveCapacity(8 + 8 * registrations.count)
        d.appendBE32(generation)
        d.appendBE32(UInt32(8 * registrations.count))
        for r in registrations { d.appendBE64(r.key) }
        return d
    }

    /// SPC-4 6.15.3.
    func readReservation() -> [UInt8] {
        var d: [UInt8] = []
        d.appendBE32(generation)
        guard let r = reservation else {
            d.appendBE32(0)
            return d
        }
        d.appendBE32(16)
        d.appendBE64(reservationKey)
        d.appendBE32(0) // obsolete
        d.append(0) // reserved
        d.append(r.type.rawValue) // SCOPE (LU_SCOPE = 0) | TYPE
        d.appendBE16(0) // obsolete
        return d
    }

    /// SPC-4 6.15.4.
    func reportCapabilities() -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 8)
        d[1] = 8 // LENGTH
        // RLR_C=0, CRH=0 (SPC-2 RESERVE/RELEASE conflict with registrations), SIP_C, ATP_C, PTPL_C.
        d[2] = 0x08 | 0x04 | 0x01
        // TMV, ALLOW COMMANDS = 011b (TEST UNIT READY allowed through WE and EA; MODE SENSE,
        // READ BUFFER and the other 'read' commands allowed through Write Exclusive), PTPL_A.
        d[3] = 0x80 | (0b011 << 4) | (aptpl ? 0x01 : 0)
        // PERSISTENT RESERVATION TYPE MASK: WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX; EX_AC_AR.
        d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02
        d[5] = 0x01
        return d
    }

    /// SPC-4 6.15.5.
    func readFullStatus() -> [UInt8] {
        var d: [UInt8] = []
        d.appendBE32(generation)
        d.appendBE32(0) // ADDITIONAL LENGTH, patched below
        for reg in registrations {
            let holder = isHolder(reg.nexus)
            let tid = reg.nexus.initiator.transportID
            d.appendBE64(reg.key)
            d.appendBE32(0) // reserved
            d.append((reg.allTargetPorts ? 0x02 : 0) | (holder ? 0x01 : 0))
            d.append(holder ? (reservation?.type.rawValue ?? 0) : 0) // SCOPE | TYPE
            d.appendBE32(0) // reserved
            d.appendBE16(reg.nexus.relativeTargetPortID)
            d.appendBE32(UInt32(tid.count)) // ADDITIONAL DESCRIPTOR LENGTH
            d += tid
        }
        d.putBE32(UInt32(d.count - 8), at: 4)
        return d
    }
}
