import Foundation
import Testing
@testable import SBD
@testable import STMF

/// Wraps a store to count flushes and optionally slow I/O down.
final class InstrumentedStore: BackingStore, @unchecked Sendable {
    let inner: RAMBackingStore
    let lock = NSLock()
    var flushes = 0
    var writes = 0
    let delay: Duration
    init(bytes: UInt64, delay: Duration = .zero) { inner = RAMBackingStore(bytes: bytes); self.delay = delay }
    var kind: BackingKind { .ram }
    var dataBytes: UInt64 { inner.dataBytes }
    func read(into buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        try await inner.read(into: buffer, bufferOffset: bufferOffset, count: count, offset: offset)
        if delay > .zero { try? await Task.sleep(for: delay) }
    }
    func write(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError) {
        if delay > .zero { try? await Task.sleep(for: delay) }
        lock.withLock { writes += 1 }
        try await inner.write(from: buffer, bufferOffset: bufferOffset, count: count, offset: offset)
    }
    func flush() async throws(SCSIError) { lock.withLock { flushes += 1 } }
    func unmap(offset: UInt64, length: UInt64) async throws(SCSIError) { try await inner.unmap(offset: offset, length: length) }
    func writeZeroes(offset: UInt64, length: UInt64) async throws(SCSIError) { try await inner.writeZeroes(offset: offset, length: length) }
    func resize(to bytes: UInt64) throws(SBDError) { try inner.resize(to: bytes) }
    var unmapReadsZero: Bool { true }
    var thinProvisioned: Bool { true }
    func close() {}
    var flushCount: Int { lock.lock(); defer { lock.unlock() }; return flushes }
}

func instrumentedLU(_ store: InstrumentedStore, wcd: Bool = false) -> SBDLogicalUnit {
    var p = SBDProperties()
    p.size = store.dataBytes; p.writeCacheDisabled = wcd
    p.guid = "600144F0C0FFEE000000000000000002"
    return SBDLogicalUnit(guid: LUGUID(p.guid!)!, properties: p, store: store,
                          metadata: SBDMetadataArea(location: .memory), blockCount: store.dataBytes / 512,
                          saved: ModeParameters(wce: !wcd, dSense: false), dataPath: nil, dataOffset: 0)
}

@Suite struct ReadWriteTests {
    func roundTrips(_ h: Harness) async {
        let a = pattern(4096, seed: 3)
        #expect(await h.run(write10(8, 8), out: a).status == .good)
        let r = await h.run(read10(8, 8))
        #expect(r.status == .good)
        #expect(r.data == a)
        #expect(r.response.intendedLength == 4096)

        let b = pattern(1024, seed: 9)
        #expect(await h.run(write16(100, 2), out: b).status == .good)
        #expect(await h.run(read16(100, 2)).data == b)
        #expect(await h.run(read12(100, 2)).data == b)
        #expect(await h.run(read10(101, 1)).data == Array(b[512...]))

        let c = pattern(512, seed: 42)
        #expect(await h.run(write12(200, 1), out: c).status == .good)
        #expect(await h.run([0x08, 0x00, 0x00, 200, 1, 0]).data == c)            // READ (6)
        #expect(await h.run([0x0A, 0x00, 0x00, 201, 1, 0], out: c).status == .good)  // WRITE (6)
        #expect(await h.run(read10(201, 1)).data == c)
    }

    @Test func ramRoundTrip() async throws { await roundTrips(try Harness.ram()) }

    @Test func fileRoundTripAndLayout() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        defer { lu.delete() }
        let h = Harness(lu)
        await roundTrips(h)
        // LU block 8 is at 64 KiB + 8 * 512 in the file.
        let fh = try FileHandle(forReadingFrom: URL(fileURLWithPath: dir.path("lu")))
        try fh.seek(toOffset: 65536 + 8 * 512)
        #expect(Array(try fh.read(upToCount: 4096) ?? Data()) == pattern(4096, seed: 3))
        try fh.close()
    }

    @Test func fileWithSeparateMetaFile() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20; p.metaFile = dir.path("meta")
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("data")))
        let h = Harness(lu)
        await roundTrips(h)
        lu.delete()
        let attrs = try FileManager.default.attributesOfItem(atPath: dir.path("data"))
        #expect((attrs[.size] as? NSNumber)?.intValue == 1 << 20)
        let again = try SBDLogicalUnit.importLU(path: dir.path("meta"))
        defer { again.delete() }
        #expect(again.guid == lu.guid)
        #expect(await Harness(again).run(read10(8, 8)).data == pattern(4096, seed: 3))
    }

    @Test func blockDeviceRoundTripOrRefusal() async throws {
        // Creating a block device needs root; a character device must be refused.
        #expect(throws: SBDError.invalidPath(path: "/dev/null", reason: "it is a character device; a logical unit needs a regular file or a block device")) {
            var p = SBDProperties(); p.size = 1 << 20
            _ = try SBDLogicalUnit.create(properties: p, backing: .path("/dev/null"))
        }
    }

    @Test func read6ZeroMeans256AndZeroLengthIsNoOp() async throws {
        let h = try Harness.ram()
        let r6 = await h.run([0x08, 0, 0, 0, 0, 0], inLength: 256 * 512)
        #expect(r6.status == .good)
        #expect(r6.response.intendedLength == 256 * 512)
        #expect(r6.data.count == 256 * 512)
        let r10 = await h.run(read10(0, 0))
        #expect(r10.status == .good)
        #expect(r10.response.dataLength == 0 && r10.response.intendedLength == 0)
        let w16 = await h.run(write16(0, 0), out: [])
        #expect(w16.status == .good)
        // Zero length is still range checked.
        let beyond = await h.run(read10(5000, 0))
        #expect(beyond.sense == SenseData(.illegalRequest, .lbaOutOfRange))
    }

    @Test func rangeAndLengthErrors() async throws {
        let h = try Harness.ram(size: 1 << 20)   // 2048 blocks
        #expect(await h.run(read10(2047, 2)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        #expect(await h.run(read16(UInt64.max, 2)).sense == SenseData(.illegalRequest, .lbaOutOfRange))
        #expect(await h.run(write10(2048, 1), out: pattern(512)).sense?.additional == .lbaOutOfRange)
        #expect(await h.run(read10(2047, 1)).status == .good)
        // Data-out shorter than the command calls for is refused.
        let short = await h.run(write10(0, 4), out: pattern(2048), dataOutCount: 1536)
        #expect(short.sense == SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 7, bit: nil)))
        #expect(await h.run(read10(0, 1)).data == [UInt8](repeating: 0, count: 512))
        // Transfer length above the Block Limits maximum.
        let big = try Harness.ram(size: 64 << 20)
        #expect(await big.run(read16(0, 16385), inLength: 0).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        // RDPROTECT is not supported; the reserved bits of the group byte are checked.
        #expect(await h.run(read10(0, 1, flags: 0x20)).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 5))
        #expect(await h.run([0x28, 0, 0, 0, 0, 0, 0x20, 0, 1, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 6, bit: 5))
    }

    @Test func dataInLimitIsRespected() async throws {
        let h = try Harness.ram()
        let a = pattern(4096)
        _ = await h.run(write10(0, 8), out: a)
        let r = await h.run(read10(0, 8), inLength: 1000)
        #expect(r.response.dataLength == 1000)
        #expect(r.response.intendedLength == 4096)
        #expect(r.data == Array(a[0..<1000]))
        #expect(r.response.residual(expected: 1000) == -3096)
    }

    @Test func writeProtect() async throws {
        let h = try Harness.ram { $0.writeProtect = true }
        let w = await h.run(write10(0, 1), out: pattern(512))
        #expect(w.sense == SenseData(.dataProtect, .writeProtected))
        let d = try decodeHex("sg_decode_sense", w.senseBytes, flag: "--file=")
        #expect(d.stderr == "")
        #expect(d.stdout.contains("Sense key: Data Protect"))
        #expect(d.stdout.contains("Additional sense: Write protected"))
        #expect(await h.run(read10(0, 1)).status == .good)
    }

    @Test func fuaAndWriteCacheDurability() async throws {
        let s = InstrumentedStore(bytes: 1 << 20)
        let h = Harness(instrumentedLU(s))
        _ = await h.run(write10(0, 1), out: pattern(512))
        #expect(s.flushCount == 0)                                   // WCE=1, no FUA: cached
        _ = await h.run(write10(0, 1, flags: 0x08), out: pattern(512))
        #expect(s.flushCount == 1)                                   // FUA
        _ = await h.run(write16(0, 1, flags: 0x08), out: pattern(512))
        #expect(s.flushCount == 2)
        _ = await h.run([0x2E, 0] + be(0, 4) + [0] + be(1, 2) + [0], out: pattern(512))   // WRITE AND VERIFY
        #expect(s.flushCount == 3)

        let w = InstrumentedStore(bytes: 1 << 20)
        let hw = Harness(instrumentedLU(w, wcd: true))
        _ = await hw.run(write10(0, 1), out: pattern(512))
        _ = await hw.run(write12(1, 1), out: pattern(512))
        #expect(w.flushCount == 2)                                    // wcd: every write durable

        // File-backed LU with wcd goes through fdatasync on the I/O threads.
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20; p.writeCacheDisabled = true
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        defer { lu.delete() }
        let hf = Harness(lu)
        #expect(await hf.run(write10(3, 2, flags: 0x08), out: pattern(1024)).status == .good)
        #expect(await hf.run(read10(3, 2)).data == pattern(1024))
    }

    @Test func verify() async throws {
        let h = try Harness.ram()
        let a = pattern(2048, seed: 5)
        _ = await h.run(write10(10, 4), out: a)
        let v0 = await h.run([0x2F, 0x00] + be(10, 4) + [0] + be(4, 2) + [0])
        #expect(v0.status == .good)
        let v0r = await h.run([0x2F, 0x00] + be(2046, 4) + [0] + be(4, 2) + [0])
        #expect(v0r.sense?.additional == .lbaOutOfRange)
        let v1 = await h.run([0x2F, 0x02] + be(10, 4) + [0] + be(4, 2) + [0], out: a)
        #expect(v1.status == .good)
        var b = a; b[777] ^= 0xFF
        let mis = await h.run([0x8F, 0x02] + be(10, 8) + be(4, 4) + [0, 0], out: b)
        #expect(mis.sense == SenseData(.miscompare, .miscompareDuringVerify, information: 777))
        let bad = await h.run([0xAF, 0x04] + be(10, 4) + be(4, 4) + [0, 0], out: a)   // BYTCHK 10b reserved
        #expect(bad.sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 2))
        // BYTCHK 11b: every block compared with one block.
        let one = pattern(512, seed: 77)
        _ = await h.run(write10(20, 3), out: one + one + one)
        #expect(await h.run([0x2F, 0x06] + be(20, 4) + [0] + be(3, 2) + [0], out: one).status == .good)
        let shortOut = await h.run([0x2F, 0x02] + be(10, 4) + [0] + be(4, 2) + [0], out: Array(a[0..<1024]))
        #expect(shortOut.sense?.additional == .invalidFieldInCDB)
    }

    @Test func synchronizeCache() async throws {
        let s = InstrumentedStore(bytes: 1 << 20)
        let h = Harness(instrumentedLU(s))
        #expect(await h.run([0x35, 0] + be(0, 4) + [0] + be(0, 2) + [0]).status == .good)
        #expect(s.flushCount == 1)
        #expect(await h.run([0x91, 0] + be(100, 8) + be(10, 4) + [0, 0]).status == .good)
        #expect(s.flushCount == 2)
        #expect(await h.run([0x35, 0] + be(2040, 4) + [0] + be(9, 2) + [0]).sense?.additional == .lbaOutOfRange)
        #expect(await h.run([0x91, 0] + be(2049, 8) + be(0, 4) + [0, 0]).sense?.additional == .lbaOutOfRange)
        #expect(await h.run([0x35, 0x02] + be(0, 4) + [0] + be(0, 2) + [0]).status == .good)   // IMMED
        #expect(await h.run([0x35, 0x80] + be(0, 4) + [0] + be(0, 2) + [0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 7))
    }
}
