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
            Example: fcinit exec --target wwn.2100001B32AAAAAA --lun 0 -- sh -c 'sg_inq $FCINIT_DEVICE'
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var target: TargetOptions
    @Option(help: "The fake device path (default /dev/sg-fcinit<LUN>).")
    var device: String?
    @Option(help: "Retries of a timed-out or link-lost command.")
    var retries: Int = 5
    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments (after --).")
    var command: [String] = []

    func validate() throws {
        var c = command
        if c.first == "--" { c.removeFirst() }
        if c.isEmpty { throw ValidationError("give the program to run after --") }
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
            let wwpn = try target.targetName(), lun = target.lun, retries = retries
            let devicePath = device ?? "/dev/sg-fcinit\(lun)"
            status = try await global.withInitiator { ini in
                try await ini.cliLogin(wwpn)
                // As the Linux sd probe does: TEST UNIT READY absorbs the power-on/reset unit
                // attention of the new I_T nexus, so the program sees the device as a disk after a scan.
                _ = try? await ini.executeWithRetry(.testUnitReady(lun: lun), target: wwpn)
                let socketPath = NSTemporaryDirectory() + "fcinit-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
                let server: SGBridgeServer
                do {
                    server = try SGBridgeServer(socketPath: socketPath) { request in
                        await bridge(request, initiator: ini, target: wwpn, lun: lun, retries: retries)
                    }
                } catch {
                    throw CLIError("cannot serve the SG bridge at \(socketPath): \(error)")
                }
                server.start()
                defer { server.stop() }
                let env = SGBridgeEnvironment(devicePath: devicePath, socketPath: socketPath, shimPath: shim)
                return try await runChild(args, environment: env.applied(to: ProcessInfo.processInfo.environment))
            }
        }
        throw ExitCode(status)
    }
}

/// One bridged SG_IO: the CDB through `executeWithRetry` (no UNIT ATTENTION retry: the program
/// sees what an sg device would show), transport failures as Linux host status codes.
func bridge(_ request: SGRequest, initiator: FCInitiator, target: WWN, lun: UInt16, retries: Int) async -> SGReply {
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
        let result = try await initiator.executeWithRetry(r, target: target, retries: retries, retryUnitAttention: false)
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
/// when killed).
func runChild(_ argv: [String], environment: [String: String]) async throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    p.environment = environment
    do { try p.run() } catch { throw CLIError("cannot run \(argv[0]): \(error.localizedDescription)") }
    return await withCheckedContinuation { c in
        let t = Thread {
            p.waitUntilExit()
            c.resume(returning: p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus)
        }
        t.start()
    }
}
