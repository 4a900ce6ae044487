import Foundation
import Testing
@testable import SBD
@testable import STMF

func maintenanceIn(_ sa: UInt8, byte1High: UInt8 = 0, _ b2: UInt8 = 0, _ b3: UInt8 = 0, _ b45: UInt16 = 0, alloc: UInt32 = 8192) -> [UInt8] {
    [0xA3, byte1High | sa, b2, b3] + be(UInt64(b45), 2) + be(UInt64(alloc), 4) + [0, 0]
}

@Suite struct ReportTests {
    @Test func reportAllOperationCodes() async throws {
        let h = try Harness.ram()
        let r = await h.run(maintenanceIn(0x0C))
        #expect(r.status == .good)
        let n = SBDCommandTable.all.count
        #expect(Array(r.data[0..<4]) == be(UInt64(8 * n), 4))
        #expect(r.data.count == 4 + 8 * n)
        // READ (10) descriptor.
        let descriptors = stride(from: 4, to: r.data.count, by: 8).map { Array(r.data[$0..<($0 + 8)]) }
        #expect(descriptors.contains([0x28, 0, 0, 0, 0, 0x00, 0, 10]))
        #expect(descriptors.contains([0x9E, 0, 0, 0x10, 0, 0x01, 0, 16]))
        #expect(descriptors.contains([0xA3, 0, 0, 0x0A, 0, 0x01, 0, 12]))
        #expect(!descriptors.contains { $0[0] == 0xA0 })     // REPORT LUNS belongs to STMF
        let rctd = await h.run(maintenanceIn(0x0C, 0x80))
        #expect(rctd.data.count == 4 + 20 * n)
        #expect(Array(rctd.data[4..<24]) == [0x00, 0, 0, 0, 0, 0x02, 0, 6, 0, 0x0A, 0, 0] + be(30, 4) + be(30, 4))
    }

    @Test func reportOneOperationCode() async throws {
        let h = try Harness.ram()
        let r10 = await h.run(maintenanceIn(0x0C, 0x01, 0x28))
        #expect(r10.data == [0, 0x03, 0, 10, 0x28, 0x1E, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0xFF, 0xFF, 0x00])
        let cap16 = await h.run(maintenanceIn(0x0C, 0x02, 0x9E, 0x10))
        #expect(Array(cap16.data[0..<6]) == [0, 0x03, 0, 16, 0x9E, 0x1F])
        let withTimeouts = await h.run(maintenanceIn(0x0C, 0x81, 0x2A))
        #expect(withTimeouts.data.count == 4 + 10 + 12)
        #expect(withTimeouts.data[1] == 0x83)
        let unsupported = await h.run(maintenanceIn(0x0C, 0x01, 0xC0))
        #expect(unsupported.data == [0, 0x01, 0, 0])
        let unsupportedSA = await h.run(maintenanceIn(0x0C, 0x02, 0x9E, 0x13))
        #expect(unsupportedSA.data == [0, 0x01, 0, 0])
        #expect(await h.run(maintenanceIn(0x0C, 0x01, 0x9E)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 3, bit: nil))
        #expect(await h.run(maintenanceIn(0x0C, 0x02, 0x28)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 3, bit: nil))
        #expect(await h.run(maintenanceIn(0x0C, 0x04)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 2))
    }

    /// Every CDB bit the usage data marks unused is refused with a pointer to it.
    @Test func usageDataMatchesReservedBitChecks() async throws {
        let h = try Harness.ram()
        for e in SBDCommandTable.all where e.opcode != 0x1B {
            for i in 1..<(e.usage.count - 1) where e.usage[i] != 0xFF {
                let bit = 7 - (~e.usage[i]).leadingZeroBitCount
                var cdb = [UInt8](repeating: 0, count: e.usage.count)
                cdb[0] = e.opcode
                if let sa = e.serviceAction { cdb[1] = UInt8(sa) }
                cdb[i] |= UInt8(1 << bit)
                let r = await h.run(cdb, out: [UInt8](repeating: 0, count: 512))
                #expect(r.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: UInt16(i), bit: UInt8(bit)),
                        "opcode \(e.opcode) byte \(i) bit \(bit): \(r.response)")
            }
        }
    }

    @Test func reportSupportedTMFs() async throws {
        let h = try Harness.ram()
        #expect(await h.run(maintenanceIn(0x0D)).data == [0xDE, 0x01, 0x00, 0x00])
        let repd = await h.run(maintenanceIn(0x0D, 0x80))
        #expect(repd.data == [0xDE, 0x01, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12))
        #expect(repd.data[0] & 0x20 == 0)   // CACAS not supported
    }

    @Test func reportTargetPortGroups() async throws {
        let h = try Harness.ram()
        let r = await h.run(maintenanceIn(0x0A))
        #expect(r.data == be(28, 4)
                + [0x80, 0x01, 0x00, 0x01, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]
                + [0x80, 0x01, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 3])
        let ext = await h.run(maintenanceIn(0x0A, byte1High: 0x20))
        #expect(Array(ext.data[0..<8]) == be(32, 4) + [0x10, 0, 0, 0])
        #expect(ext.data.count == 36)
        let cut = await h.run(maintenanceIn(0x0A, alloc: 10))
        #expect(cut.data.count == 10)
        #expect(cut.response.intendedLength == 10)
        #expect(await h.run(maintenanceIn(0x0A, byte1High: 0x40)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 7))
        #expect(await h.run(maintenanceIn(0x0B)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
    }
}

@Suite struct SenseTests {
    @Test func invalidOperationCode() async throws {
        let h = try Harness.ram()
        let r = await h.run([0xC0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(r.status == .checkCondition)
        #expect(r.sense?.additional == .invalidCommandOperationCode)
        let d = try decodeHex("sg_decode_sense", r.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Fixed format, current; Sense key: Illegal Request"))
        #expect(d.stdout.contains("Additional sense: Invalid command operation code"))
        #expect(await h.run([0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]).sense?.additional == .invalidCommandOperationCode)
    }

    @Test func fieldPointerAndParameterListDecode() async throws {
        let h = try Harness.ram()
        let r = await h.run([0x00, 0, 0, 0x04, 0, 0])
        let d = try decodeHex("sg_decode_sense", r.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Additional sense: Invalid field in cdb"))
        #expect(d.stdout.contains("Error in Command: byte 3 bit 2"))
        let list = await h.run(unmapCDB(4), out: [0, 0, 0, 0])
        let dl = try decodeHex("sg_decode_sense", list.senseBytes, flag: "--file=")
        #expect(dl.stderr == "")
        #expect(dl.stdout.contains("Parameter list length error"))
        var rcd = [0, 0, 0, 0] + cachingPage(wce: true); rcd[6] |= 0x01
        let p = await h.run(modeSelect6(rcd), out: rcd)
        let dp = try decodeHex("sg_decode_sense", p.senseBytes, flag: "--file=")
        #expect(dp.stderr == "")
        #expect(dp.stdout.contains("Invalid field in parameter list"))
        #expect(dp.stdout.contains("Error in Data parameters: byte 6 bit 0"))
    }

    @Test func lbaOutOfRangeDecode() async throws {
        let h = try Harness.ram()
        let r = await h.run(read16(1 << 40, 1))
        let d = try decodeHex("sg_decode_sense", r.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Logical block address out of range"))
    }

    @Test func notReadyDecode() async throws {
        let h = try Harness.ram()
        _ = await h.run([0x1B, 0, 0, 0, 0, 0])
        let r = await h.run(read10(0, 1))
        let d = try decodeHex("sg_decode_sense", r.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Sense key: Not Ready"))
        #expect(d.stdout.contains("initializing command required"))
    }
}

@Suite struct EventTests {
    @Test func nexusLossAndResetReachTheLU() async throws {
        let h = try Harness.ram()
        h.lu.handle(.itNexusLoss(makeNexus(session: 3)))
        h.lu.handle(.stateChanged(online: false))
        h.lu.handle(.logicalUnitReset)
        #expect(await h.run([0, 0, 0, 0, 0, 0]).status == .good)
        #expect(h.lu.taskAbortedStatus)
        #expect(h.lu.peripheralDeviceType == 0)
    }
}
