import Foundation
import LinuxTarget
import STMF
import Testing

/// Who is logged in to an LIO port, read from a configfs tree laid out as the kernel's
/// (kernel-path.md §2.2, §4.4), here a plain directory.
struct LIOSessionsTests {
    let target = WWN(0x2100_001B_3200_0001)
    let i1 = WWN(0x2100_001B_3200_00A1), i2 = WWN(0x2100_001B_3200_00A2), i3 = WWN(0x2100_001B_3200_00A3)

    func tree(_ files: [String: String]) throws -> (ConfigFS, String) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lio-sessions-\(UUID().uuidString)").path
        for (path, text) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return (ConfigFS(root: root), root)
    }

    @Test func tcmLoopHasItsNexusWithTheStatisticsOfItsLUNs() throws {
        let port = LIOPort(wwpn: target, fabric: .loopback, initiators: [i1])
        let tpg = port.tpgPath
        let (cfs, root) = try tree([
            "\(tpg)/nexus": "fc.\(i1.hex.lowercased())\n",
            "\(tpg)/lun/lun_0/statistics/scsi_tgt_port/in_cmds": "300\n",
            "\(tpg)/lun/lun_0/statistics/scsi_tgt_port/read_mbytes": "11\n",
            "\(tpg)/lun/lun_0/statistics/scsi_tgt_port/write_mbytes": "8\n",
            "\(tpg)/lun/lun_1/statistics/scsi_tgt_port/in_cmds": "38\n",
            "\(tpg)/lun/lun_1/statistics/scsi_tgt_port/read_mbytes": "1\n",
            "\(tpg)/lun/lun_1/statistics/scsi_tgt_port/write_mbytes": "0\n",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(KernelSession.read(cfs, port: port) == [KernelSession(initiator: i1, commands: 338, readMegabytes: 12, writeMegabytes: 8)])
    }

    @Test func tcmLoopWithoutNexusHasNoSession() throws {
        let port = LIOPort(wwpn: target, fabric: .loopback, initiators: [i1])
        let (cfs, root) = try tree(["\(port.tpgPath)/lun/lun_0/statistics/scsi_tgt_port/in_cmds": "1\n"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(KernelSession.read(cfs, port: port).isEmpty)
    }

    /// An explicit ACL counts only while its mapped LUN shows a port identity (readable only with
    /// a session); dynamic logins come from `dynamic_sessions`, whose names end in NUL bytes.
    @Test func qla2xxxHasExplicitACLSessionsAndDynamicLogins() throws {
        let port = LIOPort(wwpn: target, fabric: .qla2xxx, initiators: [])
        let tpg = port.tpgPath
        let acl1 = "\(tpg)/acls/\(i1.colonSeparated)/lun_0/statistics"
        let acl2 = "\(tpg)/acls/\(i2.colonSeparated)/lun_3/statistics"
        let (cfs, root) = try tree([
            "\(acl1)/scsi_att_intr_port/port_ident": "\(i1.colonSeparated)+i+0x1\n",
            "\(acl1)/scsi_auth_intr/num_cmds": "42\n",
            "\(acl1)/scsi_auth_intr/read_mbytes": "5\n",
            "\(acl1)/scsi_auth_intr/write_mbytes": "7\n",
            // i2 has an ACL but no session: no port_ident.
            "\(acl2)/scsi_auth_intr/num_cmds": "9\n",
            "\(tpg)/dynamic_sessions": "\(i3.colonSeparated)\n\u{0}",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(KernelSession.read(cfs, port: port) == [
            KernelSession(initiator: i1, commands: 42, readMegabytes: 5, writeMegabytes: 7),
            KernelSession(initiator: i3),
        ])
    }
}
