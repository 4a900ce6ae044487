import Foundation
import ProcessTestSupport
import Testing
@testable import STMFService
import STMFAPI
import STMFClient

/// Restart persistence, export/import round trips and corruption detection, all against
/// real stmfd processes.
@Suite(.serialized) struct PersistenceTests {
    /// Builds a configuration with every kind of object.
    func populate(_ d: DaemonHarness, data: String) throws -> [String] {
        var lus: [String] = []
        for i in 0..<3 {
            let out = try d.ok(["create-lu", "-s", "\(i + 1)m", "-p", "alias=lu\(i)", "-p", "serial=S\(i)",
                                "-p", "mgmt-url=http://mgmt.example/\(i)", "-p", "wp=\(i == 2)", data + "/lu\(i).img"])
            lus.append(String(out.dropFirst(22).prefix(32)))
        }
        lus.append(String(try d.ok(["create-lu", "-s", "4m", "-p", "blk=4096", "ram:scratch"]).dropFirst(22).prefix(32)))
        try d.ok(["create-hg", "db-hosts"]); try d.ok(["create-hg", "web hosts"])
        try d.ok(["add-hg-member", "-g", "db-hosts", "wwn.2100000000000001", "wwn.2100000000000002"])
        try d.ok(["add-hg-member", "-g", "web hosts", "iqn.1994-05.com.redhat:web1"])
        try d.ok(["create-tg", "fabric-a"]); try d.ok(["add-tg-member", "-g", "fabric-a", "wwn.5000000000000001"])
        try d.ok(["add-view", "-h", "db-hosts", "-t", "fabric-a", "-n", "7", lus[0]])
        try d.ok(["add-view", "-h", "web hosts", lus[0]])
        try d.ok(["add-view", lus[1]])
        try d.ok(["add-view", "-n", "300", lus[2]])
        try d.ok(["offline-lu", lus[2]])
        return lus
    }

    func exportBody(_ d: DaemonHarness) throws -> StoredConfiguration {
        let r = try d.stmfadm(["export"])
        #expect(r.status == 0)
        return try ExportDocument.decode(Array(r.out.utf8)).configuration
    }

    @Test func everythingSurvivesACleanRestartAndAKill() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try d.start()
        _ = try populate(d, data: data)
        let before = try exportBody(d)
        let listing = try d.ok(["list-lu", "-v"])
        d.stop(SIGTERM)
        try d.start()
        #expect(try exportBody(d) == before)
        #expect(try d.ok(["list-lu", "-v"]) == listing)
        // A change acknowledged just before kill -9 is there after restart.
        try d.ok(["create-hg", "late"])
        try d.ok(["add-hg-member", "-g", "late", "wwn.2100000000000009"])
        d.stop(SIGKILL)
        try d.start()
        let after = try exportBody(d)
        #expect(after.hostGroups.last == GroupInfo(name: "late", members: ["wwn.2100000000000009"]))
        #expect(after.logicalUnits == before.logicalUnits)
        #expect(after.viewEntries == before.viewEntries)
    }

    @Test func exportImportRoundTripIsExact() throws {
        let a = try DaemonHarness(); defer { a.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try a.start()
        let lus = try populate(a, data: data)
        let file = data + "/config.export"
        try a.ok(["export", file])
        let original = try exportBody(a)
        a.stop()
        // A fresh service imports it: same LUs (from their files), groups, views, states.
        let b = try DaemonHarness(); defer { b.cleanup() }
        try b.start()
        try b.ok(["import", file])
        let copy = try exportBody(b)
        #expect(copy.logicalUnits == original.logicalUnits)
        #expect(copy.hostGroups == original.hostGroups)
        #expect(copy.targetGroups == original.targetGroups)
        #expect(copy.viewEntries == original.viewEntries)
        #expect(copy.targetPorts == original.targetPorts)
        #expect(guids(try b.ok(["list-lu"])).sorted() == lus.sorted())
        #expect(try b.ok(["list-lu", "-v", lus[2]]).contains("Operational Status: Offline"))
        // A second import needs --replace.
        try b.refused(["import", file], "--replace")
        try b.ok(["create-hg", "extra"])
        try b.ok(["import", "--replace", file])
        #expect(try exportBody(b).hostGroups == original.hostGroups)
    }

    @Test func damagedExportsAreRefusedWithoutChangingAnything() throws {
        let a = try DaemonHarness(); defer { a.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try a.start()
        _ = try populate(a, data: data)
        let file = data + "/config.export"
        try a.ok(["export", file])
        let good = try Data(contentsOf: URL(fileURLWithPath: file))
        a.stop()
        let b = try DaemonHarness(); defer { b.cleanup() }
        try b.start()
        var altered = good
        let i = altered.count - 40
        altered[i] = altered[i] == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        let cases: [(String, Data, String)] = [
            ("truncated", good.prefix(good.count - 17), "truncated"),
            ("extended", good + Data("\n".utf8), "truncated or extended"),
            ("altered", altered, "SHA-256"),
            ("not an export", Data("hello\n".utf8), "not a swift-stmf configuration export"),
            ("empty", Data(), "not a swift-stmf configuration export"),
        ]
        for (name, bytes, message) in cases {
            let path = data + "/\(name).export"
            try bytes.write(to: URL(fileURLWithPath: path))
            try b.refused(["import", path], message)
        }
        #expect(try b.ok(["list-lu"]).isEmpty)
        #expect(try b.ok(["list-hg"]).isEmpty)
    }

    @Test func aMissingBackingStoreKeepsItsLUOfflineWithTheReason() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try d.start()
        let lus = try populate(d, data: data)
        d.stop()
        try FileManager.default.removeItem(atPath: data + "/lu1.img")
        try d.start()
        let v = try d.ok(["list-lu", "-v", lus[1]])
        #expect(v.contains("Operational Status: Offline"))
        #expect(v.contains("Reason") && v.contains("lu1.img"))
        #expect(try d.ok(["list-lu", "-v", lus[0]]).contains("Operational Status: Online"))
        // Damaged metadata is detected the same way.
        let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/lu0.img"))
        try fh.seek(toOffset: 100); fh.write(Data([0xFF, 0x00, 0xFF])); try fh.close()
        let fh2 = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/lu0.img"))
        try fh2.seek(toOffset: 32768 + 100); fh2.write(Data([0xFF, 0x00, 0xFF])); try fh2.close()
        d.stop()
        try d.start()
        let v0 = try d.ok(["list-lu", "-v", lus[0]])
        #expect(v0.contains("Operational Status: Offline") && v0.contains("Reason"))
    }

    @Test func aDamagedDatabaseIsDetected() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        try d.ok(["create-hg", "g"])
        d.stop()
        let db = d.stateDir + "/stmf.db"
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        let fh = try FileHandle(forWritingTo: URL(fileURLWithPath: db))
        fh.write(Data(repeating: 0x42, count: 100))
        try fh.close()
        let r = try runTool("stmfd", ["--state-dir", d.stateDir])
        #expect(r.status == 1)
        #expect(r.err.contains("damaged"))
    }

    @Test func metricsAreServed() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let curl = "/usr/bin/curl"
        guard FileManager.default.isExecutableFile(atPath: curl) else { return }
        let r = try runTool(curl, ["-s", "--unix-socket", d.socketPath, "http://stmfd/v1/state"])
        #expect(r.out.contains("\"configStatus\":\"initialized\""))
        let bad = try runTool(curl, ["-s", "--unix-socket", d.socketPath, "-X", "POST", "-d", "{not json", "http://stmfd/v1/host-groups"])
        #expect(bad.out.contains("\"code\":\"MALFORMED_REQUEST\""))
    }

    /// Bodies are capped: 1 MiB of JSON, 64 MiB for an import; past that 413 with a stable
    /// code, before the daemon holds the rest.
    @Test func requestBodiesAreCapped() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let http = UnixHTTPClient(socketPath: d.socketPath)
        let big = Array("{\"name\":\"".utf8) + [UInt8](repeating: 0x61, count: 2 << 20) + Array("\"}".utf8)
        let r = try http.send(method: "POST", path: "/v1/host-groups", body: big)
        #expect(r.status == 413)
        #expect(String(decoding: r.body, as: UTF8.self).contains("BODY_TOO_LARGE"))
        // The daemon is fine afterwards, and a normal request still works.
        let ok = try http.send(method: "POST", path: "/v1/host-groups", body: Array("{\"name\":\"hg1\"}".utf8))
        #expect(ok.status / 100 == 2, "\(String(decoding: ok.body, as: UTF8.self))")
    }
}
