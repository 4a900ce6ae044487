#if canImport(Glibc)
import Glibc
#endif

/// The LIO configuration tree (`/sys/kernel/config/target`): directories made and removed,
/// attribute files written and read back, LUN symlinks. Every call says which path failed and
/// how; nothing here decides what to build (that is `LIOPlan`'s and the binding's).
///
/// Configfs is not an ordinary filesystem: a `mkdir` runs the kernel's constructor (a target,
/// a TPG, a device), a `symlink` exports a LUN (for tcm_loop it probes the SCSI device before
/// it returns, so the device's handler must already serve its ring), a write to `enable` may
/// reset an HBA. Callers run these on a thread that serves no ring.
public struct ConfigFS: Sendable {
    public let root: String

    public static let defaultRoot = "/sys/kernel/config/target"

    public init(root: String = ConfigFS.defaultRoot) { self.root = root }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let operation: String
        public let path: String
        public let errno: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
    }

    public func path(_ relative: String) -> String { relative.hasPrefix("/") ? relative : root + "/" + relative }

    public func exists(_ relative: String) -> Bool {
        var st = stat()
        return lstat(path(relative), &st) == 0
    }

    public func isDirectory(_ relative: String) -> Bool {
        var st = stat()
        return stat(path(relative), &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Makes `relative` and any missing parents (`mkdir -p`).
    public func makeDirectory(_ relative: String) throws(Failure) {
        let full = path(relative)
        var at = ""
        for part in full.split(separator: "/", omittingEmptySubsequences: true) {
            at += "/" + part
            if mkdir(at, 0o755) != 0 && errno != EEXIST { throw Failure(operation: "mkdir", path: at, errno: errno) }
        }
    }

    /// Removes the directory `relative`; absent already is not a failure.
    public func removeDirectory(_ relative: String) throws(Failure) {
        if rmdir(path(relative)) != 0 && errno != ENOENT { throw Failure(operation: "rmdir", path: path(relative), errno: errno) }
    }

    /// Writes `value` to an attribute in one write, as `echo -n value > file` does.
    public func write(_ relative: String, _ value: String) throws(Failure) {
        let full = path(relative)
        let fd = open(full, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: full, errno: errno) }
        defer { close(fd) }
        let n = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        if n < 0 { throw Failure(operation: "write \(value.debugDescription) to", path: full, errno: errno) }
    }

    /// An attribute's text, without trailing newlines and NULs; nil when it cannot be read.
    public func read(_ relative: String) -> String? {
        let fd = open(path(relative), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        while let last = out.last, last == 0x0A || last == 0 { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// The entries of a directory (no `.`/`..`), sorted; empty when it cannot be read.
    public func list(_ relative: String) -> [String] {
        guard let d = opendir(path(relative)) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in
                p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func symlink(_ target: String, at relative: String) throws(Failure) {
        if Glibc.symlink(path(target), path(relative)) != 0 {
            throw Failure(operation: "symlink \(path(target)) at", path: path(relative), errno: errno)
        }
    }

    public func unlink(_ relative: String) throws(Failure) {
        if Glibc.unlink(path(relative)) != 0 && errno != ENOENT { throw Failure(operation: "unlink", path: path(relative), errno: errno) }
    }

    /// Where a symlink points (its last path component is the device name), nil if not a link.
    public func linkTarget(_ relative: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path(relative), &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
