import STMF

extension SBDLogicalUnit {
    static let supportedVPDPages: [UInt8] = [0x00, 0x80, 0x83, 0x86, 0xB0, 0xB1, 0xB2]

    func vpdPage(_ page: UInt8, nexus: Nexus) throws(SCSIError) -> [UInt8] {
        var body: [UInt8]
        switch page {
        case 0x00: body = Self.supportedVPDPages
        case 0x80: body = Array(serialNumber.utf8)
        case 0x83: body = deviceIdentification(nexus)
        case 0x86: body = extendedInquiry()
        case 0xB0: body = blockLimits()
        case 0xB1: body = blockDeviceCharacteristics()
        case 0xB2: body = logicalBlockProvisioning()
        default: throw .invalidFieldInCDB(byte: 2, bit: 7)
        }
        var d: [UInt8] = [0x00, page]
        d.be16(UInt16(body.count))
        return d + body
    }

    /// Unit serial number: the `serial` property, else the GUID's 32 hex digits.
    var serialNumber: String { properties.serial ?? guid.description }

    /// Device Identification (0x83): the LU's designators (NAA-6, T10 vendor id) and the
    /// target port's (relative port, port group, port name), from STMF's SCSI library.
    func deviceIdentification(_ nexus: Nexus) -> [UInt8] {
        SCSIIdentification.logicalUnitDesignators(guid: guid, vendorID: properties.vendorID)
            + SCSIIdentification.targetPortDesignators(nexus)
    }

    /// Extended INQUIRY Data (0x86): HEADSUP, ORDSUP, SIMPSUP; V_SUP.
    func extendedInquiry() -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 60)
        d[1] = 0x07     // HEADSUP | ORDSUP | SIMPSUP
        d[2] = 0x01     // V_SUP
        return d
    }

    /// Block Limits (0xB0).
    func blockLimits() -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 60)
        d[0] = 0x01                                   // WSNZ
        d[1] = limits.maxCompareAndWriteBlocks
        d.put16(1, at: 2)                             // optimal transfer length granularity
        d.put32(limits.maxTransferBlocks, at: 4)
        d.put32(limits.optimalTransferBlocks, at: 8)
        if store.unmapReadsZero || store.kind == .blockDevice {
            d.put32(limits.maxUnmapLBACount, at: 16)
            d.put32(limits.maxUnmapDescriptors, at: 20)
            d.put32(limits.unmapGranularity, at: 24)
        }
        d.put64(limits.maxWriteSameBlocks, at: 32)
        return d
    }

    /// Block Device Characteristics (0xB1): non-rotating medium.
    func blockDeviceCharacteristics() -> [UInt8] {
        var d = [UInt8](repeating: 0, count: 60)
        d.put16(0x0001, at: 0)
        return d
    }

    /// Logical Block Provisioning (0xB2).
    func logicalBlockProvisioning() -> [UInt8] {
        var d: [UInt8] = [0x00, 0xE0, 0x00, 0x00]      // LBPU, LBPWS, LBPWS10
        if store.unmapReadsZero { d[1] |= 0x04 }       // LBPRZ
        d[2] = store.thinProvisioned ? 0x02 : 0x01     // thin / resource provisioned
        return d
    }
}
