import Foundation
import Testing
@testable import SBD
@testable import STMF

func modeSense6(page: UInt8, pc: UInt8 = 0, dbd: Bool = false, subpage: UInt8 = 0, alloc: UInt8 = 255) -> [UInt8] {
    [0x1A, dbd ? 0x08 : 0x00, pc << 6 | page, subpage, alloc, 0]
}
func modeSense10(page: UInt8, pc: UInt8 = 0, llbaa: Bool = false, dbd: Bool = false) -> [UInt8] {
    [0x5A, (llbaa ? 0x10 : 0) | (dbd ? 0x08 : 0), pc << 6 | page, 0, 0, 0, 0, 0x10, 0x00, 0]
}
func modeSelect6(_ params: [UInt8], sp: Bool = false, pf: Bool = true) -> [UInt8] {
    [0x15, (pf ? 0x10 : 0) | (sp ? 0x01 : 0), 0, 0, UInt8(params.count), 0]
}
func cachingPage(wce: Bool) -> [UInt8] { var p = [UInt8](repeating: 0, count: 20); p[0] = 0x08; p[1] = 0x12; p[2] = wce ? 0x04 : 0; return p }
func controlPage(dSense: Bool) -> [UInt8] { var p = [UInt8](repeating: 0, count: 12); p[0] = 0x0A; p[1] = 0x0A; p[2] = dSense ? 0x04 : 0; p[5] = 0x40; return p }

@Suite struct ModePageTests {
    @Test func cachingPageCurrentChangeableDefaultSaved() async throws {
        let h = try Harness.ram()
        let cur = await h.run(modeSense6(page: 0x08))
        #expect(cur.data.count == 4 + 8 + 20)
        #expect(Array(cur.data[0..<4]) == [31, 0x00, 0x10, 0x08])
        #expect(Array(cur.data[4..<12]) == [0, 0, 0x08, 0x00, 0, 0, 0x02, 0x00])   // 2048 blocks of 512
        #expect(Array(cur.data[12..<15]) == [0x88, 0x12, 0x04])
        let chg = await h.run(modeSense6(page: 0x08, pc: 1, dbd: true))
        #expect(chg.data == [23, 0, 0x10, 0] + [0x88, 0x12, 0x04] + [UInt8](repeating: 0, count: 17))
        let wcd = try Harness.ram { $0.writeCacheDisabled = true }
        #expect(await wcd.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x00)
        #expect(await wcd.run(modeSense6(page: 0x08, pc: 2, dbd: true)).data[6] == 0x00)
        #expect(await wcd.run(modeSense6(page: 0x08, pc: 3, dbd: true)).data[6] == 0x00)
    }

    @Test func allPagesAndTenByteForms() async throws {
        let h = try Harness.ram()
        let all = await h.run(modeSense6(page: 0x3F, dbd: true))
        #expect(all.data.count == 48)
        #expect([all.data[4], all.data[24], all.data[36]] == [0x88, 0x8A, 0x1C])
        #expect(all.data[29] == 0x40)            // TAS
        #expect(all.data[27] & 0x06 == 0)        // QERR 0
        #expect(all.data[38] == 0x08)            // DEXCPT
        let long = await h.run(modeSense10(page: 0x0A, llbaa: true))
        #expect(Array(long.data[0..<8]) == [0, 34, 0, 0x10, 0x01, 0, 0, 16])
        #expect(Array(long.data[8..<24]) == be(2048, 8) + be(0, 4) + be(512, 4))
        #expect(Array(long.data[24..<27]) == [0x8A, 0x0A, 0x00])
        let short = await h.run(modeSense10(page: 0x1C))
        #expect(Array(short.data[0..<8]) == [0, 26, 0, 0x10, 0, 0, 0, 8])
        let wp = try Harness.ram { $0.writeProtect = true }
        #expect(await wp.run(modeSense6(page: 0x08)).data[2] == 0x90)
    }

    @Test func modeSenseErrors() async throws {
        let h = try Harness.ram()
        #expect(await h.run(modeSense6(page: 0x19)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 5))
        #expect(await h.run(modeSense6(page: 0x08, subpage: 1)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 3, bit: 7))
        #expect(await h.run(modeSense6(page: 0x3F, subpage: 0xFF)).status == .good)
    }

    @Test func modeSelectWCEEstablishesUAOnOtherNexuses() async throws {
        let h = try Harness.ram()
        let params: [UInt8] = [0, 0, 0, 0] + cachingPage(wce: false)
        let r = await h.run(modeSelect6(params), out: params)
        #expect(r.status == .good)
        #expect(await h.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x00)
        #expect(await h.run(modeSense6(page: 0x08, pc: 3, dbd: true)).data[6] == 0x04)     // not saved (SP=0)
        #expect(h.services.unitAttentions.count == 1)
        #expect(h.services.unitAttentions.first?.0 == .modeParametersChanged)
        #expect(h.services.unitAttentions.first?.1 == .allExcept(sessionID: 1))
        // Setting the same value again changes nothing and raises no UA.
        _ = await h.run(modeSelect6(params), out: params)
        #expect(h.services.unitAttentions.count == 1)
        // LOGICAL UNIT RESET restores the saved values.
        h.lu.handle(.logicalUnitReset)
        #expect(await h.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x04)
    }

    @Test func dSenseSwitchesToDescriptorFormat() async throws {
        let h = try Harness.ram()
        let before = await h.run(read10(5000, 1))
        #expect(before.response.descriptorSense == false)
        #expect(before.senseBytes.first == 0x70)
        let params: [UInt8] = [0, 0, 0, 0] + controlPage(dSense: true)
        #expect(await h.run(modeSelect6(params), out: params).status == .good)
        #expect(h.lu.descriptorSense)
        let after = await h.run(read10(5000, 1))
        #expect(after.response.descriptorSense)
        #expect(after.senseBytes.first == 0x72)
        let d = try decodeHex("sg_decode_sense", after.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Descriptor format, current; Sense key: Illegal Request"))
        #expect(d.stdout.contains("Additional sense: Logical block address out of range"))
        let field = await h.run([0x28, 0x20, 0, 0, 0, 0, 0, 0, 1, 0])
        let df = try decodeHex("sg_decode_sense", field.senseBytes, flag: "--file=")
        #expect(df.stderr == "")
        #expect(df.stdout.contains("Field pointer:"))
        #expect(df.stdout.contains("Error in Command: byte 1 bit 5"))
    }

    @Test func modeSelectValidation() async throws {
        let h = try Harness.ram()
        func sel(_ p: [UInt8], count: Int? = nil, pf: Bool = true) async -> SenseData? {
            await h.run(modeSelect6(p, pf: pf), out: p, dataOutCount: count).sense
        }
        var rcd = [0, 0, 0, 0] + cachingPage(wce: true); rcd[6] |= 0x01
        #expect(await sel(rcd) == SenseData(.illegalRequest, .invalidFieldInParameterList,
                                             senseKeySpecific: .fieldPointer(inCDB: false, byte: 6, bit: 0)))
        var badLen = [0, 0, 0, 0] + cachingPage(wce: true); badLen[5] = 0x10
        #expect(await sel(badLen)?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 5, bit: nil))
        var unknownPage = [0, 0, 0, 0] + cachingPage(wce: true); unknownPage[4] = 0x19
        #expect(await sel(unknownPage)?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 4, bit: 5))
        var tas = [0, 0, 0, 0] + controlPage(dSense: false); tas[9] = 0x00
        #expect(await sel(tas)?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 9, bit: 6))
        #expect(await sel([0, 0, 0, 0] + cachingPage(wce: true), pf: false)?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        #expect(await sel([0, 0, 0]) == SenseData(.illegalRequest, .parameterListLengthError))
        #expect(await sel([0, 0, 0, 0] + Array(cachingPage(wce: true)[0..<10])) == SenseData(.illegalRequest, .parameterListLengthError))
        #expect(await sel([0, 0, 0, 0] + cachingPage(wce: true), count: 10)?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 4, bit: nil))
        var modeDataLength = [0, 0, 0, 0] + cachingPage(wce: true); modeDataLength[0] = 23
        #expect(await sel(modeDataLength)?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 0, bit: 4))
        // Block descriptor with the wrong block length.
        let bd: [UInt8] = [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0x00]
        #expect(await sel(bd)?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 9, bit: nil))
        let goodBD: [UInt8] = [0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x02, 0x00] + cachingPage(wce: true)
        #expect(await sel(goodBD) == nil)
        // MODE SELECT (10).
        let p10: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0] + controlPage(dSense: true)
        let r10 = await h.run([0x55, 0x10, 0, 0, 0, 0, 0, 0, UInt8(p10.count), 0], out: p10)
        #expect(r10.status == .good)
        #expect(h.lu.descriptorSense)
        // Nothing changed by the refused ones.
        #expect(await h.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x04)
    }

    @Test func savedParametersPersistAcrossImport() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        let h = Harness(lu)
        let params: [UInt8] = [0, 0, 0, 0] + cachingPage(wce: false) + controlPage(dSense: true)
        #expect(await h.run(modeSelect6(params, sp: true), out: params).status == .good)
        #expect(await h.run(modeSense6(page: 0x08, pc: 3, dbd: true)).data[6] == 0x00)
        lu.delete()
        let again = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        defer { again.delete() }
        let h2 = Harness(again)
        #expect(await h2.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x00)
        #expect(await h2.run(modeSense6(page: 0x08, pc: 3, dbd: true)).data[6] == 0x00)
        #expect(await h2.run(modeSense6(page: 0x08, pc: 2, dbd: true)).data[6] == 0x04)
        #expect(again.descriptorSense)
    }

    @Test func startStopUnit() async throws {
        let h = try Harness.ram()
        #expect(await h.run([0x1B, 0, 0, 0, 0x00, 0]).status == .good)
        let tur = await h.run([0x00, 0, 0, 0, 0, 0])
        #expect(tur.sense == SenseData(.notReady, .logicalUnitNotReadyInitializingCommandRequired))
        #expect(await h.run(read10(0, 1)).sense?.key == .notReady)
        #expect(await h.run(inquiry()).status == .good)
        let rs = await h.run([0x03, 0, 0, 0, 252, 0])
        #expect(rs.status == .good)
        #expect(SenseData(parsing: rs.data) == SenseData(.notReady, .logicalUnitNotReadyInitializingCommandRequired))
        #expect(await h.run([0x1B, 0, 0, 0, 0x02, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 4, bit: 1))
        #expect(await h.run([0x1B, 0, 0, 0, 0x31, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 4, bit: 7))
        #expect(await h.run([0x1B, 0x01, 0, 0, 0x01, 0]).status == .good)    // IMMED start
        #expect(await h.run([0x00, 0, 0, 0, 0, 0]).status == .good)
        #expect(await h.run([0x1B, 0, 0, 0, 0x03, 0]).status == .good)       // LOEJ with START: ignored
    }

    @Test func requestSenseFormats() async throws {
        let h = try Harness.ram()
        let fixed = await h.run([0x03, 0, 0, 0, 252, 0])
        #expect(fixed.data.count == 18)
        #expect(fixed.data[0] == 0x70 && fixed.data[2] == 0x00 && fixed.data[12] == 0)
        let desc = await h.run([0x03, 0x01, 0, 0, 252, 0])
        #expect(desc.data == [0x72, 0, 0, 0, 0, 0, 0, 0])
        let d = try decodeHex("sg_decode_sense", fixed.data, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Sense key: No Sense"))
    }
}
