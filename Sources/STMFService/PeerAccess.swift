#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import Hummingbird
import NIOCore

/// Who is on the other end of an API connection: SO_PEERCRED of the Unix socket.
public struct PeerCredentials: Sendable, Equatable {
    public var uid: uid_t
    public var gid: gid_t
    public var pid: pid_t

    /// Root, or the user stmfd runs as: no file checks on its behalf.
    var isPrivileged: Bool { uid == 0 || uid == geteuid() }

    /// `struct ucred` of <sys/socket.h> (only declared there under _GNU_SOURCE): pid, uid, gid.
    struct UCred: Sendable { var pid: Int32 = 0; var uid: UInt32 = 0; var gid: UInt32 = 0 }

    /// The peer of `channel`, nil when the channel cannot tell (not a Unix socket).
    static func of(_ channel: any Channel) async -> PeerCredentials? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<UCred> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                           name: SocketOptionName(SO_PEERCRED))
        guard let c = try? await future.get() else { return nil }
        return PeerCredentials(uid: c.uid, gid: c.gid, pid: c.pid)
    }
}

/// The request context of stmfd's routes: Hummingbird's, plus the connection, so a route
/// can ask who sent the request.
public struct STMFRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's credentials (nil when they cannot be read: treated as unprivileged).
    func peer() async -> PeerCredentials? { await PeerCredentials.of(channel) }
}

/// Whether a user could open a backing path read-write itself: stmfd, running as root, must
/// never be a way around file permissions for a peer that is not (the socket's group, when
/// delegation is configured). The kernel decides, as that user (`stmf_access_as`: the thread
/// takes the user's filesystem credentials for one faccessat2), so mode bits, POSIX ACLs,
/// search permission on the way and read-only mounts all count; for a file that does not exist
/// yet, write and search permission on its directory. Where stmfd cannot take another user's
/// credentials (it does not run as root) the mode bits are checked by hand instead.
enum PeerAccess {
    /// Nil when `peer` may use `path` (already resolved: absolute, symlinks followed) read-write; else why not.
    static func refusal(for path: String, peer: PeerCredentials?) -> String? {
        if let peer, peer.isPrivileged { return nil }
        guard let peer else { return "\(path): the requester's credentials cannot be read, so only root may name backing files" }
        let groups = Array(supplementaryGroups(peer))
        func access(_ p: String, _ mode: Int32) -> Int32 {
            groups.withUnsafeBufferPointer { stmf_access_as(peer.uid, peer.gid, $0.baseAddress, Int32($0.count), p, mode) }
        }
        let parent = parentDirectory(path)
        var r = access(path, R_OK | W_OK)
        var want = "open it for reading and writing"
        if r == -ENOENT {
            r = access(parent, W_OK | X_OK)
            want = "create files in \(parent)"
            if r == -ENOENT { return nil }  // nothing to create it in: the operation itself says so
        }
        switch r {
        case 0: return nil
        case 1: return modeBitRefusal(for: path, peer: peer, groups: Set(groups))
        case -EACCES, -EPERM:
            // Name the directory on the way that stops the user, if one does.
            var dir = ""
            for c in parent.split(separator: "/") {
                dir += "/" + c
                if access(dir, X_OK) == -EACCES { return "\(path): permission denied: user \(peer.uid) cannot search \(dir)" }
            }
            return "\(path): permission denied: user \(peer.uid) cannot \(want)"
        default:
            return "\(path): user \(peer.uid) cannot \(want): \(String(cString: strerror(-r)))"
        }
    }

    /// The directory holding `path` ("/" for a top-level name).
    static func parentDirectory(_ path: String) -> String {
        let components = path.split(separator: "/")
        return components.count <= 1 ? "/" : "/" + components.dropLast().joined(separator: "/")
    }

    /// The check by hand, where the kernel cannot be asked as the user: mode bits with the
    /// user's primary and supplementary groups (POSIX ACLs and mount options not seen).
    static func modeBitRefusal(for path: String, peer: PeerCredentials, groups: Set<gid_t>) -> String? {
        func allows(_ st: stat, _ want: mode_t) -> Bool {
            let shift: mode_t = st.st_uid == peer.uid ? 6 : (st.st_gid == peer.gid || groups.contains(st.st_gid)) ? 3 : 0
            return (st.st_mode >> shift) & want == want
        }
        var st = stat()
        let exists = stat(path, &st) == 0
        let components = path.split(separator: "/").map(String.init)
        var dir = ""
        for c in components.dropLast() {
            dir += "/" + c
            var d = stat()
            guard stat(dir, &d) == 0 else { break }
            if !allows(d, 0o1) { return "\(path): permission denied: user \(peer.uid) cannot search \(dir)" }
        }
        if exists {
            if !allows(st, 0o6) { return "\(path): permission denied: user \(peer.uid) cannot open it for reading and writing" }
        } else {
            let parent = dir.isEmpty ? "/" : dir
            var d = stat()
            if stat(parent, &d) == 0, !allows(d, 0o3) {
                return "\(path): permission denied: user \(peer.uid) cannot create files in \(parent)"
            }
        }
        return nil
    }

    /// The user's supplementary groups (getgrouplist), with the primary one.
    static func supplementaryGroups(_ peer: PeerCredentials) -> Set<gid_t> {
        var pwd = passwd(), result: UnsafeMutablePointer<passwd>?
        var buf = [CChar](repeating: 0, count: 16384)
        guard getpwuid_r(peer.uid, &pwd, &buf, buf.count, &result) == 0, result != nil, let name = pwd.pw_name else {
            return [peer.gid]
        }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, peer.gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, peer.gid, &groups, &count)
        }
        return Set(groups.prefix(Int(max(0, count)))).union([peer.gid])
    }
}
