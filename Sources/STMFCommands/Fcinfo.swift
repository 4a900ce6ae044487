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

    static func fcTargets(_ g: GlobalOptions) throws -> [TargetInfo] {
        try api { () throws(APIClient.Failure) in try g.client.call("GET", "/v1/targets", as: [TargetInfo].self) }
            .filter { $0.name.hasPrefix("wwn.") }
    }

    struct HBAPort: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "hba-port", abstract: "List FC ports.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .short, help: "Link statistics.") var l = false
        @Argument var wwns: [String] = []
        func run() throws {
            var ports = try Fcinfo.fcTargets(global)
            if !wwns.isEmpty {
                let wanted = wwns.compactMap { WWN($0)?.hex }
                ports = ports.filter { wanted.contains(String($0.name.dropFirst(4))) }
            }
            if global.json { printJSON(ports); return }
            for p in ports {
                print("HBA Port WWN: \(p.name.dropFirst(4).lowercased())")
                print("        Port Mode: Target")
                print("        Port ID: -")
                print("        OS Device Name: -")
                print("        Manufacturer: \(p.providerName)")
                print("        Driver Name: \(p.providerName)")
                print("        State: \(p.operationalStatus == "Online" ? "online" : "offline")")
                print("        Sessions: \(p.sessions.count)")
            }
        }
    }

    struct RemotePort: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remote-port", abstract: "List remote ports logged in to a local FC port.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Local HBA port WWN.") var p: String
        @Flag(name: .short, help: "SCSI target information.") var s = false
        func run() throws {
            guard let w = WWN(p) else { try fail("\(p): invalid WWN") }
            guard let port = try Fcinfo.fcTargets(global).first(where: { $0.name == "wwn." + w.hex }) else {
                try fail("\(p): HBA port not found")
            }
            if global.json { printJSON(port.sessions); return }
            for session in port.sessions {
                print("Remote Port WWN: \(session.initiator.dropFirst(4).lowercased())")
                print("        Active FC4 Types: SCSI")
                print("        SCSI Target: no")
            }
        }
    }

    struct LogicalUnit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logical-unit", abstract: "List logical units seen through local FC initiator ports (none in target mode).")
        @OptionGroup var global: GlobalOptions
        func run() throws {
            _ = try Fcinfo.fcTargets(global)
            if global.json { print("[]") }
        }
    }
}
