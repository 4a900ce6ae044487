import ArgumentParser
import FCInitiator
import FCLink
import FCPort
import Foundation
import STMF

struct Bench: FCInitSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure IOPS, MB/s and latency against a LUN (it writes to the LU!) and the fabric's raw limit.",
        discussion: """
            Workloads: 4 KiB random read and write at queue depth 1 and 32, 1 MiB sequential read and \
            write. In the same run the same workloads measure the raw limit of the topology: FCP's \
            message pattern relayed initiator → switch → target by three processes over the same kind \
            of Unix sockets with no FC or SCSI work (--no-raw-limit skips it). With --reflector they \
            also run against a relay reflector N_Port started in this process on the same fabric (FC \
            framing and the initiator's code, no SCSI). Each figure is printed with its ratio to each \
            limit. Without --target only the limits are measured.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Target port name (wwn.XXXXXXXXXXXXXXXX).")
    var target: String?
    @Option(help: "Logical unit number.")
    var lun: UInt16 = 0
    @Option(help: "Seconds per workload.")
    var seconds: Double = 5
    @Option(help: "Queue depth of the 1 MiB sequential workloads.")
    var sequentialDepth: Int = 1
    @Option(help: "Run only workloads whose name contains this text (e.g. randread, qd32).")
    var only: String?
    @Flag(inversion: .prefixedNo, help: "Measure the raw socket relay limit (three processes, no FC or SCSI work).")
    var rawLimit = true
    @Flag(help: "Also measure the limit with an in-process relay reflector.")
    var reflector = false
    @Option(help: "Measure the reflector limit against this already running relay reflector (`fcinit reflector`).")
    var limitTarget: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if target == nil && !rawLimit && !reflector && limitTarget == nil {
            throw ValidationError("give --target, a limit to measure, or both")
        }
        if let limitTarget, WWN(limitTarget) == nil { throw ValidationError("invalid reflector name '\(limitTarget)'") }
        guard seconds > 0, sequentialDepth >= 1 else { throw ValidationError("--seconds and --sequential-depth must be positive") }
    }

    struct Report: Codable {
        var results: [BenchFigures]
        var limits: [BenchLimit]
        /// Limit name → workload → ratio of the result's IOPS to the limit's.
        var ratios: [String: [String: Double]]
    }

    func execute() async throws {
        try await runCLI {
            let wwpn: WWN? = try target.map { t in
                guard let w = WWN(t) else { throw ValidationError("invalid target name '\(t)'") }
                return w
            }
            var workloads = BenchWorkload.standard(sequentialDepth: sequentialDepth)
            if let only { workloads = workloads.filter { $0.name.contains(only) } }
            let (lun, seconds, reflector, quiet) = (lun, seconds, reflector, json)
            let external = limitTarget.flatMap { WWN($0) }
            let chosen = workloads
            // Only the raw limit needs no fabric.
            let needsFabric = wwpn != nil || reflector || external != nil
            let (results, reflectorFigures) = !needsFabric ? ([], []) : try await global.withInitiator {
                ini -> ([BenchFigures], [BenchFigures]) in
                var results: [BenchFigures] = []
                if let wwpn {
                    try await ini.cliLogin(wwpn)
                    let cap = try await ini.capacity(lun: lun, target: wwpn)
                    guard let id = ini.loggedInID(wwpn) else { throw CLIError("lost the login to wwn.\(wwpn.hex)") }
                    let t = BenchTarget(id: id, lun: lun, blockSize: Int(cap.blockSize), blocks: cap.blocks)
                    for w in chosen {
                        if !quiet { FileHandle.standardError.write(Data("fcinit bench: \(w.name) …\n".utf8)) }
                        results.append(await BenchRunner.run(w, initiator: ini, target: t, seconds: seconds))
                    }
                }
                var limits: [BenchFigures] = []
                if reflector || external != nil {
                    if !quiet { FileHandle.standardError.write(Data("fcinit bench: relay reflector limit …\n".utf8)) }
                    do {
                        if let external {
                            limits = try await BenchRunner.limits(chosen, initiator: ini, seconds: seconds, against: external)
                        } else {
                            limits = try await BenchRunner.limits(chosen, initiator: ini, seconds: seconds)
                        }
                    } catch {
                        throw CLIError("relay reflector: \(error)")
                    }
                }
                return (results, limits)
            }
            var limits: [BenchLimit] = []
            if rawLimit {
                if !quiet { FileHandle.standardError.write(Data("fcinit bench: raw socket relay limit …\n".utf8)) }
                do {
                    limits.append(.raw(try await RawRelay.limits(chosen, seconds: seconds, executable: selfExecutable())))
                } catch {
                    throw CLIError("raw socket relay: \(error)")
                }
            }
            if !reflectorFigures.isEmpty { limits.append(.reflector(reflectorFigures)) }
            if json {
                var ratios: [String: [String: Double]] = [:]
                for l in limits {
                    for r in results { if let ratio = l.ratio(of: r) { ratios[l.name, default: [:]][r.workload] = ratio } }
                }
                try printJSON(Report(results: results, limits: limits, ratios: ratios))
            } else {
                print(BenchRunner.format(results, limits: limits))
            }
        }
    }
}

struct Reflector: FCInitSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a relay reflector N_Port (the fabric's raw limit for `bench --limit-target`) until killed.")
    @OptionGroup var global: GlobalOptions

    func execute() async throws {
        try await runCLI {
            let name = try global.portName()
            do { try FCInitiator.checkFabric(global.fabric) } catch {
                throw CLIError("cannot reach the fabric at \(global.fabric): \(error)")
            }
            let r = RelayReflector(portName: name, nodeName: try global.nodeName(), fabricPath: global.fabric)
            r.start()
            do { try await r.waitOnline() } catch { throw CLIError("fabric login did not complete: \(error)") }
            FileHandle.standardError.write(Data("fcinit reflector: wwn.\(name.hex) online at \(r.nport.portID!)\n".utf8))
            while true { try? await Task.sleep(for: .seconds(3600)) }
        }
    }
}

/// This program's own path, to start its helper processes.
func selfExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

struct RawRelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raw-relay",
        abstract: "Run the switch or target process of bench's raw socket relay limit.",
        discussion: """
            Started by `fcinit bench`; it exits when its standard input reaches end of file (the \
            benchmark ended). `target` answers FCP's message pattern with no FC or SCSI work; `switch` \
            relays each connection to the target.
            """,
        shouldDisplay: false)
    enum Role: String, ExpressibleByArgument { case `switch`, target }
    @Argument(help: "switch or target.")
    var role: Role
    @Option(help: "The socket to listen on.")
    var listen: String
    @Option(help: "The target's socket (switch only).")
    var to: String?

    func validate() throws {
        if role == .switch && to == nil { throw ValidationError("the switch needs --to TARGET-SOCKET") }
    }

    func run() throws {
        let listener: Int32
        do { listener = try UnixSocket.listen(listen, mode: 0o600) } catch {
            throw ValidationError("cannot listen at \(listen): \(error)")
        }
        // The lifeline: end of file on standard input ends the process.
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while true {
                let n = read(0, &byte, 1)
                if n > 0 || (n < 0 && errno == EINTR) { continue }
                break
            }
            unlink(listen)
            Glibc.exit(0)
        }
        switch role {
        case .switch: RawRelay.runSwitch(listener: listener, targetPath: to!)
        case .target: RawRelay.runTarget(listener: listener)
        }
    }
}
