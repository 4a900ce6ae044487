import ArgumentParser
import CLISupport
import Foundation
import STMF
import STMFAPI
import STMFClient
import Udev

/// fcinfo: Fibre Channel port information: this machine's HBA ports (udev), stmfd's emulated
/// target ports, their remote ports and the logical units reached through initiator ports.
/// As illumos' fcinfo, any failure exits 1.
public struct Fcinfo: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fcinfo",
        abstract: "Show Fibre Channel HBA ports, remote ports and logical units.",
        subcommands: [HBAPort.self, RemotePort.self, LogicalUnit.self])
    public init() {}

    /// illumos cmdparse's behaviour: -V, usage errors exit 1, options before the subcommand.
    public static func main() { CommandLineRunner.main(Self.self) }

    static func fcPorts(_ g: GlobalOptions) throws -> [FCPortInfo] {
        try api { () throws(APIClient.Failure) in try g.client.call("GET", "/v1/fc/ports", as: [FCPortInfo].self) }
    }

    /// A WWN operand, as 16 lowercase hex digits; otherwise the command stops with the one
    /// wording of it.
    static func wwn(_ text: String, _ what: String = "WWN") throws -> String {
        guard let w = WWN(text.hasPrefix("wwn.") ? String(text.dropFirst(4)) : text) else { try fail(Wording.invalidWWN(text, what)) }
        return w.hex.lowercased()
    }

    struct HBAPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hba-port",
            abstract: "List FC HBA ports: this machine's (read from udev, no daemon needed) and stmfd's emulated ports.",
            discussion: """
                HBA ports are found through udev (fc_host, its scsi_host and PCI function; the bound \
                driver from the function's driver link). Which drivers claim a device comes from \
                $STMF_DRIVER_ALIASES (default /etc/stmf/driver_aliases, lines `driver "pciVVVV,DDDD"`) \
                and the kernel's modules.alias ($STMF_MODULES_ALIAS to read another).
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("linkstat")], help: "Link error statistics (read from the HBA now).") var l = false
        @Flag(name: [.short, .customLong("target")], help: "Target mode ports only.") var t = false
        @Flag(name: [.short, .customLong("initiator")], help: "Initiator mode ports only.") var i = false
        @Flag(name: [.short, .customLong("fcoe")], help: "FCoE ports only (this machine has none that stmfd drives).") var e = false
        @Argument(help: ArgumentHelp("Port WWNs to show (default: all).", valueName: "WWN"), completion: Completions.wwns)
        var wwns: [String] = []
        @Flag(help: "Keep running and print a line for every HBA port added, removed or changed (link up or down, speed, port id).")
        var watch = false
        @Option(help: "With --watch: seconds between re-reads of the ports (link changes raise no uevent).")
        var interval: Double = 2

        func validate() throws {
            if t && i { throw ValidationError("-t and -i cannot be used together") }
            if !(interval >= 0.05 && interval <= 3600) { throw ValidationError("--interval must be between 0.05 and 3600 seconds") }
        }

        func run() throws {
            if watch { return try HBAPortListing.watch(json: global.json, interval: interval, wwns: wwns) }
            let listing = try HBAPortListing.load(global)
            for w in listing.warnings { report("warning: \(w)") }
            var hba = e ? [] : listing.hba
            var emulated = e ? [] : listing.emulated
            var wanted: [String] = []
            for w in wwns { wanted.append(try Fcinfo.wwn(w)) }
            var missing = 0
            if !wanted.isEmpty {
                hba = hba.filter { wanted.contains($0.portWWN) }
                emulated = emulated.filter { wanted.contains($0.portWWN.lowercased()) }
                let found = Set(hba.map(\.portWWN) + emulated.map { $0.portWWN.lowercased() })
                // As illumos: each port not found on its own line, then what that means for all.
                for (w, text) in zip(wanted, wwns) where !found.contains(w) {
                    report("HBA port \(text): not found")
                    missing += 1
                }
                if wanted.count > 1, missing > 0 {
                    report(missing == wanted.count ? "All specified HBA ports are not found" : "Some of specified HBA ports are not found")
                }
            }
            if t { hba = hba.filter { listing.mode($0) == "Target" }; emulated = emulated.filter { $0.portMode == "Target" } }
            if i { hba = hba.filter { listing.mode($0) == "Initiator" }; emulated = emulated.filter { $0.portMode == "Initiator" } }
            let discovery = HBAPortListing.discovery
            func stats(_ p: Udev.HBAPort) -> FCHostStatistics? { l ? discovery.statistics(of: p) : nil }
            if global.json {
                printJSON(emulated.map(HBAPortListing.entry) + hba.map { listing.entry($0, statistics: stats($0)) })
                if missing > 0 { throw ExitCode(1) }
                return
            }
            // As illumos lists NPIV ports under their physical port, unless one was asked for by name.
            let shown = hba.filter { v in !v.isVirtual || !wanted.isEmpty || !hba.contains(where: { $0.portWWN == v.physicalPortWWN }) }
            if shown.isEmpty && emulated.isEmpty && wanted.isEmpty {
                print("No Adapters Found.")
                return
            }
            for p in emulated {
                print("HBA Port WWN: \(p.portWWN.lowercased())")
                print("        Port Mode: \(p.portMode)")
                print("        Port ID: \(p.portID ?? "0")")
                print("        OS Device Name: Not Applicable")
                print("        Manufacturer: swift-stmf")
                print("        Model: Emulated FC HBA")
                print("        Firmware Version: N/A")
                print("        FCode/BIOS Version: N/A")
                print("        Serial Number: not available")
                print("        Driver Name: \(p.driverName)")
                print("        Driver Version: 1.0")
                print("        Type: \(p.portID == nil ? "unknown" : "N-port")")
                print("        State: \(p.state)")
                print("        Supported Speeds: 8Gb")
                print("        Current Speed: \(p.portID == nil ? "not established" : "8Gb")")
                print("        Node WWN: \(p.nodeWWN.lowercased())")
                if l { Layout.linkErrors(p.linkErrors, indent: "        ") }
            }
            for p in shown {
                listing.printHBA(p, virtuals: hba.filter { $0.physicalPortWWN == p.portWWN }, statistics: stats(p))
            }
            if missing > 0 { throw ExitCode(1) }
        }
    }

    struct RemotePort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remote-port", abstract: "List remote ports logged in to a local FC port.",
            discussion: """
                For a port of this machine the remote ports come from sysfs (fc_remote_ports); for \
                an stmfd emulated port from stmfd, with the symbolic names the ports registered with \
                the fabric and the link error counts the fabric keeps; for a port stmfd serves \
                through LIO (an HBA port bound to target mode, where fc_remote_ports stays empty, or \
                a tcm_loop port) the initiators logged in as the kernel's sessions show them, with \
                LIO's command and megabyte counts for each. -s (SCSI target information) applies to \
                initiator mode ports only, as in illumos.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("port")], help: ArgumentHelp("Local HBA port WWN.", valueName: "HBA Port WWN"),
                completion: Completions.wwns) var p: String
        @Flag(name: [.short, .customLong("linkstat")], help: "Link error statistics of each remote port.") var l = false
        @Flag(name: [.short, .customLong("scsi-target")], help: "SCSI target information: the LUNs each remote target port offers.") var s = false
        @Argument(help: ArgumentHelp("Remote port WWNs (default: all).", valueName: "WWN"), completion: Completions.remoteWWNs)
        var remote: [String] = []
        func run() throws {
            let local = try Fcinfo.wwn(p, "port WWN")
            let wanted = try remote.map { try Fcinfo.wwn($0) }
            // A port of this machine: its remote ports from sysfs (fc_remote_ports), no daemon needed.
            let discovery = HBAPortListing.discovery
            if let hba = try? discovery.scan().ports.first(where: { $0.portWWN == local }) {
                try sysfs(hba, discovery, wanted)
                return
            }
            guard let port = try Fcinfo.fcPorts(global).first(where: { $0.portWWN.lowercased() == local }) else {
                // A tcm_loop port of stmfd: its initiator as LIO's session shows it.
                if let t = Self.lioTarget(global, local) {
                    if s { try fail("Unsupported option for target mode: s.") }
                    try kernelSessions(t, wanted, header: "No remote ports logged in to \(local)")
                    return
                }
                try fail("Failed to open adapter port \(p): not found")
            }
            if s { try fail("Unsupported option for target mode: s.") }
            var remotes = port.remotePorts
            if !wanted.isEmpty { remotes = remotes.filter { wanted.contains($0.portWWN.lowercased()) } }
            if global.json { printJSON(remotes); return }
            if remotes.isEmpty { print("No remote ports logged in to \(local)") }
            var failed = false
            for r in remotes {
                print("Remote Port WWN: \(r.portWWN.lowercased())")
                print("        Active FC4 Types: \(r.activeFC4Types.isEmpty ? "" : r.activeFC4Types.joined(separator: ","))")
                print("        SCSI Target: \(r.scsiTarget ? "yes" : "no")")
                print("        Port Symbolic Name: \(r.symbolicName ?? "")")
                print("        Node WWN: \(r.nodeWWN.lowercased())")
                print("        SCSI Initiator: \(r.scsiInitiator ? "yes" : "no")")
                print("        Port ID: \(r.portID.replacingOccurrences(of: "0x", with: ""))")
                if l {
                    if let e = r.linkErrors { Layout.linkErrors(e, indent: "        ") } else {
                        report("Error: SendRLS failed for \(r.portWWN.lowercased())"); failed = true
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }

        func sysfs(_ hba: Udev.HBAPort, _ discovery: HBADiscovery, _ wanted: [String]) throws {
            var remotes: [Udev.HBARemotePort]
            do { remotes = try discovery.remotePorts(of: hba) } catch { try fail("\(error)") }
            if !wanted.isEmpty { remotes = remotes.filter { wanted.contains($0.portWWN) } }
            let lus = s ? ((try? discovery.logicalUnits()) ?? []) : []
            if global.json { printJSON(remotes); return }
            // In target-only mode qla2xxx registers no remote ports: the initiators logged in to a
            // port stmfd serves through LIO are the kernel's sessions, which stmfd reads.
            if remotes.isEmpty, let t = Self.lioTarget(global, hba.portWWN) {
                try kernelSessions(t, wanted, header: "No remote ports logged in to \(hba.portWWN) (\(hba.host))")
                return
            }
            if remotes.isEmpty {
                print("No remote ports known to \(hba.portWWN) (\(hba.host))")
            }
            for r in remotes {
                print("Remote Port WWN: \(r.portWWN)")
                print("        Active FC4 Types: SCSI")
                print("        SCSI Target: \(r.roles.contains("FCP Target") ? "yes" : "no")")
                // sysfs keeps no symbolic name for a remote port.
                print("        Port Symbolic Name: ")
                print("        Node WWN: \(r.nodeWWN)")
                print("        SCSI Initiator: \(r.roles.contains("FCP Initiator") ? "yes" : "no")")
                print("        Port ID: \(r.portID.map { String(UInt32($0, radix: 16) ?? 0, radix: 16) } ?? "0")")
                print("        Port State: \(r.state)")
                // The kernel keeps no link error status per remote port (RLS is not sent).
                if l { report("Error: SendRLS failed for \(r.portWWN)") }
                if s, let t = r.scsiTargetID {
                    print("        SCSI Target ID: \(hba.hostNumber):0:\(t)")
                    for lu in lus where lu.hbaPortWWN == hba.portWWN && lu.remotePortWWN == r.portWWN {
                        print("        LUN: \(lu.lun)")
                        print("          Vendor: \(lu.vendor)")
                        print("          Product: \(lu.product)")
                        print("          OS Device Name: \(lu.osDeviceName)")
                    }
                }
            }
            if l && !remotes.isEmpty { throw ExitCode(1) }
        }

        /// stmfd's target `wwn.<local>` when stmfd serves it through LIO (sessions with the
        /// kernel's statistics); nil when stmfd is not running or serves no such port.
        static func lioTarget(_ global: GlobalOptions, _ local: String) -> TargetInfo? {
            guard let all = try? global.client.call("GET", "/v1/targets", as: [TargetInfo].self) else { return nil }
            return all.first { $0.name.lowercased() == "wwn.\(local)" && ["tcm-loop", "qla2xxx"].contains($0.providerName) }
        }

        /// An LIO port's initiators as remote ports: LIO knows their port names, not their node
        /// names or port ids; what it counts for the nexus is printed instead of link errors.
        func kernelSessions(_ t: TargetInfo, _ wanted: [String], header: String) throws {
            var sessions = t.sessions
            if !wanted.isEmpty { sessions = sessions.filter { wanted.contains(String($0.initiator.lowercased().dropFirst(4))) } }
            if global.json { printJSON(sessions); return }
            if sessions.isEmpty { print(header) }
            for r in sessions {
                print("Remote Port WWN: \(r.initiator.lowercased().dropFirst(4))")
                print("        Active FC4 Types: SCSI")
                print("        SCSI Target: no")
                print("        Port Symbolic Name: ")
                print("        Node WWN: unknown")
                print("        SCSI Initiator: yes")
                print("        Port ID: unknown")
                print("        Logged in since: \(Layout.date(r.loggedInSince))")
                if let n = r.commands { print("        Commands: \(n)") }
                if let rd = r.readMegabytes, let w = r.writeMegabytes { print("        Read/Written MB: \(rd)/\(w)") }
                // The kernel keeps no link error status per remote port (RLS is not sent).
                if l { report("Error: SendRLS failed for \(r.initiator.lowercased().dropFirst(4))") }
            }
            if l && !sessions.isEmpty { throw ExitCode(1) }
        }
    }

    /// `fcinfo logical-unit` (and its short name `lu`): the logical units this machine reaches
    /// through its FC HBA ports in initiator mode, by OS device name.
    struct LogicalUnit: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "logical-unit",
            abstract: "List logical units seen through this machine's FC HBA ports in initiator mode.",
            discussion: """
                Read from sysfs: the SCSI devices below FC remote ports. With -v, each path (HBA \
                port, remote port, LUN), the vendor, product and device type. Target mode ports \
                (stmfd's) see none.
                """,
            aliases: ["lu"])
        @OptionGroup var body: LogicalUnitOptions
        func run() throws { try body.run() }
    }

    struct LogicalUnitOptions: ParsableArguments {
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: paths, vendor, product, device type.") var v = false
        @Argument(help: ArgumentHelp("OS device paths (default: all).", valueName: "OS Device Path"), completion: .file())
        var devices: [String] = []

        func run() throws {
            var lus: [FCLogicalUnit]
            do { lus = try HBAPortListing.discovery.logicalUnits() } catch { try fail("\(error)") }
            var failed = false
            if !devices.isEmpty {
                var shown: [FCLogicalUnit] = []
                for d in devices {
                    let matches = lus.filter { $0.osDeviceName == d || $0.genericDevice == d }
                    if matches.isEmpty { report("Error: Logical unit \(d): not found"); failed = true }
                    shown += matches
                }
                lus = shown
            }
            if global.json {
                printJSON(lus)
            } else {
                // One entry per OS device, its paths gathered (as illumos' printOSDeviceNameInfo).
                var order: [String] = []
                var byName: [String: [FCLogicalUnit]] = [:]
                for lu in lus {
                    if byName[lu.osDeviceName] == nil { order.append(lu.osDeviceName) }
                    byName[lu.osDeviceName, default: []].append(lu)
                }
                for name in order {
                    let paths = byName[name]!
                    print("OS Device Name: \(name)")
                    guard v else { continue }
                    var ports: [String] = []
                    for p in paths where !ports.contains(p.hbaPortWWN) { ports.append(p.hbaPortWWN) }
                    for port in ports {
                        var line = "        HBA Port WWN: \(port)"
                        for p in paths where p.hbaPortWWN == port {
                            line += "\n                Remote Port WWN: \(p.remotePortWWN)\n                        LUN: \(p.lun)"
                        }
                        print(line)
                    }
                    print("        Vendor: \(paths[0].vendor)")
                    print("        Product: \(paths[0].product)")
                    print("        Device Type: \(Layout.deviceType(paths[0].deviceType))")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
