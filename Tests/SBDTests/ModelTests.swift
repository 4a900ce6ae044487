import Foundation
import Testing
@testable import SBD
@testable import STMF

/// A RAM LU and a file LU of the same geometry, driven through STMF with the same seeded
/// random operations, must agree byte for byte with a plain `[UInt8]` model, and report the
/// statuses (and miscompare offsets) the model predicts.
@Suite("Model: RAM and file LUs against an in-memory model")
struct ModelTests {
    static let blockSize = 512
    static let blocks = 6144                      // 3 MiB: three of the RAM store's 1 MiB chunks
    static let size = blockSize * blocks

    enum Expect: Equatable {
        case good
        case check(SenseKey, AdditionalSense, information: UInt64?)
    }

    struct Target {
        let name: String
        let lun: UInt16
    }

    /// Runs `cdb` on every LUN and checks each answer against `expect`; returns data-in of each.
    static func both(_ s: Session, _ luns: [Target], _ cdb: [UInt8], out: [UInt8]? = nil, inLength: Int = 0,
                     expect: Expect, seed: UInt64, op: Int, what: String) async -> [[UInt8]] {
        var datas: [[UInt8]] = []
        for t in luns {
            let r = await s.e2e(cdb, out: out, inLength: inLength, lun: t.lun)
            let ctx = "seed \(seed) op \(op) \(what) on \(t.name)"
            switch expect {
            case .good:
                #expect(r.status == .good, "\(ctx): \(r.response)")
                #expect(r.sense == nil, "\(ctx)")
            case let .check(key, asc, info):
                #expect(r.status == .checkCondition, "\(ctx): \(r.response)")
                #expect(r.sense?.key == key, "\(ctx): \(r.response)")
                #expect(r.sense?.additional == asc, "\(ctx): \(r.response)")
                if let info { #expect(r.sense?.information == info, "\(ctx): information \(String(describing: r.sense?.information))") }
            }
            datas.append(r.data)
        }
        return datas
    }

    static func readAll(_ s: Session, lun: UInt16) async -> [UInt8] {
        var out: [UInt8] = []
        let chunk = 256
        var lba = 0
        while lba < blocks {
            let n = min(chunk, blocks - lba)
            let r = await s.e2e(e2eRead16(UInt64(lba), n), inLength: n * blockSize, lun: lun)
            #expect(r.status == .good, "full read at \(lba): \(r.response)")
            out += r.data
            lba += n
        }
        return out
    }

    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> Int? {
        if a.count != b.count { return min(a.count, b.count) }
        return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
    }

    @Test func ramAndFileAgreeWithModel() async throws {
        let seed: UInt64 = 0x5EED_0000_4D0D_E100
        var rng = SplitMix64(seed: seed)
        let dir = try E2ETempDir()
        defer { withExtendedLifetime(dir) {} }
        let filePath = dir.path("model-lu.img")

        let ram = try SBDLogicalUnit.create(properties: e2eProperties(size: UInt64(Self.size), guid: "600144F0000000000000000000E2E001"),
                                            backing: .ram)
        let file = try SBDLogicalUnit.create(properties: e2eProperties(size: UInt64(Self.size), guid: "600144F0000000000000000000E2E002"),
                                             backing: .path(filePath))
        let fabric = try await E2EFabric()
        try await fabric.add(ram, lun: 0)
        try await fabric.add(file, lun: 1)
        let s = try fabric.session(e2eHostA)
        let luns = [Target(name: "RAM", lun: 0), Target(name: "file", lun: 1)]
        for t in luns {
            #expect(await s.e2eClearUAs(lun: t.lun) == [.powerOnResetOrBusDeviceReset])
            // Both claim LBPRZ (unmapped blocks read as zero) in VPD 0xB2 and READ CAPACITY(16).
            let vpd = await s.e2e(e2eInquiry(evpd: true, page: 0xB2), inLength: 255, lun: t.lun)
            #expect(vpd.status == .good)
            #expect(vpd.data.count >= 6 && vpd.data[1] == 0xB2 && vpd.data[5] & 0x04 != 0, "\(t.name) LBPRZ: \(vpd.data)")
            let rc = await s.e2e(e2eReadCapacity16(), inLength: 32, lun: t.lun)
            #expect(rc.status == .good)
            #expect(Array(rc.data.prefix(12)) == e2eBE(UInt64(Self.blocks - 1), 8) + e2eBE(UInt64(Self.blockSize), 4))
            #expect(rc.data.count >= 15 && rc.data[14] & 0xC0 == 0xC0, "\(t.name) LBPME/LBPRZ")
        }

        var model = [UInt8](repeating: 0, count: Self.size)
        let bs = Self.blockSize
        let cap = UInt64(Self.blocks)
        let lbaOutOfRange = Expect.check(.illegalRequest, .lbaOutOfRange, information: nil)
        var counts: [String: Int] = [:]

        func pick(maxBlocks: Int) -> (UInt64, Int, Bool) {
            let n = maxBlocks >= 16 && rng.chance(5) ? 1 + rng.below(300) : 1 + rng.below(maxBlocks)
            if rng.chance(5) {
                // Past the end: lba in [cap - n + 1, cap]
                let lba = cap - UInt64(n) + 1 + UInt64(rng.below(n))
                return (lba, n, false)
            }
            let lba: UInt64
            switch rng.below(6) {
            case 0: lba = 0
            case 1: lba = cap - UInt64(n)
            case 2, 3: // straddling a 1 MiB boundary (RAM chunk, file extent)
                let boundary = 2048 * (1 + rng.below(2))
                lba = UInt64(boundary - 1 - rng.below(n))
            default: lba = UInt64(rng.below(Self.blocks - n + 1))
            }
            return (lba, n, true)
        }

        let ops = 3000
        for op in 0..<ops {
            let kind = rng.below(10)
            switch kind {
            case 0, 1: // WRITE(10/16)
                let (lba, n, ok) = pick(maxBlocks: 24)
                let data = rng.bytes(n * bs)
                let fua = rng.chance(30)
                let cdb = rng.chance(50) ? e2eWrite10(lba, n, fua: fua) : e2eWrite16(lba, n, fua: fua)
                counts["write", default: 0] += 1
                _ = await Self.both(s, luns, cdb, out: data, expect: ok ? .good : lbaOutOfRange, seed: seed, op: op, what: "WRITE")
                if ok { model.replaceSubrange(Int(lba) * bs..<(Int(lba) + n) * bs, with: data) }
            case 2, 3: // READ(10/16)
                let (lba, n, ok) = pick(maxBlocks: 64)
                let cdb = rng.chance(50) ? e2eRead10(lba, n) : e2eRead16(lba, n)
                counts["read", default: 0] += 1
                let got = await Self.both(s, luns, cdb, inLength: n * bs, expect: ok ? .good : lbaOutOfRange, seed: seed, op: op, what: "READ")
                if ok {
                    let want = Array(model[Int(lba) * bs..<(Int(lba) + n) * bs])
                    for (i, g) in got.enumerated() {
                        let equal = g == want
                        #expect(equal, "seed \(seed) op \(op) READ \(lba)+\(n) on \(luns[i].name): first difference at \(String(describing: Self.firstDifference(g, want)))")
                    }
                } else {
                    for g in got { #expect(g.isEmpty) }
                }
            case 4: // UNMAP
                var ranges: [(UInt64, UInt32)] = []
                var ok = true
                for _ in 0..<(1 + rng.below(3)) {
                    let (lba, n, inRange) = pick(maxBlocks: 40)
                    ranges.append((lba, UInt32(n)))
                    ok = ok && inRange
                }
                let list = e2eUnmapList(ranges)
                counts["unmap", default: 0] += 1
                _ = await Self.both(s, luns, e2eUnmap(paramLength: list.count), out: list, expect: ok ? .good : lbaOutOfRange,
                                    seed: seed, op: op, what: "UNMAP \(ranges)")
                // Validated as a whole: nothing is deallocated when one range is bad.
                if ok { for (lba, n) in ranges { model.replaceSubrange(Int(lba) * bs..<(Int(lba) + Int(n)) * bs, with: repeatElement(0, count: Int(n) * bs)) } }
            case 5: // WRITE SAME(10/16), with and without UNMAP, zero and non-zero data
                let (lba, n, ok) = pick(maxBlocks: 40)
                let unmap = rng.chance(50)
                let block = rng.chance(30) ? [UInt8](repeating: 0, count: bs) : rng.bytes(bs)
                let cdb = rng.chance(50) ? e2eWriteSame10(lba, n, unmap: unmap) : e2eWriteSame16(lba, n, unmap: unmap)
                counts["writeSame", default: 0] += 1
                _ = await Self.both(s, luns, cdb, out: block, expect: ok ? .good : lbaOutOfRange, seed: seed, op: op,
                                    what: "WRITE SAME unmap=\(unmap)")
                if ok { for b in 0..<n { model.replaceSubrange((Int(lba) + b) * bs..<(Int(lba) + b + 1) * bs, with: block) } }
            case 6, 7: // COMPARE AND WRITE, matching or not
                let (lba, n, ok) = pick(maxBlocks: 4)
                let half = n * bs
                var verify = ok ? Array(model[Int(lba) * bs..<Int(lba) * bs + half]) : rng.bytes(half)
                let newData = rng.bytes(half)
                let mismatch = ok && rng.chance(40)
                var offset = 0
                if mismatch {
                    offset = rng.below(half)
                    verify[offset] ^= UInt8(1 + rng.below(255))
                }
                let fua = rng.chance(30)
                counts[mismatch ? "cawMiscompare" : "caw", default: 0] += 1
                let expect: Expect = !ok ? lbaOutOfRange
                    : mismatch ? .check(.miscompare, .miscompareDuringVerify, information: UInt64(offset)) : .good
                _ = await Self.both(s, luns, e2eCompareAndWrite(lba, n, fua: fua), out: verify + newData, expect: expect,
                                    seed: seed, op: op, what: "COMPARE AND WRITE \(lba)+\(n) mismatch=\(mismatch)")
                if ok && !mismatch { model.replaceSubrange(Int(lba) * bs..<Int(lba) * bs + half, with: newData) }
            case 8: // SYNCHRONIZE CACHE(10/16)
                counts["sync", default: 0] += 1
                if rng.chance(10) {
                    _ = await Self.both(s, luns, e2eSyncCache16(cap + 1, 0), expect: lbaOutOfRange, seed: seed, op: op, what: "SYNC beyond")
                } else {
                    let cdb = rng.chance(50) ? e2eSyncCache10(0, 0) : e2eSyncCache16(UInt64(rng.below(Self.blocks)), 1)
                    _ = await Self.both(s, luns, cdb, expect: .good, seed: seed, op: op, what: "SYNCHRONIZE CACHE")
                }
            default: // single-block read of a random block, compared exactly
                let lba = UInt64(rng.below(Self.blocks))
                let got = await Self.both(s, luns, e2eRead16(lba, 1), inLength: bs, expect: .good, seed: seed, op: op, what: "READ 1")
                let want = Array(model[Int(lba) * bs..<(Int(lba) + 1) * bs])
                for g in got {
                    let equal = g == want
                    #expect(equal, "seed \(seed) op \(op) block \(lba)")
                }
            }
            if op % 500 == 499 || op == ops - 1 {
                for t in luns {
                    let all = await Self.readAll(s, lun: t.lun)
                    let equal = all == model
                    #expect(equal, "seed \(seed) after op \(op): \(t.name) differs at \(String(describing: Self.firstDifference(all, model)))")
                }
            }
        }
        // The mix really exercised every kind of operation.
        for k in ["write", "read", "unmap", "writeSame", "caw", "cawMiscompare", "sync"] {
            #expect(counts[k, default: 0] > 50, "\(k): \(counts[k, default: 0])")
        }
        // The model holds both zeroed and written blocks.
        #expect(model.contains(0) && model.contains { $0 != 0 })

        // Re-import the file LU after delete(): same bytes.
        try await fabric.stmf.deregisterLogicalUnit(file.guid)
        file.delete()
        let again = try SBDLogicalUnit.importLU(path: filePath)
        #expect(again.guid == file.guid)
        #expect(again.blockCount == UInt64(Self.blocks))
        let fabric2 = try await E2EFabric()
        try await fabric2.add(again, lun: 0)
        let s2 = try fabric2.session(e2eHostB)
        #expect(await s2.e2eClearUAs() == [.powerOnResetOrBusDeviceReset])
        let reimported = await Self.readAll(s2, lun: 0)
        let reimportedEqual = reimported == model
        #expect(reimportedEqual, "re-imported file LU differs at \(String(describing: Self.firstDifference(reimported, model)))")
        again.delete()
        ram.delete()
    }

    /// Eight streams, each owning a disjoint region of the LU and its own model, run writes,
    /// reads, WRITE SAME, UNMAP and COMPARE AND WRITE concurrently; every read matches.
    @Test func concurrentStreamsOnDisjointRegions() async throws {
        let seed: UInt64 = 0x5EED_0000_C0C0_0001
        let dir = try E2ETempDir()
        defer { withExtendedLifetime(dir) {} }
        let ram = try SBDLogicalUnit.create(properties: e2eProperties(size: UInt64(Self.size), guid: "600144F0000000000000000000E2E011"),
                                            backing: .ram)
        let file = try SBDLogicalUnit.create(properties: e2eProperties(size: UInt64(Self.size), guid: "600144F0000000000000000000E2E012"),
                                             backing: .path(dir.path("concurrent.img")))
        defer { ram.delete(); file.delete() }
        let fabric = try await E2EFabric()
        try await fabric.add(ram, lun: 0)
        try await fabric.add(file, lun: 1)
        let streams = 8
        let regionBlocks = Self.blocks / streams
        let bs = Self.blockSize
        var sessions: [Session] = []
        for i in 0..<streams {
            let s = try fabric.session(.wwn(WWN(0x2100_0000_00C0_0000 + UInt64(i))))
            await s.e2eClearUAs(lun: 0)
            await s.e2eClearUAs(lun: 1)
            sessions.append(s)
        }
        let list = sessions
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<streams {
                group.addTask {
                    var rng = SplitMix64(seed: seed &+ UInt64(i))
                    let s = list[i]
                    let base = i * regionBlocks
                    var model = [[UInt8]](repeating: [UInt8](repeating: 0, count: regionBlocks * bs), count: 2)
                    var bad = 0
                    for op in 0..<400 {
                        let lun = UInt16(rng.below(2))
                        let n = 1 + rng.below(16)
                        let rel = rng.below(regionBlocks - n + 1)
                        let lba = UInt64(base + rel)
                        let range = rel * bs..<(rel + n) * bs
                        var r: E2EReply
                        switch rng.below(5) {
                        case 0, 1:
                            let data = rng.bytes(n * bs)
                            r = await s.e2e(e2eWrite16(lba, n, fua: rng.chance(20)), out: data, lun: lun)
                            model[Int(lun)].replaceSubrange(range, with: data)
                        case 2:
                            let block = rng.chance(50) ? [UInt8](repeating: 0, count: bs) : rng.bytes(bs)
                            r = await s.e2e(e2eWriteSame16(lba, n, unmap: rng.chance(50)), out: block, lun: lun)
                            for b in 0..<n { model[Int(lun)].replaceSubrange((rel + b) * bs..<(rel + b + 1) * bs, with: block) }
                        case 3:
                            let l = e2eUnmapList([(lba, UInt32(n))])
                            r = await s.e2e(e2eUnmap(paramLength: l.count), out: l, lun: lun)
                            model[Int(lun)].replaceSubrange(range, with: repeatElement(0, count: n * bs))
                        default:
                            let k = min(n, 4)
                            let half = k * bs
                            let new = rng.bytes(half)
                            r = await s.e2e(e2eCompareAndWrite(lba, k), out: Array(model[Int(lun)][rel * bs..<rel * bs + half]) + new, lun: lun)
                            model[Int(lun)].replaceSubrange(rel * bs..<rel * bs + half, with: new)
                        }
                        if r.status != .good { bad += 1; Issue.record("seed \(seed) stream \(i) op \(op): \(r.response)") }
                        let check = await s.e2e(e2eRead16(lba, n), inLength: n * bs, lun: lun)
                        let equal = check.status == .good && check.data == Array(model[Int(lun)][range])
                        if !equal { bad += 1; Issue.record("seed \(seed) stream \(i) op \(op): LUN \(lun) read-back of \(lba)+\(n) differs (\(check.response))") }
                    }
                    for lun in 0..<2 {
                        let all = await s.e2e(e2eRead16(UInt64(base), regionBlocks), inLength: regionBlocks * bs, lun: UInt16(lun))
                        let equal = all.data == model[lun]
                        if !equal { bad += 1; Issue.record("seed \(seed) stream \(i): region of LUN \(lun) differs at the end") }
                    }
                    return bad
                }
            }
            var total = 0
            for try await b in group { total += b }
            return total
        }
        #expect(mismatches == 0)
    }
}
