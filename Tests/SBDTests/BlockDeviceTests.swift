import Foundation
import Testing
@testable import SBD
@testable import STMF

/// A loop device over a sparse image; nil when loop devices cannot be set up (not root).
final class LoopDevice {
    let device: String
    let image: String
    init?(dir: TempDir, size: Int) {
        image = dir.path("disk.img")
        guard FileManager.default.createFile(atPath: image, contents: nil), truncate(image, off_t(size)) == 0,
              let out = try? runTool("/usr/sbin/losetup", ["-f", "--show", image]), out.status == 0 else { return nil }
        device = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var st = stat()
        guard stat(device, &st) == 0, st.st_mode & S_IFMT == S_IFBLK else { return nil }
    }
    deinit { _ = try? runTool("/usr/sbin/losetup", ["-d", device]) }
}

@Suite(.serialized) struct BlockDeviceTests {
    @Test func blockDeviceRoundTripUnmapAndImport() async throws {
        let dir = try TempDir()
        guard let loop = LoopDevice(dir: dir, size: 8 << 20) else {
            print("loop devices unavailable; block device test skipped")
            return
        }
        var p = SBDProperties(); p.alias = "loop"
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(loop.device))
        #expect(lu.backingKind == .blockDevice)
        #expect(lu.blockCount == UInt64((8 << 20) - 65536) / 512)
        let h = Harness(lu)
        let data = pattern(8192, seed: 4)
        #expect(await h.run(write10(100, 16, flags: 0x08), out: data).status == .good)
        #expect(await h.run(read10(100, 16)).data == data)
        let b2 = await h.run(inquiry(evpd: true, page: 0xB2))
        #expect(b2.data == [0x00, 0xB2, 0x00, 0x04, 0x00, 0xE0, 0x01, 0x00])   // no LBPRZ, resource provisioned
        let list = unmapList([(100, 8)])
        #expect(await h.run(unmapCDB(list.count), out: list).status == .good)
        // WRITE SAME with UNMAP and zero data writes zeroes (BLKZEROOUT) as LBPRZ is not claimed.
        #expect(await h.run([0x93, 0x08] + be(108, 8) + be(8, 4) + [0, 0], out: [UInt8](repeating: 0, count: 512)).status == .good)
        #expect(await h.run(read10(108, 8)).data == [UInt8](repeating: 0, count: 4096))
        #expect(await h.run([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]).status == .good)
        lu.delete()
        let again = try SBDLogicalUnit.importLU(path: loop.device)
        #expect(again.alias == "loop")
        #expect(again.guid == lu.guid)
        again.delete()
        #expect(throws: SBDError.sizeExceedsDevice(requested: 16 << 20, available: (8 << 20) - 65536)) {
            var big = SBDProperties(); big.size = 16 << 20
            let dir2 = try TempDir()
            guard let l2 = LoopDevice(dir: dir2, size: 8 << 20) else { throw SBDError.sizeExceedsDevice(requested: 16 << 20, available: (8 << 20) - 65536) }
            _ = try SBDLogicalUnit.create(properties: big, backing: .path(l2.device))
        }
    }
}
