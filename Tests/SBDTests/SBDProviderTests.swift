import Foundation
import Testing
@testable import SBD
@testable import STMF

/// SBD as the `sbd` LU provider: the property bags of create-lu, modify-lu and import-lu, the
/// refusals the service reports (messages and codes unchanged), and LUs made through it.
@Suite struct SBDProviderTests {
    let sbd = SBDProvider()

    @Test func createBagsNormaliseToSBDPropertiesAndBack() throws {
        let given = ["SIZE": "16m", "blk": "4096", "wcd": "yes", "wp": "off", "alias": "vol1", "vid": "ACME", "pid": "Disk",
                     "rev": "1", "serial": "ABC", "guid": "600144f0aabbccddeeff001122334455", "oui": "00144F",
                     "mgmt-url": "http://h", "meta": "/tmp/m"]
        let bag = try sbd.normalize(given, for: .create)
        #expect(bag == ["size": "16777216", "blk": "4096", "wcd": "true", "wp": "false", "alias": "vol1", "vid": "ACME",
                        "pid": "Disk", "rev": "1", "serial": "ABC", "guid": "600144f0aabbccddeeff001122334455",
                        "oui": "00144F", "mgmt-url": "http://h", "meta": "/tmp/m"])
        #expect(try sbd.normalize(bag, for: .create) == bag)
        let p = try SBDProperties(options: given)
        #expect(p.propertyBag == bag)
        #expect(try SBDProperties(options: p.propertyBag) == p)
        // Defaults are filled in; what is unset stays out.
        #expect(try sbd.normalize([:], for: .create) == ["blk": "512", "vid": "STMF", "pid": "SBD DISK", "rev": "1.0",
                                                          "wcd": "false", "wp": "false"])
    }

    @Test func refusalsKeepSBDsMessagesWithTheirCodes() {
        func refusal(_ bag: [String: String], _ op: LUOperation) -> LUProviderError? {
            do { _ = try sbd.normalize(bag, for: op); return nil } catch { return error }
        }
        #expect(refusal(["blk": "1000"], .create) == LUProviderError(.invalidRequest, code: "INVALID_PROPERTY",
                                                                    "invalid value '1000' for property blk: must be a power of two from 512 to 65536"))
        #expect(refusal(["colour": "red"], .create) == LUProviderError(.invalidRequest, code: "INVALID_PROPERTY", "unknown property 'colour'"))
        #expect(refusal(["size": "12q"], .create)?.message == "invalid value '12q' for property size: not a size: a number of bytes, optionally with a k, m, g, t, p or e suffix (powers of 1024)")
        #expect(refusal(["wcd": "maybe"], .modify) == LUProviderError(.invalidRequest, code: "INVALID_PROPERTY",
                                                                     "invalid value 'maybe' for property wcd: expected true or false"))
        #expect(refusal(["blk": "4096"], .modify) == LUProviderError(.invalidRequest, code: "INVALID_PROPERTY",
                                                                    "blk: property cannot be modified (modifiable: alias, mgmt-url, wcd, wp, size)"))
        #expect(refusal(["alias": "x"], .import)?.message == "invalid value 'x' for property alias: import-lu takes no property but meta")
        #expect(throws: LUProviderError(.invalidRequest, code: "INVALID_PATH", "x.img: the backing file must be an absolute path (or ram:NAME)")) {
            _ = try sbd.resolve(source: "x.img", properties: [:])
        }
        #expect(throws: LUProviderError.self) { _ = try sbd.resolve(source: "/proc/self/status", properties: [:]) }
        // Errors of the file system keep their codes (and so their HTTP statuses).
        #expect(SBDError.io(operation: "open", path: "/x", errno: ENOENT).providerError.code == "PATH_NOT_FOUND")
        #expect(SBDError.io(operation: "open", path: "/x", errno: EACCES).providerError.kind == .permissionDenied)
        #expect(SBDError.io(operation: "write", path: "/x", errno: ENOSPC).providerError.kind == .noSpace)
        #expect(SBDError.io(operation: "read", path: "/x", errno: EIO).providerError == LUProviderError(.failed, code: "LU_IO_FAILED",
                                                                                                         "read /x: Input/output error"))
        #expect(SBDError.holdsData(path: "/x", offset: 0).providerError.kind == .conflict)
        #expect(SBDError.metadata(.foreign).providerError == LUProviderError(.invalidData, code: "METADATA_INVALID",
                                                                             SBDMetadataError.foreign.description))
    }

    @Test func modifyAndImportBags() throws {
        #expect(try sbd.normalize(["Size": "2m", "alias": "", "mgmt-url": "u", "wcd": "on", "wp": "0"], for: .modify)
                == ["size": "2097152", "alias": "", "mgmt-url": "u", "wcd": "true", "wp": "false"])
        #expect(try sbd.normalize(["META": "/m"], for: .import) == ["meta": "/m"])
        #expect(sbd.files(source: "ram:x", properties: [:]).isEmpty)
        #expect(sbd.files(source: "/d", properties: ["meta": "/m"]) == ["/d", "/m"])
        #expect(try sbd.resolve(source: "ram:x", properties: ["size": "512"]) == ("ram:x", ["size": "512"]))
    }

    @Test func everyPropertyHasHelp() {
        // Every stored property, and host-id, which create-lu uses up to make the GUID.
        #expect(Set(sbd.properties.map(\.name)) == Set(SBDProperties.CodingKeys.allCases.map(\.rawValue)).union(["host-id"]))
        #expect(sbd.properties.first { $0.name == "host-id" }?.operations == [.create])
        for h in sbd.properties { #expect(!h.help.isEmpty) }
        // What modify-lu and import-lu take, as the help says.
        #expect(Set(sbd.properties.filter { $0.operations.contains(.modify) }.map(\.name)) == ["alias", "mgmt-url", "wcd", "wp", "size"])
        #expect(sbd.properties.filter { $0.operations.contains(.import) }.map(\.name) == ["meta"])
    }

    @Test func ramLUsThroughTheProvider() async throws {
        let lu = try sbd.create(source: "ram:p", properties: try sbd.normalize(["size": "1m", "alias": "p"], for: .create), overwrite: false)
        defer { lu.delete(eraseMetadata: true) }
        #expect(lu.size == 1 << 20)
        #expect(lu.properties["alias"] == "p" && lu.properties["guid"] == lu.guid.description)
        try await lu.modify(try sbd.normalize(["size": "2m", "wp": "true"], for: .modify))
        #expect(lu.size == 2 << 20 && lu.properties["wp"] == "true" && lu.properties["size"] == "2097152")
        await #expect(throws: LUProviderError(.invalidRequest, code: "INVALID_PROPERTY",
                                              "cannot shrink the logical unit from 2097152 to 1048576 bytes")) {
            try await lu.modify(["size": "1048576"])
        }
        // A stored RAM LU comes back empty with its GUID, size and properties.
        let again = try sbd.open(guid: lu.guid, source: "ram:p", size: lu.size, properties: lu.properties)
        defer { again.delete(eraseMetadata: true) }
        #expect(again.guid == lu.guid && again.size == lu.size && again.properties == lu.properties)
    }

    @Test func fileLUsThroughTheProvider() throws {
        let dir = try TempDir()
        let path = dir.path("lu.img")
        let (source, props) = try sbd.resolve(source: path, properties: try sbd.normalize(["size": "1m"], for: .create))
        let lu = try sbd.create(source: source, properties: props, overwrite: false)
        let guid = lu.guid
        lu.delete(eraseMetadata: false)
        let imported = try sbd.importLU(source: source, properties: [:])
        #expect(imported.guid == guid && imported.size == 1 << 20)
        imported.delete(eraseMetadata: false)
        let reopened = try sbd.open(guid: guid, source: source, size: 1 << 20, properties: props)
        #expect(reopened.guid == guid)
        reopened.delete(eraseMetadata: false)
        // A file that is not an LU: the message names it.
        let missing = dir.path("missing.img")
        #expect(throws: LUProviderError.self) { _ = try sbd.importLU(source: missing, properties: [:]) }
        do { _ = try sbd.importLU(source: missing, properties: [:]) } catch {
            #expect(error.code == "PATH_NOT_FOUND" && error.message.contains(missing))
        }
    }
}
