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
