import STMF

/// A local target port whose FCP the kernel terminates (LIO), as the binding compiles it.
public struct LIOPort: Hashable, Sendable {
    public enum Fabric: String, Sendable, Hashable {
        /// `tcm_loop` emulating FCP (`loopback/fc.<wwpn>`): one initiator, the TPG's nexus.
        case loopback
        /// `tcm_qla2xxx` on a QLogic HBA port bound to target mode (`qla2xxx/<aa:bb:…>`).
        case qla2xxx
    }

    public var name: PortIdentifier
    public var wwpn: WWN
    public var fabric: Fabric
    /// The initiators that have (or may have) a session: tcm_loop's nexus; for an HBA, the
    /// initiators the views name and those logged in.
    public var initiators: [WWN]

    public init(wwpn: WWN, fabric: Fabric, initiators: [WWN]) {
        name = .wwn(wwpn); self.wwpn = wwpn; self.fabric = fabric; self.initiators = initiators
    }

    /// The target's directory under the configfs root.
    public var targetPath: String {
        switch fabric {
        case .loopback: "loopback/fc.\(wwpn.hex.lowercased())"
        case .qla2xxx: "qla2xxx/\(wwpn.colonSeparated)"
        }
    }

    public var tpgPath: String { targetPath + "/tpgt_1" }
}

/// One TCMU device of the binding: the LU as one initiator sees it through one port (kernel-
/// path.md §6, option B). The ring a command arrives on names its I_T_L nexus.
public struct LIOClone: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var lu: LUGUID
    public var initiator: WWN
    public var port: WWN
    /// The LUN the view gives the LU for that initiator through that port.
    public var lun: UInt16

    public init(lu: LUGUID, initiator: WWN, port: WWN, lun: UInt16) {
        self.lu = lu; self.initiator = initiator; self.port = port; self.lun = lun
    }

    /// The backstore's name under `core/user_<hba>/`: the nexus, so a later run recognises it.
    public var deviceName: String {
        "\(lu.description.lowercased())_\(initiator.hex.lowercased())_\(port.hex.lowercased())"
    }

    /// Parses `deviceName` back (the LUN is not in the name: it comes from the link).
    public static func parse(deviceName: String) -> (lu: LUGUID, initiator: WWN, port: WWN)? {
        let parts = deviceName.split(separator: "_")
        guard parts.count == 3, let lu = LUGUID(String(parts[0])), let i = WWN(String(parts[1])), let p = WWN(String(parts[2])) else {
            return nil
        }
        return (lu, i, p)
    }

    public var description: String { "\(lu) for wwn.\(initiator.hex) via wwn.\(port.hex) as LUN \(lun)" }

    public static func < (a: LIOClone, b: LIOClone) -> Bool { (a.port, a.initiator, a.lun) < (b.port, b.initiator, b.lun) }
}

/// What the binding builds from STMF's views: pure, no configfs.
public enum LIOPlan {
    /// Every clone the views call for: for each online LIO port and each of its initiators,
    /// one per LU in that nexus's LUN map (only online LUs are in it).
    public static func clones(_ snapshot: ViewSnapshot, ports: [LIOPort]) -> [LIOClone] {
        var out: [LIOClone] = []
        for p in ports where snapshot.targetPorts[p.name]?.state == .online {
            for i in initiators(of: p, in: snapshot.views) {
                for (lun, guid) in snapshot.lunMap(targetPort: p.name, initiator: .wwn(i)) {
                    out.append(LIOClone(lu: guid, initiator: i, port: p.wwpn, lun: lun))
                }
            }
        }
        return out.sorted()
    }

    /// Who may have a nexus through `port`: tcm_loop's one initiator; for an HBA port, every
    /// FC initiator a host group names (a view may show them something) and those logged in
    /// on dynamic ACLs (`port.initiators`, for views on all hosts), each at most once.
    public static func initiators(of port: LIOPort, in views: ViewConfiguration) -> [WWN] {
        guard port.fabric == .qla2xxx else { return port.initiators }
        var seen = Set(port.initiators)
        var out = port.initiators
        for name in views.hostGroupOrder {
            for case let .wwn(w) in views.hostGroups[name]?.members ?? [] where seen.insert(w).inserted { out.append(w) }
        }
        return out
    }

    /// Whether an initiator no host group names would see a LUN through `port`: a view for all
    /// hosts reaches it. Only then must an HBA port let unknown initiators log in
    /// (`generate_node_acls=1`, with `demo_mode_login_only=1` so such a login sees nothing until
    /// the binding gives it an ACL of its own); otherwise only the initiators with an ACL may.
    public static func acceptsUnknownInitiators(_ snapshot: ViewSnapshot, port: LIOPort) -> Bool {
        var named = Set(port.initiators)
        for g in snapshot.views.hostGroups.values { for case let .wwn(w) in g.members { named.insert(w) } }
        // A WWN in no host group stands for every initiator the views do not name.
        var stranger = WWN(0x2000_0000_0000_0000)
        while named.contains(stranger) { stranger = WWN(stranger.rawValue &+ 1) }
        return !snapshot.lunMap(targetPort: port.name, initiator: .wwn(stranger)).isEmpty
    }

    /// The changes from `current` to `desired`: clones to remove (gone, or moved to another
    /// LUN) and clones to add, in a safe order (removals first).
    public static func diff(current: Set<LIOClone>, desired: [LIOClone]) -> (remove: [LIOClone], add: [LIOClone]) {
        let want = Set(desired)
        return (current.subtracting(want).sorted(), want.subtracting(current).sorted())
    }
}
