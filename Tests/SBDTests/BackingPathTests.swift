import Foundation
import Testing
@testable import SBD
@testable import STMF

/// create-lu never writes over data it was not given.
@Suite struct BackingPathTests {
    func props(_ size: UInt64 = 1 << 20) -> SBDProperties { var p = SBDProperties(); p.size = size; return p }

    func refusal(_ body: () throws(SBDError) -> SBDLogicalUnit) -> SBDError? {
        do throws(SBDError) {
            let lu = try body()
            lu.delete()
            return nil
        } catch {
            return error
        }
    }

    @Test func aFileHoldingOtherDataIsRefusedAndLeftAlone() throws {
        let dir = try TempDir()
        let path = dir.path("notes.txt")
        let text = Data("the quarterly figures\n".utf8)
        try text.write(to: URL(fileURLWithPath: path))
        let e = refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(path)) }
        #expect(e == .holdsData(path: path, offset: 0))
        #expect(e?.description.contains("--overwrite") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == text)   // not a byte changed, not grown
        // Reached through a symlink: refused too, naming the real file.
        try FileManager.default.createSymbolicLink(atPath: dir.path("link"), withDestinationPath: path)
        #expect(refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(dir.path("link"))) }
                == .holdsData(path: path, offset: 0))
        // Data further in than the first byte is found as well.
        var later = [UInt8](repeating: 0, count: 70_000); later[4096] = 1
        try Data(later).write(to: URL(fileURLWithPath: dir.path("sparse")))
        #expect(refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(dir.path("sparse"))) }
                == .holdsData(path: dir.path("sparse"), offset: 4096))
        // Asked explicitly, it is used.
        let lu = try SBDLogicalUnit.create(properties: props(), backing: .path(path), overwrite: true)
        #expect(lu.blockCount == 2048)
        lu.delete()
        // And now it holds SBD metadata: import-lu, not create-lu.
        #expect(refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(path), overwrite: true) }
                == .alreadyInitialized(path: path))
    }

    @Test func newEmptyAndZeroFilesAreTakenAtTheirRealPath() throws {
        let dir = try TempDir()
        try Data().write(to: URL(fileURLWithPath: dir.path("empty")))
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: dir.path("zeros")))
        for name in ["empty", "zeros", "new"] {
            let lu = try SBDLogicalUnit.create(properties: props(), backing: .path(dir.path(name)))
            lu.delete()
        }
        // A symlink to where a new file will be: the LU lives in the real file.
        try FileManager.default.createDirectory(atPath: dir.path("real"), withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir.path("alias"), withDestinationPath: dir.path("real"))
        let lu = try SBDLogicalUnit.create(properties: props(), backing: .path(dir.path("alias") + "/lu.img"))
        #expect(lu.metadataRecord.dataPath == dir.path("real") + "/lu.img")
        lu.delete()
    }

    @Test func pathsThatCannotHoldAnLUAreRefused() throws {
        let dir = try TempDir()
        func reason(_ path: String) -> String? {
            guard case let .invalidPath(_, r)? = refusal({ () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(path)) }) else { return nil }
            return r
        }
        #expect(reason(dir.url.path + "/a\u{0}b")?.contains("U+0000") == true)
        #expect(reason(dir.url.path + "/line\nbreak")?.contains("U+000A") == true)
        #expect(reason("/proc/self/status")?.contains("/proc") == true)
        #expect(reason("/sys/kernel/mm/new.img")?.contains("/sys") == true)
        #expect(reason("/dev/null")?.contains("character device") == true)
        #expect(reason(dir.url.path)?.contains("directory") == true)
        try FileManager.default.createSymbolicLink(atPath: dir.path("dangling"), withDestinationPath: dir.path("nothing/here"))
        #expect(reason(dir.path("dangling"))?.contains("symbolic link to nothing") == true)
        try FileManager.default.createSymbolicLink(atPath: dir.path("toproc"), withDestinationPath: "/proc/self/status")
        #expect(reason(dir.path("toproc"))?.contains("resolves to /proc") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.path("a")))
        var p = props(); p.alias = "db\u{7}"
        #expect(refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: p, backing: .ram) } != nil)
        // A directory that does not exist says so in words.
        let e = refusal { () throws(SBDError) in try SBDLogicalUnit.create(properties: props(), backing: .path(dir.path("no/such/dir/lu"))) }
        #expect(e?.description.contains("No such file or directory") == true, "\(String(describing: e))")
    }
}

/// Any LU size is served sparsely or refused up front.
@Suite struct SizeLimitTests {
    @Test func hugeRAMLogicalUnitsCostNothingUntilWritten() async throws {
        let before = RAMBudget.shared.allocated.load(ordering: .relaxed)
        let h = try Harness.ram(size: 100 << 40)             // 100 TiB, sparse
        #expect(RAMBudget.shared.allocated.load(ordering: .relaxed) == before)
        let lba = UInt64((100 << 40) / 512 - 8)
        #expect(await h.run(write16(lba, 8), out: pattern(4096)).status == .good)
        #expect(await h.run(read16(lba, 8), inLength: 4096).data == pattern(4096))
        #expect(RAMBudget.shared.allocated.load(ordering: .relaxed) >= before + (1 << 20))
        let status = await h.run(getLBAStatus(0, alloc: 24), inLength: 24)
        #expect(lbaStatusDescriptors(status.data).first.map { $0.2 } == 1)   // deallocated from LBA 0
    }

    /// RAM LUs share a budget: a write that needs a chunk past it gets DATA PROTECT, SPACE
    /// ALLOCATION FAILED WRITE PROTECT (what a thin-provisioned disk out of space answers), the
    /// LU's other blocks still work, and the chunks come back to the budget with the LU.
    @Test func ramBudgetRefusesWritesPastItAndGetsItsChunksBack() async throws {
        let budget = RAMBudget(limit: 2 << 20)
        do {
            let store = RAMBackingStore(bytes: 64 << 20, budget: budget)
            var p = SBDProperties()
            p.size = 64 << 20
            p.guid = "600144F0C0FFEE000000000000000003"
            let h = Harness(SBDLogicalUnit(guid: LUGUID(p.guid!)!, properties: p, store: store,
                                           metadata: SBDMetadataArea(location: .memory), blockCount: (64 << 20) / 512,
                                           saved: ModeParameters(wce: true, dSense: false), dataPath: nil, dataOffset: 0))
            #expect(await h.run(write16(0, 8), out: pattern(4096)).status == .good)
            #expect(await h.run(write16(UInt64(1 << 20) / 512, 8), out: pattern(4096)).status == .good)
            #expect(budget.allocated.load(ordering: .relaxed) == 2 << 20)
            let refused = await h.run(write16(UInt64(2 << 20) / 512, 8), out: pattern(4096))
            #expect(refused.status == .checkCondition)
            #expect(refused.sense?.key == .dataProtect)
            #expect(refused.sense?.additional == .spaceAllocationFailedWriteProtect)
            #expect(budget.allocated.load(ordering: .relaxed) == 2 << 20)
            // Chunks it already has still take writes; reads of unwritten space cost nothing.
            #expect(await h.run(write16(8, 8), out: pattern(4096, seed: 9)).status == .good)
            #expect(await h.run(read16(UInt64(40 << 20) / 512, 8), inLength: 4096).data == [UInt8](repeating: 0, count: 4096))
        }
        #expect(budget.allocated.load(ordering: .relaxed) == 0)
    }

    @Test func sizesBeyondWhatAnLUCanAddressAreRefused() throws {
        for size: UInt64 in [UInt64(Int64.max) - 511, 16_000_000 << 40, UInt64.max - 511] {
            var p = SBDProperties(); p.size = size
            #expect(throws: SBDError.self) { try p.validate() }
            do throws(SBDError) {
                _ = try SBDLogicalUnit.create(properties: p, backing: .ram)
                Issue.record("a RAM LU of \(size) bytes was created")
            } catch {
                #expect(error.description.contains("larger than"), "\(error)")
            }
        }
        var p = SBDProperties(); p.size = SBDProperties.maximumSize
        #expect(throws: Never.self) { try p.validate() }
        #expect(SBDProperties.maximumSize % 65536 == 0)
    }
}
