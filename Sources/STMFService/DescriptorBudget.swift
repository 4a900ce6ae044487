#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// stmfd's open-file budget: every file or block LU holds descriptors for as long as it is
/// loaded, and sessions, the API and the store need some too. LU creation and import are
/// refused, with the figures and the remedy, while fewer than `reserve` descriptors would be
/// left, instead of failing deep inside with "Too many open files".
enum DescriptorBudget {
    /// Descriptors kept free for the API, sessions, the store and the metadata an LU opens.
    static let reserve = 64

    /// The soft RLIMIT_NOFILE (after stmfd raised it to the hard limit at start).
    static var limit: Int {
        var l = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &l) == 0 else { return Int.max }
        return l.rlim_cur == rlim_t.max ? Int.max : Int(clamping: l.rlim_cur)
    }

    /// Descriptors open now (entries of /proc/self/fd, less the one that lists them).
    static var inUse: Int {
        guard let d = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(d) }
        var n = 0
        while let e = readdir(d) {
            let first = withUnsafeBytes(of: e.pointee.d_name) { $0.first ?? 0 }
            if first != UInt8(ascii: ".") { n += 1 }
        }
        return max(0, n - 1)
    }

    /// Nil when another LU fits; else why not, in words an administrator can act on.
    static func refusal() -> String? {
        let limit = self.limit, used = inUse
        guard limit != Int.max, used + reserve >= limit else { return nil }
        return "stmfd has \(used) of its \(limit) open files in use (each file LU holds one, and \(reserve) are kept for "
            + "sessions and the API): raise LimitNOFILE in stmfd.service (or ulimit -Hn) and restart stmfd"
    }
}
