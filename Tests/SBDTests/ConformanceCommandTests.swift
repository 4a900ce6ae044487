import Foundation
import Testing
@testable import SBD
@testable import STMF

func getLBAStatus(_ lba: UInt64, alloc: UInt32 = 4096) -> [UInt8] { [0x9E, 0x12] + be(lba, 8) + be(UInt64(alloc), 4) + [0, 0] }
func preFetch10(_ lba: UInt32, _ n: UInt16, immed: Bool = false, group: UInt8 = 0) -> [UInt8] {
    [0x34, immed ? 0x02 : 0] + be(UInt64(lba), 4) + [group] + be(UInt64(n), 2) + [0]
}
func preFetch16(_ lba: UInt64, _ n: UInt32) -> [UInt8] { [0x90, 0] + be(lba, 8) + be(UInt64(n), 4) + [0, 0] }
func orWrite16(_ lba: UInt64, _ n: UInt32, flags: UInt8 = 0) -> [UInt8] { [0x8B, flags] + be(lba, 8) + be(UInt64(n), 4) + [0, 0] }
func writeSame16(_ lba: UInt64, _ n: UInt32, flags: UInt8 = 0) -> [UInt8] { [0x93, flags] + be(lba, 8) + be(UInt64(n), 4) + [0, 0] }
func compareAndWrite(_ lba: UInt64, _ n: UInt8) -> [UInt8] { [0x89, 0] + be(lba, 8) + [0, 0, 0, n, 0, 0] }

/// The LBA status descriptors of a GET LBA STATUS answer: (LBA, blocks, provisioning status).
func lbaStatusDescriptors(_ d: [UInt8]) -> [(UInt64, UInt32, UInt8)] {
    func u(_ o: Int, _ n: Int) -> UInt64 { d[o..<(o + n)].reduce(0) { $0 << 8 | UInt64($1) } }
    let length = Int(u(0, 4))
    return stride(from: 8, to: min(d.count, length + 4), by: 16).map { o in (u(o, 8), UInt32(u(o + 8, 4)), d[o + 12] & 0x0F) }
}

/// The sense data `prepare` refuses a CDB with, nil when it accepts it.
func prepareError(_ h: Harness, _ cdb: [UInt8]) -> SenseData? {
    do throws(SCSIError) {
        _ = try h.lu.prepare(CDB(cdb), nexus: h.nexus)
        return nil
    } catch {
        return error.sense
    }
}

@Suite struct ConformanceCommandTests {
    @Test func getLBAStatusFollowsTheFilesHoles() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 8 << 20
        let h = Harness(try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu"))))
        defer { h.lu.delete() }
        let blocks: UInt64 = 16384
        // A new file is one hole: everything deallocated.
        var r = await h.run(getLBAStatus(0))
        #expect(r.status == .good)
        #expect(lbaStatusDescriptors(r.data).map { [$0.0, UInt64($0.1), UInt64($0.2)] } == [[0, blocks, 1]])
        // 1 MiB of data at LBA 2048 is mapped, the rest stays deallocated.
        #expect(await h.run(write10(2048, 2048), out: pattern(1 << 20)).status == .good)
        r = await h.run(getLBAStatus(0))
        #expect(lbaStatusDescriptors(r.data).map { [$0.0, UInt64($0.1), UInt64($0.2)] }
                == [[0, 2048, 1], [2048, 2048, 0], [4096, blocks - 4096, 1]])
        // UNMAP punches a hole in the middle of it.
        let list = unmapList([(2560, 512)])
        #expect(await h.run(unmapCDB(list.count), out: list).status == .good)
        r = await h.run(getLBAStatus(2048))
        #expect(lbaStatusDescriptors(r.data).map { [$0.0, UInt64($0.1), UInt64($0.2)] }
                == [[2048, 512, 0], [2560, 512, 1], [3072, 1024, 0], [4096, blocks - 4096, 1]])
        // sg3_utils decodes the answer the same way.
        let decoded = try decodeHex("sg_get_lba_status", r.data, ["--maxlen=4096"])
        #expect(decoded.stderr == "")
        #expect(decoded.stdout.contains("[2] LBA: 0x0000000000000a00  blocks:        512  deallocated"), "\(decoded.stdout)")
        #expect(decoded.stdout.contains("[3] LBA: 0x0000000000000c00  blocks:       1024  mapped"), "\(decoded.stdout)")
        // An allocation length for one descriptor gets one; the header says how many follow.
        r = await h.run(getLBAStatus(2048, alloc: 24), inLength: 24)
        #expect(r.data.count == 24 && lbaStatusDescriptors(r.data).count == 1)
        // The last LBA is fine; the one after it is out of range.
        #expect(await h.run(getLBAStatus(blocks - 1)).status == .good)
        #expect(await h.run(getLBAStatus(blocks)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
    }

    @Test func getLBAStatusOnRAMReportsChunksNeverWritten() async throws {
        let h = try Harness.ram(size: 4 << 20)
        #expect(await h.run(write10(2048, 8), out: pattern(4096)).status == .good)   // chunk 1 (1 MiB = 2048 blocks)
        let r = await h.run(getLBAStatus(0))
        #expect(lbaStatusDescriptors(r.data).map { [$0.0, UInt64($0.1), UInt64($0.2)] }
                == [[0, 2048, 1], [2048, 2048, 0], [4096, 4096, 1]])
    }

    @Test func preFetchChecksItsRangeAndAnswersGood() async throws {
        let h = try Harness.ram(size: 1 << 20)   // 2048 blocks
        #expect(await h.run(preFetch10(0, 256)).status == .good)
        #expect(await h.run(preFetch10(0, 1, immed: true, group: 3)).status == .good)
        #expect(await h.run(preFetch10(0, 0)).status == .good)               // to the last block
        #expect(await h.run(preFetch16(2047, 1)).status == .good)
        #expect(await h.run(preFetch16(2047, 2)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        #expect(await h.run(preFetch10(2049, 0)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        #expect(await h.run(preFetch16(UInt64.max, 1)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        // A file LU hands the range to the page cache (POSIX_FADV_WILLNEED) and answers the same.
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let f = Harness(try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu"))))
        defer { f.lu.delete() }
        #expect(await f.run(preFetch16(0, 2048)).status == .good)
    }

    @Test func readDefectDataHasNoDefects() async throws {
        let h = try Harness.ram()
        // (10): PLIST and GLIST requested in block format: both valid, empty.
        var r = await h.run([0x37, 0, 0x18, 0, 0, 0, 0, 0, 32, 0])
        #expect(r.status == .good && r.data == [0x00, 0x18, 0x00, 0x00])
        r = await h.run([0x37, 0, 0x05, 0, 0, 0, 0, 0, 32, 0])
        #expect(r.data == [0x00, 0x05, 0x00, 0x00])
        #expect(await h.run([0x37, 0, 0x07, 0, 0, 0, 0, 0, 32, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 2))
        // (12): an 8-byte header.
        r = await h.run([0xB7, 0x1B] + be(0, 4) + be(32, 4) + [0, 0])
        #expect(r.status == .good && r.data == [0x00, 0x1B, 0, 0, 0, 0, 0, 0])
        r = await h.run([0xB7, 0x08] + be(0, 4) + be(2, 4) + [0, 0], inLength: 2)
        #expect(r.data == [0x00, 0x08])
    }

    @Test func orWriteORsIntoTheMedium() async throws {
        let h = try Harness.ram()
        let a = [UInt8](repeating: 0x0F, count: 1024), b = [UInt8](repeating: 0x30, count: 1024)
        #expect(await h.run(write16(10, 2), out: a).status == .good)
        #expect(await h.run(orWrite16(10, 2, flags: 0x18), out: b).status == .good)   // DPO + FUA
        #expect(await h.run(read16(10, 2)).data == [UInt8](repeating: 0x3F, count: 1024))
        #expect(await h.run(orWrite16(2047, 2), out: b).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        #expect(await h.run(orWrite16(10, 0), out: []).status == .good)
        // ORPROTECT: no protection information, so any value is refused.
        #expect(await h.run(orWrite16(10, 2, flags: 0x20), out: b).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 5))
        let wp = try Harness.ram { $0.writeProtect = true }
        #expect(await wp.run(orWrite16(10, 2), out: b).sense == SenseData(.dataProtect, .writeProtected))
    }

    /// Every limit of the Block Limits page is what the commands accept: the limit works, one
    /// more is refused with the field it exceeds.
    @Test func blockLimitsAreExactlyWhatTheCommandsAccept() async throws {
        let h = try Harness.ram(size: 1 << 30)   // 2^21 blocks, sparse
        let page = await h.run(inquiry(evpd: true, page: 0xB0)).data
        func u32(_ o: Int) -> UInt32 { page[o..<(o + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ o: Int) -> UInt64 { page[o..<(o + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        let maxCAW = page[5], maxTransfer = u32(8), maxUnmap = u32(20), maxDescriptors = u32(24), maxWS = u64(36)
        #expect(page[4] & 0x01 == 1)                     // WSNZ: WRITE SAME of 0 blocks is refused
        #expect(maxTransfer > 0 && maxUnmap > 0 && maxDescriptors > 0 && maxWS > 0 && maxCAW > 0)
        #expect(maxUnmap <= 1 << 20 && maxWS <= 0xFFFF)   // the sanity bounds libiscsi applies

        // MAXIMUM TRANSFER LENGTH: READ and WRITE.
        let n = Int(maxTransfer) * 512
        #expect(await h.run(write16(0, maxTransfer), out: pattern(n)).status == .good)
        let back = await h.run(read16(0, maxTransfer), inLength: n)
        #expect(back.status == .good && back.data == pattern(n))
        #expect(await h.run(read16(0, maxTransfer + 1), inLength: n + 512).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        #expect(await h.run(write16(0, maxTransfer + 1), out: pattern(n + 512)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        // The same refusal comes from prepare, before any data or buffer.
        #expect(prepareError(h, write16(0, maxTransfer + 1))?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        #expect(try h.lu.prepare(CDB(write16(0, maxTransfer)), nexus: h.nexus) == n)
        #expect(try h.lu.prepare(CDB(read16(0, 1)), nexus: h.nexus) == 512)
        #expect(try h.lu.prepare(CDB(inquiry()), nexus: h.nexus) == nil)

        // MAXIMUM WRITE SAME LENGTH.
        let block = pattern(512, seed: 3)
        #expect(await h.run(writeSame16(0, UInt32(maxWS)), out: block).status == .good)
        #expect(await h.run(writeSame16(0, UInt32(maxWS) + 1), out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        #expect(await h.run(writeSame16(0, 0), out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))

        // MAXIMUM UNMAP LBA COUNT, summed over the descriptors.
        let half = maxUnmap / 2
        let exact = unmapList([(0, half), (UInt64(half), maxUnmap - half)])
        #expect(await h.run(unmapCDB(exact.count), out: exact).status == .good)
        let over = unmapList([(0, half), (UInt64(half), maxUnmap - half + 1)])
        #expect(await h.run(unmapCDB(over.count), out: over).sense?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 32, bit: nil))
        // MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT.
        let most = unmapList((0..<Int(maxDescriptors)).map { (UInt64($0) * 8, UInt32(8)) })
        #expect(await h.run(unmapCDB(most.count), out: most).status == .good)
        let tooMany = unmapList((0...Int(maxDescriptors)).map { (UInt64($0) * 8, UInt32(8)) })
        #expect(await h.run(unmapCDB(tooMany.count), out: tooMany).sense?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 2, bit: nil))

        // MAXIMUM COMPARE AND WRITE LENGTH.
        let cawBytes = Int(maxCAW) * 512
        let medium = await h.run(read16(0, UInt32(maxCAW)), inLength: cawBytes).data
        #expect(await h.run(compareAndWrite(0, maxCAW), out: medium + pattern(cawBytes, seed: 9)).status == .good)
        if maxCAW < 255 {
            let more = Int(maxCAW + 1) * 512
            #expect(await h.run(compareAndWrite(0, maxCAW + 1), out: pattern(2 * more)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 13, bit: nil))
        }
    }
}
