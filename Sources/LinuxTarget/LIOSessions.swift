import STMF

/// An initiator logged in to an LIO target port, as the kernel shows it in configfs
/// (kernel-path.md §4.4: in target mode qla2xxx registers no `fc_remote_ports`, so LIO's own
/// objects are the only record of who is logged in).
public struct KernelSession: Sendable, Equatable {
    public var initiator: WWN
    /// Commands, and megabytes read and written, through this nexus: LIO's statistics of the
    /// LUNs the nexus reaches (nil where the kernel keeps none for it: a login that sees no LUN).
    /// The kernel truncates the megabyte counts to 32 bits.
    public var commands: UInt64?
    public var readMegabytes: UInt64?
    public var writeMegabytes: UInt64?

    public init(initiator: WWN, commands: UInt64? = nil, readMegabytes: UInt64? = nil, writeMegabytes: UInt64? = nil) {
        self.initiator = initiator; self.commands = commands
        self.readMegabytes = readMegabytes; self.writeMegabytes = writeMegabytes
    }

    /// The WWN in an initiator name as configfs writes it: `fc.` or `naa.` prefixed hex, or
    /// the colon form of tcm_qla2xxx.
    static func wwn(inName name: Substring) -> WWN? {
        var s = name
        for prefix in ["fc.", "naa."] where s.hasPrefix(prefix) { s = s.dropFirst(prefix.count) }
        let hex = s.filter { $0 != ":" }
        guard hex.count == 16, hex.allSatisfy(\.isHexDigit) else { return nil }
        return WWN(String(hex))
    }

    /// The sessions of `port`'s TPG, read from configfs:
    /// - tcm_loop: the TPG's one nexus (`nexus`), with the statistics of the TPG's LUNs
    ///   (`lun/*/statistics/scsi_tgt_port`), which only that nexus reaches;
    /// - tcm_qla2xxx: sessions on dynamic ACLs (`dynamic_sessions`: logged in, no LUN yet) and on
    ///   explicit ACLs: an ACL whose mapped LUN shows a port identity
    ///   (`acls/<i>/lun_M/statistics/scsi_att_intr_port/port_ident`, readable only while a
    ///   session exists), with that ACL's per-LUN statistics (`statistics/scsi_auth_intr`).
    public static func read(_ cfs: ConfigFS, port: LIOPort) -> [KernelSession] {
        let tpg = port.tpgPath
        func number(_ path: String) -> UInt64? { cfs.read(path).flatMap { UInt64($0.trimmingWhitespace) } }
        func sum(_ dirs: [String], _ file: String) -> UInt64? {
            let values = dirs.compactMap { number($0 + "/" + file) }
            return values.isEmpty ? nil : values.reduce(0, &+)
        }
        switch port.fabric {
        case .loopback:
            guard let nexus = cfs.read(tpg + "/nexus"), let w = wwn(inName: Substring(nexus.trimmingWhitespace)) else { return [] }
            let stats = cfs.list(tpg + "/lun").map { "\(tpg)/lun/\($0)/statistics/scsi_tgt_port" }
            return [KernelSession(initiator: w, commands: sum(stats, "in_cmds"), readMegabytes: sum(stats, "read_mbytes"),
                                  writeMegabytes: sum(stats, "write_mbytes"))]
        case .qla2xxx:
            var out: [KernelSession] = []
            for acl in cfs.list(tpg + "/acls") {
                guard let w = wwn(inName: Substring(acl)) else { continue }
                let luns = cfs.list("\(tpg)/acls/\(acl)").filter { $0.hasPrefix("lun_") }.map { "\(tpg)/acls/\(acl)/\($0)" }
                guard luns.contains(where: { cfs.read($0 + "/statistics/scsi_att_intr_port/port_ident") != nil }) else { continue }
                let stats = luns.map { $0 + "/statistics/scsi_auth_intr" }
                out.append(KernelSession(initiator: w, commands: sum(stats, "num_cmds"), readMegabytes: sum(stats, "read_mbytes"),
                                         writeMegabytes: sum(stats, "write_mbytes")))
            }
            for w in LIOBinding.parseDynamicSessions(cfs.read(tpg + "/dynamic_sessions") ?? "")
            where !out.contains(where: { $0.initiator == w }) {
                out.append(KernelSession(initiator: w))
            }
            return out.sorted { $0.initiator < $1.initiator }
        }
    }
}

extension LIOBinding {
    /// The initiators logged in to LIO port `name` now, as the kernel shows them, with when
    /// this stmfd first saw each (nil: not a port of this binding).
    public func kernelSessions(of name: PortIdentifier, now: Double) -> [(session: KernelSession, since: Double)]? {
        guard let p = portTable.withLock({ $0[name] }) else { return nil }
        let sessions = p.isUp ? KernelSession.read(cfs, port: p.port) : []
        return firstSeen.withLock { seen in
            let prefix = p.port.wwpn.hex + "/"
            for key in seen.keys where key.hasPrefix(prefix) && !sessions.contains(where: { sessionKey(p.port.wwpn, $0.initiator) == key }) {
                seen[key] = nil
            }
            return sessions.map { s in
                let key = sessionKey(p.port.wwpn, s.initiator)
                if seen[key] == nil { seen[key] = now }
                return (s, seen[key]!)
            }
        }
    }
}
