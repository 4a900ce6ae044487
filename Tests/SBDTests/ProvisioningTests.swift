import Foundation
import Testing
@testable import SBD
@testable import STMF

func unmapCDB(_ length: Int, anchor: Bool = false) -> [UInt8] { [0x42, anchor ? 1 : 0, 0, 0, 0, 0, 0] + be(UInt64(length), 2) + [0] }
func unmapList(_ ranges: [(UInt64, UInt32)]) -> [UInt8] {
    var d = be(UInt64(6 + 16 * ranges.count), 2) + be(UInt64(16 * ranges.count), 2) + [0, 0, 0, 0]
    for (lba, n) in ranges { d += be(lba, 8) + be(UInt64(n), 4) + [0, 0, 0, 0] }
    return d
}

@Suite struct ProvisioningTests {
    func fileLU(_ dir: TempDir, size: UInt64 = 8 << 20) throws -> Harness {
        var p = SBDProperties(); p.size = size
        return Harness(try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu"))))
    }

    @Test func unmapPunchesHoles() async throws {
        let dir = try TempDir()
        let h = try fileLU(dir)
        defer { h.lu.delete() }
        let data = pattern(1 << 20, seed: 11)
        #expect(await h.run(write10(2048, 2048), out: data).status == .good)
        #expect(await h.run([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
        let before = fileBlocks(dir.path("lu"))
        let list = unmapList([(2048, 1024), (3072, 1024)])
        let r = await h.run(unmapCDB(list.count), out: list)
        #expect(r.status == .good)
        let after = fileBlocks(dir.path("lu"))
        #expect(before - after >= 2000)     // 1 MiB = 2048 stat blocks freed
        let back = await h.run(read10(2048, 2048), inLength: 1 << 20)
        #expect(back.data == [UInt8](repeating: 0, count: 1 << 20))
    }

    @Test func unmapValidation() async throws {
        let h = try Harness.ram(size: 1 << 20)
        #expect(await h.run(unmapCDB(0), out: []).status == .good)
        #expect(await h.run(unmapCDB(4), out: [0, 0, 0, 0]).sense == SenseData(.illegalRequest, .parameterListLengthError))
        let one = unmapList([(0, 8)])
        #expect(await h.run(unmapCDB(one.count, anchor: true), out: one).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 0))
        #expect(await h.run(unmapCDB(one.count), out: one, dataOutCount: 10).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        let outside = unmapList([(0, 8), (2040, 9)])
        #expect(await h.run(unmapCDB(outside.count), out: outside).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        let many = unmapList((0..<257).map { (UInt64($0), UInt32(1)) })
        #expect(await h.run(unmapCDB(many.count), out: many).sense?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 2, bit: nil))
        var lying = unmapList([(0, 8)]); lying[3] = 0x40   // descriptor data length past the list
        #expect(await h.run(unmapCDB(lying.count), out: lying).sense?.additional == .invalidFieldInParameterList)
        let big = try Harness.ram(size: 2 << 30)
        let tooMany = unmapList([(0, 1 << 20), (1 << 20, 1)])
        #expect(await big.run(unmapCDB(tooMany.count), out: tooMany).sense?.senseKeySpecific == .fieldPointer(inCDB: false, byte: 32, bit: nil))
        let wp = try Harness.ram { $0.writeProtect = true }
        #expect(await wp.run(unmapCDB(one.count), out: one).sense == SenseData(.dataProtect, .writeProtected))
    }

    @Test func writeSamePatternAndZero() async throws {
        let h = try Harness.ram()
        let block = pattern(512, seed: 99)
        #expect(await h.run([0x41, 0] + be(10, 4) + [0] + be(20, 2) + [0], out: block).status == .good)
        let r = await h.run(read10(9, 22))
        #expect(Array(r.data[0..<512]) == [UInt8](repeating: 0, count: 512))
        for i in 1...20 { #expect(Array(r.data[(i * 512)..<((i + 1) * 512)]) == block) }
        #expect(Array(r.data[(21 * 512)...]) == [UInt8](repeating: 0, count: 512))
        // WRITE SAME (16) with NDOB writes zeroes.
        #expect(await h.run([0x93, 0x01] + be(10, 8) + be(5, 4) + [0, 0], out: []).status == .good)
        let z = await h.run(read10(10, 6))
        #expect(Array(z.data[0..<2560]) == [UInt8](repeating: 0, count: 2560))
        #expect(Array(z.data[2560...]) == block)
    }

    @Test func writeSameUnmapPunchesHoles() async throws {
        let dir = try TempDir()
        let h = try fileLU(dir)
        defer { h.lu.delete() }
        #expect(await h.run(write10(0, 4096), out: pattern(2 << 20), inLength: 0).status == .good)
        _ = await h.run([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let before = fileBlocks(dir.path("lu"))
        let zero = [UInt8](repeating: 0, count: 512)
        #expect(await h.run([0x93, 0x08] + be(0, 8) + be(4096, 4) + [0, 0], out: zero).status == .good)
        let after = fileBlocks(dir.path("lu"))
        #expect(before - after >= 4000)
        #expect(await h.run(read10(0, 4096), inLength: 2 << 20).data == [UInt8](repeating: 0, count: 2 << 20))
        // Without UNMAP, a nonzero block is written everywhere.
        let block = pattern(512, seed: 5)
        #expect(await h.run([0x41, 0x00] + be(100, 4) + [0] + be(3, 2) + [0], out: block).status == .good)
        #expect(await h.run(read10(100, 3)).data == block + block + block)
    }

    @Test func writeSameErrors() async throws {
        let h = try Harness.ram()
        let block = pattern(512)
        #expect(await h.run([0x41, 0x10] + be(0, 4) + [0] + be(1, 2) + [0], out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        #expect(await h.run([0x93, 0x10] + be(0, 8) + be(1, 4) + [0, 0], out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
        #expect(await h.run([0x41, 0x00] + be(0, 4) + [0] + be(0, 2) + [0], out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 7, bit: nil))
        #expect(await h.run([0x93, 0x00] + be(0, 8) + be(0x2_0001, 4) + [0, 0], out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        #expect(await h.run([0x41, 0x00] + be(2047, 4) + [0] + be(2, 2) + [0], out: block).sense?.additional == .lbaOutOfRange)
        #expect(await h.run([0x41, 0x00] + be(0, 4) + [0] + be(1, 2) + [0], out: block, dataOutCount: 100).sense?.additional == .invalidFieldInCDB)
        #expect(await h.run([0x41, 0x01] + be(0, 4) + [0] + be(1, 2) + [0], out: block).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 0))  // NDOB only in (16)
    }
}

func compareAndWrite(_ lba: UInt64, _ n: UInt8, fua: Bool = false) -> [UInt8] {
    [0x89, fua ? 0x08 : 0] + be(lba, 8) + [0, 0, 0, n, 0, 0]
}

@Suite struct CompareAndWriteTests {
    @Test func successAndMiscompare() async throws {
        let h = try Harness.ram()
        let old = pattern(1024, seed: 1), new = pattern(1024, seed: 2)
        _ = await h.run(write10(4, 2), out: old)
        let ok = await h.run(compareAndWrite(4, 2), out: old + new)
        #expect(ok.status == .good)
        #expect(await h.run(read10(4, 2)).data == new)
        var wrong = new; wrong[600] ^= 1
        let mis = await h.run(compareAndWrite(4, 2), out: wrong + old)
        #expect(mis.sense == SenseData(.miscompare, .miscompareDuringVerify, information: 600))
        let d = try decodeHex("sg_decode_sense", mis.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Sense key: Miscompare"))
        #expect(d.stdout.contains("Miscompare during verify operation"))
        #expect(d.stdout.contains("Info fld=0x258 [600]"))
        #expect(await h.run(read10(4, 2)).data == new)   // unchanged
    }

    @Test func limitsAndErrors() async throws {
        let h = try Harness.ram()
        #expect(await h.run(compareAndWrite(0, 0), out: []).status == .good)
        #expect(await h.run(compareAndWrite(0, 129), out: []).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 13, bit: nil))
        #expect(await h.run(compareAndWrite(2047, 2), out: pattern(2048)).sense?.additional == .lbaOutOfRange)
        #expect(await h.run(compareAndWrite(0, 2), out: pattern(1024)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 13, bit: nil))
        let wp = try Harness.ram { $0.writeProtect = true }
        #expect(await wp.run(compareAndWrite(0, 1), out: pattern(1024)).sense == SenseData(.dataProtect, .writeProtected))
    }

    /// A WRITE issued while COMPARE AND WRITE is between its read and its write must wait:
    /// the final contents are the WRITE's, never overwritten by a C&W that compared stale data.
    @Test func writesDoNotInterleave() async throws {
        let store = InstrumentedStore(bytes: 1 << 20, delay: .milliseconds(40))
        let lu = instrumentedLU(store)
        let h = Harness(lu)
        let a = [UInt8](repeating: 0xAA, count: 512), b = [UInt8](repeating: 0xBB, count: 512), c = [UInt8](repeating: 0xCC, count: 512)
        _ = await h.run(write10(0, 1), out: a)
        let cw = Task { await h.run(compareAndWrite(0, 1), out: a + b) }
        try await Task.sleep(for: .milliseconds(10))
        let w = Task { await h.run(write10(0, 1), out: c) }
        #expect(await cw.value.status == .good)
        #expect(await w.value.status == .good)
        #expect(await h.run(read10(0, 1)).data == c)
    }

    /// Concurrent COMPARE AND WRITE increments never lose an update.
    @Test func concurrentCompareAndWriteCounter() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        defer { lu.delete() }
        func block(_ v: UInt32) -> [UInt8] { be(UInt64(v), 4) + [UInt8](repeating: 0, count: 508) }
        await withTaskGroup(of: Void.self) { g in
            for worker in 0..<4 {
                g.addTask {
                    let h = Harness(lu, nexus: makeNexus(session: UInt64(worker + 1)))
                    var done = 0
                    while done < 25 {
                        let cur = await h.run(read10(0, 1)).data
                        let v = UInt32(cur[0]) << 24 | UInt32(cur[1]) << 16 | UInt32(cur[2]) << 8 | UInt32(cur[3])
                        let r = await h.run(compareAndWrite(0, 1), out: block(v) + block(v + 1))
                        if r.status == .good { done += 1 }
                        // Unrelated writes to other blocks keep going meanwhile.
                        _ = await h.run(write10(UInt32(1 + worker), 1), out: block(v))
                    }
                }
            }
        }
        let final = await Harness(lu).run(read10(0, 1)).data
        #expect(Array(final[0..<4]) == be(100, 4))
    }

    @Test func rangeLockExclusion() async throws {
        let lock = RangeLock()
        let ex = await lock.acquire(lba: 0, count: 8, exclusive: true)
        let other = await lock.acquire(lba: 8, count: 8, exclusive: false)   // disjoint: immediate
        lock.release(other)
        let flag = Flag()
        let waiter = Task {
            let t = await lock.acquire(lba: 4, count: 1, exclusive: false)
            flag.set()
            lock.release(t)
        }
        try await Task.sleep(for: .milliseconds(50))
        #expect(!flag.value)
        lock.release(ex)
        await waiter.value
        #expect(flag.value)
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock(); private var v = false
    func set() { lock.withLock { v = true } }
    var value: Bool { lock.withLock { v } }
}
