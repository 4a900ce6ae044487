import Foundation
import ProcessTestSupport
import Testing
@testable import STMFService
import STMFAPI

@Suite(.serialized) struct CommandLineTests {
    @Test func logicalUnitLifecycleAndLayouts() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        let state = try d.ok(["list-state"])
        #expect(state.hasPrefix("Operational Status: online\nConfig Status     : initialized\nALUA Status       : disabled\nALUA Node         : 0\n"))
        // The command path's file I/O engine, chosen at start: io_uring here unless the kernel refuses it.
        #expect(state.contains("I/O Engine        : io_uring\n") || state.contains("I/O Engine        : thread pool ("), "\(state)")
        let created = try d.ok(["create-lu", "-s", "64m", "-p", "alias=db", "-p", "serial=SN42", "-p", "wcd=true", data + "/a.img"])
        #expect(created.hasPrefix("Logical unit created: 600144F0"))
        let guid = String(created.dropFirst("Logical unit created: ".count).prefix(32))
        let verbose = try d.ok(["list-lu", "-v", guid])
        #expect(verbose == """
            LU Name: \(guid)
                Operational Status: Online
                Provider Name     : sbd
                Alias             : db
                View Entry Count  : 0
                Data File         : \(data)/a.img
                Meta File         : not set
                Size              : 67108864
                Block Size        : 512
                Management URL    : not set
                Vendor ID         : STMF
                Product ID        : SBD DISK
                Serial Num        : SN42
                Write Protect     : Disabled
                Writeback Cache   : Disabled
                Access State      : Active

            """)
        // modify-lu grows and changes properties.
        try d.ok(["modify-lu", "-s", "128m", "-p", "wcd=false", "-p", "alias=db2", guid])
        let json = try JSONDecoder().decode([LUInfo].self, from: Data(try d.ok(["list-lu", "--json"]).utf8))
        #expect(json.count == 1 && json[0].size == 128 << 20 && json[0].writebackCache && json[0].alias == "db2")
        // offline/online
        try d.ok(["offline-lu", guid])
        #expect(try d.ok(["list-lu", "-v"]).contains("Operational Status: Offline"))
        try d.ok(["online-lu", guid])
        // sbdadm shows the same LU.
        let sbd = try d.sbdadm(["list-lu"])
        #expect(sbd.status == 0)
        #expect(sbd.out.contains("Found 1 LU(s)") && sbd.out.contains("\(guid.lowercased())  134217728"))
        // delete-lu keeps the data: import-lu brings it back with the same GUID.
        try d.ok(["add-view", guid])
        try d.ok(["delete-lu", guid])
        #expect(try d.ok(["list-lu"]).isEmpty)
        try d.refused(["list-view", "-l", guid], "no views found")
        let imported = try d.ok(["import-lu", data + "/a.img"])
        #expect(imported.contains(guid))
        #expect(try d.ok(["list-lu", "-v"]).contains("Alias             : db2"))
        // delete-lu -k keeps views.
        try d.ok(["add-view", "-n", "3", guid])
        try d.ok(["delete-lu", "-k", guid])
        #expect(try d.ok(["list-view", "-l", guid]).contains("LUN          : 3"))
    }

    @Test func groupsAndViews() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let guid = String(try d.ok(["create-lu", "-s", "1m", "ram:v1"]).dropFirst(22).prefix(32))
        try d.ok(["create-hg", "hosts"])
        try d.ok(["add-hg-member", "-g", "hosts", "wwn.210000e08b909221", "wwn.210000E08B909222"])
        #expect(try d.ok(["list-hg", "-v"]) == "Host Group: hosts\n        Member: wwn.210000E08B909221\n        Member: wwn.210000E08B909222\n")
        try d.ok(["create-tg", "ports"])
        try d.ok(["add-tg-member", "-g", "ports", "wwn.500000000000AAAA"])
        #expect(try d.ok(["list-tg", "-v", "ports"]) == "Target Group: ports\n        Member: wwn.500000000000AAAA\n")
        try d.ok(["add-view", "-h", "hosts", "-t", "ports", "-n", "5", guid])
        let guid2 = String(try d.ok(["create-lu", "-s", "1m", "ram:v2"]).dropFirst(22).prefix(32))
        try d.ok(["add-view", "-h", "hosts", guid2])          // lowest LUN free where it overlaps: 0
        try d.ok(["add-view", "-h", "others", guid2].map { $0 == "others" ? "hosts" : $0 }, expectFailure: true)
        #expect(try d.ok(["list-view", "-l", guid]) == """
            View Entry: 0
                Host group   : hosts
                Target group : ports
                LUN          : 5

            """)
        #expect(try d.ok(["list-view", "-l", guid2]).contains("LUN          : 0"))
        try d.ok(["add-view", "-n", "9", "-t", "ports", "-h", "hosts", guid2], expectFailure: true)
        try d.ok(["remove-view", "-l", guid, "0"])
        try d.ok(["remove-view", "-l", guid2, "-a"])
        try d.refused(["list-view", "-l", guid], "no views found")
        try d.refused(["remove-view", "-l", guid, "-a"], "no views found")
        try d.ok(["remove-hg-member", "-g", "hosts", "wwn.210000E08B909222"])
        try d.ok(["delete-hg", "hosts"])
        try d.ok(["remove-tg-member", "-g", "ports", "wwn.500000000000AAAA"])
        try d.ok(["delete-tg", "ports"])
        #expect(try d.ok(["list-hg"]).isEmpty && (try d.ok(["list-tg"])).isEmpty)
    }

    @Test func everyRefusalSaysWhy() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        let guid = String(try d.ok(["create-lu", "-s", "1m", data + "/r.img"]).dropFirst(22).prefix(32))
        try d.ok(["create-hg", "hg1"]); try d.ok(["create-hg", "hg2"])
        try d.ok(["add-hg-member", "-g", "hg1", "wwn.2100000000000001"])
        try d.refused(["create-hg", "hg1"], "hg1: host group already exists")
        try d.refused(["create-hg", "*"], "invalid group name")
        try d.refused(["add-hg-member", "-g", "hg2", "wwn.2100000000000001"], "already a member of group hg1")
        try d.refused(["add-hg-member", "-g", "nope", "wwn.2100000000000003"], "nope: host group not found")
        try d.refused(["add-hg-member", "-g", "hg1", "wwn.21000"], "invalid port name 'wwn.21000'")
        try d.refused(["remove-hg-member", "-g", "hg2", "wwn.2100000000000001"], "not found in group hg2")
        try d.ok(["add-view", "-h", "hg1", "-n", "0", guid])
        try d.refused(["add-view", "-n", "1", guid], "view entry exists")
        let other = String(try d.ok(["create-lu", "-s", "1m", "ram:o"]).dropFirst(22).prefix(32))
        try d.refused(["add-view", "-h", "hg1", "-n", "0", other], "LUN 0 already in use")
        try d.refused(["add-view", "-n", "16384", other], "out of range")
        try d.refused(["add-view", "-h", "ghost", other], "ghost: host group not found")
        try d.refused(["delete-hg", "hg1"], "in use by a view entry")
        try d.refused(["create-lu", "-s", "1m", data + "/r.img"], "file in use by logical unit \(guid)")
        try d.refused(["create-lu", "-s", "12q", data + "/x.img"], "not a size")
        try d.refused(["create-lu", "-p", "blk=1000", "-s", "1m", data + "/x.img"], "power of two")
        try d.refused(["create-lu", "-p", "colour=red", "-s", "1m", data + "/x.img"], "colour")
        try d.refused(["create-lu", "-s", "1m", "relative.img"], "absolute path")
        // Never over data it was not given; the administrator can insist; never in the store.
        try "not a disk\n".write(toFile: data + "/notes.txt", atomically: true, encoding: .utf8)
        try d.refused(["create-lu", "-s", "1m", data + "/notes.txt"], "holds data")
        #expect(try String(contentsOfFile: data + "/notes.txt", encoding: .utf8) == "not a disk\n")
        try d.ok(["create-lu", "--overwrite", "-s", "1m", data + "/notes.txt"])
        try d.refused(["create-lu", "-s", "1m", d.stateDir + "/lu.img"], "state directory")
        try d.refused(["create-lu", "-s", "1m", d.stateDir + "/stmf.db"], "state directory")
        try d.refused(["create-lu", "-s", "1m", "/proc/self/status"], "kernel interfaces")
        try d.refused(["create-lu", "-p", "guid=\(guid)", "-s", "1m", data + "/y.img"], "exists")
        try d.refused(["list-lu", "600144F0000000000000000000000000"], "not found")
        try d.refused(["delete-lu", "12345"], "invalid logical unit name")
        try d.refused(["online-target", "wwn.5000000000000009"], "target not found")
        try d.refused(["modify-lu", "-s", "512k", guid], "shrink")
        try d.refused(["import-lu", data + "/missing.img"], "missing.img")
        _ = FileManager.default.createFile(atPath: data + "/foreign.img", contents: Data(repeating: 0x5A, count: 1 << 20))
        try d.refused(["import-lu", data + "/foreign.img"], "foreign.img")
        // Usage errors come from the argument parser, with a non-zero status.
        let usage = try d.stmfadm(["add-view"])
        #expect(usage.status != 0 && usage.err.contains("Missing expected argument"))
    }

    @Test func daemonRefusesASecondInstanceAndAWrongStateDirectory() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let second = try runTool("stmfd", ["--state-dir", d.stateDir])
        #expect(second.status == 1)
        #expect(second.err.contains("another stmfd"))
        let file = d.stateDir + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let bad = try runTool("stmfd", ["--state-dir", file])
        #expect(bad.status == 1 && bad.err.contains("not a directory"))
        // CLIs without a daemon say so.
        let none = try runTool("stmfadm", ["list-lu", "--state-dir", d.stateDir + "/nowhere"])
        #expect(none.status == 1 && none.err.contains("cannot reach stmfd"))
        // STMF_STATE_DIR is honoured by the CLIs.
        let viaEnv = try runTool("stmfadm", ["list-state"], env: ["STMF_STATE_DIR": d.stateDir])
        #expect(viaEnv.status == 0)
        // The socket is 0660.
        let attrs = try FileManager.default.attributesOfItem(atPath: d.socketPath)
        #expect((attrs[.posixPermissions] as? Int) == 0o660)
    }
}
