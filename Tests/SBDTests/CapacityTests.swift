import Foundation
import Testing
@testable import SBD
@testable import STMF

@Suite struct CapacityTests {
    @Test func readCapacity10And16() async throws {
        let h = try Harness.ram(size: 1 << 20)
        let r10 = await h.run([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(r10.data == [0, 0, 0x07, 0xFF, 0, 0, 0x02, 0x00])
        let r16 = await h.run([0x9E, 0x10] + [UInt8](repeating: 0, count: 8) + be(32, 4) + [0, 0])
        #expect(r16.data.count == 32)
        #expect(Array(r16.data[0..<16]) == be(2047, 8) + be(512, 4) + [0x00, 0x00, 0xC0, 0x00])
        let short = await h.run([0x9E, 0x10] + [UInt8](repeating: 0, count: 8) + be(12, 4) + [0, 0])
        #expect(short.data.count == 12)
    }

    @Test func readCapacity10Overflow() async throws {
        let h = try Harness.ram(size: (UInt64(1) << 32) * 512 + 512 * 10)
        let r10 = await h.run([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(r10.data == [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x02, 0x00])
        let r16 = await h.run([0x9E, 0x10] + [UInt8](repeating: 0, count: 8) + be(32, 4) + [0, 0])
        #expect(Array(r16.data[0..<8]) == be((UInt64(1) << 32) + 9, 8))
    }

    @Test func readCapacityFieldErrors() async throws {
        let h = try Harness.ram()
        let lbaWithoutPMI = await h.run([0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(lbaWithoutPMI.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: nil))
        let badSA = await h.run([0x9E, 0x11] + [UInt8](repeating: 0, count: 14))
        #expect(badSA.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
    }

    @Test func modifyGrowRaisesCapacityChanged() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        defer { lu.delete() }
        let h = Harness(lu)
        try await lu.modify(SBDModification(size: 2 << 20))
        let r10 = await h.run([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(r10.data == [0, 0, 0x0F, 0xFF, 0, 0, 0x02, 0x00])
        #expect(h.services.unitAttentions.count == 1)
        #expect(h.services.unitAttentions.first?.0 == .capacityDataHasChanged)
        #expect(h.services.unitAttentions.first?.1 == .all)
        let attrs = try FileManager.default.attributesOfItem(atPath: dir.path("lu"))
        #expect((attrs[.size] as? NSNumber)?.intValue == 65536 + (2 << 20))
        await #expect(throws: SBDError.shrinkNotSupported(current: 2 << 20, requested: 1 << 20)) {
            try await lu.modify(SBDModification(size: 1 << 20))
        }
        let reimported = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        #expect(reimported.blockCount == 4096)
        reimported.delete()
    }
}
