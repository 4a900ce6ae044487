#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import STMF
import STMFAPI

/// stmfd's life: take the state directory's lock, open the store, reload the configuration,
/// serve the API on the Unix socket, tell systemd it is ready, and on SIGTERM/SIGINT finish
/// in-flight requests, take ports offline (ending sessions, aborting their commands) and sync
/// every LU before exiting.
public struct Daemon {
    public var stateDirectory: StateDirectory
    public var logger: Logger
    public var limits: STMF.Limits

    /// Seconds an API connection may stay idle (or a request stay half-sent) before it is closed.
    public var apiIdleSeconds: Int

    /// Restore points kept (at start, before import --replace and restore); 0 keeps none.
    public var backups: Int

    /// The administrative group that owns the API socket (and may search the state directory),
    /// so its members administer stmfd without root. nil: `stmf` when such a group exists.
    public var group: String?

    /// The default administrative group.
    public static let defaultGroup = "stmf"

    public init(stateDirectory: StateDirectory, logger: Logger, limits: STMF.Limits = .init(), apiIdleSeconds: Int = 60,
                backups: Int = 10, group: String? = nil) {
        self.stateDirectory = stateDirectory
        self.logger = logger
        self.limits = limits
        self.apiIdleSeconds = apiIdleSeconds
        self.backups = backups
        self.group = group
    }

    public enum StartError: Error, CustomStringConvertible {
        case stateDirectory(String)
        case alreadyRunning(String)
        case group(String)
        public var description: String {
            switch self {
            case let .stateDirectory(m): m
            case let .alreadyRunning(m): m
            case let .group(m): m
            }
        }
    }

    /// The group id of the administrative group: `group` when given (it must exist), else
    /// `stmf` when it exists, else nil (root only, as the state directory's mode allows).
    static func administrativeGroup(_ name: String?) throws(StartError) -> gid_t? {
        let wanted = name ?? defaultGroup
        var grp = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16384)
        let rc = getgrnam_r(wanted, &grp, &buffer, buffer.count, &result)
        guard rc == 0, let found = result else {
            if name == nil { return nil }
            throw .group("group \(wanted) does not exist (create it, e.g. groupadd --system \(wanted), or name another with --group)")
        }
        return found.pointee.gr_gid
    }

    /// Files stmfd creates are 0640 at most and directories 0750, whatever umask the caller
    /// had; each file is also given its mode explicitly where it is created.
    static let fileCreationMask: mode_t = 0o027

    /// Creates the state directory (0750) if needed.
    /// Every file LU holds descriptors: take the hard limit as the soft one (the default soft
    /// limit of 1024 ended LU creation near the thousandth LU with "Too many open files").
    static func raiseDescriptorLimit(logger: Logger) {
        var l = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0, l.rlim_cur < l.rlim_max else { return }
        let before = l.rlim_cur
        l.rlim_cur = l.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0 {
            logger.info("raised the open-file limit", metadata: ["from": "\(before)", "to": "\(l.rlim_max)"])
        }
    }

    static func prepare(_ dir: StateDirectory) throws(StartError) {
        var st = stat()
        if stat(dir.path, &st) != 0 {
            guard errno == ENOENT else { throw .stateDirectory("\(dir.path): \(String(cString: strerror(errno)))") }
            do {
                try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o750])
            } catch {
                throw .stateDirectory("cannot create state directory \(dir.path): \(error)")
            }
            chmod(dir.path, 0o750)
        } else if (st.st_mode & S_IFMT) != S_IFDIR {
            throw .stateDirectory("\(dir.path) is not a directory")
        }
    }

    /// Holds the exclusive lock on the state directory for the life of the process.
    final class StateLock {
        let fd: Int32
        init(path: String) throws(StartError) {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw .stateDirectory("cannot open lock \(path): \(String(cString: strerror(errno)))") }
            fchmod(fd, 0o640)
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
                var buf = [UInt8](repeating: 0, count: 32)
                let n = pread(fd, &buf, 31, 0)
                let pid = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
                close(fd)
                throw .alreadyRunning("another stmfd (pid \(pid)) is running on state directory \((path as NSString).deletingLastPathComponent)")
            }
            let pid = Array("\(getpid())\n".utf8)
            _ = ftruncate(fd, 0)
            _ = pwrite(fd, pid, pid.count, 0)
        }
        deinit { close(fd) }
    }

    /// API connections open at once; past it a client gets 503 TOO_MANY_CONNECTIONS.
    static let connectionLimit = 128

    /// Connections idle for a minute are closed (a client that connects and sends nothing, or
    /// stops half-way, holds no resources for long); request headers are capped at 16 KiB.
    static func httpConfiguration(idleSeconds: Int) -> HTTP1Channel.Configuration {
        var c = HTTP1Channel.Configuration(idleTimeout: .seconds(Int64(idleSeconds)))
        c.httpDecoder = .init(maxHeaderFieldSize: 16 << 10, maxHeaderListSize: 16 << 10, maxHeaderFieldCount: 100)
        return c
    }

    public func run() async throws {
        umask(Self.fileCreationMask)
        let adminGroup = try Self.administrativeGroup(group)
        try Self.prepare(stateDirectory)
        Self.raiseDescriptorLimit(logger: logger)
        let lock = try StateLock(path: stateDirectory.lockPath)
        defer { withExtendedLifetime(lock) {} }

        let store = try ConfigStore(path: stateDirectory.databasePath)
        let metrics = MetricsRegistry()
        metrics.bootstrap()
        let stmf = STMF(observer: CommandMetrics(registry: metrics.registry), limits: limits)
        let core = ServiceCore(stmf: stmf, store: store, logger: logger)
        await core.enableRestorePoints(RestorePoints(directory: stateDirectory.backupsPath, keep: backups))
        try await core.load()
        await core.makeStartRestorePoint()

        let socketPath = stateDirectory.socketPath
        let log = logger
        // The socket is 0660, owned by the administrative group when there is one: its members
        // may administer stmfd; the state directory (0750) lets that group reach the socket.
        if let adminGroup { chown(stateDirectory.path, uid_t.max, adminGroup) }
        umask(0o117)
        let watchdog = Watchdog.fromEnvironment()
        let app = Application(
            router: APIRoutes.router(core: core, metrics: metrics),
            server: .http1(configuration: Self.httpConfiguration(idleSeconds: apiIdleSeconds), connectionLimit: Self.connectionLimit),
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "stmfd"),
            onServerRunning: { _ in
                umask(Self.fileCreationMask)
                chmod(socketPath, 0o660)
                if let adminGroup { chown(socketPath, uid_t.max, adminGroup) }
                log.info("stmfd ready", metadata: ["socket": "\(socketPath)", "group": "\(adminGroup.map { String($0) } ?? "none")"])
                SystemdNotify.send("READY=1\nSTATUS=serving \(socketPath)")
                watchdog?.start()
            },
            logger: logger
        )
        try await app.runService()
        watchdog?.stop()
        SystemdNotify.send("STOPPING=1")
        await core.shutdown()
        unlink(socketPath)
        log.info("stmfd stopped")
    }
}

/// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
public enum SystemdNotify {
    public static func send(_ message: String) {
        guard let env = getenv("NOTIFY_SOCKET") else { return }
        var path = Array(String(cString: env).utf8)
        guard !path.isEmpty else { return }
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }   // abstract namespace
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        guard path.count < MemoryLayout.size(ofValue: addr.sun_path) else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { $0.copyBytes(from: path) }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let bytes = Array(message.utf8)
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, bytes.count, 0, $0, len) }
        }
    }
}
