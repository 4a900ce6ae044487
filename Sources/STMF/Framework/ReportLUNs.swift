/// REPORT LUNS (SPC-4 6.33), answered by STMF from the session's LUN map.
enum ReportLUNs {
    /// Builds the parameter data or throws the standard error for a bad CDB.
    static func parameterData(cdb: CDB, luns: [UInt16]) throws(SCSIError) -> (data: [UInt8], allocationLength: Int) {
        let select = cdb[2]
        let allocationLength = Int(cdb.u32(6))
        var fields: [UInt64]
        switch select {
        case 0x00: fields = luns.map(LUNAddress.field(for:))
        case 0x01: fields = [LUNAddress.reportLUNsWellKnownField]
        case 0x02: fields = luns.map(LUNAddress.field(for:)) + [LUNAddress.reportLUNsWellKnownField]
        case 0x10: fields = []                                  // administrative LUs: none
        case 0x11: fields = luns.contains(0) ? luns.map(LUNAddress.field(for:)) : []
        case 0x12: fields = []                                  // subsidiary LUs: none
        default: throw .invalidFieldInCDB(byte: 2)
        }
        // SPC-4: an allocation length below 16 is an error.
        guard allocationLength >= 16 else { throw .invalidFieldInCDB(byte: 6) }
        var data = [UInt8](repeating: 0, count: 8 + 8 * fields.count)
        let listLength = UInt32(8 * fields.count)
        data[0] = UInt8(listLength >> 24); data[1] = UInt8((listLength >> 16) & 0xFF)
        data[2] = UInt8((listLength >> 8) & 0xFF); data[3] = UInt8(listLength & 0xFF)
        for (i, f) in fields.enumerated() {
            for j in 0..<8 { data[8 + 8 * i + j] = UInt8(truncatingIfNeeded: f >> (56 - 8 * UInt64(j))) }
        }
        return (data, allocationLength)
    }
}

/// Responses STMF gives for LUNs with no logical unit behind them.
enum NoLogicalUnit {
    /// Standard INQUIRY data with peripheral qualifier 3 (not capable of supporting a device
    /// here) and device type 1Fh, or that of the REPORT LUNS well-known LU.
    static func inquiry(cdb: CDB, wellKnown: Bool) throws(SCSIError) -> (data: [UInt8], allocationLength: Int) {
        let evpd = cdb[1] & 0x01 != 0
        let page = cdb[2]
        let allocationLength = Int(cdb.u16(3))
        let pdt: UInt8 = wellKnown ? 0x1E : 0x7F
        if cdb[1] & 0xFE != 0 { throw .invalidFieldInCDB(byte: 1) }
        if evpd {
            guard page == 0x00 else { throw .invalidFieldInCDB(byte: 2) }
            return ([pdt, 0x00, 0x00, 0x01, 0x00], allocationLength)
        }
        guard page == 0 else { throw .invalidFieldInCDB(byte: 2) }
        var d = [UInt8](repeating: 0x20, count: 36)
        d[0] = pdt; d[1] = 0; d[2] = 0x06; d[3] = 0x02; d[4] = 31; d[5] = 0; d[6] = 0; d[7] = 0x02
        let vendor = Array("STMF    ".utf8), product = Array((wellKnown ? "REPORT LUNS W-LU" : "NO LOGICAL UNIT ").utf8)
        d.replaceSubrange(8..<16, with: vendor)
        d.replaceSubrange(16..<32, with: product)
        d.replaceSubrange(32..<36, with: Array("1.0 ".utf8))
        return (d, allocationLength)
    }

    /// REQUEST SENSE to a LUN with no LU: GOOD status, sense data LOGICAL UNIT NOT SUPPORTED.
    static func requestSense(cdb: CDB) -> (data: [UInt8], allocationLength: Int) {
        let descriptor = cdb[1] & 0x01 != 0
        let sense = SenseData(.illegalRequest, .logicalUnitNotSupported)
        return (sense.bytes(descriptor: descriptor), Int(cdb[4]))
    }
}
