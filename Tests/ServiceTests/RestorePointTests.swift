import Foundation
import ProcessTestSupport
import STMFAPI
import Testing

/// Configuration restore points (issue 16): kept at start and before every import --replace and
/// restore, rotating, listed with their checksums verified, restorable, atomic.
@Suite(.serialized) struct RestorePointTests {
    func backups(_ d: DaemonHarness) throws -> [BackupInfo] {
        let r = try d.stmfadm(["list-backups", "--json"])
        #expect(r.status == 0, "\(r.err)")
        return try JSONDecoder().decode([BackupInfo].self, from: Data(r.out.utf8))
    }

    func hostGroups(_ d: DaemonHarness) throws -> [String] {
        try d.ok(["list-hg"]).split(separator: "\n").map { String($0.dropFirst("Host Group: ".count)) }
    }

    @Test func startImportAndRestoreKeepTheConfigurationAsItWas() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try d.start()
        // An empty service keeps nothing at start.
        #expect(try backups(d).isEmpty)
        try d.ok(["create-lu", "-s", "1m", data + "/a.img"])
        try d.ok(["create-hg", "first"])
        d.stop()
        try d.start()
        // At start: the configuration as stmfd found it.
        var list = try backups(d)
        #expect(list.count == 1 && list[0].reason == "start" && list[0].problem == nil, "\(list)")
        #expect(list[0].contents == BackupInfo.Contents(logicalUnits: 1, hostGroups: 1, targetGroups: 0, viewEntries: 0, targetPorts: 0))
        // A restart with nothing changed does not push older restore points out.
        d.stop()
        try d.start()
        #expect(try backups(d).count == 1)

        // import --replace keeps what it replaces.
        let export = data + "/one-group.export"
        try d.ok(["export", export])
        try d.ok(["create-hg", "second"])
        try d.ok(["import", "--replace", export])
        #expect(try hostGroups(d) == ["first"])
        list = try backups(d)
        #expect(list.map(\.reason) == ["import", "start"], "\(list)")
        let beforeImport = list[0].name
        #expect(list[0].contents?.hostGroups == 2)

        // restore NAME brings it back, and keeps what it replaced too (a restore can be undone).
        let restored = try d.stmfadm(["restore", "--json", beforeImport])
        #expect(restored.status == 0, "\(restored.err)")
        let result = try JSONDecoder().decode(RestoreResult.self, from: Data(restored.out.utf8))
        #expect(result.restored == beforeImport && result.previous != nil)
        #expect(try hostGroups(d) == ["first", "second"])
        list = try backups(d)
        #expect(list.first?.name == result.previous && list.first?.reason == "restore")
        #expect(list.first?.contents?.hostGroups == 1)
        try d.ok(["restore", result.previous!])
        #expect(try hostGroups(d) == ["first"])

        // The listing, in the COMSTAR layout.
        let text = try d.ok(["list-backups", "-v"])
        #expect(text.hasPrefix("Backup: \(try backups(d)[0].name)\n    Created       : "), "\(text)")
        #expect(text.contains("    Status        : verified\n") && text.contains("    SHA-256       : "))
    }

    @Test func restorePointsRotateAreVerifiedAndStayInTheirDirectory() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start(arguments: ["--backups", "2"])
        try d.ok(["create-hg", "g0"])
        let export = d.stateDir + ".export"
        defer { unlink(export) }
        try d.ok(["export", export])
        for i in 1...3 {
            try d.ok(["create-hg", "g\(i)"])
            try d.ok(["import", "--replace", export])
        }
        let list = try backups(d)
        #expect(list.count == 2, "\(list.map(\.name))")
        #expect(list.map(\.contents?.hostGroups) == [2, 2])
        let dir = d.stateDir + "/backups"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files == list.map { $0.name + ".export" }.sorted())
        // Written 0640 in a 0750 directory.
        for f in files {
            #expect((try FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.posixPermissions] as? Int) == 0o640)
        }
        #expect((try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int) == 0o750)
        // Each restore point is a checksummed export: altered, it is listed as damaged and
        // refused, and nothing changes.
        let victim = dir + "/" + list[1].name + ".export"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count - 5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: victim))
        let damaged = try backups(d).first { $0.name == list[1].name }
        #expect(damaged?.problem?.contains("SHA-256") == true, "\(String(describing: damaged))")
        #expect(try d.ok(["list-backups"]).contains("Status        : damaged: export is damaged"))
        let before = try d.ok(["list-hg"])
        try d.refused(["restore", list[1].name], "export is damaged")
        #expect(try d.ok(["list-hg"]) == before)
        // Only restore points can be named.
        try d.refused(["restore", "../stmf"], "no such restore point")
        try d.refused(["restore", "20990101T000000.000Z-start"], "no such restore point")
        let http = try apiRequest(d.socketPath, "POST", "/v1/backups/..%2Fstmf.db/restore")
        #expect(http.status == 404 && http.body.contains("BACKUP_NOT_FOUND"), "\(http)")
    }

    @Test func aLeftOverTemporaryFileIsNotARestorePointAndIsRemoved() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try FileManager.default.createDirectory(atPath: d.stateDir + "/backups", withIntermediateDirectories: true)
        let tmp = d.stateDir + "/backups/.tmp-20260101T000000.000Z-import"
        try Data("{\"format\":\"swift-stmf-config\"".utf8).write(to: URL(fileURLWithPath: tmp))   // a crash mid-write
        try d.start()
        try d.ok(["create-hg", "x"])
        let export = d.stateDir + ".export"
        defer { unlink(export) }
        try d.ok(["export", export])
        try d.ok(["create-hg", "y"])
        try d.ok(["import", "--replace", export])
        #expect(try backups(d).map(\.reason) == ["import"])
        #expect(!FileManager.default.fileExists(atPath: tmp))
    }
}
