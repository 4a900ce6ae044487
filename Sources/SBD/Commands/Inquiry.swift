import STMF

extension SBDLogicalUnit {
    /// INQUIRY: standard data or a VPD page.
    func inquiry(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let alloc = Int(cdb.u16(3))
        let evpd = cdb[1] & 0x01 != 0
        if !evpd {
            if cdb[2] != 0 { throw .invalidFieldInCDB(byte: 2, bit: 7) }
            return t.respond(with: standardInquiry(), allocationLength: alloc)
        }
        return t.respond(with: try vpdPage(cdb[2], nexus: t.nexus), allocationLength: alloc)
    }

    func standardInquiry() -> [UInt8] {
        let p = properties
        var d: [UInt8] = [
            0x00,        // peripheral qualifier 0, direct access block device
            0x00,        // not removable
            0x06,        // SPC-4
            0x12,        // HISUP, response data format 2
            0x00,        // additional length (below)
            0x10,        // TPGS = 01b: implicit ALUA
            0x00,
            0x02,        // CMDQUE
        ]
        d.ascii(p.vendorID, padTo: 8)
        d.ascii(p.productID, padTo: 16)
        d.ascii(p.revision, padTo: 4)
        d += [UInt8](repeating: 0, count: 20)   // vendor specific 36..55
        d += [0x00, 0x00]                        // 56..57
        for v: UInt16 in [0x00A0, 0x0460, 0x04C0, 0x0A40] { d.be16(v) }   // SAM-5, SPC-4, SBC-3, FCP-4
        d += [UInt8](repeating: 0, count: 8)    // remaining version descriptors
        d[4] = UInt8(d.count - 5)
        return d
    }
}
