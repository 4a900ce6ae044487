#if canImport(Glibc)
import Glibc
#endif
import STMF

/// The checks create-lu makes on a backing path before it writes a byte: no control
/// characters, symlinks resolved (the LU records where its blocks really are), nothing under
/// /proc or /sys, and only a regular file or a block device at the end.
public enum BackingPath {
    /// Trees whose files are kernel interfaces, never storage.
    static let forbiddenTrees = ["/proc", "/sys"]

    /// Refuses control characters (NUL included) in a path or a name.
    public static func checkText(_ text: String, what: String) throws(SBDError) {
        if let c = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidPath(path: text.debugDescription,
                               reason: "the \(what) contains the control character U+\(hex4(c.value))")
        }
    }

    private static func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - s.count)) + s
    }

    /// `path` with every symlink resolved; for a file that does not exist yet, its directory
    /// resolved and the name appended. The result is absolute and canonical.
    public static func resolve(_ path: String) throws(SBDError) -> (path: String, exists: Bool) {
        try checkText(path, what: "path")
        guard path.hasPrefix("/") else { throw .invalidPath(path: path, reason: "the path must be absolute") }
        if let r = realpath(path, nil) {
            defer { free(r) }
            let resolved = String(cString: r)
            try checkTree(resolved, given: path)
            return (resolved, true)
        }
        let e = errno
        guard e == ENOENT else { throw .io(operation: "resolve", path: path, errno: e) }
        var st = stat()
        if lstat(path, &st) == 0 { throw .invalidPath(path: path, reason: "it is a symbolic link to nothing") }
        let slash = path.lastIndex(of: "/")!
        let dir = slash == path.startIndex ? "/" : String(path[..<slash])
        let name = String(path[path.index(after: slash)...])
        guard !name.isEmpty, name != ".", name != ".." else { throw .invalidPath(path: path, reason: "it names no file") }
        guard let d = realpath(dir, nil) else { throw .io(operation: "resolve", path: dir, errno: errno) }
        defer { free(d) }
        let parent = String(cString: d)
        let resolved = (parent == "/" ? "" : parent) + "/" + name
        try checkTree(resolved, given: path)
        return (resolved, false)
    }

    private static func checkTree(_ resolved: String, given: String) throws(SBDError) {
        for t in forbiddenTrees where resolved == t || resolved.hasPrefix(t + "/") {
            throw .invalidPath(path: given, reason: resolved == given ? "\(t) holds kernel interfaces, not storage"
                                                                       : "it resolves to \(resolved), under \(t) (kernel interfaces, not storage)")
        }
    }

    /// What kind of file `st` describes, for refusals.
    static func describe(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        default: "neither a regular file nor a block device"
        }
    }

    /// Opens the resolved path for a new LU: an existing regular file or block device, or a new
    /// file created exclusively (never through a symlink).
    static func open(_ resolved: (path: String, exists: Bool)) throws(SBDError) -> (Int32, stat, created: Bool) {
        var created = false
        var fd: Int32 = -1
        if !resolved.exists {
            fd = Glibc.open(resolved.path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd >= 0 { created = true } else if errno != EEXIST { throw .io(operation: "create", path: resolved.path, errno: errno) }
        }
        if fd < 0 {
            fd = Glibc.open(resolved.path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
            if fd < 0 {
                let e = errno
                if e == EISDIR { throw .invalidPath(path: resolved.path, reason: "it is a directory") }
                throw .io(operation: "open", path: resolved.path, errno: e)
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        }
        var st = stat()
        if fstat(fd, &st) != 0 { let e = errno; close(fd); throw .io(operation: "fstat", path: resolved.path, errno: e) }
        let type = st.st_mode & S_IFMT
        if type != S_IFREG && type != S_IFBLK {
            close(fd)
            throw .invalidPath(path: resolved.path, reason: "it is \(describe(st)); a logical unit needs a regular file or a block device")
        }
        return (fd, st, created)
    }

    /// What the first `length` bytes of `fd` hold: nothing (zeroes or a short/empty file),
    /// SBD metadata, or other data (the offset of its first non-zero byte).
    enum Contents { case empty, sbdMetadata, data(offset: UInt64) }

    static func contents(fd: Int32, path: String, length: Int) throws(SBDError) -> Contents {
        var buf = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(done)) }
            if n < 0 { if errno == EINTR { continue }; throw .io(operation: "read", path: path, errno: errno) }
            if n == 0 { break }
            done += n
        }
        guard let first = buf[0..<done].firstIndex(where: { $0 != 0 }) else { return .empty }
        if done >= SBDMetadataLayout.areaSize, (try? SBDMetadataLayout.decodeArea(buf)) != nil { return .sbdMetadata }
        return .data(offset: UInt64(first))
    }
}
