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

    /// Device Identification (0x83): LU NAA-6, T10 vendor id, relative target port, target
    /// port group, and the target port name.
    func deviceIdentification(_ nexus: Nexus) -> [UInt8] {
        var d: [UInt8] = []
        // Logical unit: NAA IEEE Registered Extended, binary, association 00b.
        d += [0x01, 0x03, 0x00, 0x10] + guid.bytes
        // T10 vendor identification: vendor id + GUID hex, ASCII.
        var t10: [UInt8] = []
        t10.ascii(properties.vendorID, padTo: 8)
        t10 += Array(guid.description.utf8)
        d += [0x02, 0x01, 0x00, UInt8(t10.count)] + t10
        let proto = nexus.targetPort.protocolIdentifier.rawValue << 4
        // Relative target port (type 4), association 01b (target port), PIV.
        d += [proto | 0x01, 0x94, 0x00, 0x04, 0x00, 0x00]
        d.be16(nexus.relativeTargetPortID)
        // Target port group (type 5).
        d += [proto | 0x01, 0x95, 0x00, 0x04, 0x00, 0x00]
        d.be16(nexus.targetPortGroupID)
        // Target port name.
        switch nexus.targetPort {
        case let .wwn(w):
            d += [proto | 0x01, 0x93, 0x00, 0x08] + w.bytes
        case .iqn, .eui:
            var name = Array((nexus.targetPort.description + ",t,0x" + hex4(nexus.targetPortGroupID)).utf8) + [0]
            while name.count % 4 != 0 { name.append(0) }
            d += [proto | 0x03, 0x98, 0x00, UInt8(name.count)] + name
        }
        return d
    }

    private func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
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
