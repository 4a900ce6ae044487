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
            message pattern relayed initiator -> switch -> target by three processes over the same kind \
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
    @Option(help: "Rounds of product and limit runs, interleaved; ratios are the median over the rounds with their spread (these machines are noisy).")
    var rounds: Int = 3
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if target == nil && !rawLimit && !reflector && limitTarget == nil {
            throw ValidationError("give --target, a limit to measure, or both")
        }
        if let limitTarget, WWN(limitTarget) == nil { throw ValidationError("invalid reflector name '\(limitTarget)'") }
        guard seconds > 0, sequentialDepth >= 1 else { throw ValidationError("--seconds and --sequential-depth must be positive") }
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be between 1 and 100") }
    }

    struct Report: Codable {
        /// The last round's figures.
        var results: [BenchFigures]
        var limits: [BenchLimit]
        /// Limit name → workload → the median over the rounds of the result's IOPS to the limit's.
        var ratios: [String: [String: Double]]
        /// Limit name → workload → [lowest, highest] ratio of a round.
        var spread: [String: [String: [Double]]]
        /// Each round's ratios, in order.
        var roundRatios: [[String: [String: Double]]]
    }

    static func ratios(_ results: [BenchFigures], _ limits: [BenchLimit]) -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        for l in limits {
            for r in results { if let ratio = l.ratio(of: r) { out[l.name, default: [:]][r.workload] = ratio } }
        }
        return out
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
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
            // The product and its limits one after another, round after round, so a slow spell
            // of the machine falls on both sides of a ratio.
            var roundRatios: [[String: [String: Double]]] = []
            var lastResults: [BenchFigures] = [], lastLimits: [BenchLimit] = []
            for round in 1...rounds {
                if !quiet && rounds > 1 { FileHandle.standardError.write(Data("fcinit bench: round \(round) of \(rounds)\n".utf8)) }
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
                roundRatios.append(Self.ratios(results, limits))
                lastResults = results
                lastLimits = limits
            }
            var medians: [String: [String: Double]] = [:], spread: [String: [String: [Double]]] = [:]
            for l in lastLimits {
                for r in lastResults {
                    let v = roundRatios.compactMap { $0[l.name]?[r.workload] }
                    guard !v.isEmpty else { continue }
                    medians[l.name, default: [:]][r.workload] = Self.median(v)
                    spread[l.name, default: [:]][r.workload] = [v.min()!, v.max()!]
                }
            }
            if json {
                try printJSON(Report(results: lastResults, limits: lastLimits, ratios: medians, spread: spread,
                                     roundRatios: roundRatios))
            } else {
                print(BenchRunner.format(lastResults, limits: lastLimits))
                if !lastResults.isEmpty && !lastLimits.isEmpty {
                    print("")
                    print("ratio to each limit over \(rounds) interleaved round\(rounds == 1 ? "" : "s"): median (lowest–highest)")
                    print("workload".padding(toLength: 20, withPad: " ", startingAt: 0)
                          + lastLimits.map { ("vs " + $0.name).padding(toLength: 24, withPad: " ", startingAt: 0) }.joined())
                    for r in lastResults {
                        var line = r.workload.padding(toLength: 20, withPad: " ", startingAt: 0)
                        for l in lastLimits {
                            let cell: String
                            if let m = medians[l.name]?[r.workload], let s = spread[l.name]?[r.workload] {
                                cell = String(format: "%.2f× (%.2f–%.2f)", m, s[0], s[1])
                            } else {
                                cell = "-"
                            }
                            line += cell.padding(toLength: 24, withPad: " ", startingAt: 0)
                        }
                        print(line)
                    }
                }
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
