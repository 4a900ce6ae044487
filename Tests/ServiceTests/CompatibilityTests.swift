import Checksum
import Foundation
import GRDB
import ProcessTestSupport
import SBD
import STMF
import STMFAPI
@testable import STMFService
import Testing

/// What installations made before the provider registry hold must still work: a state
/// directory's database (store migration v1, SBD's typed LU properties) and an export (format 1).
/// The fixtures in Fixtures/v1 were made by that code (see its README); backing files were under
/// `oldData`, which the tests move to a scratch directory.
@Suite(.serialized) struct CompatibilityTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/v1")
    static let oldData = "/tmp/swift-stmf-v1-fixture/data"
    static func fixture(_ name: String) throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent(name)) }
    static func text(_ name: String, data: String) throws -> String {
        String(decoding: try fixture(name), as: UTF8.self).replacingOccurrences(of: oldData, with: data)
    }

    static let lu0 = "600A0B80007F01006B16CBA9402107BB"    // file, metadata in front of the data
    static let lu1 = "600144F0007F01006B16CBA9402107BC"    // file with a meta file (not in the fixtures)
    static let lu2 = "600144F0F0220000000000000000F0A1"    // RAM, 4 KiB blocks
    static let lu3 = "600144F0007F01006B16CBA9402107BD"    // RAM, every default, offline

    /// The bags the version-1 LUs become: SBD's typed properties, each value in its text form.
    static func expectedBags(data: String) -> [String: [String: String]] {
        [
            lu0: ["alias": "file-lu-grown", "blk": "512", "guid": lu0, "mgmt-url": "http://mgmt.example/lu0", "oui": "00A0B8",
                  "pid": "FIXTURE", "rev": "2.1", "serial": "SN-FILE", "size": "131072", "vid": "ACME", "wcd": "true", "wp": "false"],
            lu1: ["alias": "meta-lu", "blk": "512", "guid": lu1, "meta": data + "/lu1.meta", "pid": "SBD DISK", "rev": "1.0",
                  "size": "65536", "vid": "STMF", "wcd": "false", "wp": "true"],
            lu2: ["alias": "ram-lu", "blk": "4096", "guid": lu2, "pid": "SBD DISK", "rev": "1.0", "serial": "SN-RAM",
                  "size": "4194304", "vid": "STMF", "wcd": "false", "wp": "false"],
            lu3: ["blk": "512", "guid": lu3, "pid": "SBD DISK", "rev": "1.0", "size": "2097152", "vid": "STMF",
                  "wcd": "false", "wp": "false"],
        ]
    }

    /// Checks the LUs of a configuration read from either fixture.
    static func checkLogicalUnits(_ c: StoredConfiguration, data: String) {
        #expect(c.logicalUnits.map(\.guid) == [lu0, lu1, lu2, lu3])   // creation order
        #expect(c.logicalUnits.allSatisfy { $0.provider == "sbd" })
        #expect(Dictionary(uniqueKeysWithValues: c.logicalUnits.map { ($0.guid, $0.properties) }) == expectedBags(data: data))
        #expect(c.logicalUnits.map(\.file) == [data + "/lu0.img", data + "/lu1.img", "ram:scratch", "ram:plain"])
        #expect(c.logicalUnits.map(\.size) == [128 << 10, 65536, 4 << 20, 2 << 20])
        #expect(c.logicalUnits.map(\.online) == [true, true, true, false])
        // What SBD would store for them today: each bag is already as it normalises it.
        for lu in c.logicalUnits {
            #expect((try? SBDProvider().normalize(lu.properties, for: .create)) == lu.properties, "\(lu.guid)")
        }
        #expect(c.hostGroups == [GroupInfo(name: "db-hosts", members: ["wwn.2100000000000001", "wwn.2100000000000002"]),
                                 GroupInfo(name: "web hosts", members: ["iqn.1994-05.com.redhat:web1"])])
        #expect(c.targetGroups == [GroupInfo(name: "fabric-a", members: ["wwn.5000000000000001"])])
        #expect(Set(c.viewEntries.map { "\($0.lu)/\($0.entry)/\($0.hostGroup ?? "*")/\($0.targetGroup ?? "*")/\($0.lun)" }) == [
            "\(lu0)/0/db-hosts/fabric-a/7", "\(lu0)/1/web hosts/*/0", "\(lu2)/0/*/*/1", "\(lu3)/0/*/*/300",
        ])
        #expect(c.targetPorts.map(\.provider) == ["fcemu"])
    }

    /// A copy of the fixture database with the backing files' directory moved to `data`
    /// (before stmfd opens it: its version-1 shape is left as it was).
    static func stateDirectory(data: String) throws -> String {
        let dir = try scratchDirectory()
        let db = dir + "/stmf.db"
        try fixture("stmf.db").write(to: URL(fileURLWithPath: db))
        let escaped = { (s: String) in s.replacingOccurrences(of: "/", with: "\\/") }
        let queue = try DatabaseQueue(path: db)
        let migrations = try queue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        #expect(migrations == ["v1"])
        try queue.write { db in
            try db.execute(sql: "UPDATE lu SET file = replace(file, ?, ?), meta = replace(meta, ?, ?), properties = replace(properties, ?, ?)",
                           arguments: [oldData, data, oldData, data, escaped(oldData), escaped(data)])
        }
        try queue.close()
        return dir
    }

    /// The version-1 export with the backing files' directory moved to `data`, its header
    /// (length, SHA-256, version 1) made again for the body.
    static func exportDocument(data: String) throws -> [UInt8] {
        let doc = try fixture("config.export")
        let nl = try #require(doc.firstIndex(of: 0x0A))
        let escaped = { (s: String) in s.replacingOccurrences(of: "/", with: "\\/") }
        let body = Array(String(decoding: doc[(nl + 1)...], as: UTF8.self).replacingOccurrences(of: escaped(oldData), with: escaped(data)).utf8)
        let header = "{\"format\":\"swift-stmf-config\",\"length\":\(body.count),\"sha256\":\"\(SHA256.hex(body))\",\"version\":1}\n"
        return Array(header.utf8) + body
    }

    /// Each LU block of a `list-lu -v` listing by GUID.
    static func blocks(_ listing: String) -> [String: String] {
        var out: [String: String] = [:]
        for block in listing.components(separatedBy: "LU Name: ").dropFirst() {
            out[String(block.prefix(32))] = block
        }
        return out
    }

    /// A listing of the fixture's configuration today: as the version-1 code listed it, except
    /// that lu1, whose files are not in the fixtures, is offline with the reason.
    static func checkListing(_ listing: String, data: String) throws {
        let old = blocks(try text("list-lu-v.txt", data: data)), now = blocks(listing)
        #expect(now.keys.sorted() == old.keys.sorted())
        for guid in [lu0, lu2, lu3] { #expect(now[guid] == old[guid], "\(guid)") }
        let lu1Now = try #require(now[lu1]).split(separator: "\n").map(String.init)
        let lu1Old = try #require(old[lu1]).split(separator: "\n").map(String.init)
            .map { $0.replacingOccurrences(of: "Operational Status: Online", with: "Operational Status: Offline") }
        #expect(Array(lu1Now.prefix(lu1Old.count)) == lu1Old)
        #expect(lu1Now.count == lu1Old.count + 1 && lu1Now.last!.contains("Reason") && lu1Now.last!.contains(data + "/lu1.meta"),
                "\(lu1Now)")
    }

    // MARK: Values

    /// Version-1 values (SBD's typed JSON) read as the text the providers take.
    @Test func typedPropertyValuesReadAsText() throws {
        let bag = try PropertyBag.decode(json: Data(#"{"a":1,"b":true,"c":"x","d":18446744073709551615,"e":-1,"f":false}"#.utf8))
        #expect(bag == ["a": "1", "b": "true", "c": "x", "d": "18446744073709551615", "e": "-1", "f": "false"])
        #expect(throws: DecodingError.self) { try PropertyBag.decode(json: Data(#"{"a":{"b":1}}"#.utf8)) }
        #expect(throws: DecodingError.self) { try PropertyBag.decode(json: Data(#"{"a":[1]}"#.utf8)) }
        #expect(throws: DecodingError.self) { try PropertyBag.decode(json: Data(#"{"a":null}"#.utf8)) }
    }

    @Test func aVersion1DatabaseMigratesToProviderBags() throws {
        let data = "/srv/moved"
        let dir = try Self.stateDirectory(data: data); defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ConfigStore(path: dir + "/stmf.db")
        let c = try store.load()
        Self.checkLogicalUnits(c, data: data)
        let (migrations, columns) = try store.read { db in
            (try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier"), try db.columns(in: "lu").map(\.name))
        }
        #expect(migrations == ["v1", "v2-lu-provider"])
        #expect(columns.contains("provider") && !columns.contains("meta"))
        // The migrated store and the version-1 export of the same configuration agree.
        let exported = try ExportDocument.decode(try Self.exportDocument(data: data)).configuration
        #expect(exported == c)
        // What the migrated store holds is written and read back unchanged, also by a reopened store.
        try store.replace(with: c)
        #expect(try ConfigStore(path: dir + "/stmf.db").load() == c)
    }

    @Test func aVersion1ExportIsReadAndWrittenAgainAsVersion2() throws {
        let data = "/srv/moved"
        let doc = try Self.exportDocument(data: data)
        #expect(String(decoding: doc.prefix(200), as: UTF8.self).contains("\"version\":1"))
        let body = try ExportDocument.decode(doc)
        Self.checkLogicalUnits(body.configuration, data: data)
        let again = try ExportDocument.encode(body.configuration, exportedAt: body.exportedAt)
        #expect(String(decoding: again.prefix(200), as: UTF8.self).contains("\"version\":2"))
        #expect(try ExportDocument.decode(again) == body)
        // Import's checks pass, and change nothing: the bags are already SBD's.
        var registry = ProviderRegistry()
        try registry.register(SBDProvider())
        #expect(try body.configuration.checkingLogicalUnits(with: registry) == body.configuration)
        // A version this code does not know is refused by number.
        let future = Array(String(decoding: again, as: UTF8.self).replacingOccurrences(of: "\"version\":2", with: "\"version\":3").utf8)
        #expect(throws: ExportDocument.DecodeError.unsupportedVersion(3)) { try ExportDocument.decode(future) }
    }

    // MARK: stmfd

    /// stmfd on a version-1 state directory: it migrates the store, brings back every LU it
    /// can, lists them as before, and keeps working (a change survives a restart).
    @Test func stmfdLoadsAVersion1StateDirectory() throws {
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try Self.fixture("lu0.img").write(to: URL(fileURLWithPath: data + "/lu0.img"))
        let d = try DaemonHarness(stateDir: try Self.stateDirectory(data: data)); defer { d.cleanup() }
        try d.start()
        try Self.checkListing(try d.ok(["list-lu", "-v"]), data: data)
        let sbd = try d.sbdadm(["list-lu"])
        let sbdBefore = try Self.text("sbdadm-list-lu.txt", data: data)
        // The same LUs, sizes and sources in illumos' sbdadm layout (issue 16): a blank line
        // before "Found", a tab in the header, GUIDs in lowercase.
        var illumos = "\n" + sbdBefore.replacingOccurrences(of: "              GUID", with: "\t      GUID")
        for g in [Self.lu0, Self.lu1, Self.lu2, Self.lu3] { illumos = illumos.replacingOccurrences(of: g, with: g.lowercased()) }
        #expect(sbd.status == 0 && sbd.out == illumos, "\(sbd.out)")
        let exported = try ExportDocument.decode(Array(try d.ok(["export"]).utf8)).configuration
        Self.checkLogicalUnits(exported, data: data)
        // The same configuration as the version-1 export of it, imported into a fresh stmfd.
        let v1 = try ExportDocument.decode(try Self.exportDocument(data: data)).configuration
        #expect(exported == v1)

        try d.ok(["modify-lu", "-p", "alias=migrated", Self.lu0])
        d.stop()
        try d.start()
        #expect(try d.ok(["list-lu", "-v", Self.lu0]).contains("Alias             : migrated"))
        #expect(try d.ok(["list-lu", "-v", Self.lu2]).contains("Operational Status: Online"))
    }

    /// `stmfadm import` of a version-1 export into a fresh stmfd gives the same LUs, listed as
    /// the version-1 code listed them.
    @Test func stmfdImportsAVersion1Export() throws {
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try Self.fixture("lu0.img").write(to: URL(fileURLWithPath: data + "/lu0.img"))
        let file = data + "/v1.export"
        try Data(try Self.exportDocument(data: data)).write(to: URL(fileURLWithPath: file))
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        try d.ok(["import", file])
        try Self.checkListing(try d.ok(["list-lu", "-v"]), data: data)
        let export = try d.ok(["export"])
        #expect(export.hasPrefix("{\"format\":\"swift-stmf-config\",") && export.prefix(200).contains("\"version\":2"))
        Self.checkLogicalUnits(try ExportDocument.decode(Array(export.utf8)).configuration, data: data)
    }
}
