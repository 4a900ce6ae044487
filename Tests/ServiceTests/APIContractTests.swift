import Foundation
import Logging
import ProcessTestSupport
import STMF
import Testing
@testable import STMFService

/// docs/openapi.yaml and the server cannot disagree (issue 16): the routes are the documented
/// ones, a documented path under another method is 405 with the documented methods in `Allow`,
/// and schemathesis holds a running stmfd to the document (scripts/api-contract.py).
@Suite(.serialized) struct APIContractTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let document = root.appendingPathComponent("docs/openapi.yaml").path
    /// The virtualenv scripts/install-deps.sh puts schemathesis in.
    static let venvPython = root.appendingPathComponent(".build-venv/bin/python").path
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]

    /// The document's operations as "METHOD /path" and its paths' methods, read line by line:
    /// a path is a key at two spaces of indentation under `paths:`, its operations keys at four.
    static func documented() throws -> (operations: Set<String>, byPath: [String: Set<String>]) {
        let text = try String(contentsOfFile: document, encoding: .utf8)
        var byPath: [String: Set<String>] = [:]
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty { inPaths = line == "paths:"; path = nil; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
                byPath[path!] = []
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path,
                      let key = line.dropFirst(4).split(separator: ":").first, methods.contains(String(key)) {
                byPath[path]!.insert(key.uppercased())
            }
        }
        let operations = Set(byPath.flatMap { path, methods in methods.map { "\($0) \(path)" } })
        return (operations, byPath)
    }

    @Test func theRoutesAreTheDocumentedOperations() throws {
        let dir = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let logger = Logger(label: "test")
        let core = ServiceCore(stmf: STMF(), store: try ConfigStore(path: dir + "/stmf.db"), logger: logger,
                               providers: ProviderRegistry.stmfd(logger: logger, lio: LIOHost(logger: logger)))
        let served = Set(APIRoutes.router(core: core, metrics: MetricsRegistry()).routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let documented = try Self.documented().operations
        #expect(served.count > 30, "\(served)")
        #expect(served.subtracting(documented).sorted() == [], "served but not in docs/openapi.yaml")
        #expect(documented.subtracting(served).sorted() == [], "in docs/openapi.yaml but not served")
    }

    /// Status, `Allow` and body of one request (curl, as a client other than our CLI).
    static func call(_ socket: String, _ method: String, _ path: String) throws -> (status: Int, allow: String?, body: String) {
        let r = try runTool("/usr/bin/curl", ["-s", "-i", "--unix-socket", socket, "-X", method, "http://stmfd" + path])
        let parts = r.out.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let lines = head.components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let allow = lines.first { $0.lowercased().hasPrefix("allow:") }.map { String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces) }
        return (status, allow, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    @Test func anotherMethodOnADocumentedPathIs405WithTheDocumentedMethods() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let values = ["{guid}": "600144F0000000000000000000000001", "{name}": "contract", "{wwn}": "2100001b32c0d016"]
        for (pattern, documented) in try Self.documented().byPath.sorted(by: { $0.key < $1.key }) {
            let path = values.reduce(pattern) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            let other = ["PUT", "PATCH", "DELETE", "POST", "GET"].first { !documented.contains($0) }!
            let r = try Self.call(d.socketPath, other, path)
            #expect(r.status == 405, "\(other) \(path): \(r.status) \(r.body)")
            #expect(r.allow.map { Set($0.components(separatedBy: ", ")) } == documented, "\(other) \(path): Allow \(r.allow ?? "absent")")
            #expect(r.body.contains("\"code\":\"METHOD_NOT_ALLOWED\""), "\(r.body)")
        }
        // A path the API does not have at all is a 404 with the API's error body.
        let r = try Self.call(d.socketPath, "GET", "/v1/no-such-thing")
        #expect(r.status == 404 && r.allow == nil && r.body.contains("\"code\":\"NOT_FOUND\""), "\(r)")
    }

    /// schemathesis on every operation of the document against a real stmfd with an emulated
    /// fabric (scripts/api-contract.py). Where scripts/install-deps.sh has not made the
    /// virtualenv the test is skipped, except in CI (CI=true), where that is a failure.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: venvPython) || inCI,
                   "schemathesis is not installed: run scripts/install-deps.sh"),
          .timeLimit(.minutes(10)))
    func theRunningServiceKeepsToTheDocument() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.venvPython),
                     "\(Self.venvPython) is missing: scripts/install-deps.sh makes it (CI must run the contract test)")
        let d = try DaemonHarness(); defer { d.cleanup() }
        let fabricSocket = d.stateDir + ".fabric.sock"
        let fabric = try MetricsExpositionTests.startFabric(fabricSocket)
        defer { fabric.terminate(); fabric.waitUntilExit(); unlink(fabricSocket) }
        try d.start()
        let scratch = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: scratch) }
        let examples = ProcessInfo.processInfo.environment["STMF_CONTRACT_EXAMPLES"] ?? "20"
        let r = try runTool(Self.venvPython, [Self.root.appendingPathComponent("scripts/api-contract.py").path,
                                              "--socket", d.socketPath, "--scratch", scratch, "--fabric", fabricSocket,
                                              "--max-examples", examples])
        #expect(r.status == 0, "schemathesis found the service and docs/openapi.yaml disagree:\n\(r.out)\n\(r.err)")
        // Nothing a generated request named left the scratch directory, and stmfd is still up.
        #expect(try d.stmfadm(["list-state"]).status == 0)
    }
}
