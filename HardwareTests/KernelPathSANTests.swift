import Foundation
import ProcessTestSupport
import Testing

/// The kernel path on a real SAN: a qla2xxx port of this machine (`STMF_HW_QLA2XXX_WWPN`) bound
/// to target mode and served through LIO tcm_qla2xxx + TCMU, and an initiator host on the same
/// SAN reached over ssh (`STMF_HW_INITIATOR_HOST`, e.g. `root@host2`, key-based login; its FC
/// port WWPN in `STMF_HW_INITIATOR_WWPN`). Needs root here, LIO (`modprobe target_core_mod
/// target_core_user tcm_qla2xxx`), qla2xxx in dual or exclusive mode, and sg3-utils + e2fsprogs
/// on the initiator. Enabling the target resets that HBA: name a port nothing depends on.
///
///     STMF_HW_QLA2XXX_WWPN=21:00:00:24:ff:3d:4c:48 STMF_HW_INITIATOR_HOST=root@host2 \
///     STMF_HW_INITIATOR_WWPN=21:00:00:24:ff:3d:11:22 swift test --filter KernelPathSANTests
private let env = ProcessInfo.processInfo.environment
private let targetPort = env["STMF_HW_QLA2XXX_WWPN"]
private let initiatorHost = env["STMF_HW_INITIATOR_HOST"]
private let initiatorPort = env["STMF_HW_INITIATOR_WWPN"]

@Suite(.enabled(if: targetPort != nil && initiatorHost != nil && initiatorPort != nil,
                "set STMF_HW_QLA2XXX_WWPN, STMF_HW_INITIATOR_HOST and STMF_HW_INITIATOR_WWPN to run the kernel path on a real SAN"),
       .serialized)
struct KernelPathSANTests {
    static func hex(_ s: String?) -> String {
        let raw = (s ?? "").lowercased().replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "wwn.", with: "")
        return raw.hasPrefix("0x") ? String(raw.dropFirst(2)) : raw
    }

    /// Runs a shell command on the initiator host.
    func remote(_ command: String) throws -> ProcessResult {
        try runTool("/usr/bin/ssh", ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10", initiatorHost ?? "", command])
    }

    @Test func bindServeAFilesystemToTheInitiatorAndUnbind() throws {
        let wwpn = Self.hex(targetPort), host = Self.hex(initiatorPort)
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-san-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let stmfd = try launchStmfd(stateDir: state)
        defer { stmfd.terminate(); stmfd.waitUntilExit() }
        func tool(_ name: String, _ args: [String]) throws -> ProcessResult {
            try runTool(name, Array(args.prefix(1)) + ["--state-dir", state] + Array(args.dropFirst()))
        }
        for _ in 0..<200 where (try? tool("stmfadm", ["list-state"]))?.status != 0 { Thread.sleep(forTimeInterval: 0.05) }

        let lu = try tool("sbdadm", ["create-lu", "-s", "256m", "\(state)/san.img", "--json"])
        #expect(lu.status == 0, "\(lu.err)")
        let guid = try #require(lu.out.firstMatch(of: /"guid" *: *"([0-9A-F]{32})"/)?.1).lowercased()
        #expect(try tool("stmfadm", ["create-hg", "san-hosts"]).status == 0)
        #expect(try tool("stmfadm", ["add-hg-member", "-g", "san-hosts", "wwn.\(host)"]).status == 0)
        #expect(try tool("stmfadm", ["add-view", "-h", "san-hosts", "-n", "7", guid]).status == 0)
        let bind = try tool("fcadm", ["bind-port", wwpn])
        #expect(bind.status == 0, "\(bind.err)")
        defer { _ = try? tool("fcadm", ["unbind-port", wwpn]) }

        // The initiator rescans its FC hosts and finds the LU by its GUID.
        var device = ""
        for _ in 0..<30 where device.isEmpty {
            _ = try remote("for h in /sys/class/fc_host/host*; do echo 1 > $h/issue_lip; done; sleep 5; "
                           + "for h in /sys/class/scsi_host/host*; do echo '- - -' > $h/scan; done")
            let found = try remote("for d in /dev/sd?; do sg_vpd -p 0x83 $d 2>/dev/null | grep -qi 0x\(guid) && echo $d; done")
            device = found.out.split(separator: "\n").first.map(String.init) ?? ""
        }
        try #require(!device.isEmpty, "the initiator does not see LU \(guid)")
        #expect(try remote("sg_inq \(device) | grep -q 'Vendor identification: STMF'").status == 0)
        #expect(try remote("sg_readcap \(device) | grep -q 'Device size: 268435456 bytes'").status == 0)
        let fs = try remote("""
            set -e; m=$(mktemp -d); mkfs.ext4 -q -F \(device); mount \(device) $m
            head -c 16777216 /dev/urandom > $m.src; cp $m.src $m/blob; sync
            umount $m; echo 3 > /proc/sys/vm/drop_caches; mount \(device) $m
            cmp $m.src $m/blob; umount $m; fsck.ext4 -fn \(device); rm -f $m.src; rmdir $m
            """)
        #expect(fs.status == 0, "filesystem on the initiator: \(fs.out) \(fs.err)")
        #expect(try tool("fcadm", ["unbind-port", wwpn]).status == 0)
    }
}
