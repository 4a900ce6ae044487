import FCFabric
import FCLink
import FCPort
import Foundation
import STMF
import Testing

/// A fabric server on a temporary socket, in this process (real sockets, real threads).
final class TestFabric: @unchecked Sendable {
    let dir: String
    let socket: String
    let fabric: Fabric
    let server: FabricServer

    init(zones: ZoneSet = .allAccess, pcap: Bool = false,
         configure: (inout Fabric.Configuration) -> Void = { _ in }) throws {
        dir = NSTemporaryDirectory() + "fab-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        socket = dir + "/fabric.sock"
        var config = Fabric.Configuration(zones: zones, pcapPath: pcap ? dir + "/capture.pcap" : nil)
        config.errorDetectTimeout = 500
        config.resourceAllocationTimeout = 1000
        configure(&config)
        fabric = try Fabric(configuration: config)
        server = FabricServer(fabric: fabric, socketPath: socket)
        try server.start()
    }

    func nport(_ wwpn: UInt64, features: FC4Features, handlers: NPort.Handlers = .init()) -> NPort {
        NPort(configuration: .init(portName: WWN(wwpn), nodeName: WWN(wwpn ^ 0x0100_0000_0000_0000), features: features,
                                   symbolicName: "test \(String(wwpn, radix: 16))", fabricPath: socket),
              handlers: handlers)
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite("N_Port on the emulated fabric")
struct NPortFabricTests {
    @Test func loginRegisterAndQuery() async throws {
        let fab = try TestFabric()
        let t = fab.nport(0x2100_0000_0000_0001, features: .target)
        let i = fab.nport(0x2100_0000_0000_0002, features: .initiator)
        t.start(); i.start()
        let tid = try await t.waitOnline()
        let iid = try await i.waitOnline()
        #expect(tid != iid)
        guard case .portIDs(let ids) = try await i.nameServer(.gidFT(type: 8)) else { Issue.record("GID_FT"); return }
        #expect(Set(ids) == [tid.rawValue, iid.rawValue])
        guard case .portName(let w) = try await i.nameServer(.gpnID(portID: tid.rawValue)) else { Issue.record("GPN_ID"); return }
        #expect(w == WWN(0x2100_0000_0000_0001))
        guard case .features(let f) = try await i.nameServer(.gffID(portID: tid.rawValue)) else { Issue.record("GFF_ID"); return }
        #expect(f[8] == .target)
        await t.stop(); await i.stop()
    }
}
