import STMF

/// MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES, REPORT SUPPORTED TASK MANAGEMENT
/// FUNCTIONS and REPORT TARGET PORT GROUPS.
extension SBDLogicalUnit {
    private func timeoutsDescriptor(_ e: SBDCommandInfo) -> [UInt8] {
        var d: [UInt8] = [0x00, 0x0A, 0x00, 0x00]
        d.be32(e.timeout); d.be32(e.timeout)
        return d
    }

    func reportSupportedOperationCodes(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let rctd = cdb[2] & 0x80 != 0
        let options = cdb[2] & 0x07
        let op = cdb[3], sa = cdb.u16(4)
        let alloc = Int(cdb.u32(6))
        var d: [UInt8] = []
        switch options {
        case 0:
            var list: [UInt8] = []
            for e in SBDCommandTable.all {
                list += [e.opcode, 0]
                list.be16(e.serviceAction ?? 0)
                list += [0, (rctd ? 0x02 : 0) | (e.serviceAction != nil ? 0x01 : 0)]
                list.be16(UInt16(e.usage.count))
                if rctd { list += timeoutsDescriptor(e) }
            }
            d.be32(UInt32(list.count))
            d += list
        case 1, 2, 3:
            let hasSA = SBDCommandTable.hasServiceActions(op)
            if options == 1 && hasSA { throw .invalidFieldInCDB(byte: 3, bit: nil) }
            if options == 2 && !hasSA { throw .invalidFieldInCDB(byte: 3, bit: nil) }
            if let e = SBDCommandTable.find(opcode: op, serviceAction: hasSA ? sa : nil) {
                d = [0x00, (rctd ? 0x80 : 0x00) | 0x03]
                d.be16(UInt16(e.usage.count))
                d += e.usage
                if rctd { d += timeoutsDescriptor(e) }
            } else {
                d = [0x00, 0x01, 0x00, 0x00]   // not supported
            }
        default:
            throw .invalidFieldInCDB(byte: 2, bit: 2)
        }
        return t.respond(with: d, allocationLength: alloc)
    }

    /// ATS, ATSS, CTSS, LURS, QTS, TRS and ITNRS are supported; CACAS is not.
    func reportSupportedTMFs(_ t: LUTask) -> TaskResponse {
        var d: [UInt8] = [0xDE, 0x01, 0x00, 0x00]
        if t.cdb[2] & 0x80 != 0 {
            d[3] = 0x0C
            d += [UInt8](repeating: 0, count: 12)
        }
        return t.respond(with: d, allocationLength: Int(t.cdb.u32(6)))
    }

    /// One target port group per distinct group id, all active/optimized (implicit ALUA).
    func reportTargetPortGroups(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let format = cdb[1] >> 5
        if format > 1 { throw .invalidFieldInCDB(byte: 1, bit: 7) }
        var groups: [UInt16: [UInt16]] = [:]
        if let ports = services?.targetPorts(), !ports.isEmpty {
            for p in ports { groups[p.groupID, default: []].append(p.relativeID) }
        } else {
            groups[t.nexus.targetPortGroupID] = [t.nexus.relativeTargetPortID]
        }
        var d: [UInt8] = [0, 0, 0, 0]
        if format == 1 { d += [0x10, 0x00, 0x00, 0x00] }
        for id in groups.keys.sorted() {
            let rel = groups[id]!.sorted()
            d += [0x80, 0x01]        // PREF, active/optimized; AO_SUP
            d.be16(id)
            d += [0x00, 0x00, 0x00, UInt8(min(rel.count, 255))]
            for r in rel.prefix(255) { d += [0, 0]; d.be16(r) }
        }
        d.put32(UInt32(d.count - 4), at: 0)
        return t.respond(with: d, allocationLength: Int(cdb.u32(6)))
    }
}
