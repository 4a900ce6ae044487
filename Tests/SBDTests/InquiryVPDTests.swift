import Foundation
import Testing
@testable import SBD
@testable import STMF

@Suite struct InquiryVPDTests {
    @Test func standardInquiryDecodes() async throws {
        let h = try Harness.ram()
        let r = await h.run(inquiry())
        #expect(r.status == .good)
        #expect(r.data.count == 74)
        #expect(r.response.intendedLength == 74)
        #expect(Array(r.data[0..<8]) == [0x00, 0x00, 0x06, 0x12, 69, 0x10, 0x00, 0x02])
        #expect(Array(r.data[58..<66]) == [0x00, 0xA0, 0x04, 0x60, 0x04, 0xC0, 0x0A, 0x40])
        let out = try decodeHex("sg_inq", r.data)
        #expect(out.stderr == "")
        #expect(out.stdout.contains("version=0x06  [SPC-4]"))
        #expect(out.stdout.contains("HiSUP=1  Resp_data_format=2"))
        #expect(out.stdout.contains("TPGS=1"))
        #expect(out.stdout.contains("CmdQue=1"))
        #expect(out.stdout.contains("Vendor identification: STMF"))
        #expect(out.stdout.contains("Product identification: SBD DISK"))
        #expect(out.stdout.contains("Product revision level: 1.0"))
    }

    @Test func customIdentityAndAllocationLength() async throws {
        let h = try Harness.ram { $0.vendorID = "ACME"; $0.productID = "FASTDISK"; $0.revision = "2.5" }
        let r = await h.run(inquiry(alloc: 36))
        #expect(r.data.count == 36)
        #expect(r.response.intendedLength == 36)
        #expect(String(decoding: r.data[8..<36], as: UTF8.self) == "ACME    FASTDISK        2.5 ")
        let limited = await h.run(inquiry(), inLength: 20)
        #expect(limited.data.count == 20)
        #expect(limited.response.intendedLength == 74)
    }

    @Test func inquiryFieldErrors() async throws {
        let h = try Harness.ram()
        let cmddt = await h.run([0x12, 0x02, 0, 0, 255, 0])
        #expect(cmddt.sense == SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 1, bit: 1)))
        let pageWithoutEVPD = await h.run([0x12, 0x00, 0x80, 0, 255, 0])
        #expect(pageWithoutEVPD.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 7))
        let unknownPage = await h.run(inquiry(evpd: true, page: 0x99))
        #expect(unknownPage.sense?.additional == .invalidFieldInCDB)
        #expect(unknownPage.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 7))
    }

    @Test func supportedPagesAndSerial() async throws {
        let h = try Harness.ram()
        let p0 = await h.run(inquiry(evpd: true, page: 0))
        #expect(p0.data == [0, 0, 0, 7, 0x00, 0x80, 0x83, 0x86, 0xB0, 0xB1, 0xB2])
        let d0 = try decodeHex("sg_vpd", p0.data)
        #expect(d0.stderr == "")
        #expect(d0.stdout.contains("Logical block provisioning (SBC) [lbpv]"))
        let p80 = await h.run(inquiry(evpd: true, page: 0x80))
        let d80 = try decodeHex("sg_vpd", p80.data)
        #expect(d80.stderr == "")
        #expect(d80.stdout.contains("Unit serial number: SN-0001"))
        // Default serial: the GUID.
        let g = try Harness.ram { $0.serial = nil }
        let s = await g.run(inquiry(evpd: true, page: 0x80))
        #expect(String(decoding: s.data[4...], as: UTF8.self) == "600144F0C0FFEE000000000000000001")
    }

    @Test func deviceIdentificationFC() async throws {
        let h = try Harness.ram()
        let n = makeNexus(session: 7, relativePort: 3, group: 2)
        let r = await h.run(inquiry(evpd: true, page: 0x83), nexus: n)
        #expect(Array(r.data[4..<24]) == [0x01, 0x03, 0x00, 0x10] + LUGUID("600144F0C0FFEE000000000000000001")!.bytes)
        let d = try decodeHex("sg_vpd", r.data)
        #expect(d.stderr == "")
        #expect(d.stdout.contains("designator type: NAA,  code set: Binary\n      0x600144f0c0ffee000000000000000001"))
        #expect(d.stdout.contains("vendor id: STMF"))
        #expect(d.stdout.contains("Relative target port: 0x3"))
        #expect(d.stdout.contains("Target port group: 0x2"))
        #expect(d.stdout.contains("0x21000024ff7f0003"))
        #expect(d.stdout.contains("Target port:"))
    }

    @Test func deviceIdentificationISCSIName() async throws {
        let h = try Harness.ram()
        let n = Nexus(sessionID: 2, initiator: try PortIdentifier(parsing: "iqn.1994-05.com.redhat:init"),
                      targetPort: try PortIdentifier(parsing: "iqn.2026-11.org.example:tgt"),
                      relativeTargetPortID: 5, targetPortGroupID: 1)
        let r = await h.run(inquiry(evpd: true, page: 0x83), nexus: n)
        let d = try decodeHex("sg_vpd", r.data)
        #expect(d.stderr == "")
        #expect(d.stdout.contains("SCSI name string"))
        #expect(d.stdout.contains("iqn.2026-11.org.example:tgt,t,0x0001"))
        #expect(d.stdout.contains("Relative target port: 0x5"))
    }

    @Test func extendedInquiryAndCharacteristics() async throws {
        let h = try Harness.ram()
        let e = await h.run(inquiry(evpd: true, page: 0x86))
        #expect(e.data.count == 64)
        let de = try decodeHex("sg_vpd", e.data)
        #expect(de.stderr == "")
        #expect(de.stdout.contains("HEADSUP=1 ORDSUP=1 SIMPSUP=1"))
        #expect(de.stdout.contains("V_SUP=1"))
        let b1 = await h.run(inquiry(evpd: true, page: 0xB1))
        let db1 = try decodeHex("sg_vpd", b1.data)
        #expect(db1.stderr == "")
        #expect(db1.stdout.contains("Non-rotating medium"))
    }

    @Test func blockLimits() async throws {
        let h = try Harness.ram(blockSize: 4096)
        let r = await h.run(inquiry(evpd: true, page: 0xB0))
        #expect(r.data.count == 64)
        let d = try decodeHex("sg_vpd", r.data)
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Write same non-zero (WSNZ): 1"))
        #expect(d.stdout.contains("Maximum compare and write length: 16 blocks"))
        #expect(d.stdout.contains("Maximum transfer length: 2048 blocks"))
        #expect(d.stdout.contains("Optimal transfer length: 256 blocks"))
        #expect(d.stdout.contains("Maximum unmap LBA count: 262144"))
        #expect(d.stdout.contains("Maximum unmap block descriptor count: 256"))
        #expect(d.stdout.contains("Optimal unmap granularity: 1 blocks"))
        #expect(d.stdout.contains("Maximum write same length: 0x4000 blocks"))
    }

    @Test func logicalBlockProvisioningFile() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        defer { lu.delete() }
        let h = Harness(lu)
        let r = await h.run(inquiry(evpd: true, page: 0xB2))
        #expect(r.data == [0x00, 0xB2, 0x00, 0x04, 0x00, 0xE4, 0x02, 0x00])
        let d = try decodeHex("sg_vpd", r.data)
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Unmap command supported (LBPU): 1"))
        #expect(d.stdout.contains("Logical block provisioning read zeros (LBPRZ): 1"))
        #expect(d.stdout.contains("Provisioning type: 2 (thin provisioned)"))
    }
}
