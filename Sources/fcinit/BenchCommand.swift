import ArgumentParser
import FCInitiator
import FCPort
import Foundation
import STMF

struct Bench: FCInitSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure IOPS, MB/s and latency against a LUN (it writes to the LU!) and the fabric's raw limit.",
        discussion: """
            Workloads: 4 KiB random read and write at queue depth 1 and 32, 1 MiB sequential read and \
            write. With --reflector, the same workloads also run against a relay reflector N_Port \
            started in this process on the same fabric (FCP answered without SCSI), and each figure \
            is printed with its ratio to that limit. --reflector without --target measures the limit only.
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
    @Flag(help: "Also measure the raw limit with an in-process relay reflector.")
    var reflector = false
    @Option(help: "Measure the raw limit against this already running relay reflector (`fcinit reflector`).")
    var limitTarget: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        if target == nil && !reflector && limitTarget == nil {
            throw ValidationError("give --target, --reflector / --limit-target, or both")
        }
        if let limitTarget, WWN(limitTarget) == nil { throw ValidationError("invalid reflector name '\(limitTarget)'") }
        guard seconds > 0, sequentialDepth >= 1 else { throw ValidationError("--seconds and --sequential-depth must be positive") }
    }

    struct Report: Codable {
        var results: [BenchFigures]
        var limits: [BenchFigures]
        var ratios: [String: Double]
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
            let (results, limits) = try await global.withInitiator { ini -> ([BenchFigures], [BenchFigures]) in
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
            if json {
                var ratios: [String: Double] = [:]
                for r in results { if let l = limits.first(where: { $0.workload == r.workload }), l.iops > 0 { ratios[r.workload] = r.iops / l.iops } }
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
