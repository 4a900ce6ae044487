
/// How a command fares under a persistent reservation it does not hold (SPC-4 table 66,
/// SBC-3 table 13, cross-checked with LIO's core_scsi3_pr_seq_non_holder).
enum ReservationAccessClass: Equatable {
    /// Allowed under every reservation type, from every I_T nexus.
    case allowed
    /// "Read" pattern: allowed through Write Exclusive types; conflicts under Exclusive
    /// Access types (unless registered for the registrants only / all registrants types).
    case read
    /// Everything else: conflicts unless holder (or registered, for the RO/AR types).
    case write

    static func of(_ cdb: CDB) -> ReservationAccessClass {
        switch cdb.opcode {
        case 0x12, // INQUIRY
             0x03, // REQUEST SENSE
             0xA0, // REPORT LUNS
             0x00, // TEST UNIT READY
             0x4D, // LOG SENSE
             0x25, // READ CAPACITY (10)
             0x5E, 0x5F, // PERSISTENT RESERVE IN/OUT: the service actions check keys themselves
             0x86, 0x87: // ACCESS CONTROL IN/OUT
            return .allowed
        case 0x9E: // SERVICE ACTION IN (16)
            switch cdb.serviceAction {
            case 0x10: return .allowed // READ CAPACITY (16)
            case 0x12, 0x11: return .read // GET LBA STATUS, READ LONG (16)
            default: return .write
            }
        case 0xAB: // SERVICE ACTION IN (12)
            return cdb.serviceAction == 0x01 ? .allowed : .write // READ MEDIA SERIAL NUMBER
        case 0xA3: // MAINTENANCE IN
            switch cdb.serviceAction {
            case 0x05, 0x0A, 0x0B, 0x0E, 0x0F: // REPORT IDENTIFYING INFORMATION, TARGET PORT GROUPS, ALIASES, PRIORITY, TIMESTAMP
                return .allowed
            case 0x0C, 0x0D, 0x10: // REPORT SUPPORTED OPERATION CODES / TMFs, MANAGEMENT PROTOCOL IN
                return .read
            default: return .write
            }
        case 0x1B: // START STOP UNIT: START=1 with POWER CONDITION 0 is allowed
            return (cdb[4] & 0x01 != 0 && cdb[4] >> 4 == 0) ? .allowed : .write
        case 0x1E: // PREVENT ALLOW MEDIUM REMOVAL: PREVENT=0 is allowed
            return cdb[4] & 0x03 == 0 ? .allowed : .write
        case 0x08, 0x28, 0xA8, 0x88, // READ (6/10/12/16)
             0x2F, 0xAF, 0x8F, // VERIFY (10/12/16)
             0x34, 0x90, // PRE-FETCH (10/16)
             0x1A, 0x5A, // MODE SENSE (6/10)
             0x3C, // READ BUFFER
             0x1C, // RECEIVE DIAGNOSTIC RESULTS
             0x8C, // READ ATTRIBUTE
             0x84, // RECEIVE COPY RESULTS
             0xA2, // SECURITY PROTOCOL IN
             0x37, 0xB7, // READ DEFECT DATA (10/12)
             0x3E: // READ LONG (10)
            return .read
        case 0x7F: // variable length: READ (32), VERIFY (32)
            let sa = cdb.u16(8)
            return (sa == 0x0009 || sa == 0x000A) ? .read : .write
        default:
            return .write
        }
    }
}

extension ReservationState {
    func conflictCheck(_ cdb: CDB, nexus id: ITNexusID) -> Bool {
        let op = cdb.opcode
        // SPC-2 RESERVE/RELEASE. With CRH=0 (SPC-4 5.13.3) they conflict whenever any I_T
        // nexus is registered; RELEASE by a non-holder otherwise completes with GOOD.
        if op == OperationCode.reserve6 || op == OperationCode.reserve10 {
            if !registrations.isEmpty { return true }
            if let h = spc2Holder, h != id { return true }
            return false
        }
        if op == OperationCode.release6 || op == OperationCode.release10 {
            return !registrations.isEmpty
        }
        if let h = spc2Holder {
            // PR commands conflict regardless of initiator while an SPC-2 reservation exists.
            if op == OperationCode.persistentReserveIn || op == OperationCode.persistentReserveOut { return true }
            if h == id { return false }
            return !(op == OperationCode.inquiry || op == OperationCode.requestSense || op == OperationCode.reportLUNs)
        }
        guard let r = reservation, !isHolder(id) else { return false }
        let access = ReservationAccessClass.of(cdb)
        if access == .allowed { return false }
        if r.type.admitsRegistrants, registrationIndex(id) != nil { return false }
        return !(r.type.isWriteExclusive && access == .read)
    }

    // MARK: SPC-2 RESERVE / RELEASE

    private static func checkSPC2CDB(_ cdb: CDB) throws(SCSIError) {
        let b1 = cdb[1]
        if b1 & 0x10 != 0 { throw .invalidFieldInCDB(byte: 1, bit: 4) } // 3RDPTY
        let tenByte = cdb.opcode == OperationCode.reserve10 || cdb.opcode == OperationCode.release10
        if tenByte, b1 & 0x02 != 0 { throw .invalidFieldInCDB(byte: 1, bit: 1) } // LONGID
        if b1 & 0x01 != 0 { throw .invalidFieldInCDB(byte: 1, bit: 0) } // EXTENT
    }

    mutating func spc2Reserve(cdb: CDB, nexus id: ITNexusID) throws(SCSIError) -> ReservationEffects {
        guard cdb.opcode == OperationCode.reserve6 || cdb.opcode == OperationCode.reserve10 else {
            throw .invalidOperationCode
        }
        try Self.checkSPC2CDB(cdb)
        if !registrations.isEmpty { throw .reservationConflict }
        if let h = spc2Holder, h != id { throw .reservationConflict }
        spc2Holder = id
        return ReservationEffects()
    }

    mutating func spc2Release(cdb: CDB, nexus id: ITNexusID) throws(SCSIError) -> ReservationEffects {
        guard cdb.opcode == OperationCode.release6 || cdb.opcode == OperationCode.release10 else {
            throw .invalidOperationCode
        }
        try Self.checkSPC2CDB(cdb)
        if !registrations.isEmpty { throw .reservationConflict }
        // Releasing a reservation held by another I_T nexus (or none) is not an error.
        if spc2Holder == id { spc2Holder = nil }
        return ReservationEffects()
    }
}
