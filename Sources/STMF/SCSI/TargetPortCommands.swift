/// The SCSI data every LU provider answers the same way, from STMF's own knowledge of LUs and
/// target ports: the designators of VPD page 0x83, REPORT TARGET PORT GROUPS, and the encodings
/// of REPORT SUPPORTED OPERATION CODES and REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS over a
/// provider's command table. SBD uses them; the pass-through provider must too, so that
/// target-port designators and relative port ids come from STMF's registry, never a device.
public enum SCSIIdentification {
    /// VPD 0x83 designators of an STMF logical unit: NAA IEEE Registered Extended from the GUID
    /// (association: logical unit), and T10 vendor identification (vendor id + GUID hex).
    public static func logicalUnitDesignators(guid: LUGUID, vendorID: String) -> [UInt8] {
        var d: [UInt8] = [0x01, 0x03, 0x00, 0x10] + guid.bytes
        var t10: [UInt8] = []
        t10.ascii(vendorID, padTo: 8)
        t10 += Array(guid.description.utf8)
        d += [0x02, 0x01, 0x00, UInt8(t10.count)] + t10
        return d
    }

    /// VPD 0x83 designators of the target port the command came through (association: target
    /// port, PIV set): relative target port, target port group, and the port's name.
    public static func targetPortDesignators(_ nexus: Nexus) -> [UInt8] {
        var d: [UInt8] = []
        let proto = nexus.targetPort.protocolIdentifier.rawValue << 4
        d += [proto | 0x01, 0x94, 0x00, 0x04, 0x00, 0x00]
        d.be16(nexus.relativeTargetPortID)
        d += [proto | 0x01, 0x95, 0x00, 0x04, 0x00, 0x00]
        d.be16(nexus.targetPortGroupID)
        switch nexus.targetPort {
        case let .wwn(w):
            d += [proto | 0x01, 0x93, 0x00, 0x08] + w.bytes
        case .iqn, .eui:
            let group = String(nexus.targetPortGroupID, radix: 16)
            var name = Array((nexus.targetPort.description + ",t,0x" + String(repeating: "0", count: 4 - group.count) + group).utf8) + [0]
            while name.count % 4 != 0 { name.append(0) }
            d += [proto | 0x03, 0x98, 0x00, UInt8(name.count)] + name
        }
        return d
    }

    /// REPORT TARGET PORT GROUPS parameter data: one group per distinct group id of `ports`
    /// (the nexus's own port when STMF lists none), all active/optimized (implicit ALUA).
    /// `format` is the CDB's PARAMETER DATA FORMAT (0: length only, 1: extended header).
    public static func reportTargetPortGroups(format: UInt8, ports: [TargetPortInfo], nexus: Nexus) throws(SCSIError) -> [UInt8] {
        if format > 1 { throw .invalidFieldInCDB(byte: 1, bit: 7) }
        var groups: [UInt16: [UInt16]] = [:]
        if ports.isEmpty {
            groups[nexus.targetPortGroupID] = [nexus.relativeTargetPortID]
        } else {
            for p in ports { groups[p.groupID, default: []].append(p.relativeID) }
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
        return d
    }
}

/// One command of a provider's table, as REPORT SUPPORTED OPERATION CODES describes it.
public struct SupportedCommand: Sendable {
    public var opcode: UInt8
    public var serviceAction: UInt16?
    /// The CDB usage data: which bits of each byte the command uses.
    public var usage: [UInt8]
    /// Nominal and recommended timeout, seconds (the RCTD descriptor).
    public var timeout: UInt32
    public init(opcode: UInt8, serviceAction: UInt16?, usage: [UInt8], timeout: UInt32) {
        self.opcode = opcode; self.serviceAction = serviceAction; self.usage = usage; self.timeout = timeout
    }
}

public enum SupportedOperations {
    /// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) over `commands`; `hasServiceActions`
    /// tells which operation codes take a service action. Returns the parameter data (the
    /// caller truncates it to the allocation length).
    public static func report(_ cdb: CDB, commands: [SupportedCommand], hasServiceActions: (UInt8) -> Bool) throws(SCSIError) -> [UInt8] {
        let rctd = cdb[2] & 0x80 != 0
        let options = cdb[2] & 0x07
        let op = cdb[3], sa = cdb.u16(4)
        func timeouts(_ e: SupportedCommand) -> [UInt8] {
            var d: [UInt8] = [0x00, 0x0A, 0x00, 0x00]
            d.be32(e.timeout); d.be32(e.timeout)
            return d
        }
        var d: [UInt8] = []
        switch options {
        case 0:
            var list: [UInt8] = []
            for e in commands {
                list += [e.opcode, 0]
                list.be16(e.serviceAction ?? 0)
                list += [0, (rctd ? 0x02 : 0) | (e.serviceAction != nil ? 0x01 : 0)]
                list.be16(UInt16(e.usage.count))
                if rctd { list += timeouts(e) }
            }
            d.be32(UInt32(list.count))
            d += list
        case 1, 2, 3:
            let hasSA = hasServiceActions(op)
            if options == 1 && hasSA { throw .invalidFieldInCDB(byte: 3, bit: nil) }
            if options == 2 && !hasSA { throw .invalidFieldInCDB(byte: 3, bit: nil) }
            if let e = commands.first(where: { $0.opcode == op && $0.serviceAction == (hasSA ? sa : nil) }) {
                d = [0x00, (rctd ? 0x80 : 0x00) | 0x03]
                d.be16(UInt16(e.usage.count))
                d += e.usage
                if rctd { d += timeouts(e) }
            } else {
                d = [0x00, 0x01, 0x00, 0x00]   // not supported
            }
        default:
            throw .invalidFieldInCDB(byte: 2, bit: 2)
        }
        return d
    }

    /// REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS (SPC-4 6.39) for what STMF carries out: ATS,
    /// ATSS, CTSS, LURS, QTS, TRS and ITNRS (not CACAS); REPD adds the extended descriptor.
    public static func taskManagementFunctions(_ cdb: CDB) -> [UInt8] {
        var d: [UInt8] = [0xDE, 0x01, 0x00, 0x00]
        if cdb[2] & 0x80 != 0 {
            d[3] = 0x0C
            d += [UInt8](repeating: 0, count: 12)
        }
        return d
    }
}
