import ArgumentParser
import FCLink
import Foundation
import STMF
import STMFAPI
import STMFClient
import Udev

/// `fcadm`: administration of stmfd's FC target ports (emulated ports on the loopback fabric).
public struct Fcadm: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fcadm",
        abstract: "Administer Fibre Channel ports: this machine's HBA ports and stmfd's emulated target ports.",
        subcommands: [Fcinfo.HBAPort.self, Fcinfo.RemotePort.self, ForceLIP.self, BindPort.self, UnbindPort.self, ListBindings.self,
                      CreateEmulatedPort.self, DeleteEmulatedPort.self, ListEmulatedPort.self])
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

    /// `fcadm force-lip WWN`: reinitialise the link of an HBA port (fc_host `issue_lip`), as
    /// illumos fcadm does. Every login on the port drops and comes back.
    struct ForceLIP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "force-lip",
            abstract: "Reinitialise the link of an HBA port (a loop initialisation or link reset; logins drop and return).")
        @Argument(help: "The HBA port's WWN.") var wwn: String

        func run() throws {
            guard let w = WWN(wwn) else { try fail("\(wwn): invalid WWN (16 hex digits, optionally wwn. or colons)") }
            let inventory: HBADiscovery.Inventory
            do { inventory = try HBAPortListing.discovery.scan() } catch { try fail("\(error)") }
            guard let port = inventory.ports.first(where: { $0.portWWN == w.hex.lowercased() }) else {
                try fail("\(w.hex.lowercased()): no HBA port has this WWN (emulated ports: fcfabric ctl bounce)")
            }
            if let e = HBAPortListing.forceLIP(port) {
                try fail("\(port.portWWN): cannot reinitialise the link of \(port.host): \(e)")
            }
            print("\(port.portWWN): link reinitialisation requested on \(port.host)")
        }
    }

    /// `fcadm bind-port WWN`: an HBA port of this machine into target mode, persisted.
    struct BindPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bind-port",
            abstract: "Bind an HBA port to target mode (STMF target wwn.<WWPN>); kept across restarts.",
            discussion: """
                Only qla2xxx ports can be targets. With qla2xxx loaded in dual mode stmfd switches the \
                port's qlini_mode (the HBA resets: its logins drop and return); loaded with \
                qlini_mode=enabled it says what to put in /etc/modprobe.d and that a reload is needed.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The HBA port's WWN (wwn.X, 16 hex digits or colon form).") var wwn: String

        func run() throws {
            let b = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/fc/bindings", body: BindHBAPortRequest(portWWN: wwn), as: HBABindingInfo.self)
            }
            if global.json { printJSON(b); return }
            print("\(b.target): bound to target mode\(b.host.map { " (\($0), \(b.driver ?? "?"))" } ?? "")")
            Fcadm.printMode(b)
        }
    }

    /// `fcadm unbind-port WWN`: the port back to initiator mode.
    struct UnbindPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "unbind-port", abstract: "Unbind an HBA port from target mode and return it to initiator mode.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The HBA port's WWN.") var wwn: String

        func run() throws {
            guard let w = WWN(wwn.hasPrefix("wwn.") ? String(wwn.dropFirst(4)) : wwn) else {
                try fail("\(wwn): invalid WWN (16 hex digits, optionally wwn. or colons)")
            }
            let b = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/fc/bindings/\(w.hex.lowercased())", as: HBABindingInfo.self)
            }
            if global.json { printJSON(b); return }
            print("\(b.target): unbound; the port is an initiator port")
            Fcadm.printMode(b)
        }
    }

    /// `fcadm list-bindings`: the bound HBA ports and how they are now.
    struct ListBindings: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-bindings", abstract: "List the HBA ports bound to target mode.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let all = try api { () throws(APIClient.Failure) in
                try global.client.call("GET", "/v1/fc/bindings", as: [HBABindingInfo].self)
            }
            if global.json { printJSON(all); return }
            for b in all {
                print("Target: \(b.target)")
                print("        Present: \(b.present ? "yes (\(b.host ?? "?"), \(b.linkState ?? "?"))" : "no")")
                print("        Driver: \(b.driver ?? "-")")
                print("        qlini_mode: module \(b.moduleMode ?? "unknown")\(b.hostMode.map { ", host \($0)" } ?? "")")
                print("        Mode Status: \(b.modeStatus)")
                if let m = b.message { print("        Note: \(m)") }
            }
        }
    }

    static func printMode(_ b: HBABindingInfo) {
        switch b.modeStatus {
        case "ready": if let m = b.message { print("note: \(m)") }
        case "switched": print("note: \(b.message ?? "the port's mode was switched")")
        default:
            FileHandle.standardError.write(Data("fcadm: \(b.modeStatus): \(b.message ?? "")\n".utf8))
        }
    }
}
