import ArgumentParser
import FCLink
import Foundation
import STMF
import STMFAPI
import STMFClient

/// `fcadm`: administration of stmfd's FC target ports (emulated ports on the loopback fabric).
public struct Fcadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fcadm",
        abstract: "Administer Fibre Channel target ports of stmfd.",
        subcommands: [CreateEmulatedPort.self, DeleteEmulatedPort.self, ListEmulatedPort.self])
    public init() {}

    struct CreateEmulatedPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-emulated-port",
            abstract: "Create a persistent emulated FC target port (STMF target wwn.<WWPN>) on an emulated fabric.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Port WWN (16 hex digits).") var p: String
        @Option(name: .short, help: "Node WWN (default: derived from the port WWN).") var n: String?
        @Option(help: "The emulated fabric's socket (default: $FCFABRIC_SOCKET, $XDG_RUNTIME_DIR/fcfabric.sock).")
        var fabric: String?

        func run() throws {
            guard WWN(p) != nil else { try fail("\(p): invalid port WWN") }
            if let n, WWN(n) == nil { try fail("\(n): invalid node WWN") }
            var path = fabric ?? FabricAddress.defaultSocketPath
            if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
            let req = CreateEmulatedPortRequest(portWWN: p, nodeWWN: n, fabric: path)
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/fc/emulated-ports", body: req, as: FCPortInfo.self)
            }
            if global.json { printJSON(info) }
        }
    }

    struct DeleteEmulatedPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-emulated-port", abstract: "Delete an emulated FC target port (its sessions end).")
        @OptionGroup var global: GlobalOptions
        @Option(name: .short, help: "Port WWN.") var p: String

        func run() throws {
            guard let w = WWN(p) else { try fail("\(p): invalid port WWN") }
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/fc/emulated-ports/\(w.hex)", as: EmptyResponse.self)
            }
        }
    }

    struct ListEmulatedPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-emulated-port", abstract: "List emulated FC target ports.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let ports = try Fcinfo.fcPorts(global)
            if global.json { printJSON(ports); return }
            for port in ports {
                print("Port WWN: \(port.portWWN.lowercased())")
                print("        Node WWN: \(port.nodeWWN.lowercased())")
                print("        Fabric: \(port.fabric)")
                print("        State: \(port.state)")
            }
        }
    }
}
