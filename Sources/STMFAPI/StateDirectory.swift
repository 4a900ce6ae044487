#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where stmfd keeps its database, API socket and lock, shared by the daemon and every CLI:
/// `--state-dir`, else `$STMF_STATE_DIR`, else `/var/lib/stmf` for root and
/// `$HOME/.local/state/stmf` for other users.
public struct StateDirectory: Sendable, Equatable {
    public var path: String

    public init(path: String) { self.path = path }

    public static func resolve(_ explicit: String?) -> StateDirectory {
        if let explicit, !explicit.isEmpty { return StateDirectory(path: explicit) }
        if let env = getenv("STMF_STATE_DIR"), env.pointee != 0 { return StateDirectory(path: String(cString: env)) }
        if getuid() == 0 { return StateDirectory(path: "/var/lib/stmf") }
        let home = getenv("HOME").map { String(cString: $0) } ?? "/tmp"
        return StateDirectory(path: home + "/.local/state/stmf")
    }

    public var socketPath: String { path + "/stmf.sock" }
    public var databasePath: String { path + "/stmf.db" }
    public var lockPath: String { path + "/stmfd.lock" }
    /// Configuration restore points (`stmfadm list-backups`).
    public var backupsPath: String { path + "/backups" }
}
