import ArgumentParser
import FCInitiator
import FCPort
import Foundation
import STMF

signal(SIGPIPE, SIG_IGN)
// `await FCInit.main()` from top-level code picks the synchronous entry point; run it by hand.
do {
    var command = try FCInit.parseAsRoot(hoistingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    if let sub = command as? any FCInitSubcommand {
        try await sub.execute()
    } else {
        try command.run()
    }
} catch {
    FCInit.exit(withError: error)
}

/// `fcinit`: an emulated FC initiator HBA on the emulated fabric.
struct FCInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fcinit",
        abstract: "An emulated Fibre Channel initiator: discover targets and send them SCSI commands.",
        discussion: """
            Connects to the emulated fabric (fcfabric), logs in, and talks FCP to target ports. \
            The port name comes from --wwpn, else $FCINIT_WWPN, else \(FCInitiator.defaultPortName.colonSeparated).
            """,
        subcommands: [Discover.self, Inquiry.self, ReadCapacity.self, TestUnitReady.self, Read.self, Write.self,
                      Exec.self, Bench.self, Reflector.self, RawRelayCommand.self])
}

/// `fcinit --fabric P SUB …` → `fcinit SUB --fabric P …`: the global options may come before
/// the subcommand, where ArgumentParser does not look for a subcommand's options.
func hoistingGlobalOptions(_ args: [String]) -> [String] {
    let globals: Set<String> = ["--fabric", "--wwpn", "--wwnn"]
    var leading: [String] = []
    var i = 0
    while i < args.count {
        let a = args[i]
        let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
        guard globals.contains(name) else { break }
        leading.append(a)
        if !a.contains("="), i + 1 < args.count { leading.append(args[i + 1]); i += 1 }
        i += 1
    }
    guard !leading.isEmpty, i < args.count else { return args }
    return [args[i]] + leading + Array(args[(i + 1)...])
}

/// A subcommand whose work is async (run from main.swift's top-level code).
protocol FCInitSubcommand: ParsableCommand {
    func execute() async throws
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "The fabric's socket.")
    var fabric: String = FCInitiator.defaultFabricPath
    @Option(help: "This initiator's port name (WWPN).")
    var wwpn: String?
    @Option(help: "This initiator's node name (WWNN).")
    var wwnn: String?

    func portName() throws -> WWN {
        let text = wwpn ?? ProcessInfo.processInfo.environment["FCINIT_WWPN"]
        guard let text, !text.isEmpty else { return FCInitiator.defaultPortName }
        guard let w = WWN(text) else { throw ValidationError("invalid WWPN '\(text)'") }
        return w
    }

    func nodeName() throws -> WWN? {
        guard let wwnn else { return nil }
        guard let w = WWN(wwnn) else { throw ValidationError("invalid WWNN '\(wwnn)'") }
        return w
    }

    /// Logs in to the fabric, runs `body`, logs out (also on error).
    func withInitiator<T: Sendable>(_ body: (FCInitiator) async throws -> T) async throws -> T {
        try await withInitiators([try portName()]) { try await body($0[0]) }
    }

    /// One N_Port per name (the WWNN, if given, only for the first), all logged in to the
    /// fabric; runs `body`, logs them all out (also on error).
    func withInitiators<T: Sendable>(_ names: [WWN], _ body: ([FCInitiator]) async throws -> T) async throws -> T {
        let node = try nodeName()
        do { try FCInitiator.checkFabric(fabric) } catch {
            throw CLIError("cannot reach the fabric at \(fabric): \(error)")
        }
        let inis = names.enumerated().map { i, name in
            FCInitiator(portName: name, nodeName: i == 0 ? node : nil, fabricPath: fabric, reconnect: false)
        }
        func stopAll() async { for ini in inis { await ini.stop() } }
        for ini in inis { ini.start() }
        for ini in inis {
            do {
                try await ini.waitOnline(timeout: .seconds(15))
            } catch {
                await stopAll()
                throw CLIError("fabric login (FLOGI) of \(ini.portName.colonSeparated) at \(fabric) did not complete")
            }
        }
        do {
            let r = try await body(inis)
            await stopAll()
            return r
        } catch {
            await stopAll()
            throw error
        }
    }
}

/// A target port and LUN.
struct TargetOptions: ParsableArguments {
    @Option(help: "Target port name (wwn.XXXXXXXXXXXXXXXX or colon form).")
    var target: String
    @Option(help: "Logical unit number.")
    var lun: UInt16 = 0

    func targetName() throws -> WWN {
        guard let w = WWN(target) else { throw ValidationError("invalid target name '\(target)'") }
        return w
    }
}

/// An error printed as `fcinit: message` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

extension FCInitiator {
    /// Logs in to `wwpn` with CLI-worded errors. A name-server query or PLOGI/PRLI that gets no
    /// answer (a frame lost, the link bouncing) is tried again, as HBA drivers retry ELS
    /// (up to `attempts` times); a target the name server does not know fails at once.
    func cliLogin(_ wwpn: WWN, attempts: Int = 5) async throws {
        var tried = 0
        while true {
            do {
                try await login(to: wwpn)
                return
            } catch {
                tried += 1
                let again: Bool = switch error {
                case .targetNotFound: false
                case .loginFailed(let why): why.hasPrefix("no answer")
                case .notOnline: false
                default: error.isRetryable
                }
                if again && tried < attempts {
                    try? await Task.sleep(for: .milliseconds(100 << min(tried, 3)))
                    continue
                }
                switch error {
                case .targetNotFound: throw CLIError("no target port wwn.\(wwpn.hex) on the fabric")
                default: throw CLIError("login to wwn.\(wwpn.hex) failed: \(error)" + (tried > 1 ? " (\(tried) attempts)" : ""))
                }
            }
        }
    }

    /// Runs a command with retries; transport failures and non-GOOD status become CLI errors.
    func cliRun(_ request: SCSIRequest, _ what: String, target wwpn: WWN, allowCheckCondition: Bool = false)
        async throws -> SCSIResult {
        let r: SCSIResult
        do { r = try await executeWithRetry(request, target: wwpn) } catch {
            throw CLIError("\(what) failed: \(error)")
        }
        if r.status != .good && !allowCheckCondition { throw CLIError("\(what) failed: \(r.summary)") }
        return r
    }
}

func printJSON<T: Encodable>(_ value: T) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    FileHandle.standardOutput.write(try e.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}

func runCLI(_ body: () async throws -> Void) async throws {
    do { try await body() } catch let e as CLIError {
        FileHandle.standardError.write(Data("fcinit: \(e.description)\n".utf8))
        throw ExitCode.failure
    }
}
