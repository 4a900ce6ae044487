import ArgumentParser
import Foundation
import STMF
import STMFAPI
import STMFClient

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
        static let configuration = CommandConfiguration(commandName: "hba-port", abstract: "List FC ports.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Link statistics.") var l = false
        @Flag(name: .short, help: "Target mode ports only (all of stmfd's ports are).") var t = false
        @Argument var wwns: [String] = []
        func run() throws {
            var ports = try Fcinfo.fcPorts(global)
            if !wwns.isEmpty {
                var wanted: [String] = []
                for w in wwns {
                    guard let v = WWN(w) else { try fail("\(w): invalid WWN") }
                    wanted.append(v.hex)
                }
                ports = ports.filter { wanted.contains($0.portWWN) }
                if ports.isEmpty { try fail("\(wwns.joined(separator: " ")): HBA port not found") }
            }
            if global.json { printJSON(ports); return }
            for p in ports {
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
        }
    }

    struct RemotePort: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remote-port", abstract: "List remote ports logged in to a local FC port.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Local HBA port WWN.") var p: String
        @Flag(name: .short, help: "SCSI target information.") var s = false
        @Argument var remote: [String] = []
        func run() throws {
            guard let w = WWN(p) else { try fail("\(p): invalid WWN") }
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
