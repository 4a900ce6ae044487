#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import STMFAPI
import STMFClient

/// Configuration safety beyond COMSTAR: export/import, and the restore points stmfd keeps.
extension Stmfadm {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the whole configuration as a versioned, checksummed document.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Output file (default: standard output).", completion: .file()) var file: String?
        func run() throws {
            let bytes = try api { () throws(APIClient.Failure) in try global.client.send("GET", "/v1/export", nil) }
            if let file {
                let tmp = file + ".tmp.\(getpid())"
                do {
                    try Data(bytes).write(to: URL(fileURLWithPath: tmp))
                    let fd = open(tmp, O_RDONLY)
                    if fd >= 0 { fsync(fd); close(fd) }
                    guard rename(tmp, file) == 0 else { throw CommandFailure(message: String(cString: strerror(errno))) }
                } catch {
                    unlink(tmp)
                    try fail("\(file): cannot write export: \(error)")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import", abstract: "Apply an exported configuration (all or nothing).",
            discussion: "With --replace, stmfd first keeps the configuration it replaces as a restore point (list-backups, restore).")
        @OptionGroup var global: GlobalOptions
        @Flag(name: .customLong("replace"), help: "Replace the current configuration (otherwise the service must be empty).")
        var replace = false
        @Argument(help: "An export document.", completion: .file()) var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { try fail("\(file): cannot read") }
            _ = try api { () throws(APIClient.Failure) in
                try global.client.send("POST", "/v1/import\(replace ? "?replace=1" : "")", Array(data), contentType: "application/octet-stream")
            }
        }
    }

    struct ListBackups: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-backups", abstract: "List the configuration restore points stmfd keeps.",
            discussion: """
                stmfd keeps the configuration as it was at each start (when it changed since the \
                last restore point) and before every import --replace or restore, as checksummed \
                export documents in the state directory's backups directory, the newest \
                --backups (default 10) of them. Each is checked against its checksum when listed.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(name: [.short, .customLong("verbose")], help: "Verbose: size, checksum and what the configuration holds.") var v = false
        func run() throws {
            let all = try api { () throws(APIClient.Failure) in try global.client.call("GET", "/v1/backups", as: [BackupInfo].self) }
            if global.json { printJSON(all); return }
            for b in all {
                print("Backup: \(b.name)")
                func line(_ k: String, _ value: String) { print("    " + k.padding(toLength: 14, withPad: " ", startingAt: 0) + ": " + value) }
                line("Created", Layout.date(b.createdAt))
                line("Reason", b.reason)
                line("Status", b.problem.map { "damaged: \($0)" } ?? "verified")
                guard v else { continue }
                line("Size", "\(b.size)")
                line("SHA-256", b.sha256)
                if let c = b.contents {
                    line("Logical Units", "\(c.logicalUnits)")
                    line("Host Groups", "\(c.hostGroups)")
                    line("Target Groups", "\(c.targetGroups)")
                    line("View Entries", "\(c.viewEntries)")
                    line("Target Ports", "\(c.targetPorts)")
                }
            }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "restore", abstract: "Replace the configuration with a restore point (all or nothing).",
            discussion: "The configuration it replaces is kept as a new restore point first, so a restore can be undone.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: ArgumentHelp("The restore point, as list-backups names it.", valueName: "backup-name"), completion: Completions.backups)
        var backup: String
        func run() throws {
            let r = try api { () throws(APIClient.Failure) in
                try global.client.call("POST", "/v1/backups/\(seg(backup))/restore", as: RestoreResult.self)
            }
            if global.json { printJSON(r) }
        }
    }
}
