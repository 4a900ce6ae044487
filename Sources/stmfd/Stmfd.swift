import ArgumentParser
import Logging
import STMF
import STMFAPI
import STMFService

@main
struct Stmfd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stmfd", abstract: "The SCSI target mode framework service.")

    @Option(name: .customLong("state-dir"), help: "State directory (default: $STMF_STATE_DIR, /var/lib/stmf for root).")
    var stateDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("tasks-per-nexus"),
            help: "Tasks one initiator may have in flight at one target port before TASK SET FULL.")
    var tasksPerNexus: Int = STMF.Limits().tasksPerNexus

    @Option(name: .customLong("tasks-per-lu"),
            help: "Tasks all initiators together may have in flight on one LU before TASK SET FULL or BUSY.")
    var tasksPerLU: Int = STMF.Limits().tasksPerLU

    func validate() throws {
        for (name, v) in [("--tasks-per-nexus", tasksPerNexus), ("--tasks-per-lu", tasksPerLU)] where !(1...65536).contains(v) {
            throw ValidationError("\(name) must be between 1 and 65536, not \(v)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "stmfd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        do {
            try await Daemon(stateDirectory: StateDirectory.resolve(stateDir), logger: logger,
                             limits: STMF.Limits(tasksPerNexus: tasksPerNexus, tasksPerLU: tasksPerLU)).run()
        } catch {
            logger.critical("stmfd cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}
