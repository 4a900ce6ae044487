#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import STMFAPI

/// Configuration restore points: the configuration as it was, kept as export documents
/// (versioned, length and SHA-256 in the header) in `<state>/backups`, the newest `keep` of
/// them. Each is written to a temporary file, synced, renamed into place (the directory synced
/// too) and read back and decoded before it counts, so a restore point is never half-written
/// and never unreadable without being reported. As targetcli's saveconfig backups, but atomic
/// and verified.
public struct RestorePoints: Sendable {
    public let directory: String
    /// How many restore points are kept (the oldest go first); 0 keeps none.
    public let keep: Int

    public init(directory: String, keep: Int) {
        self.directory = directory
        self.keep = keep
    }

    /// `20260104T101530.123Z-start`: sorts in time order; the reason says why it was made (a
    /// `-2`… suffix when two are made in one millisecond). Nothing else is a restore point's
    /// name, so a name from a request can never reach outside the directory.
    static func isName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        guard u.count > 21 else { return false }
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { u[$0] >= 0x30 && u[$0] <= 0x39 } }
        guard digits(0..<8), u[8] == UInt8(ascii: "T"), digits(9..<15), u[15] == UInt8(ascii: "."), digits(16..<19),
              u[19] == UInt8(ascii: "Z"), u[20] == UInt8(ascii: "-") else { return false }
        let rest = String(decoding: u[21...], as: UTF8.self)
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        guard let reason = parts.first, ["start", "import", "restore"].contains(String(reason)) else { return false }
        switch parts.count {
        case 1: return true
        case 2: return !parts[1].isEmpty && parts[1].utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        default: return false
        }
    }
    static let suffix = ".export"

    public enum Failure: Error, CustomStringConvertible {
        case io(String)
        case verification(String)
        public var description: String {
            switch self {
            case let .io(m): m
            case let .verification(m): "the restore point did not read back: \(m)"
            }
        }
    }

    /// The time part of a name, in UTC.
    static func stampFormatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return f
    }

    static func stamp(_ date: Date) -> String { stampFormatter().string(from: date) }

    static func date(of name: String) -> Date? { stampFormatter().date(from: String(name.prefix(20))) }

    /// Creates the directory (0750, whatever the umask) and removes temporary files a crash
    /// left behind.
    public func prepare() throws(Failure) {
        var st = stat()
        if stat(directory, &st) != 0 {
            guard mkdir(directory, 0o750) == 0 || errno == EEXIST else {
                throw .io("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
        chmod(directory, 0o750)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".tmp-") {
            unlink(directory + "/" + name)
        }
    }

    /// Writes a restore point of `configuration` and drops the oldest beyond `keep`; returns
    /// its name. Nothing is written when `keep` is 0.
    @discardableResult
    public func save(_ configuration: StoredConfiguration, reason: String, now: Date = Date()) throws(Failure) -> String? {
        guard keep > 0 else { return nil }
        try prepare()
        let stamp = Self.stamp(now)
        var name = "\(stamp)-\(reason)"
        var n = 2
        while FileManager.default.fileExists(atPath: path(name)) { name = "\(stamp)-\(reason)-\(n)"; n += 1 }
        let bytes: [UInt8]
        do {
            let iso = ISO8601DateFormatter()
            iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            bytes = try ExportDocument.encode(configuration, exportedAt: iso.string(from: now))
        } catch {
            throw .io("cannot encode the configuration: \(error)")
        }
        let tmp = directory + "/.tmp-" + name
        try Self.writeDurably(bytes, to: tmp)
        guard rename(tmp, path(name)) == 0 else {
            let e = errno
            unlink(tmp)
            throw .io("cannot rename \(tmp): \(String(cString: strerror(e)))")
        }
        Self.syncDirectory(directory)
        // Verified: what is on disk decodes, passes its checksum and is this configuration.
        guard let back = FileManager.default.contents(atPath: path(name)) else {
            throw .verification("\(path(name)) cannot be read")
        }
        do {
            let body = try ExportDocument.decode(Array(back))
            guard body.configuration == configuration else {
                unlink(path(name))
                throw Failure.verification("\(path(name)) holds another configuration")
            }
        } catch let e as Failure {
            throw e
        } catch {
            unlink(path(name))
            throw .verification("\(path(name)): \(error)")
        }
        rotate()
        return name
    }

    func path(_ name: String) -> String { directory + "/" + name + Self.suffix }

    /// The restore points' names, oldest first.
    public func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(Self.suffix) }
            .map { String($0.dropLast(Self.suffix.count)) }
            .filter(Self.isName)
            .sorted()
    }

    /// Drops the oldest restore points beyond `keep`.
    func rotate() {
        let all = names()
        guard all.count > keep else { return }
        for name in all.prefix(all.count - keep) { unlink(path(name)) }
        Self.syncDirectory(directory)
    }

    /// Every restore point, newest first, each checked against its checksum.
    public func list() -> [BackupInfo] {
        names().reversed().map { name in
            let bytes = FileManager.default.contents(atPath: path(name)).map { Array($0) } ?? []
            var problem: String?
            var contents: BackupInfo.Contents?
            do throws(ExportDocument.DecodeError) {
                let c = try ExportDocument.decode(bytes).configuration
                contents = BackupInfo.Contents(logicalUnits: c.logicalUnits.count, hostGroups: c.hostGroups.count,
                                               targetGroups: c.targetGroups.count, viewEntries: c.viewEntries.count,
                                               targetPorts: c.targetPorts.count)
            } catch {
                problem = error.description
            }
            return BackupInfo(name: name, createdAt: Self.date(of: name)?.timeIntervalSince1970 ?? 0,
                              reason: String(name.dropFirst(21).prefix { $0 != "-" }), size: bytes.count,
                              sha256: ExportDocument.headerChecksum(bytes) ?? "", problem: problem, contents: contents)
        }
    }

    /// The document of a restore point; nil when there is none of that name.
    public func document(_ name: String) -> [UInt8]? {
        guard Self.isName(name) else { return nil }
        return FileManager.default.contents(atPath: path(name)).map { Array($0) }
    }

    /// The configuration of the newest restore point that reads back, if any.
    public func newestConfiguration() -> StoredConfiguration? {
        for name in names().reversed() {
            if let bytes = document(name), let body = try? ExportDocument.decode(bytes) { return body.configuration }
        }
        return nil
    }

    /// Creates `path` (0640 whatever the umask), writes `bytes` and syncs them.
    static func writeDurably(_ bytes: [UInt8], to path: String) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io("cannot create \(path): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o640)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                close(fd); unlink(path)
                throw .io("cannot write \(path): \(String(cString: strerror(e)))")
            }
            off += n
        }
        guard fsync(fd) == 0 else {
            let e = errno
            close(fd); unlink(path)
            throw .io("cannot sync \(path): \(String(cString: strerror(e)))")
        }
        close(fd)
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
