import ArgumentParser
import CLISupport
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
                      CreateEmulatedPort.self, DeleteEmulatedPort.self, ListEmulatedPort.self,
                      CreateLoopPort.self, DeleteLoopPort.self, ListLoopPort.self])
    public init() {}

    /// illumos cmdparse's behaviour: -V, usage errors exit 1, options before the subcommand.
    public static func main() { CommandLineRunner.main(Self.self) }

    struct CreateEmulatedPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-emulated-port",
            abstract: "Create a persistent emulated FC target port (STMF target wwn.<WWPN>) on an emulated fabric.")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("port")], help: ArgumentHelp("Port WWN (16 hex digits).", valueName: "HBA Port WWN")) var p: String
        @Option(name: [.short, .customLong("node")], help: ArgumentHelp("Node WWN (default: derived from the port WWN).", valueName: "HBA Node WWN"))
        var n: String?
        @Option(help: "The emulated fabric's socket (default: $FCFABRIC_SOCKET, $XDG_RUNTIME_DIR/fcfabric.sock).", completion: .file())
        var fabric: String?

        func run() throws {
            let port = try Fcinfo.wwn(p, "port WWN")
            let node = try n.map { try Fcinfo.wwn($0, "node WWN") }
            var path = fabric ?? FabricAddress.defaultSocketPath
            if !path.hasPrefix("/") { path = FileManager.default.currentDirectoryPath + "/" + path }
            let req = CreateEmulatedPortRequest(portWWN: port, nodeWWN: node, fabric: path)
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
        @Option(name: [.short, .customLong("port")], help: ArgumentHelp("Port WWN.", valueName: "HBA Port WWN"), completion: Completions.wwns)
        var p: String

        func run() throws {
            let w = try Fcinfo.wwn(p, "port WWN")
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/fc/emulated-ports/\(w)", as: EmptyResponse.self)
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

    struct CreateLoopPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-loop-port",
            abstract: "Create a LIO tcm_loop FC target (STMF target wwn.<WWPN>) whose LUs stmfd serves through TCMU.",
            discussion: "The kernel's loopback fabric gives this machine a SCSI host whose one initiator, the given "
                + "initiator WWN, sees the LUs the views show it through this target as sd and sg devices. Needs LIO "
                + "(modprobe target_core_mod target_core_user tcm_loop).")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("port")], help: ArgumentHelp("Target port WWN (16 hex digits).", valueName: "Port WWN")) var p: String
        @Option(name: [.short, .customLong("initiator")], help: ArgumentHelp("The loopback initiator's port WWN.", valueName: "Initiator WWN"))
        var i: String

        func run() throws {
            let req = CreateLoopPortRequest(portWWN: try Fcinfo.wwn(p, "port WWN"), initiatorWWN: try Fcinfo.wwn(i, "initiator WWN"))
            let info = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/lio/loop-ports", body: req, as: LIOPortInfo.self)
            }
            if global.json { printJSON(info) }
        }
    }

    struct DeleteLoopPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-loop-port", abstract: "Delete a LIO tcm_loop target (its SCSI host and TCMU devices go).")
        @OptionGroup var global: GlobalOptions
        @Option(name: [.short, .customLong("port")], help: ArgumentHelp("Target port WWN.", valueName: "Port WWN"), completion: Completions.wwns)
        var p: String

        func run() throws {
            let w = try Fcinfo.wwn(p, "port WWN")
            _ = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/lio/loop-ports/\(w)", as: EmptyResponse.self)
            }
        }
    }

    struct ListLoopPort: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-loop-port", abstract: "List LIO tcm_loop targets and the TCMU devices serving their LUs.")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .shortAndLong, help: "Also list the TCMU devices.") var verbose = false

        func run() throws {
            let ports = try api { () throws(APIClient.Failure) in
                try global.client.call("GET", "/v1/lio/loop-ports", as: [LIOPortInfo].self)
            }
            if global.json { printJSON(ports); return }
            for port in ports {
                print("Target: \(port.target)")
                print("        Fabric: \(port.fabric) (\(port.configfs))")
                print("        Initiator: \(port.initiators.joined(separator: ", "))")
                print("        State: \(port.targetState)")
                print("        TCMU devices: \(port.devices.count)")
                guard verbose else { continue }
                for d in port.devices {
                    print("            LUN \(d.lun): \(d.lu) via \(d.uio) (\(d.commands) commands, \(d.copiedCommands) copied)")
                }
            }
        }
    }

    /// `fcadm force-lip WWN`: reinitialise the link of an HBA port (fc_host `issue_lip`), as
    /// illumos fcadm does. Every login on the port drops and comes back.
    struct ForceLIP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "force-lip",
            abstract: "Reinitialise the link of an HBA port (a loop initialisation or link reset; logins drop and return).")
        @Argument(help: ArgumentHelp("The HBA port's WWN.", valueName: "WWN"), completion: Completions.wwns) var wwn: String
        @Flag(name: .customLong("json"), help: "Print JSON instead of the COMSTAR layout.") var json = false

        /// What `--json` prints once the request is made.
        struct Result: Codable {
            var portWWN: String
            var host: String
            var requested: Bool
        }

        func run() throws {
            let w = try Fcinfo.wwn(wwn)
            let inventory: HBADiscovery.Inventory
            do { inventory = try HBAPortListing.discovery.scan() } catch { try fail("\(error)") }
            guard let port = inventory.ports.first(where: { $0.portWWN == w }) else {
                try fail("\(w): no HBA port has this WWN (emulated ports: fcfabric ctl link-down / link-up)")
            }
            if let e = HBAPortListing.forceLIP(port) {
                try fail("\(port.portWWN): cannot reinitialise the link of \(port.host): \(e)")
            }
            if json { printJSON(Result(portWWN: port.portWWN, host: port.host, requested: true)); return }
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
        @Argument(help: ArgumentHelp("The HBA port's WWN (wwn.X, 16 hex digits or colon form).", valueName: "WWN"), completion: Completions.wwns)
        var wwn: String

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
        @Argument(help: ArgumentHelp("The HBA port's WWN.", valueName: "WWN"), completion: Completions.wwns) var wwn: String

        func run() throws {
            let w = try Fcinfo.wwn(wwn)
            let b = try api { () throws(APIClient.Failure) in
                try global.client.call("DELETE", "/v1/fc/bindings/\(w)", as: HBABindingInfo.self)
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
