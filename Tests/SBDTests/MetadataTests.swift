import Foundation
import Testing
@testable import SBD
@testable import STMF

@Suite struct MetadataTests {
    func fullProperties(_ dir: TempDir) -> SBDProperties {
        var p = SBDProperties()
        p.size = 4 << 20
        p.blockSize = 4096
        p.guid = "600144F000112233445566778899AABB"
        p.serial = "SERIAL-42"
        p.vendorID = "ACME"
        p.productID = "BIGDISK"
        p.revision = "0.9"
        p.alias = "data volume"
        p.managementURL = "https://mgmt.example/lu/1"
        p.writeCacheDisabled = true
        p.writeProtect = true
        p.oui = "00A0B8"
        return p
    }

    @Test func importRoundTripsEveryProperty() async throws {
        let dir = try TempDir()
        let p = fullProperties(dir)
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        #expect(lu.properties == p)
        lu.delete()
        let again = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        defer { again.delete() }
        #expect(again.properties == p)
        #expect(again.guid == LUGUID("600144F000112233445566778899AABB")!)
        #expect(again.blockSize == 4096)
        #expect(again.blockCount == 1024)
        #expect(again.alias == "data volume")
        let h = Harness(again)
        #expect(await h.run(write10(0, 1), out: pattern(4096)).sense == SenseData(.dataProtect, .writeProtected))
        let inq = await h.run(inquiry())
        #expect(String(decoding: inq.data[8..<32], as: UTF8.self) == "ACME    BIGDISK         ")
    }

    @Test func generatedGUIDUsesOUIAndSurvivesImport() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20; p.oui = "00A0B8"
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        #expect(lu.guid.oui == 0x00A0B8)
        #expect(lu.guid.high >> 60 == 6)
        lu.delete()
        let again = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        #expect(again.guid == lu.guid)
        #expect(again.properties.guid == lu.guid.description)
        again.delete()
    }

    @Test func dataSurvivesImport() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        _ = await Harness(lu).run(write10(77, 4), out: pattern(2048, seed: 8))
        lu.delete()
        let again = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        defer { again.delete() }
        #expect(await Harness(again).run(read10(77, 4)).data == pattern(2048, seed: 8))
    }

    func createSmall(_ dir: TempDir) throws {
        var p = SBDProperties(); p.size = 1 << 20; p.alias = "first"
        try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu"))).delete()
    }

    func patch(_ path: String, at offset: UInt64, _ transform: (UInt8) -> UInt8) throws {
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try fh.seek(toOffset: offset)
        let b = try fh.read(upToCount: 1)![0]
        try fh.seek(toOffset: offset)
        try fh.write(contentsOf: [transform(b)])
        try fh.close()
    }

    @Test func corruptedHeaderByteIsRefused() throws {
        let dir = try TempDir()
        try createSmall(dir)
        for offset: UInt64 in [17, 30, 100] {   // generation, reserved header, payload
            let copy = dir.path("copy\(offset)")
            try FileManager.default.copyItem(atPath: dir.path("lu"), toPath: copy)
            try patch(copy, at: offset) { $0 ^ 0x01 }
            #expect(throws: SBDError.metadata(.checksumMismatch)) { try SBDLogicalUnit.importLU(path: copy) }
        }
    }

    @Test func truncatedFilesAreRefused() throws {
        let dir = try TempDir()
        try createSmall(dir)
        #expect(truncate(dir.path("lu"), 1000) == 0)
        #expect(throws: SBDError.metadata(.truncated(expected: 65536, actual: 1000))) { try SBDLogicalUnit.importLU(path: dir.path("lu")) }
        let dir2 = try TempDir()
        try createSmall(dir2)
        #expect(truncate(dir2.path("lu"), 65536 + 4096) == 0)
        #expect(throws: SBDError.metadata(.truncated(expected: 65536 + (1 << 20), actual: 65536 + 4096))) {
            try SBDLogicalUnit.importLU(path: dir2.path("lu"))
        }
    }

    @Test func foreignFilesAreRefused() throws {
        let dir = try TempDir()
        let junk = Data((0..<(200 << 10)).map { UInt8(truncatingIfNeeded: $0 * 31 + 7) })
        try junk.write(to: URL(fileURLWithPath: dir.path("junk")))
        #expect(throws: SBDError.metadata(.foreign)) { try SBDLogicalUnit.importLU(path: dir.path("junk")) }
        try Data(count: 1 << 20).write(to: URL(fileURLWithPath: dir.path("zeros")))
        #expect(throws: SBDError.metadata(.foreign)) { try SBDLogicalUnit.importLU(path: dir.path("zeros")) }
        #expect(throws: SBDError.io(operation: "open", path: dir.path("missing"), errno: ENOENT)) {
            try SBDLogicalUnit.importLU(path: dir.path("missing"))
        }
    }

    @Test func unsupportedVersionIsRefused() throws {
        let dir = try TempDir()
        try createSmall(dir)
        try patch(dir.path("lu"), at: 9) { _ in 0x07 }
        #expect(throws: SBDError.metadata(.unsupportedVersion(7))) { try SBDLogicalUnit.importLU(path: dir.path("lu")) }
    }

    /// An update goes to the other slot: damaging the newest copy falls back to the previous one.
    @Test func twoSlotsSurviveATornUpdate() async throws {
        let dir = try TempDir()
        try createSmall(dir)
        let lu = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        try await lu.modify(SBDModification(alias: "second"))
        lu.delete()
        let newest = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        #expect(newest.alias == "second")
        newest.delete()
        try patch(dir.path("lu"), at: 32768 + 200) { $0 ^ 0xFF }   // damage slot 1 (generation 2)
        let fallback = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        #expect(fallback.alias == "first")
        fallback.delete()
    }

    @Test func createRefusesAnExistingLU() throws {
        let dir = try TempDir()
        try createSmall(dir)
        var p = SBDProperties(); p.size = 1 << 20
        #expect(throws: SBDError.alreadyInitialized(path: dir.path("lu"))) {
            _ = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        }
    }

    @Test func sizeFromExistingFileOrRequired() throws {
        let dir = try TempDir()
        #expect(throws: SBDError.sizeRequired) { _ = try SBDLogicalUnit.create(properties: SBDProperties(), backing: .path(dir.path("new"))) }
        try Data(count: 65536 + (2 << 20) + 100).write(to: URL(fileURLWithPath: dir.path("existing")))
        let lu = try SBDLogicalUnit.create(properties: SBDProperties(), backing: .path(dir.path("existing")))
        #expect(lu.blockCount == 4096)
        #expect(lu.properties.size == 2 << 20)
        lu.delete()
        #expect(throws: SBDError.sizeRequired) { _ = try SBDLogicalUnit.create(properties: SBDProperties(), backing: .ram) }
    }

    @Test func modifyPersistsAndRaisesUAs() async throws {
        let dir = try TempDir()
        var p = SBDProperties(); p.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.path("lu")))
        let h = Harness(lu)
        try await lu.modify(SBDModification(alias: "renamed", writeCacheDisabled: true, writeProtect: true, managementURL: "http://x"))
        #expect(h.services.unitAttentions.map(\.0) == [.modeParametersChanged])
        #expect(await h.run(modeSense6(page: 0x08, dbd: true)).data[6] == 0x00)
        #expect(await h.run(write10(0, 1), out: pattern(512)).sense?.key == .dataProtect)
        lu.delete()
        await #expect(throws: SBDError.deleted) { try await lu.modify(SBDModification(alias: "x")) }
        let again = try SBDLogicalUnit.importLU(path: dir.path("lu"))
        #expect(again.alias == "renamed")
        #expect(again.properties.writeCacheDisabled && again.properties.writeProtect)
        #expect(again.properties.managementURL == "http://x")
        again.delete(eraseMetadata: true)
        #expect(throws: SBDError.metadata(.foreign)) { try SBDLogicalUnit.importLU(path: dir.path("lu")) }
    }

    @Test func deletedLURefusesCommands() async throws {
        let h = try Harness.ram()
        h.lu.delete()
        #expect(await h.run([0, 0, 0, 0, 0, 0]).sense == SenseData(.illegalRequest, .logicalUnitNotSupported))
    }
}

@Suite struct PropertiesTests {
    @Test func parsesOptions() throws {
        let p = try SBDProperties(options: ["size": "16m", "blk": "4096", "wcd": "true", "wp": "off", "alias": "vol1",
                                            "vid": "ACME", "pid": "Disk", "rev": "1", "serial": "ABC",
                                            "guid": "600144f0aabbccddeeff001122334455", "oui": "00144F",
                                            "mgmt-url": "http://h", "meta": "/tmp/m"])
        #expect(p.size == 16 << 20)
        #expect(p.blockSize == 4096)
        #expect(p.writeCacheDisabled && !p.writeProtect)
        #expect(p.alias == "vol1" && p.vendorID == "ACME" && p.productID == "Disk" && p.revision == "1")
        #expect(p.metaFile == "/tmp/m" && p.managementURL == "http://h" && p.oui == "00144F")
        let json = try JSONEncoder().encode(p)
        #expect(try JSONDecoder().decode(SBDProperties.self, from: json) == p)
        #expect(String(decoding: json, as: UTF8.self).contains("\"mgmt-url\""))
    }

    @Test func validationErrors() throws {
        #expect(throws: SBDError.invalidProperty(name: "blk", value: "1000", reason: "must be a power of two from 512 to 65536")) {
            _ = try SBDProperties(options: ["blk": "1000"])
        }
        #expect(throws: SBDError.invalidProperty(name: "blk", value: "131072", reason: "must be a power of two from 512 to 65536")) {
            _ = try SBDProperties(options: ["blk": "131072"])
        }
        #expect(throws: SBDError.invalidProperty(name: "size", value: "1000", reason: "must be a nonzero multiple of the block size 512")) {
            _ = try SBDProperties(options: ["size": "1000"])
        }
        #expect(throws: SBDError.invalidProperty(name: "guid", value: "500144F0AABBCCDDEEFF001122334455", reason: "must be 32 hexadecimal digits, an NAA type 6 GUID (such as 600144F0…)")) {
            _ = try SBDProperties(options: ["guid": "500144F0AABBCCDDEEFF001122334455"])
        }
        #expect(throws: SBDError.invalidProperty(name: "vid", value: "TOOLONGVENDOR", reason: "longer than 8 characters")) {
            _ = try SBDProperties(options: ["vid": "TOOLONGVENDOR"])
        }
        #expect(throws: SBDError.invalidProperty(name: "pid", value: "", reason: "must not be empty")) {
            _ = try SBDProperties(options: ["pid": ""])
        }
        #expect(throws: SBDError.invalidProperty(name: "oui", value: "XYZ", reason: "must be 6 hex digits")) {
            _ = try SBDProperties(options: ["oui": "XYZ"])
        }
        #expect(throws: SBDError.invalidProperty(name: "wcd", value: "maybe", reason: "expected true or false")) {
            _ = try SBDProperties(options: ["wcd": "maybe"])
        }
        #expect(throws: SBDError.unknownProperty("colour")) { _ = try SBDProperties(options: ["colour": "red"]) }
        #expect(throws: SBDError.invalidProperty(name: "serial", value: "caf\u{e9}", reason: "must be printable ASCII")) {
            _ = try SBDProperties(options: ["serial": "caf\u{e9}"])
        }
    }
}
