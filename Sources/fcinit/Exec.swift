import ArgumentParser
import FCInitiator
import FCPort
import Foundation
import SGBridge
import STMF

struct Exec: FCInitSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a program that sees the LUN as a SCSI generic device ($FCINIT_DEVICE).",
        discussion: """
            Logs in to the target, serves an SG_IO bridge on a private socket and runs COMMAND with \
            the fcinit SG shim preloaded: opening $FCINIT_DEVICE gives a fake sg device whose SG_IO \
            commands go to the LUN over FC (sg3_utils, fio --ioengine=sg). Exits with COMMAND's status.
            Several paths: repeat --target (other target ports) and/or give --initiator (other \
            initiator ports, each its own N_Port on the fabric); every (initiator, target) pair is one \
            I_T nexus and one device, $FCINIT_DEVICE, $FCINIT_DEVICE_1, ... ($FCINIT_PATHS says how many), \
            in the order initiators by targets.
            Example: fcinit exec --target wwn.2100001B32AAAAAA --lun 0 -- sh -c 'sg_inq $FCINIT_DEVICE'
            """)
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("target"), help: "Target port name (wwn.XXXXXXXXXXXXXXXX or colon form); repeat for more paths.")
    var targets: [String] = []
    @Option(help: "Logical unit number.")
    var lun: UInt16 = 0
    @Option(name: .customLong("initiator"), help: "Another initiator port name (WWPN) for more paths; repeatable.")
    var initiators: [String] = []
    @Option(help: "The fake device path (default /dev/sg-fcinit<LUN>; further paths add -path<N>).")
    var device: String?
    @Option(help: "Retries of a timed-out command or one that lost data.")
    var retries: Int = 5
    @Option(name: .customLong("dev-loss-tmo"),
            help: "Seconds a command waits for a target that went away (link down, logged out) before it fails, as the Linux FC transport's dev_loss_tmo.")
    var devLossTimeout: Double = 30
    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        var c = command
        if c.first == "--" { c.removeFirst() }
        if c.isEmpty { throw ValidationError("give the program to run after --") }
        if targets.isEmpty { throw ValidationError("give the target port with --target") }
        if retries < 0 { throw ValidationError("--retries must not be negative") }
        if !(devLossTimeout >= 0 && devLossTimeout <= 3600) { throw ValidationError("--dev-loss-tmo must be between 0 and 3600 seconds") }
    }

    func targetNames() throws -> [WWN] {
        try targets.map { t in
            guard let w = WWN(t) else { throw ValidationError("invalid target name '\(t)'") }
            return w
        }
    }

    func initiatorNames() throws -> [WWN] {
        let first = try global.portName()
        var out = [first]
        for t in initiators {
            guard let w = WWN(t) else { throw ValidationError("invalid initiator WWPN '\(t)'") }
            if out.contains(w) { throw ValidationError("initiator \(w.colonSeparated) is given twice") }
            out.append(w)
        }
        return out
    }

    func execute() async throws {
        var argv = command
        if argv.first == "--" { argv.removeFirst() }
        let args = argv
        var status: Int32 = 1
        try await runCLI {
            guard let shim = SGBridgeEnvironment.locateShim() else {
                throw CLIError("cannot find \(SGBridgeEnvironment.libraryName) (build it with `swift build --product fcinit-sgshim`, or set \(SGBridgeEnvironment.overrideVariable))")
            }
            let wwpns = try targetNames(), names = try initiatorNames(), lun = lun, retries = retries
            let devLoss = Duration.milliseconds(Int(devLossTimeout * 1000))
            let basePath = device ?? "/dev/sg-fcinit\(lun)"
            if Set(wwpns).count != wwpns.count { throw CLIError("a target port is given twice") }
            if wwpns.count * names.count > SGBridgeEnvironment.maximumDevices {
                throw CLIError("at most \(SGBridgeEnvironment.maximumDevices) paths (initiators × targets)")
            }
            status = try await global.withInitiators(names) { inis in
                var paths: [(FCInitiator, WWN)] = []
                for ini in inis {
                    for wwpn in wwpns {
                        try await ini.cliLogin(wwpn)
                        // As the Linux sd probe does: TEST UNIT READY absorbs the power-on/reset unit
                        // attention of the new I_T nexus, so the program sees the device as a disk after a scan.
                        _ = try? await ini.executeWithRetry(.testUnitReady(lun: lun), target: wwpn)
                        paths.append((ini, wwpn))
                    }
                }
                var servers: [SGBridgeServer] = []
                defer { for s in servers { s.stop() } }
                var devices: [SGBridgeEnvironment.Device] = []
                for (i, (ini, wwpn)) in paths.enumerated() {
                    let socketPath = NSTemporaryDirectory() + "fcinit-\(getpid())-\(i)-\(UInt32.random(in: 0...UInt32.max)).sock"
                    let server: SGBridgeServer
                    do {
                        server = try SGBridgeServer(socketPath: socketPath) { request in
                            await bridge(request, initiator: ini, target: wwpn, lun: lun, retries: retries, devLoss: devLoss)
                        }
                    } catch {
                        throw CLIError("cannot serve the SG bridge at \(socketPath): \(error)")
                    }
                    server.start()
                    servers.append(server)
                    devices.append(.init(path: i == 0 ? basePath : "\(basePath)-path\(i)", socketPath: socketPath, lun: lun))
                }
                let env = SGBridgeEnvironment(devices: devices, shimPath: shim)
                var environment = env.applied(to: ProcessInfo.processInfo.environment)
                environment["FCINIT_PATHS"] = String(devices.count)
                return try await runChild(args, environment: environment)
            }
        }
        throw ExitCode(status)
    }
}

/// One bridged SG_IO: the CDB through `executeWithRetry` (no UNIT ATTENTION retry: the program
/// sees what an sg device would show), transport failures as Linux host status codes.
func bridge(_ request: SGRequest, initiator: FCInitiator, target: WWN, lun: UInt16, retries: Int,
            devLoss: Duration) async -> SGReply {
    var r = SCSIRequest(lun: lun, cdb: request.cdb)
    switch request.direction {
    case .none: break
    case .toDevice:
        r.direction = .write
        r.dataOut = request.dataOut
    case .fromDevice:
        r.direction = .read
        r.readLength = request.transferLength
    }
    if r.dataLength == 0 { r.direction = .none }
    // The program's SG_IO timeout bounds the whole command, as the SCSI midlayer's does; each FC
    // attempt keeps the exchange timeout (2 × R_A_TOV), so a frame lost to a link bounce is
    // aborted and retried long before the program gives up. Only a shorter SG timeout applies.
    if request.timeoutMilliseconds > 0,
       Duration.milliseconds(Int(request.timeoutMilliseconds)) < initiator.nport.exchangeTimeout {
        r.timeout = .milliseconds(Int(request.timeoutMilliseconds))
    }
    do {
        let result = try await initiator.executeWithRetry(r, target: target, retries: retries, retryUnitAttention: false,
                                                          devLossTimeout: devLoss)
        return SGReply(status: result.status.rawValue, dataIn: result.data, residual: result.residualCount,
                       sense: result.sense)
    } catch {
        switch error {
        case .timeout: return .transportFailure(SGHostStatus.timeOut)
        case .aborted: return .transportFailure(SGHostStatus.abort)
        case .linkDown: return .transportFailure(SGHostStatus.transportDisrupted)
        case .notOnline, .notLoggedIn, .targetNotFound, .loginFailed: return .transportFailure(SGHostStatus.noConnect)
        default: return .transportFailure(SGHostStatus.error)
        }
    }
}

/// Runs `argv` (looked up in PATH) with inherited stdio; returns its exit status (128 + signal
/// when killed). SIGINT, SIGTERM and SIGHUP sent to fcinit are passed on to the program (which
/// may take its time to stop: its SCSI commands still complete or time out through the bridge),
/// and fcinit logs out only after it has exited.
func runChild(_ argv: [String], environment: [String: String]) async throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    p.environment = environment
    let forwarded = [SIGINT, SIGTERM, SIGHUP]
    var sources: [DispatchSourceSignal] = []
    for sig in forwarded {
        signal(sig, SIG_IGN)
        let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        src.setEventHandler { if p.isRunning { kill(p.processIdentifier, sig) } }
        src.resume()
        sources.append(src)
    }
    defer {
        for s in sources { s.cancel() }
        for sig in forwarded { signal(sig, SIG_DFL) }
    }
    // The termination handler, not waitUntilExit: on Linux, waitUntilExit spins a run loop with
    // no sources and kept a core busy for as long as the program ran.
    let exited = AsyncStream<Int32>.makeStream(of: Int32.self, bufferingPolicy: .bufferingNewest(1))
    p.terminationHandler = { p in
        exited.continuation.yield(p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus)
        exited.continuation.finish()
    }
    do { try p.run() } catch { throw CLIError("cannot run \(argv[0]): \(error.localizedDescription)") }
    for await status in exited.stream { return status }
    return 1
}
