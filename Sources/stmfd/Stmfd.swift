import ArgumentParser
import Logging
import STMF
import STMFAPI
import STMFService

@main
struct Stmfd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stmfd", abstract: "The SCSI target mode framework service.",
        discussion: """
            stmfd keeps the SCSI target configuration in an SQLite database in its state \
            directory, serves the management API (HTTP/JSON) on the Unix socket stmf.sock there \
            and runs the logical units and target ports. systemd starts it (Type=notify, \
            WatchdogSec); the COMSTAR commands administer it.
            """,
        version: STMFVersion.current)

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

    @Option(name: .customLong("api-idle-timeout"),
            help: "Seconds an API connection may stay idle, or a request half-sent, before it is closed.")
    var apiIdleTimeout: Int = 60

    @Option(name: .customLong("backups"),
            help: "Configuration restore points kept (at start, before import --replace and restore); 0 keeps none.")
    var backups: Int = 10

    @Option(name: .customLong("group"),
            help: "The administrative group that owns the API socket (default: stmf, when that group exists).")
    var group: String?

    func validate() throws {
        if !(1...3600).contains(apiIdleTimeout) {
            throw ValidationError("--api-idle-timeout must be between 1 and 3600 seconds, not \(apiIdleTimeout)")
        }
        for (name, v) in [("--tasks-per-nexus", tasksPerNexus), ("--tasks-per-lu", tasksPerLU)] where !(1...65536).contains(v) {
            throw ValidationError("\(name) must be between 1 and 65536, not \(v)")
        }
        if !(0...1000).contains(backups) { throw ValidationError("--backups must be between 0 and 1000, not \(backups)") }
    }

    func run() async throws {
        var logger = Logger(label: "stmfd")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        do {
            try await Daemon(stateDirectory: StateDirectory.resolve(stateDir), logger: logger,
                             limits: STMF.Limits(tasksPerNexus: tasksPerNexus, tasksPerLU: tasksPerLU),
                             apiIdleSeconds: apiIdleTimeout, backups: backups, group: group).run()
        } catch {
            logger.critical("stmfd cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}
