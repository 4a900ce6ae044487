import Foundation
import ProcessTestSupport
import STMF
import STMFAPI
import Testing

/// The COMSTAR command lines as illumos' stmfadm, sbdadm, fcinfo and fcadm behave (issue 16):
/// long options, -V, usage errors exiting 1, several operands each reported on its own with the
/// number that failed as the exit status, options before the subcommand, negative numbers
/// named as such, one wording per mistake, and completions from the running stmfd.
@Suite(.serialized) struct IllumosCommandLineTests {
    /// A tool run with the arguments exactly as given (no --state-dir inserted).
    func raw(_ tool: String, _ args: [String]) throws -> ProcessResult { try runTool(tool, args) }

    func guid(_ createOutput: String) -> String { String(createOutput.dropFirst("Logical unit created: ".count).prefix(32)) }

    @Test func versionAndUsageStatusesAreCOMSTARs() throws {
        for tool in ["stmfadm", "sbdadm", "fcinfo", "fcadm"] {
            for flag in ["-V", "--version"] {
                let r = try raw(tool, [flag])
                #expect(r.status == 0 && r.out == "\(tool): Version 1.0\n", "\(tool) \(flag): \(r.out)\(r.err)")
            }
        }
        // cmdparse exits 1 on a usage error; swift-argument-parser's 64 never reaches the caller.
        for (tool, args) in [("stmfadm", ["add-view"]), ("stmfadm", ["no-such-subcommand"]), ("stmfadm", ["list-lu", "--no-such-option"]),
                             ("sbdadm", ["modify-lu", "600144F0000000000000000000000001"]), ("fcinfo", ["remote-port"]),
                             ("fcadm", ["create-emulated-port"]), ("stmfadm", ["remove-view", "-l", "600144F0000000000000000000000001"])] {
            let r = try raw(tool, args)
            #expect(r.status == 1, "\(tool) \(args): status \(r.status)")
            #expect(r.err.contains("Usage:") || r.err.contains("Error:"), "\(tool) \(args): \(r.err)")
        }
        #expect(try raw("stmfadm", ["remove-view", "-l", "600144F0000000000000000000000001"]).err.contains("no view entries specified"))
    }

    @Test func optionsBeforeOrAfterTheSubcommandAndLongOptions() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        // --state-dir and --json before the subcommand.
        let state = try raw("stmfadm", ["--state-dir", d.stateDir, "list-state"])
        #expect(state.status == 0 && state.out.hasPrefix("Operational Status: online\n"), "\(state.err)")
        let json = try raw("stmfadm", ["--json", "--state-dir=\(d.stateDir)", "list-lu"])
        #expect(json.status == 0, "\(json.err)")
        #expect((try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [Any])?.isEmpty == true, "\(json.out)")
        // illumos' long options.
        let g = guid(try d.ok(["create-lu", "--lu-prop", "alias=long", "--size", "2m", data + "/l.img"]))
        try d.ok(["create-hg", "hosts"])
        try d.ok(["create-tg", "ports"])
        try d.ok(["add-hg-member", "--group-name", "hosts", "wwn.2100000000000041"])
        try d.ok(["add-tg-member", "--group-name", "ports", "wwn.5000000000000041"])
        try d.ok(["add-view", "--host-group", "hosts", "--target-group", "ports", "--lun", "12", g])
        #expect(try d.ok(["list-view", "--lu-name", g]).contains("LUN          : 12"))
        #expect(try d.ok(["list-lu", "--verbose", g]).contains("Alias             : long"))
        #expect(try d.ok(["list-hg", "--verbose"]).contains("Member: wwn.2100000000000041"))
        #expect(try d.ok(["list-tg", "--verbose"]).contains("Member: wwn.5000000000000041"))
        try d.ok(["modify-lu", "--lu-prop", "wcd=true", "--size", "4m", g])
        #expect(try d.ok(["list-lu", "-v", g]).contains("Size              : 4194304"))
        try d.ok(["remove-view", "--lu-name", g, "--all"])
        try d.ok(["add-view", g])
        try d.ok(["delete-lu", "--keep-views", g])
        #expect(try d.ok(["list-view", "-l", g]).contains("View Entry: 0"))
        try d.ok(["remove-tg-member", "--group-name", "ports", "wwn.5000000000000041"])
        try d.ok(["remove-hg-member", "--group-name", "hosts", "wwn.2100000000000041"])
        // sbdadm's long options.
        let s = try d.sbdadm(["create-lu", "--disk-size", "1m", data + "/s.img"])
        #expect(s.status == 0, "\(s.err)")
        let sg = String(s.out.split(separator: "\n").last!.prefix(32))
        #expect(try d.sbdadm(["modify-lu", "--disk-size", "3m", sg]).status == 0)
        try d.ok(["add-view", sg.uppercased()])
        #expect(try d.sbdadm(["delete-lu", "--keep-views", sg]).status == 0)
        #expect(try d.ok(["list-view", "-l", sg]).contains("View Entry: 0"))
    }

    @Test func negativeNumbersSayTheyAreNegative() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let g = guid(try d.ok(["create-lu", "-s", "1m", "ram:neg"]))
        try d.refused(["add-view", "-n", "-1", g], "-1: logical unit number must not be negative")
        try d.refused(["add-view", "--lun", "-7", g], "-7: logical unit number must not be negative")
        try d.refused(["add-view", "--lun=-2", g], "-2: logical unit number must not be negative")
        try d.refused(["add-view", "-n", "16384", g], "16384: logical unit number out of range (0-16383)")
        try d.refused(["add-view", "-n", "x", g], "x: logical unit number must be a decimal number")
        // The service words it the same way for an API client.
        let viaAPI = try apiRequest(d.socketPath, "POST", "/v1/lus/\(g)/views", body: #"{"lun": -1}"#)
        #expect(viaAPI.status == 400 && viaAPI.body.contains("-1: logical unit number must not be negative"), "\(viaAPI)")
        try d.ok(["add-view", "-n", "3", g])
        let r = try d.stmfadm(["remove-view", "-l", g, "-1", "0"])
        #expect(r.status == 1)
        #expect(r.err == "stmfadm: -1: view entry number must not be negative\n", "\(r.err)")
        try d.refused(["create-lu", "-s", "-5m", "ram:x"], "-5m: size must not be negative")
        let sbd = try d.sbdadm(["create-lu", "-s", "-1", "ram:y"])
        #expect(sbd.status == 1 && sbd.err == "sbdadm: -1: size must not be negative\n", "\(sbd.err)")
    }

    @Test func severalOperandsAreEachReportedWithTheCountAsStatus() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let a = guid(try d.ok(["create-lu", "-s", "1m", "ram:a"]))
        let b = guid(try d.ok(["create-lu", "-s", "1m", "ram:b"]))
        let missing = "600144F0000000000000000000000099"
        // delete-lu: a bad name and an unknown LU fail, both others are deleted; status 2.
        let del = try d.stmfadm(["delete-lu", "12345", a, missing, b.lowercased()])
        #expect(del.status == 2, "\(del.err)")
        #expect(del.err == "stmfadm: \(Wording.invalidGUID("12345"))\nstmfadm: \(missing): logical unit not found\n", "\(del.err)")
        #expect(try d.ok(["list-lu"]).isEmpty)
        // add-hg-member: each member on its own.
        try d.ok(["create-hg", "hg"])
        let add = try d.stmfadm(["add-hg-member", "-g", "hg", "wwn.2100000000000001", "bogus", "wwn.2100000000000001", "wwn.2100000000000002"])
        #expect(add.status == 2, "\(add.err)")
        #expect(add.err.contains("stmfadm: invalid port name 'bogus'"))
        #expect(add.err.contains("stmfadm: wwn.2100000000000001: already exists in group hg"))
        #expect(try d.ok(["list-hg", "-v", "hg"]) == "Host Group: hg\n        Member: wwn.2100000000000001\n        Member: wwn.2100000000000002\n")
        let remove = try d.stmfadm(["remove-hg-member", "-g", "hg", "wwn.2100000000000009", "wwn.2100000000000001"])
        #expect(remove.status == 1 && remove.err == "stmfadm: wwn.2100000000000009: not found in group hg\n", "\(remove.err)")
        // remove-view: entries on their own.
        let c = guid(try d.ok(["create-lu", "-s", "1m", "ram:c"]))
        try d.ok(["add-view", "-n", "1", c])
        let rv = try d.stmfadm(["remove-view", "-l", c, "0", "5", "6"])
        #expect(rv.status == 2, "\(rv.err)")
        try d.refused(["list-view", "-l", c], "no views found")
        // Listings print what exists and exit 1 for what does not.
        let list = try d.stmfadm(["list-lu", missing, c])
        #expect(list.status == 1 && list.out == "LU Name: \(c)\n" && list.err == "stmfadm: \(missing): not found\n")
        let groups = try d.stmfadm(["list-hg", "nope", "hg"])
        #expect(groups.status == 1 && groups.out == "Host Group: hg\n" && groups.err == "stmfadm: nope: not found\n")
    }

    @Test func theSameMistakeReadsTheSameEverywhere() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        // A bad LU name: the CLIs check it before asking, the service checks it for API
        // clients; both say what a GUID must be.
        let expected = Wording.invalidGUID("12345")
        #expect(expected.contains("32 hexadecimal digits"))
        for (tool, args) in [("stmfadm", ["online-lu", "12345"]), ("stmfadm", ["list-view", "-l", "12345"]),
                             ("stmfadm", ["modify-lu", "-p", "alias=x", "12345"]), ("stmfadm", ["add-view", "12345"]),
                             ("sbdadm", ["delete-lu", "12345"]), ("sbdadm", ["modify-lu", "-s", "1m", "12345"])] {
            let r = try d.tool(tool, args)
            #expect(r.status == 1 && r.err == "\(tool): \(expected)\n", "\(tool) \(args): \(r.err)")
        }
        let http = try apiRequest(d.socketPath, "DELETE", "/v1/lus/12345")
        #expect(http.status == 400 && http.body.contains(expected), "\(http.body)")
        // A bad WWN, wherever it is given.
        for (tool, args) in [("fcinfo", ["hba-port", "xyz"]), ("fcadm", ["delete-emulated-port", "-p", "xyz"]),
                             ("fcinfo", ["remote-port", "-p", "xyz"]), ("fcadm", ["unbind-port", "xyz"])] {
            let r = try d.tool(tool, args)
            #expect(r.status == 1 && r.err.contains(Wording.wwnRule), "\(tool) \(args): \(r.err)")
        }
        let bind = try d.tool("fcadm", ["bind-port", "xyz"])
        #expect(bind.status == 1 && bind.err.contains(Wording.invalidWWN("xyz")), "\(bind.err)")
        let ctl = try raw("fcfabric", ["ctl", "link-down", "xyz", "--socket", d.stateDir + "/none.sock"])
        #expect(ctl.status == 1 && ctl.err.contains(Wording.wwnRule), "\(ctl.err)")
        // A bad size: the CLI's -s and the provider's size= say the same thing.
        try d.refused(["create-lu", "-s", "12q", "ram:q"], Wording.invalidSize("12q"))
        try d.refused(["create-lu", "-p", "size=12q", "ram:q"], "not a size: " + Wording.sizeRule)
    }

    @Test func sizesUpToExbibytes() {
        #expect(LUPropertyName.parseSize("1k") == 1 << 10)
        #expect(LUPropertyName.parseSize("1P") == 1 << 50)
        #expect(LUPropertyName.parseSize("2e") == 2 << 60)
        #expect(LUPropertyName.parseSize("15E") == 15 << 60)
        #expect(LUPropertyName.parseSize("16e") == nil)     // 2^64 does not fit
        #expect(LUPropertyName.parseSize("1x") == nil)
    }

    @Test func hostIDAndModifyByFile() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        // host-id: the generated GUID carries it (NAA 6 | OUI 00144F | 0 | host id | time | counter).
        let g = guid(try d.ok(["create-lu", "-p", "host-id=1234ABCD", "-s", "1m", data + "/h.img"]))
        #expect(g.hasPrefix("600144F01234ABCD"), "\(g)")
        try d.refused(["create-lu", "-p", "host-id=12", "-s", "1m", data + "/h2.img"], "must be 8 hexadecimal digits")
        // An explicit guid wins over host-id.
        let explicit = "600144F0AAAAAAAA0000000000000001"
        #expect(guid(try d.ok(["create-lu", "-p", "host-id=1234ABCD", "-p", "guid=\(explicit)", "-s", "1m", "ram:e"])) == explicit)
        // modify-lu -f: an LU named by its file, changed live.
        try d.ok(["modify-lu", "-f", "-p", "alias=byfile", data + "/h.img"])
        #expect(try d.ok(["list-lu", "-v", g]).contains("Alias             : byfile"))
        // One not imported: changed in its metadata; import-lu brings back the change.
        try d.ok(["delete-lu", g])
        try d.ok(["modify-lu", "--file", "-s", "2m", "-p", "alias=offline", data + "/h.img"])
        #expect(try d.ok(["list-lu"]).contains(g) == false)
        try d.ok(["import-lu", data + "/h.img"])
        let v = try d.ok(["list-lu", "-v", g])
        #expect(v.contains("Alias             : offline") && v.contains("Size              : 2097152"), "\(v)")
        // sbdadm modify-lu takes the file's full path too.
        #expect(try d.sbdadm(["modify-lu", "-s", "3m", data + "/h.img"]).status == 0)
        #expect(try d.ok(["list-lu", "-v", g]).contains("Size              : 3145728"))
        try d.refused(["modify-lu", "-f", "-p", "alias=x", data + "/none.img"], "none.img")
    }

    @Test func emulatedPortNeedsItsFabricAndFabricCtlSaysHowToNameIt() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let sock = d.stateDir + "/no-fabric.sock"
        let r = try d.tool("fcadm", ["create-emulated-port", "-p", "2100001b32a0d001", "--fabric", sock])
        #expect(r.status == 1, "\(r.out)")
        #expect(r.err.contains("\(sock): no emulated fabric answers there") && r.err.contains("--fabric or $FCFABRIC_SOCKET"), "\(r.err)")
        #expect(try d.tool("fcadm", ["list-emulated-port"]).out.isEmpty)
        // fcfabric ctl with no fabric: a runtime error naming the socket and how to name another.
        let ctl = try raw("fcfabric", ["ctl", "show", "--socket", sock])
        #expect(ctl.status == 1)
        #expect(ctl.err.contains("cannot reach the fabric at \(sock)") && ctl.err.contains("--socket PATH or $FCFABRIC_SOCKET"), "\(ctl.err)")
        #expect(!ctl.err.contains("Usage:"))
        let before = try raw("fcfabric", ["--socket", sock, "ctl", "show"])
        #expect(before.status == 1 && before.err == ctl.err)
    }

    @Test func completionsOfferWhatTheDaemonHas() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let g = guid(try d.ok(["create-lu", "-s", "1m", "ram:comp"]))
        try d.ok(["create-hg", "dbhosts"]); try d.ok(["create-tg", "fabric-a"])
        try d.ok(["add-hg-member", "-g", "dbhosts", "wwn.2100000000000077"])
        /// What the shell's completion function asks the command (swift-argument-parser's protocol).
        func complete(_ sub: String, _ argument: String, _ words: [String]) throws -> [String] {
            let line = ["stmfadm", sub, "--state-dir", d.stateDir] + words
            let r = try raw("stmfadm", ["---completion", sub, "--", argument, String(line.count - 1), String(line.last!.count)] + line)
            #expect(r.status == 0, "\(r.err)")
            return r.out.split(separator: "\n").map(String.init)
        }
        #expect(try complete("list-lu", "positional@0", [""]) == [g])
        #expect(try complete("add-view", "--host-group", ["-h", ""]) == ["dbhosts"])
        #expect(try complete("add-view", "--target-group", ["-t", ""]) == ["fabric-a"])
        #expect(try complete("add-hg-member", "positional@0", ["-g", "dbhosts", "wwn"]) == ["wwn.2100000000000077"])
        let props = try complete("create-lu", "--lu-prop", ["-p", ""])
        #expect(props.contains("alias=") && props.contains("host-id=") && props.contains("wcd="), "\(props)")
        #expect(try complete("create-lu", "--lu-prop", ["-p", "w"]) == ["wcd=", "wp="])
    }
}

/// One HTTP request to stmfd's socket, with curl (the API as a client that is not our CLI sees it).
func apiRequest(_ socket: String, _ method: String, _ path: String, body: String? = nil) throws -> (status: Int, body: String) {
    var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--unix-socket", socket, "-X", method, "http://stmfd" + path]
    if let body { args += ["-H", "Content-Type: application/json", "--data-binary", body] }
    let r = try runTool("/usr/bin/curl", args)
    let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
    return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
}
