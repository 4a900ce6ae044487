import ArgumentParser
import CLISupport
import Dispatch
import FCFabric
import FCLink
import Foundation
import STMF

/// `fcfabric`: the emulated FC switch, and `fcfabric ctl` to control a running one.
struct FCFabricCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fcfabric",
        abstract: "Run an emulated Fibre Channel fabric (switch) on a Unix socket.",
        subcommands: [Run.self, Ctl.self], defaultSubcommand: Run.self)

    /// Usage errors exit 1, options may come before the subcommand, -V prints the version.
    static func main() { CommandLineRunner.main(Self.self) }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the fabric (default).")
        @Option(help: "Unix socket ports attach to (control socket: PATH.ctl).")
        var socket: String = FabricAddress.defaultSocketPath
        @Option(help: "Zone file: lines of `NAME: WWPN WWPN ...`. Without it every port sees every other.")
        var zones: String?
        @Option(help: "Write every frame through the fabric to this pcap (link type 225).")
        var pcap: String?
        @Option(help: "Seed for fault-injection decisions.")
        var seed: UInt64 = 1
        @Option(name: .customLong("e-d-tov"), help: "E_D_TOV the fabric gives ports at login, in ms.")
        var errorDetectTimeout: UInt32 = 2000
        @Option(name: .customLong("r-a-tov"), help: "R_A_TOV the fabric gives ports at login, in ms.")
        var resourceAllocationTimeout: UInt32 = 10000

        func run() throws {
            var zoneSet = ZoneSet.allAccess
            if let zones {
                let text: String
                do { text = try String(contentsOfFile: zones, encoding: .utf8) } catch {
                    throw ValidationError("cannot read zone file \(zones): \(error.localizedDescription)")
                }
                do { zoneSet = try ZoneSet(parsing: text) } catch { throw ValidationError("\(zones): \(error)") }
            }
            let lock = try SocketLock.acquire(for: socket)
            _ = lock
            guard (100...120_000).contains(errorDetectTimeout), (200...600_000).contains(resourceAllocationTimeout),
                  resourceAllocationTimeout >= errorDetectTimeout else {
                throw ValidationError("need 100 ≤ E_D_TOV ≤ R_A_TOV ≤ 600000 ms")
            }
            var config = Fabric.Configuration(zones: zoneSet, pcapPath: pcap, seed: seed)
            config.errorDetectTimeout = errorDetectTimeout
            config.resourceAllocationTimeout = resourceAllocationTimeout
            let fabric = try Fabric(configuration: config)
            let server = FabricServer(fabric: fabric, socketPath: socket)
            try server.start()
            FileHandle.standardError.write(Data("fcfabric: listening on \(socket) (\(zoneSet.zones.count) zones)\n".utf8))
            signal(SIGTERM, SIG_IGN)
            signal(SIGINT, SIG_IGN)
            signal(SIGPIPE, SIG_IGN)
            let stop: @Sendable () -> Void = {
                server.stop()
                Foundation.exit(0)
            }
            let term = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .main)
            term.setEventHandler(handler: stop)
            term.resume()
            let int = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
            int.setEventHandler(handler: stop)
            int.resume()
            dispatchMain()
        }
    }

    struct Ctl: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ctl", abstract: "Control a running fabric.",
            subcommands: [Show.self, LinkDown.self, LinkUp.self, SetFaults.self])

        struct Common: ParsableArguments {
            @Option(help: "The fabric's socket (default: $FCFABRIC_SOCKET, else $XDG_RUNTIME_DIR/fcfabric.sock).", completion: .file())
            var socket: String = FabricAddress.defaultSocketPath
            @Flag(help: "Print JSON.")
            var json = false

            /// A fabric that does not answer is a runtime failure (exit 1), not a usage error: the
            /// message says which socket was tried and how to name another.
            func send(_ r: ControlRequest) throws -> ControlReply {
                let reply: ControlReply
                do { reply = try FabricControl.request(r, socket: socket) } catch {
                    FileHandle.standardError.write(Data((
                        "fcfabric: cannot reach the fabric at \(socket): \(error); is fcfabric running? "
                        + "Name its socket with --socket PATH or $FCFABRIC_SOCKET\n").utf8))
                    throw ExitCode(1)
                }
                guard reply.ok else {
                    FileHandle.standardError.write(Data("fcfabric: \(reply.error ?? "refused")\n".utf8))
                    throw ExitCode(1)
                }
                return reply
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List attached ports, logins and counters.")
            @OptionGroup var common: Common
            func run() throws {
                let reply = try common.send(ControlRequest(op: .show))
                let ports = reply.ports ?? []
                if common.json {
                    let enc = JSONEncoder()
                    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
                    print(String(decoding: try enc.encode(ports), as: UTF8.self))
                    return
                }
                for p in ports {
                    print("Port \(p.index): \(p.portName ?? "-") N_Port ID \(p.portID ?? "-") link \(p.linkUp ? "up" : "down")"
                          + " \(p.loggedIn ? "logged in" : "not logged in") roles \(p.roles.isEmpty ? "-" : p.roles)")
                    print("        frames in \(p.counters.framesIn) out \(p.counters.framesOut) dropped \(p.counters.framesDropped)"
                          + " invalid \(p.counters.invalidFrames) CRC errors \(p.counters.crcErrors)"
                          + " discarded \(p.counters.framesDiscarded) queued \(p.queuedBytes) bytes")
                }
            }
        }

        struct LinkDown: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "link-down", abstract: "Take a port's link down.")
            @OptionGroup var common: Common
            @Argument(help: "The port's WWPN.") var wwpn: String
            func run() throws { _ = try common.send(ControlRequest(op: .linkDown, wwpn: try checkedWWPN(wwpn))) }
        }

        struct LinkUp: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "link-up", abstract: "Bring a port's link up.")
            @OptionGroup var common: Common
            @Argument(help: "The port's WWPN.") var wwpn: String
            func run() throws { _ = try common.send(ControlRequest(op: .linkUp, wwpn: try checkedWWPN(wwpn))) }
        }

        struct SetFaults: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "faults", abstract: "Set frame loss, corruption, delay and duplication (all zero clears them).")
            @OptionGroup var common: Common
            @Option(help: "Only frames to or from this port (default: fabric-wide).") var port: String?
            @Option(help: "Fraction of frames dropped (0 to 1).") var loss: Double = 0
            @Option(help: "Fraction of frames delivered with a bad CRC (0 to 1).") var corrupt: Double = 0
            @Option(help: "Delay added to each frame, in ms.") var delayMs: Double = 0
            @Option(help: "Fraction of frames delivered twice (0 to 1).") var duplicate: Double = 0
            func run() throws {
                _ = try common.send(ControlRequest(op: .faults, wwpn: try port.map(checkedWWPN),
                                                   faults: Faults(lossRate: loss, corruptionRate: corrupt,
                                                                  delayMilliseconds: delayMs, duplicateRate: duplicate)))
            }
        }
    }
}

/// A WWPN operand, checked before the fabric is asked, with the one wording of a bad one.
func checkedWWPN(_ text: String) throws -> String {
    guard WWN(text.hasPrefix("wwn.") ? String(text.dropFirst(4)) : text) != nil else {
        FileHandle.standardError.write(Data("fcfabric: \(Wording.invalidWWN(text, "WWPN"))\n".utf8))
        throw ExitCode(1)
    }
    return text.hasPrefix("wwn.") ? String(text.dropFirst(4)) : text
}

FCFabricCommand.main()
