import Foundation
import ProcessTestSupport
import Testing

/// HBA discovery as an administrator runs it: `fcinfo hba-port` and `fcadm` under
/// `umockdev-run`, whose preload library makes libudev and every /sys read see a recorded device
/// tree (Fixtures/*.umockdev: QLogic 8G 2532, 16G 2031, 32G 2261 with an NPIV port, 2281,
/// Emulex lpfc, Brocade bfa). No stmfd runs: the state directory is empty.
@Suite("HBA discovery under umockdev")
struct DiscoveryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    let stateDir: String = {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-udev-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d.path
    }()

    /// Runs a tool under umockdev-run with `fixture` (nil: an empty /sys), after a shell
    /// `setup` step that may write into the testbed (`$UMOCKDEV_DIR/sys/...`).
    func run(_ fixture: String?, _ tool: String, _ args: [String], setup: String = ":",
             env: [String: String] = [:]) throws -> ProcessResult {
        var a: [String] = []
        if let fixture { a += ["-d", Self.fixtures.appendingPathComponent(fixture + ".umockdev").path] }
        a += ["--", "/bin/sh", "-c", setup + "\nexec \"$@\"", "sh", productsDirectory.appendingPathComponent(tool).path] + args
        var e = ["STMF_STATE_DIR": stateDir,
                 "STMF_MODULES_ALIAS": Self.fixtures.appendingPathComponent("modules.alias").path,
                 "STMF_DRIVER_ALIASES": "/nonexistent/driver_aliases"]
        for (k, v) in env { e[k] = v }
        return try runTool("/usr/bin/umockdev-run", a, env: e)
    }

    /// `fcinfo hba-port --json`, decoded.
    func ports(_ fixture: String?, setup: String = ":", env: [String: String] = [:], args: [String] = []) throws -> [[String: Any]] {
        let r = try run(fixture, "fcinfo", ["hba-port", "--json"] + args, setup: setup, env: env)
        #expect(r.status == 0, "\(r.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]], "\(r.out)\(r.err)")
    }

    static func moduleParameter(_ mode: String) -> String {
        "mkdir -p \"$UMOCKDEV_DIR/sys/module/qla2xxx/parameters\" && echo \(mode) > \"$UMOCKDEV_DIR/sys/module/qla2xxx/parameters/qlini_mode\""
    }

    @Test func qle2562TwoPortsOneUpOneDown() throws {
        let p = try ports("qle2562-8g", setup: Self.moduleParameter("disabled"))
        #expect(p.map { $0["portWWN"] as? String } == ["21000024ff3d4c48", "21000024ff3d4c49"])
        #expect(p.map { $0["kind"] as? String } == ["hba", "hba"])
        #expect(p.map { $0["state"] as? String } == ["online", "link down"])
        #expect(p.map { $0["portID"] as? String } == ["010a00", nil])
        let up = try #require(p[0]["hba"] as? [String: Any]), down = try #require(p[1]["hba"] as? [String: Any])
        #expect(up["driver"] as? String == "qla2xxx")
        #expect(up["driverRole"] as? String == "target-capable")
        #expect(up["model"] as? String == "QLE2562")
        #expect(up["serialNumber"] as? String == "RFC1245K31478")
        #expect(up["hostNumber"] as? Int == 7)
        #expect(up["speed"] as? String == "8 Gbit")
        #expect(down["fabricName"] == nil)          // all ones: no fabric
        #expect(down["speed"] as? String == "unknown")
        #expect((up["qlogicMode"] as? [String: Any])?["module"] as? String == "disabled")
        #expect((up["qlogicMode"] as? [String: Any])?["host"] == nil)   // no per-host switch unless dual
        let pci = try #require(up["pci"] as? [String: Any])
        #expect(pci["address"] as? String == "0000:05:00.0")
        #expect(pci["claimedBy"] as? [String] == ["qla2xxx"])
        #expect(pci["claimSources"] as? [String] == ["modules.alias"])
    }

    @Test func illumosLayoutForAQLogicPort() throws {
        let r = try run("qle2562-8g", "fcinfo", ["hba-port", "21000024ff3d4c48"], setup: Self.moduleParameter("disabled"))
        #expect(r.status == 0, "\(r.err)")
        let keys = r.out.split(separator: "\n").map { $0.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        // illumos fcinfo's keys in illumos's order (printAttrs.c), then what Linux adds.
        #expect(Array(keys.prefix(18)) == [
            "HBA Port WWN", "Port Mode", "Port ID", "OS Device Name", "Manufacturer", "Model", "Firmware Version",
            "FCode/BIOS Version", "Serial Number", "Driver Name", "Driver Version", "Type", "State",
            "Supported Speeds", "Current Speed", "Node WWN", "Max NPIV Ports", "NPIV port list"])
        #expect(r.out.contains("HBA Port WWN: 21000024ff3d4c48\n        Port Mode: Initiator\n        Port ID: 10a00\n"))
        #expect(r.out.contains("        Manufacturer: QLogic Corp.\n        Model: QLE2562\n"))
        #expect(r.out.contains("        Type: N-port\n        State: online\n"))
        #expect(r.out.contains("        Current Speed: 8Gb\n"))
        #expect(r.out.contains("        Target Capable: yes (qla2xxx through tcm_qla2xxx)\n"))
        #expect(!r.out.contains("21000024ff3d4c49"))
    }

    @Test func linkStatisticsAreReadOnDemandAndAllOnesIsUnavailable() throws {
        let r = try run("qle2562-8g", "fcinfo", ["hba-port", "-l", "21000024ff3d4c49"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("        Link Error Statistics:\n                Link Failure Count: 2\n                Loss of Sync Count: 5\n"))
        let p = try ports("qle2562-8g", args: ["-l", "21000024ff3d4c48"])
        let stats = try #require(p.first?["statistics"] as? [String: Any])
        #expect((stats["counters"] as? [String: Any])?["link_failure_count"] as? Int == 1)
        #expect((stats["counters"] as? [String: Any])?["invalid_crc_count"] as? Int == 0)
        // qla2xxx never fills the fcp_packet_* counters: sysfs shows all ones.
        #expect((stats["unavailable"] as? [String])?.contains("fcp_packet_aborts") == true)
        #expect((stats["counters"] as? [String: Any])?["reset_statistics"] == nil)
    }

    @Test func dualModeHostSwitchIsSeen() throws {
        let p = try ports("qle2672-16g")
        let hba = try #require(p.first?["hba"] as? [String: Any])
        #expect(hba["model"] as? String == "QLE2672")
        // The per-host qlini_mode exists, so the module was loaded with dual; the host is an initiator.
        #expect(hba["qlogicMode"] as? [String: String] == ["module": "dual", "host": "enabled"])
    }

    @Test func enabledModuleCannotBeATarget() throws {
        let r = try run("qle2562-8g", "fcinfo", ["hba-port", "21000024ff3d4c48"], setup: Self.moduleParameter("enabled"))
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("Target Capable: no: qla2xxx was loaded with qlini_mode=enabled"))
    }

    @Test func npivPortIsListedUnderItsPhysicalPort() throws {
        let p = try ports("qle2742-32g")
        // In host order: host9, host10, then the vport's host11.
        #expect(p.map { $0["portWWN"] as? String } == ["2100000e1ec2a300", "2100000e1ec2a301", "2100000e1ec2a3f0"])
        let v = try #require(p[2]["hba"] as? [String: Any])
        #expect(v["isVirtual"] as? Bool == true)
        #expect(v["physicalPortWWN"] as? String == "2100000e1ec2a300")
        #expect(v["type"] as? String == "NPIV VPORT")
        let phys = try #require(p[0]["hba"] as? [String: Any])
        #expect(phys["npivPortsInUse"] as? Int == 1)
        #expect(phys["model"] as? String == "QLE2742")

        let r = try run("qle2742-32g", "fcinfo", ["hba-port"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.components(separatedBy: "HBA Port WWN:").count - 1 == 2)
        #expect(r.out.contains("        NPIV port list:\n          Virtual Port1:\n                Node WWN: 2000000e1ec2a3f0\n                Port WWN: 2100000e1ec2a3f0\n"))
        // Asked for by name, the virtual port is shown, and it is no target candidate.
        let one = try run("qle2742-32g", "fcinfo", ["hba-port", "2100000e1ec2a3f0"])
        #expect(one.out.contains("HBA Port WWN: 2100000e1ec2a3f0"))
        #expect(one.out.contains("Target Capable: no (an NPIV port; bind its physical port)"))
    }

    @Test func isp2281InExclusiveMode() throws {
        let p = try ports("qle2772-2281", setup: Self.moduleParameter("exclusive"))
        #expect(!p.isEmpty)
        for port in p {
            let hba = try #require(port["hba"] as? [String: Any])
            #expect((hba["pci"] as? [String: Any]).flatMap { ($0["id"] as? [String: Any])?["device"] as? Int } == 0x2281)
            #expect(hba["driverRole"] as? String == "target-capable")
            #expect((hba["qlogicMode"] as? [String: Any])?["module"] as? String == "exclusive")
        }
    }

    @Test func emulexAndBrocadeAreInitiatorOnly() throws {
        let lpfc = try ports("lpfc-lpe32002")
        #expect(lpfc.count == 2)
        for p in lpfc {
            let hba = try #require(p["hba"] as? [String: Any])
            #expect(hba["driver"] as? String == "lpfc")
            #expect(hba["driverRole"] as? String == "initiator-only")
            #expect(hba["model"] as? String == "LPe32002-M2")
            #expect(hba["manufacturer"] as? String == "Emulex Corporation")
        }
        // bfa's symbolic name begins "QLogic-" (a matcher by name would offer it as a qla2xxx
        // target, rtslib-fb#155); the driver link says bfa.
        let bfa = try ports("bfa-1860")
        #expect(bfa.count == 2)
        for p in bfa {
            let hba = try #require(p["hba"] as? [String: Any])
            #expect((hba["symbolicName"] as? String)?.hasPrefix("QLogic-") == true)
            #expect(hba["driver"] as? String == "bfa")
            #expect(hba["driverRole"] as? String == "initiator-only")
            #expect(hba["qlogicMode"] == nil)
        }
        let text = try run("bfa-1860", "fcinfo", ["hba-port"])
        #expect(text.out.contains("Target Capable: no (bfa is an initiator-only driver)"))
        #expect(!text.out.contains("Target Capable: yes"))
    }

    @Test func overrideFileClaimsAndReportsBadLines() throws {
        let bad = Self.fixtures.appendingPathComponent("driver_aliases.bad").path
        let r = try run("qle2562-8g", "fcinfo", ["hba-port", "--json"], env: ["STMF_DRIVER_ALIASES": bad])
        #expect(r.status == 0, "\(r.err)")
        // Every malformed line is named with its number; the good ones still apply.
        for line in [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 26] {
            #expect(r.err.contains("driver_aliases.bad line \(line):"), "line \(line): \(r.err)")
        }
        for line in [1, 2, 15, 23, 24, 25] { #expect(!r.err.contains("driver_aliases.bad line \(line):")) }
        let p = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]])
        let pci = try #require((p.first?["hba"] as? [String: Any])?["pci"] as? [String: Any])
        #expect(pci["claimedBy"] as? [String] == ["qla2xxx"])
        #expect(pci["claimSources"] as? [String] == ["\(bad) line 2"])
    }

    @Test func overrideClaimsADeviceTheKernelTableLacks() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-alias-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "# no FC drivers in this kernel\n".write(to: dir.appendingPathComponent("modules.alias"), atomically: true, encoding: .utf8)
        try "qla2xxx \"pciex1077,2281\"\n".write(to: dir.appendingPathComponent("driver_aliases"), atomically: true, encoding: .utf8)
        let p = try ports("qle2772-2281", env: ["STMF_MODULES_ALIAS": dir.appendingPathComponent("modules.alias").path,
                                                "STMF_DRIVER_ALIASES": dir.appendingPathComponent("driver_aliases").path])
        let pci = try #require((p.first?["hba"] as? [String: Any])?["pci"] as? [String: Any])
        #expect(pci["claimedBy"] as? [String] == ["qla2xxx"])
        #expect((pci["claimSources"] as? [String])?.first?.hasSuffix("driver_aliases line 1") == true)
    }

    @Test func noAdaptersAndUnknownWWNs() throws {
        let none = try run(nil, "fcinfo", ["hba-port"])
        #expect(none.status == 0, "\(none.err)")
        #expect(none.out == "No Adapters Found.\n")
        let missing = try run("qle2562-8g", "fcinfo", ["hba-port", "2100000000000001"])
        #expect(missing.status == 1)
        #expect(missing.err.contains("fcinfo: HBA port 2100000000000001: not found"))
        // Each port on its own line, then what that means for all of them (illumos fcinfo).
        let some = try run("qle2562-8g", "fcinfo", ["hba-port", "2100000000000001", "21000024ff3d4c48"])
        #expect(some.status == 1)
        #expect(some.out.contains("HBA Port WWN: 21000024ff3d4c48\n"))
        #expect(some.err == "fcinfo: HBA port 2100000000000001: not found\nfcinfo: Some of specified HBA ports are not found\n", "\(some.err)")
        let bad = try run("qle2562-8g", "fcinfo", ["hba-port", "xyz"])
        #expect(bad.status == 1)
        #expect(bad.err.contains("xyz: invalid WWN: must be 16 hexadecimal digits"))
        // No port is in target mode until one is bound.
        let targets = try run("qle2562-8g", "fcinfo", ["hba-port", "-t"])
        #expect(targets.out == "No Adapters Found.\n")
        let initiators = try run("qle2562-8g", "fcinfo", ["hba-port", "-i"])
        #expect(initiators.out.components(separatedBy: "HBA Port WWN:").count - 1 == 2)
        #expect(try run("qle2562-8g", "fcinfo", ["hba-port", "-t", "-i"]).status != 0)
    }

    @Test func fcadmHBAPortAndForceLIP() throws {
        let list = try run("qle2562-8g", "fcadm", ["hba-port"])
        #expect(list.status == 0, "\(list.err)")
        #expect(list.out.contains("HBA Port WWN: 21000024ff3d4c48"))
        let host7 = "/sys/class/fc_host/host7/issue_lip"
        let lip = try run("qle2562-8g", "fcadm", ["force-lip", "21:00:00:24:ff:3d:4c:48"],
                          setup: "trap 'cat \(host7)' EXIT; \"$@\"; exit $?")
        #expect(lip.status == 0, "\(lip.err)")
        #expect(lip.out.hasPrefix("21000024ff3d4c48: link reinitialisation requested on host7\n"))
        #expect(lip.out.hasSuffix("1"))
        let asJSON = try run("qle2562-8g", "fcadm", ["force-lip", "--json", "21000024ff3d4c48"])
        #expect(asJSON.status == 0, "\(asJSON.err)")
        let object = try JSONSerialization.jsonObject(with: Data(asJSON.out.utf8)) as? [String: Any]
        #expect(object?["portWWN"] as? String == "21000024ff3d4c48" && object?["host"] as? String == "host7"
                && object?["requested"] as? Bool == true, "\(asJSON.out)")
        let unknown = try run("qle2562-8g", "fcadm", ["force-lip", "2100000000000001"])
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("no HBA port has this WWN"))
    }

    /// Hot-plug through the umockdev testbed (Fixtures/hotplug.py under umockdev-wrapper): the
    /// link of host7 goes down and up (attribute changes and change uevents), a port is added
    /// and its PCI function removed; `fcinfo hba-port --watch` prints each change.
    @Test func watchSeesLinkChangesAndHotPlug() throws {
        let r = try runTool("/usr/bin/umockdev-wrapper", [
            "/usr/bin/python3", Self.fixtures.appendingPathComponent("hotplug.py").path,
            Self.fixtures.appendingPathComponent("qle2562-8g.umockdev").path,
            Self.fixtures.appendingPathComponent("hotplug-qle2562.steps").path, "--timeout", "3", "--",
            productsDirectory.appendingPathComponent("fcinfo").path, "hba-port", "--watch", "--interval", "0.2",
        ], env: ["STMF_STATE_DIR": stateDir, "STMF_MODULES_ALIAS": Self.fixtures.appendingPathComponent("modules.alias").path])
        let events = r.out.split(separator: "\n").map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
        let expected = [
            "added 21000024ff3d4c48 host7 online 8Gb qla2xxx",
            "added 21000024ff3d4c49 host8 link down not established qla2xxx",
            "changed 21000024ff3d4c48 host7 state online -> link down",
            "changed 21000024ff3d4c48 host7 state link down -> online",
            "added 21000024ff1e8a10 host9",
            "removed 21000024ff1e8a10 host9",
        ]
        var at = 0
        for line in events where at < expected.count && line.hasPrefix(expected[at]) { at += 1 }
        #expect(at == expected.count, "saw:\n\(r.out)\n\(r.err)")
        // Ended by the harness's SIGTERM, which the watch takes as the end: exit status 0.
        #expect(r.err.contains("program exit status 0"), "\(r.err)")
    }
}

extension DiscoveryTests {
    @Test func remotePortsOfAnInitiatorModePort() throws {
        let r = try run("qle2672-16g", "fcinfo", ["remote-port", "-p", "21000024ff7b1a3e", "-s"])
        #expect(r.status == 0, "\(r.err)")
        // illumos' layout (WWN, FC4 types, SCSI Target, Port Symbolic Name, Node WWN), what
        // sysfs adds, then with -s the target's LUNs as illumos prints them.
        #expect(r.out.contains("""
            Remote Port WWN: 500a09819a2b3c4d
                    Active FC4 Types: SCSI
                    SCSI Target: yes
                    Port Symbolic Name: \("")
                    Node WWN: 500a09809a2b3c4d
                    SCSI Initiator: no
                    Port ID: 10400
                    Port State: Online
                    SCSI Target ID: 6:0:0
                    LUN: 0
                      Vendor: NETAPP
                      Product: LUN C-Mode
                      OS Device Name: /dev/sdb
                    LUN: 1
                      Vendor: NETAPP
                      Product: LUN C-Mode
                      OS Device Name: /dev/sg3

            """), "\(r.out)")
        #expect(r.out.contains("Remote Port WWN: 21000024ff7b1b00\n        Active FC4 Types: SCSI\n        SCSI Target: no\n        Port Symbolic Name: \n        Node WWN: 20000024ff7b1b00\n        SCSI Initiator: yes\n"))
        // The kernel keeps no link error status of a remote port: -l says so, as illumos does when RLS fails.
        let linkstat = try run("qle2672-16g", "fcinfo", ["remote-port", "--port", "21000024ff7b1a3e", "--linkstat", "500a09819a2b3c4d"])
        #expect(linkstat.status == 1)
        #expect(linkstat.err == "fcinfo: Error: SendRLS failed for 500a09819a2b3c4d\n")
        #expect(r.out.contains("Port State: Blocked"))
        let one = try run("qle2672-16g", "fcadm", ["remote-port", "-p", "21000024ff7b1a3e", "--json", "500a09819a2b3c4d"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(one.out.utf8)) as? [[String: Any]], "\(one.err)")
        #expect(list.map { $0["portWWN"] as? String } == ["500a09819a2b3c4d"])
        #expect(list.first?["roles"] as? [String] == ["FCP Target"])
        #expect(list.first?["scsiTargetID"] as? Int == 0)
        // A target-only port (qlini_mode=disabled) has none registered.
        let none = try run("qle2562-8g", "fcinfo", ["remote-port", "-p", "21000024ff3d4c48"])
        #expect(none.out == "No remote ports known to 21000024ff3d4c48 (host7)\n")
    }
}

extension DiscoveryTests {
    /// `fcinfo logical-unit` / `fcinfo lu`: the SCSI devices below the FC remote ports of an
    /// initiator mode port, by OS device name; -v gives each path, vendor, product and type.
    @Test func logicalUnitsBehindRemotePorts() throws {
        let plain = try run("qle2672-16g", "fcinfo", ["logical-unit"])
        #expect(plain.status == 0, "\(plain.err)")
        #expect(plain.out == "OS Device Name: /dev/sdb\nOS Device Name: /dev/sg3\n")
        let verbose = try run("qle2672-16g", "fcinfo", ["lu", "-v", "/dev/sdb"])
        #expect(verbose.status == 0, "\(verbose.err)")
        #expect(verbose.out == """
            OS Device Name: /dev/sdb
                    HBA Port WWN: 21000024ff7b1a3e
                            Remote Port WWN: 500a09819a2b3c4d
                                    LUN: 0
                    Vendor: NETAPP
                    Product: LUN C-Mode
                    Device Type: Disk Device

            """)
        let changer = try run("qle2672-16g", "fcinfo", ["lu", "--verbose", "/dev/sg3"])
        #expect(changer.out.contains("Device Type: Medium Changer Device\n"))
        let json = try run("qle2672-16g", "fcinfo", ["lu", "--json"])
        let list = try #require(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]], "\(json.err)")
        #expect(list.map { $0["hctl"] as? String } == ["6:0:0:0", "6:0:0:1"])
        #expect(list.first?["genericDevice"] as? String == "/dev/sg2")
        // A device that is not an FC logical unit is reported, and the exit status says so.
        let missing = try run("qle2672-16g", "fcinfo", ["lu", "/dev/sdb", "/dev/sdz"])
        #expect(missing.status == 1)
        #expect(missing.out == "OS Device Name: /dev/sdb\n")
        #expect(missing.err == "fcinfo: Error: Logical unit /dev/sdz: not found\n")
        // A machine whose HBA ports reach none lists none.
        let none = try run("qle2562-8g", "fcinfo", ["lu", "-v"])
        #expect(none.status == 0 && none.out.isEmpty, "\(none.out)\(none.err)")
    }
}
