import Foundation
import ProcessTestSupport
import Testing

/// stmfd runs as root, so a request from a peer that is not root may only name backing files
/// that peer could open read-write itself (SO_PEERCRED of the API socket): stmfd is never a way
/// around file permissions. Needs root, to run the CLI as `nobody` with setpriv.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root to run the CLI as another user"))
struct PeerAccessTests {
    @Test func anUnprivilegedPeerNamesOnlyFilesItCouldOpenItself() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let data = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: data) }
        try d.start()
        // Delegation as an administrative group would give it: the socket reachable by others.
        chmod(d.stateDir, 0o755)
        chmod(d.socketPath, 0o666)
        let fm = FileManager.default
        try fm.createDirectory(atPath: data + "/private", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.createDirectory(atPath: data + "/shared", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        chmod(data, 0o755)
        _ = fm.createFile(atPath: data + "/shared/roots.img", contents: nil, attributes: [.posixPermissions: 0o644])
        let stmfadm = productsDirectory.appendingPathComponent("stmfadm").path
        func asNobody(_ args: [String]) throws -> ProcessResult {
            try runTool("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", stmfadm,
                                             args[0], "--state-dir", d.stateDir] + args.dropFirst())
        }
        // Refused: a directory it cannot search, a file it cannot write.
        let hidden = try asNobody(["create-lu", "-s", "1m", data + "/private/x.img"])
        #expect(hidden.status == 1 && hidden.err.contains("permission denied") && hidden.err.contains("cannot search"), "\(hidden.err)")
        #expect(!fm.fileExists(atPath: data + "/private/x.img"))
        let readOnly = try asNobody(["create-lu", "-s", "1m", data + "/shared/roots.img"])
        #expect(readOnly.status == 1 && readOnly.err.contains("cannot open it for reading and writing"), "\(readOnly.err)")
        #expect((try fm.attributesOfItem(atPath: data + "/shared/roots.img")[.size] as? Int) == 0, "the file was written")
        // An LU root made in its private directory cannot be imported by the peer either.
        let out = try d.ok(["create-lu", "-s", "1m", data + "/private/root.img"])
        try d.ok(["delete-lu", String(out.dropFirst(22).prefix(32))])
        let imported = try asNobody(["import-lu", data + "/private/root.img"])
        #expect(imported.status == 1 && imported.err.contains("permission denied"), "\(imported.err)")
        // Allowed: a new file in a directory it may write to.
        let made = try asNobody(["create-lu", "-s", "1m", data + "/shared/mine.img"])
        #expect(made.status == 0, "\(made.err)")
        // POSIX ACLs count as the kernel applies them: a file that only an ACL opens to the peer
        // is allowed, and one whose ACL shuts the peer out is refused though its mode bits let
        // everyone in (a check of mode bits alone would get both wrong).
        _ = fm.createFile(atPath: data + "/shared/acl-open.img", contents: nil, attributes: [.posixPermissions: 0o600])
        _ = fm.createFile(atPath: data + "/shared/acl-shut.img", contents: nil, attributes: [.posixPermissions: 0o666])
        let opened = try runTool("/usr/bin/setfacl", ["-m", "u:65534:rw", data + "/shared/acl-open.img"])
        let shut = try runTool("/usr/bin/setfacl", ["-m", "u:65534:-", data + "/shared/acl-shut.img"])
        #expect(opened.status == 0 && shut.status == 0, "setfacl (package acl): \(opened.err) \(shut.err)")
        let viaACL = try asNobody(["create-lu", "-s", "1m", data + "/shared/acl-open.img"])
        #expect(viaACL.status == 0, "\(viaACL.err)")
        let shutOut = try asNobody(["create-lu", "-s", "1m", data + "/shared/acl-shut.img"])
        #expect(shutOut.status == 1 && shutOut.err.contains("cannot open it for reading and writing"), "\(shutOut.err)")
        #expect((try fm.attributesOfItem(atPath: data + "/shared/acl-shut.img")[.size] as? Int) == 0, "the file was written")
        // Root is not limited.
        try d.ok(["create-lu", "-s", "1m", data + "/private/x.img"])
        // Nor may the peer import a configuration naming files it could not open (403, not 422).
        try d.ok(["export", data + "/shared/config.export"])
        chmod(data + "/shared/config.export", 0o644)
        let replaced = try asNobody(["import", "--replace", data + "/shared/config.export"])
        #expect(replaced.status == 1 && replaced.err.contains("permission denied") && !replaced.err.contains("inconsistent"),
                "\(replaced.err)")
        #expect(try d.ok(["list-lu"]).contains("x.img") || (try d.ok(["list-lu", "-v"])).contains("x.img"))
    }
}
