import Foundation
import ProcessTestSupport
import Testing

/// The emulated SAN end to end, with real processes: fcfabric, stmfd and the CLIs.
@Suite("Emulated SAN (processes)", .serialized)
struct SANTests {
    @Test func maskingDiscoveryAndRemotePorts() throws {
        let san = try SAN()
        try san.provision()
        let seen = try san.discover(as: SAN.host)
        #expect(seen.count == 1)
        #expect(seen.first?["portName"] as? String == "wwn." + SAN.target)
        let luns = seen.first?["luns"] as? [[String: Any]] ?? []
        #expect(luns.count == 1)
        #expect(luns.first?["lun"] as? Int == 0)
        #expect(luns.first?["sizeBytes"] as? Int == 16 << 20)
        #expect(luns.first?["vendor"] as? String == "STMF")

        // Outside the host group: the target is visible, no LUN is, and LUN 0 cannot be reached.
        let stranger = try san.discover(as: SAN.stranger)
        #expect(stranger.count == 1)
        let strangerLUNs = stranger.first?["luns"] as? [[String: Any]]
        #expect(strangerLUNs?.isEmpty == true)
        let denied = try san.run("fcinit", ["read-capacity", "--target", "wwn." + SAN.target, "--lun", "0"], wwpn: SAN.stranger)
        #expect(denied.status == 1)
        #expect(denied.err.uppercased().contains("NOT SUPPORTED"), "\(denied.err)")
        let read = try san.run("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "0", "--blocks", "1"],
                               wwpn: SAN.stranger)
        #expect(read.status == 1)

        // While an initiator is logged in, stmfd shows its session and remote port.
        let inside = try san.ok("fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c",
                                           "fcinfo remote-port -p \(SAN.target) && stmfadm list-target -v"],
                                wwpn: SAN.host, extra: ["PATH": productsDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        #expect(inside.out.contains("Remote Port WWN: \(SAN.host.lowercased())"), "\(inside.out)")
        #expect(inside.out.contains("SCSI Initiator: yes"))
        #expect(inside.out.contains("Initiator: wwn.\(SAN.host)"), "\(inside.out)")
        let hba = try san.ok("fcinfo", ["hba-port"])
        #expect(hba.out.contains("HBA Port WWN: \(SAN.target.lowercased())"))
        #expect(hba.out.contains("State: online"))
    }

    @Test func zoningHidesPorts() throws {
        let san = try SAN(zones: "prod: \(SAN.target) \(SAN.host)\n# the stranger is in no zone with the target\nother: \(SAN.stranger) \(SAN.host2)\n")
        try san.provision(members: [SAN.host, SAN.stranger])
        #expect(try san.discover(as: SAN.host).count == 1)
        #expect(try san.discover(as: SAN.stranger).isEmpty)      // in the host group, but zoned away
        let r = try san.run("fcinit", ["tur", "--target", "wwn." + SAN.target, "--lun", "0"], wwpn: SAN.stranger)
        #expect(r.status == 1)
    }

    @Test func dataWrittenByOneInitiatorReadsBackThroughAnother() throws {
        let san = try SAN()
        try san.provision()
        var pattern = [UInt8](repeating: 0, count: 256 * 512)
        for i in pattern.indices { pattern[i] = UInt8.random(in: 0...255) }
        let input = san.dir + "/in.bin", output = san.dir + "/out.bin"
        try Data(pattern).write(to: URL(fileURLWithPath: input))
        try san.ok("fcinit", ["write", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "1000", "--input", input],
                   wwpn: SAN.host)
        try san.ok("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "1000", "--blocks", "256",
                              "--output", output], wwpn: SAN.host2)
        let same = try Data(contentsOf: URL(fileURLWithPath: output)) == Data(pattern)
        #expect(same)
        // And the LU survives a stmfd restart: the port comes back and the data is there.
        san.stopDaemon()
        try san.startDaemon()
        try san.ok("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "1000", "--blocks", "256",
                              "--output", output], wwpn: SAN.host)
        let sameAfterRestart = try Data(contentsOf: URL(fileURLWithPath: output)) == Data(pattern)
        #expect(sameAfterRestart)
    }

    @Test func sg3UtilsAndFioThroughExec() throws {
        let san = try SAN()
        try san.provision()
        func exec(_ script: String) throws -> ProcessResult {
            try san.ok("fcinit", ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c", script], wwpn: SAN.host)
        }
        let inq = try exec("sg_inq \"$FCINIT_DEVICE\"")
        #expect(inq.out.contains("Vendor identification: STMF"))
        #expect(try exec("sg_readcap -l \"$FCINIT_DEVICE\"").out.contains("Last LBA=32767"))
        #expect(try exec("sg_luns \"$FCINIT_DEVICE\"").out.contains("Lun list length = 8"))
        _ = try exec("sg_turs \"$FCINIT_DEVICE\"")
        #expect(try exec("sg_vpd -p di \"$FCINIT_DEVICE\"").out.contains("0x6"))
        let dd = try exec("head -c 1048576 /dev/urandom > \(san.dir)/p && sg_dd if=\(san.dir)/p of=\"$FCINIT_DEVICE\" bs=512 count=2048 seek=64"
                          + " && sg_dd if=\"$FCINIT_DEVICE\" of=\(san.dir)/q bs=512 count=2048 skip=64 && cmp \(san.dir)/p \(san.dir)/q && echo SAME")
        #expect(dd.out.contains("SAME"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/fio") {
            let fio = try exec("fio --name=v --filename=\"$FCINIT_DEVICE\" --ioengine=sg --rw=randrw --bs=4k --iodepth=8 --size=4m"
                               + " --verify=crc32c --do_verify=1 --verify_state_save=0 --output-format=terse --minimal")
            #expect(!fio.out.isEmpty)
        }
    }

    /// One command of the Block Limits maximum transfer length (8 MiB) each way through the
    /// processes, verified; one block more is refused before its data phase with INVALID FIELD
    /// IN CDB, which the tool sees as sense, not as a transport error.
    @Test func transfersUpToTheMaximumTransferLength() throws {
        // A debug build with the capture on moves 8 MiB through three processes in seconds:
        // an exchange timeout (2 × R_A_TOV) of 20 s, as on a real SAN, not the 2 s of the other tests.
        let san = try SAN(resourceAllocationTimeout: 10_000)
        try san.provision()
        func exec(_ script: String, ok: Bool = true) throws -> ProcessResult {
            let args = ["exec", "--target", "wwn." + SAN.target, "--lun", "0", "--", "sh", "-c", script]
            return ok ? try san.ok("fcinit", args, wwpn: SAN.host) : try san.run("fcinit", args, wwpn: SAN.host)
        }
        let limits = try exec("sg_vpd -p bl \"$FCINIT_DEVICE\"")
        #expect(limits.out.contains("Maximum transfer length: 16384 blocks"), "\(limits.out)")
        let dd = try exec("head -c 8388608 /dev/urandom > \(san.dir)/p && sg_dd if=\(san.dir)/p of=\"$FCINIT_DEVICE\" bs=512 bpt=16384 count=16384"
                          + " && sg_dd if=\"$FCINIT_DEVICE\" of=\(san.dir)/q bs=512 bpt=16384 count=16384 && cmp \(san.dir)/p \(san.dir)/q && echo SAME")
        #expect(dd.out.contains("SAME"), "\(dd.err)")
        let over = try exec("sg_dd if=/dev/zero of=\"$FCINIT_DEVICE\" bs=512 bpt=16385 count=16385", ok: false)
        #expect(over.status != 0)
        #expect(over.err.lowercased().contains("illegal request") && over.err.lowercased().contains("invalid field in cdb"), "\(over.err)")
        // READ (16) of 16385 blocks (whatever FCP_DL says: here 4 KiB).
        let overRead = try exec("sg_raw -r 4096 \"$FCINIT_DEVICE\" 88 00 00 00 00 00 00 00 00 00 00 00 40 01 00 00", ok: false)
        let text = (overRead.out + overRead.err).lowercased()
        #expect(overRead.status != 0 && text.contains("check condition") && text.contains("invalid field in cdb"), "\(text)")
    }

    @Test func capturePassesTshark() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { return }
        let san = try SAN()
        try san.provision()
        _ = try san.discover(as: SAN.host)
        try san.ok("fcinit", ["write", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "8", "--pattern", "165",
                              "--blocks", "16"], wwpn: SAN.host)
        try san.ok("fcinit", ["read", "--target", "wwn." + SAN.target, "--lun", "0", "--lba", "8", "--blocks", "16",
                              "--output", san.dir + "/r"], wwpn: SAN.host)
        san.stopDaemon()
        san.stopFabric()
        let errors = try runTool("/usr/bin/tshark", ["-r", san.pcapPath, "-o", "fc.max_frame_size:2048", "-Y",
                                                    "_ws.malformed || _ws.expert.severity >= 0x00600000 || fc.crc.status==0",
                                                    "-T", "fields", "-e", "frame.number"])
        #expect(errors.status == 0, "\(errors.err)")
        #expect(errors.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "frames with errors: \(errors.out)")
        let els = try runTool("/usr/bin/tshark", ["-r", san.pcapPath, "-Y", "fcels", "-T", "fields", "-e", "fcels.opcode"])
        let ops = Set(els.out.split(separator: "\n").map { String($0) })
        for op in ["0x04", "0x03", "0x20", "0x62", "0x02", "0x61"] {   // FLOGI PLOGI PRLI SCR LS_ACC RSCN
            #expect(ops.contains(op), "ELS opcodes seen: \(ops.sorted())")
        }
        let ns = try runTool("/usr/bin/tshark", ["-r", san.pcapPath, "-Y", "fcdns", "-T", "fields", "-e", "fcdns.opcode"])
        let nsOps = Set(ns.out.split(separator: "\n").map { String($0) })
        for op in ["0x0217", "0x021f", "0x0171"] {                      // RFT_ID RFF_ID GID_FT
            #expect(nsOps.contains(op), "name server opcodes seen: \(nsOps.sorted())")
        }
        let scsi = try runTool("/usr/bin/tshark", ["-r", san.pcapPath, "-Y", "fcp", "-T", "fields", "-e", "scsi.spc.opcode",
                                                   "-e", "scsi_sbc.opcode", "-e", "fcp.status"])
        #expect(scsi.out.contains("0xa0"), "REPORT LUNS")
        #expect(scsi.out.contains("0x12"), "INQUIRY")
        #expect(scsi.out.contains("0x2a") || scsi.out.contains("0x8a"), "WRITE")
        #expect(scsi.out.contains("0x28") || scsi.out.contains("0x88"), "READ")
    }

    /// `fcinit bench` runs every workload through stmfd and, in the same run, against both
    /// limits (the raw socket relay processes and the relay reflector), with a ratio for each.
    @Test func benchMeasuresWorkloadsAndTheirLimits() throws {
        let san = try SAN()
        try san.provision()
        let r = try san.ok("fcinit", ["bench", "--target", "wwn." + SAN.target, "--seconds", "0.3", "--reflector", "--json"],
                           wwpn: SAN.host)
        struct Figures: Decodable { var workload: String; var ios: Int; var errors: Int; var iops: Double; var p50: Double }
        struct Limit: Decodable { var name: String; var figures: [Figures] }
        struct Report: Decodable {
            var results: [Figures]; var limits: [Limit]; var ratios: [String: [String: Double]]
            var spread: [String: [String: [Double]]]; var roundRatios: [[String: [String: Double]]]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(r.out.utf8))
        // Three interleaved rounds by default; each ratio is their median, inside their spread.
        #expect(report.roundRatios.count == 3)
        for (limit, byWorkload) in report.ratios {
            for (workload, median) in byWorkload {
                let s = try #require(report.spread[limit]?[workload])
                let each = report.roundRatios.compactMap { $0[limit]?[workload] }
                #expect(each.count == 3 && s == [each.min()!, each.max()!] && s[0] <= median && median <= s[1])
                #expect(each.contains(median), "the median of three is one of them")
            }
        }
        let workloads = ["4k randread qd1", "4k randread qd32", "4k randwrite qd1", "4k randwrite qd32",
                         "1m seqread qd1", "1m seqwrite qd1"]
        #expect(report.results.map(\.workload) == workloads)
        #expect(report.limits.map(\.name) == ["raw", "reflector"])
        for f in report.results + report.limits.flatMap(\.figures) {
            #expect(f.ios > 0 && f.errors == 0 && f.iops > 0 && f.p50 > 0, "\(f)")
        }
        for limit in report.limits {
            #expect(limit.figures.map(\.workload) == workloads)
            #expect(Set(report.ratios[limit.name]?.keys.map { $0 } ?? []) == Set(workloads))
        }
        // The text form names both limits and prints a ratio column for each.
        let text = try san.ok("fcinit", ["bench", "--target", "wwn." + SAN.target, "--seconds", "0.2", "--only", "qd1"],
                              wwpn: SAN.host)
        #expect(text.out.contains("vs raw") && text.out.contains("raw limit:"))
        // The workload's row, its row in the raw limit's table, and its median ratio row.
        #expect(text.out.split(separator: "\n").filter { $0.hasPrefix("4k randread qd1") }.count == 3)
        #expect(text.out.contains("ratio to each limit over 3 interleaved rounds: median (lowest–highest)"))
    }
}
