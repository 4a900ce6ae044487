import ArgumentParser
import Logging
import STMFAPI
import STMFService

@main
struct Stmfd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stmfd", abstract: "The SCSI target mode framework service.")

    @Option(name: .customLong("state-dir"), help: "State directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).")
    var stateDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        var logger = Logger(label: "stmfd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        do {
            try await Daemon(stateDirectory: StateDirectory.resolve(stateDir), logger: logger).run()
        } catch {
            logger.critical("stmfd cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}
