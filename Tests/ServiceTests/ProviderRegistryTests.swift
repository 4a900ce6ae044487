import Foundation
import Locking
import Logging
import ProcessTestSupport
import STMF
import STMFAPI
import STMFClient
@testable import STMFService
import Testing

/// An LU provider of the tests, `paint`: LUs that answer GOOD to everything, made from a
/// `canvas:` source; its own `colour` property is normalised to upper case and is the only one
/// modify-lu may change.
final class PaintProvider: LUProvider {
    let opened = Locked(0)
    var name: String { "paint" }
    var summary: String { "test LUs" }
    var maximumSize: UInt64 { 1 << 30 }
    var properties: [ProviderPropertyHelp] { [.init("colour", "any colour", operations: [.create, .modify]), .init("size", "bytes")] }

    func normalize(_ properties: [String: String], for operation: LUOperation) throws(LUProviderError) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in properties {
            switch (k, operation) {
            case ("colour", _): out[k] = v.uppercased()
            case ("size", .create): out[k] = String(LUPropertyName.parseSize(v) ?? 0)
            case ("guid", .create): out[k] = v
            case (_, .modify): throw LUProviderError(.conflict, code: "PAINT_DRY", "\(k): the paint is dry")
            default: throw LUProviderError(.invalidRequest, code: "NOT_PAINT", "\(k): not a paint property")
            }
        }
        return out
    }
    func resolve(source: String, properties: [String: String]) throws(LUProviderError) -> (source: String, properties: [String: String]) {
        guard source.hasPrefix("canvas:") else { throw LUProviderError(.invalidRequest, code: "NOT_CANVAS", "\(source): not a canvas") }
        return (source, properties)
    }
    func files(source: String, properties: [String: String]) -> [String] { [] }
    func create(source: String, properties: [String: String], overwrite: Bool) throws(LUProviderError) -> any ManagedLogicalUnit {
        let guid = properties["guid"].flatMap(LUGUID.init) ?? LUGUIDGenerator.shared.next(oui: LUGUID.defaultOUI)
        var p = properties
        p["guid"] = guid.description
        return PaintLU(guid: guid, properties: p)
    }
    func importLU(source: String, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        throw LUProviderError(.invalidData, code: "NOTHING_TO_IMPORT", "\(source): canvases keep nothing")
    }
    func open(guid: LUGUID, source: String, size: UInt64, properties: [String: String]) throws(LUProviderError) -> any ManagedLogicalUnit {
        opened.withLock { $0 += 1 }
        return PaintLU(guid: guid, properties: properties)
    }
}

final class PaintLU: ManagedLogicalUnit, LogicalUnit {
    let guid: LUGUID
    private let state: Locked<[String: String]>
    init(guid: LUGUID, properties: [String: String]) { self.guid = guid; state = Locked(properties) }

    var logicalUnit: any LogicalUnit { self }
    var alias: String { "" }
    var size: UInt64 { properties["size"].flatMap { UInt64($0) } ?? 0 }
    var properties: [String: String] { state.withLock { $0 } }
    var reservations: [UInt8]? { nil }
    func modify(_ properties: [String: String]) async throws(LUProviderError) {
        state.withLock { $0.merge(properties) { _, new in new } }
    }
    func shutdown() async {}
    func delete(eraseMetadata: Bool) {}
    func attach(_ services: any LUServices) {}
    func start(_ task: LUTask) -> TaskStart { .done(.good) }
    func abort(_ task: LUTask) {}
    func handle(_ event: LUEvent) {}
}

@Suite(.serialized) struct ProviderRegistryTests {
    func core(_ dir: String, paint: PaintProvider?) throws -> ServiceCore {
        let logger = Logger(label: "test")
        var providers = ProviderRegistry.stmfd(logger: logger, lio: LIOHost(logger: logger))
        if let paint { try providers.register(paint) }
        return ServiceCore(stmf: STMF(), store: try ConfigStore(path: dir + "/stmf.db"), logger: logger, providers: providers)
    }

    /// The service's refusal of `body`, nil when it succeeds.
    func refusal(_ body: () async throws -> Void) async -> ServiceError? {
        do { try await body(); return nil } catch let e as ServiceError { return e } catch {
            Issue.record("not a ServiceError: \(error)")
            return nil
        }
    }

    @Test func registryNamesAreCheckedAndUnique() throws {
        var r = ProviderRegistry()
        try r.register(PaintProvider())
        #expect(throws: ProviderRegistry.RegistrationError.duplicate("paint")) { try r.register(PaintProvider()) }
        #expect(r.logicalUnitProviderNames == ["paint"] && r.portProviderNames.isEmpty)
        let stmfd = ProviderRegistry.stmfd(logger: Logger(label: "test"), lio: LIOHost(logger: Logger(label: "test")))
        #expect(stmfd.logicalUnitProviderNames == ["sbd", "sg"])
        #expect(stmfd.portProviderNames == ["fcemu", "qla2xxx", "tcm-loop"])
    }

    @Test func requestsGoToTheProviderTheyNameAndStoredLUsComeBackThroughIt() async throws {
        let dir = try scratchDirectory(); defer { try? FileManager.default.removeItem(atPath: dir) }
        let paint = PaintProvider()
        let a = try core(dir, paint: paint)
        try await a.load()
        let red = try await a.createLU(CreateLURequest(provider: "paint", file: "canvas:1", properties: ["colour": "red", "size": "1m"]))
        #expect(red.provider == "paint" && red.providerName == "paint")
        #expect(red.properties == ["colour": "RED", "size": "1048576", "guid": red.guid])
        #expect(red.size == 1 << 20 && red.operationalStatus == "Online" && red.dataFile == "canvas:1")
        let disk = try await a.createLU(CreateLURequest(file: "ram:d", properties: ["size": "1m"]))
        #expect(disk.provider == "sbd" && disk.properties["vid"] == "STMF")

        // Names no provider has, for create and import: 400 UNKNOWN_PROVIDER, naming those there are.
        for e in [await refusal { _ = try await a.createLU(CreateLURequest(provider: "lio", file: "x")) },
                  await refusal { _ = try await a.importLU(ImportLURequest(provider: "pscsi", file: "/dev/sg0")) }] {
            #expect(e?.httpStatus == 400 && e?.api.code == "UNKNOWN_PROVIDER" && e?.api.message.contains("paint, sbd, sg") == true)
        }

        // The provider's refusals with its codes, at the status of their kind.
        let notCanvas = await refusal { _ = try await a.createLU(CreateLURequest(provider: "paint", file: "ram:x")) }
        #expect(notCanvas?.httpStatus == 400 && notCanvas?.api.code == "NOT_CANVAS")
        let dry = await refusal { _ = try await a.modifyLU(red.guid, ModifyLURequest(properties: ["size": "2m"])) }
        #expect(dry?.httpStatus == 409 && dry?.api == APIError(code: "PAINT_DRY", message: "size: the paint is dry"))
        let nothing = await refusal { _ = try await a.importLU(ImportLURequest(provider: "paint", file: "canvas:2")) }
        #expect(nothing?.httpStatus == 422 && nothing?.api.code == "NOTHING_TO_IMPORT")
        // modify-lu goes to the LU's provider; naming another is refused.
        let blue = try await a.modifyLU(red.guid, ModifyLURequest(properties: ["colour": "blue"]))
        #expect(blue.properties["colour"] == "BLUE")
        let mismatch = await refusal { _ = try await a.modifyLU(red.guid, ModifyLURequest(provider: "sbd", properties: ["colour": "green"])) }
        #expect(mismatch?.httpStatus == 400 && mismatch?.api.code == "PROVIDER_MISMATCH")
        let export = try await a.export()
        await a.shutdown()

        // A restart reopens the LU through its provider, with what was stored.
        let b = try core(dir, paint: paint)
        try await b.load()
        #expect(paint.opened.withLock { $0 } == 1)
        let back = try await b.getLU(red.guid)
        #expect(back.provider == "paint" && back.properties["colour"] == "BLUE" && back.operationalStatus == "Online")
        await b.shutdown()

        // Without the provider, its LU stays offline and says why; the others come up.
        let c = try core(dir, paint: nil)
        try await c.load()
        let orphan = try await c.getLU(red.guid)
        #expect(orphan.operationalStatus == "Offline" && orphan.reason == "no logical unit provider named paint is registered")
        #expect(orphan.properties["colour"] == "BLUE")
        #expect(try await c.getLU(disk.guid).operationalStatus == "Online")
        // Nor does a configuration naming it import.
        let refused = await refusal { try await c.importConfiguration(export, replace: true) }
        #expect(refused?.httpStatus == 422 && refused?.api.code == "IMPORT_INVALID")
        #expect(refused?.api.message.contains("paint: unknown provider") == true)
        await c.shutdown()
    }

    /// The API: dispatch by name, the registry listed, and the first API's request shapes still read.
    @Test func theAPIDispatchesByProviderAndListsThem() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        try d.start()
        let http = UnixHTTPClient(socketPath: d.socketPath)
        func send(_ method: String, _ path: String, _ json: String) throws -> (Int, String) {
            let r = try http.send(method: method, path: path, body: Array(json.utf8))
            return (r.status, String(decoding: r.body, as: UTF8.self))
        }
        let (unknown, why) = try send("POST", "/v1/lus", #"{"provider":"lio","file":"ram:x","properties":{"size":"1m"}}"#)
        #expect(unknown == 400 && why.contains("\"code\":\"UNKNOWN_PROVIDER\""))
        #expect(try send("POST", "/v1/lus/import", #"{"provider":"pscsi","file":"/dev/sg0"}"#).0 == 400)

        let list = try http.send(method: "GET", path: "/v1/providers", body: nil)
        let providers = try JSONDecoder().decode([ProviderInfo].self, from: Data(list.body))
        #expect(providers.map { "\($0.kind) \($0.name)" } == ["logical-unit sbd", "logical-unit sg", "port fcemu", "port qla2xxx", "port tcm-loop"])
        #expect(Set(providers[0].properties.map(\.name)) == ["alias", "blk", "guid", "host-id", "meta", "mgmt-url", "oui", "pid", "rev", "serial",
                                                               "size", "vid", "wcd", "wp"])
        #expect(providers[0].properties.first { $0.name == "wcd" }?.operations == ["create", "modify"])

        // The first API's shapes: typed properties, modify fields of its own.
        let (created, body) = try send("POST", "/v1/lus", #"{"file":"ram:old","properties":{"size":1048576,"wcd":true}}"#)
        #expect(created == 201, "\(body)")
        let lu = try JSONDecoder().decode(LUInfo.self, from: Data(body.utf8))
        #expect(lu.size == 1 << 20 && !lu.writebackCache && lu.properties["wcd"] == "true")
        let (modified, after) = try send("PATCH", "/v1/lus/\(lu.guid)", #"{"size":2097152,"alias":"old-api","writeProtect":true}"#)
        #expect(modified == 200, "\(after)")
        let changed = try JSONDecoder().decode(LUInfo.self, from: Data(after.utf8))
        #expect(changed.size == 2 << 20 && changed.alias == "old-api" && changed.writeProtect)
        // Refusals keep their codes.
        let (bad, badBody) = try send("POST", "/v1/lus", #"{"file":"ram:y","properties":{"blk":"1000","size":"1m"}}"#)
        #expect(bad == 400 && badBody.contains("\"code\":\"INVALID_PROPERTY\"") && badBody.contains("power of two"))
        let (fixed, fixedBody) = try send("PATCH", "/v1/lus/\(lu.guid)", #"{"properties":{"blk":"4096"}}"#)
        #expect(fixed == 400 && fixedBody.contains("property cannot be modified"))
    }
}
