import ArgumentParser
import Foundation
import STMF
import STMFAPI
import STMFClient
import Udev

/// fcinfo: Fibre Channel port information (target-mode ports of this stmfd).
public struct Fcinfo: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fcinfo",
        abstract: "Show Fibre Channel HBA ports, remote ports and logical units.",
        subcommands: [HBAPort.self, RemotePort.self, LogicalUnit.self])
    public init() {}

    static func fcPorts(_ g: GlobalOptions) throws -> [FCPortInfo] {
        try api { () throws(APIClient.Failure) in try g.client.call("GET", "/v1/fc/ports", as: [FCPortInfo].self) }
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
        @Flag(name: .short, help: "Link error statistics (read from the HBA now).") var l = false
        @Flag(name: .short, help: "Target mode ports only.") var t = false
        @Flag(name: .short, help: "Initiator mode ports only.") var i = false
        @Argument(help: "Port WWNs to show (default: all).") var wwns: [String] = []
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
            let tool = (CommandLine.arguments.first as NSString?)?.lastPathComponent ?? "fcinfo"
            for w in listing.warnings { FileHandle.standardError.write(Data("\(tool): warning: \(w)\n".utf8)) }
            var hba = listing.hba
            var emulated = listing.emulated
            var wanted: [String] = []
            for w in wwns {
                guard let v = WWN(w) else { try fail("\(w): invalid WWN (16 hex digits, optionally wwn. or colons)") }
                wanted.append(v.hex.lowercased())
            }
            if !wanted.isEmpty {
                hba = hba.filter { wanted.contains($0.portWWN) }
                emulated = emulated.filter { wanted.contains($0.portWWN.lowercased()) }
                let found = Set(hba.map(\.portWWN) + emulated.map { $0.portWWN.lowercased() })
                let missing = wanted.filter { !found.contains($0) }
                if !missing.isEmpty { try fail("\(missing.joined(separator: " ")): HBA port not found") }
            }
            if t { hba = hba.filter { listing.mode($0) == "Target" }; emulated = emulated.filter { $0.portMode == "Target" } }
            if i { hba = hba.filter { listing.mode($0) == "Initiator" }; emulated = emulated.filter { $0.portMode == "Initiator" } }
            let discovery = HBAPortListing.discovery
            func stats(_ p: Udev.HBAPort) -> FCHostStatistics? { l ? discovery.statistics(of: p) : nil }
            if global.json {
                printJSON(emulated.map(HBAPortListing.entry) + hba.map { listing.entry($0, statistics: stats($0)) })
                return
            }
            // As illumos lists NPIV ports under their physical port, unless one was asked for by name.
            let shown = hba.filter { v in !v.isVirtual || !wanted.isEmpty || !hba.contains(where: { $0.portWWN == v.physicalPortWWN }) }
            if shown.isEmpty && emulated.isEmpty {
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
                if l {
                    print("        Link Error Statistics:")
                    let e = p.linkErrors
                    print("                Link Failure Count: \(e.linkFailures)")
                    print("                Loss of Sync Count: \(e.lossOfSync)")
                    print("                Loss of Signal Count: \(e.lossOfSignal)")
                    print("                Primitive Seq Protocol Error Count: \(e.primitiveSequenceProtocolErrors)")
                    print("                Invalid Tx Word Count: \(e.invalidTransmissionWords)")
                    print("                Invalid CRC Count: \(e.invalidCRCs)")
                }
            }
            for p in shown {
                listing.printHBA(p, virtuals: hba.filter { $0.physicalPortWWN == p.portWWN }, statistics: stats(p))
            }
        }
    }

    struct RemotePort: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remote-port", abstract: "List remote ports logged in to a local FC port.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Local HBA port WWN.") var p: String
        @Flag(name: .short, help: "SCSI target information.") var s = false
        @Argument var remote: [String] = []
        func run() throws {
            guard let w = WWN(p) else { try fail("\(p): invalid WWN (16 hex digits, optionally wwn. or colons)") }
            // A port of this machine: its remote ports from sysfs (fc_remote_ports), no daemon needed.
            let discovery = HBAPortListing.discovery
            if let hba = try? discovery.scan().ports.first(where: { $0.portWWN == w.hex.lowercased() }) {
                var remotes: [Udev.HBARemotePort]
                do { remotes = try discovery.remotePorts(of: hba) } catch { try fail("\(error)") }
                if !remote.isEmpty {
                    let wanted = remote.compactMap { WWN($0)?.hex.lowercased() }
                    remotes = remotes.filter { wanted.contains($0.portWWN) }
                }
                if global.json { printJSON(remotes); return }
                if remotes.isEmpty {
                    // In target-only mode qla2xxx registers no remote ports (initiators are LIO sessions).
                    print("No remote ports known to \(hba.portWWN) (\(hba.host))")
                }
                for r in remotes {
                    print("Remote Port WWN: \(r.portWWN)")
                    print("        Active FC4 Types: SCSI")
                    print("        SCSI Target: \(r.roles.contains("FCP Target") ? "yes" : "no")")
                    print("        SCSI Initiator: \(r.roles.contains("FCP Initiator") ? "yes" : "no")")
                    print("        Port ID: \(r.portID.map { String(UInt32($0, radix: 16) ?? 0, radix: 16) } ?? "0")")
                    print("        Port State: \(r.state)")
                    print("        Node WWN: \(r.nodeWWN)")
                    if s, let t = r.scsiTargetID { print("        SCSI Target ID: \(hba.hostNumber):0:\(t)") }
                }
                return
            }
            guard let port = try Fcinfo.fcPorts(global).first(where: { $0.portWWN == w.hex }) else {
                try fail("\(p): HBA port not found")
            }
            var remotes = port.remotePorts
            if !remote.isEmpty {
                let wanted = remote.compactMap { WWN($0)?.hex }
                remotes = remotes.filter { wanted.contains($0.portWWN) }
            }
            if global.json { printJSON(remotes); return }
            if remotes.isEmpty { print("No remote ports logged in to \(w.hex.lowercased())") }
            for r in remotes {
                print("Remote Port WWN: \(r.portWWN.lowercased())")
                print("        Active FC4 Types: \(r.activeFC4Types.isEmpty ? "none" : r.activeFC4Types.joined(separator: ","))")
                print("        SCSI Target: \(r.scsiTarget ? "yes" : "no")")
                print("        SCSI Initiator: \(r.scsiInitiator ? "yes" : "no")")
                print("        Port ID: \(r.portID.replacingOccurrences(of: "0x", with: ""))")
                print("        Node WWN: \(r.nodeWWN.lowercased())")
            }
        }
    }

    struct LogicalUnit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logical-unit", abstract: "List logical units seen through local FC initiator ports (none in target mode).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            _ = try Fcinfo.fcPorts(global)
            if global.json { print("[]") }
        }
    }
}
