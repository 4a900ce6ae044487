import Foundation
import LinuxTarget
import Locking
import Logging
import STMF
import STMFAPI

/// The kernel data path in stmfd: LIO targets (tcm_loop now; tcm_qla2xxx on bound HBA ports)
/// whose LUs are served through TCMU by this STMF. The binding is made on first use, so a
/// machine without LIO never loads it, and an error says what is missing.
public final class LIOHost: Sendable {
    // (made by ServiceCore; providers reach it through LoopPortProvider)
    let logger: Logger
    private let state = Locked<LIOBinding?>(nil)
    /// LU geometry as the service last saw it (the binding sizes TCMU devices from it).
    private let geometry = Locked<[LUGUID: (UInt64, Int)]>([:])
    let configfs: ConfigFS

    public init(logger: Logger) {
        self.logger = logger
        configfs = ConfigFS(root: ProcessInfo.processInfo.environment["STMF_CONFIGFS"] ?? ConfigFS.defaultRoot)
    }

    /// The binding, made (and started) on first use; nil with the reason when LIO is not there.
    func binding(_ stmf: STMF) -> Result<LIOBinding, LIOUnavailable> {
        if let b = state.withLock({ $0 }) { return .success(b) }
        if let why = LIOBinding.kernelProblem(configfs) { return .failure(LIOUnavailable(reason: why)) }
        var options = LIOBinding.Options()
        options.configfs = configfs
        if let hba = ProcessInfo.processInfo.environment["STMF_TCMU_HBA"].flatMap(Int.init) { options.hba = hba }
        let logger = self.logger
        let (b, made) = state.withLock { s -> (LIOBinding, Bool) in
            if let b = s { return (b, false) }
            let b = LIOBinding(stmf: stmf, options: options) { logger.notice("\($0)") }
            s = b
            return (b, true)
        }
        if made {
            for (guid, g) in geometry.withLock({ $0 }) { b.setGeometry(guid, size: g.0, blockSize: g.1) }
            b.start()
        }
        return .success(b)
    }

    var current: LIOBinding? { state.withLock { $0 } }

    /// After the stored ports started: the binding (made now if an earlier run left devices)
    /// removes what no view calls for any more.
    func finishStartup(_ stmf: STMF) {
        let hba = ProcessInfo.processInfo.environment["STMF_TCMU_HBA"].flatMap(Int.init) ?? LIOBinding.Options().hba
        if current == nil && !LIOBinding.hasDevices(configfs, hba: hba) { return }
        if case let .success(b) = binding(stmf) { b.finishStartup() }
    }

    func setGeometry(_ guid: LUGUID, size: UInt64, blockSize: Int) {
        geometry.withLock { $0[guid] = (size, blockSize) }
        current?.setGeometry(guid, size: size, blockSize: blockSize)
    }

    func removeGeometry(_ guid: LUGUID) {
        geometry.withLock { $0[guid] = nil }
        current?.removeGeometry(guid)
    }
}

struct LIOUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { "the kernel's SCSI target (LIO) is not available: \(reason)" }
}

/// `tcm-loop`: a LIO loopback target (tcm_loop) emulating FCP, with one initiator (its nexus), served by
/// stmfd through TCMU: the kernel path without an HBA (`fcadm create-loop-port`).
struct LoopPortProvider: PortProviderFactory {
    let host: LIOHost
    var name: String { ServiceCore.loopProvider }
    var summary: String { "LIO tcm_loop targets (FCP) whose LUs stmfd serves through TCMU" }
    var properties: [ProviderPropertyHelp] { [.init("initiator", "the initiator port WWN of the loopback nexus")] }

    func start(_ port: StoredTargetPort, stmf: STMF) throws -> (any PortProvider)? {
        guard case let .wwn(wwpn) = port.name else { throw STMFError.providerFailed("\(port.name) is not an FC port name") }
        guard let i = port.properties["initiator"].flatMap({ WWN($0) }) else {
            throw STMFError.providerFailed("\(port.name): no initiator WWN in its properties")
        }
        let binding: LIOBinding
        switch host.binding(stmf) {
        case let .success(b): binding = b
        case let .failure(e): throw STMFError.providerFailed("\(port.name): \(e)")
        }
        return try binding.addPort(LIOPort(wwpn: wwpn, fabric: .loopback, initiators: [i]), alias: port.alias, relativeID: port.relativeID)
    }
}

extension ServiceCore {
    static let loopProvider = "tcm-loop"

    /// Keeps the kernel path's view of an LU's size current.
    func noteGeometry(_ lu: any ManagedLogicalUnit) {
        lio.setGeometry(lu.guid, size: lu.size, blockSize: lu.properties[LUPropertyName.blockSize].flatMap { Int($0) } ?? 512)
    }

    /// `fcadm create-loop-port`: committed, then the LIO target built and brought online.
    public func createLoopPort(_ r: CreateLoopPortRequest) async throws(ServiceError) -> LIOPortInfo {
        let wwpn = try Self.parseFCWWN(r.portWWN, "port WWN")
        let initiator = try Self.parseFCWWN(r.initiatorWWN, "initiator WWN")
        let name = PortIdentifier.wwn(wwpn).description
        guard portRecords[name] == nil, stmf.targetPortState(.wwn(wwpn)) == nil else {
            throw .conflict("\(name): port already exists", code: "TARGET_EXISTS")
        }
        if case let .failure(e) = lio.binding(stmf) { throw ServiceError(409, "LIO_UNAVAILABLE", e.description) }
        let rec = StoredConfiguration.TargetPort(name: name, provider: Self.loopProvider, alias: "",
                                                 properties: ["initiator": initiator.hex], online: true, relativeID: freeRelativeID())
        guard let factory = providers.portProvider(named: Self.loopProvider) else {
            throw ServiceError(500, "PROVIDER_MISSING", "no \(Self.loopProvider) provider is registered")
        }
        let port: (any PortProvider)?
        do {
            port = try factory.start(StoredTargetPort(name: .wwn(wwpn), alias: "", relativeID: rec.relativeID, properties: rec.properties),
                                     stmf: stmf)
        } catch { throw ServiceError(409, "LIO_FAILED", "\(error)") }
        do { try store.write { db in try StoredConfiguration.upsertPort(db, rec) } } catch {
            try? await stmf.deregisterTargetPort(.wwn(wwpn))
            throw .storeFailed(error)
        }
        portRecords[name] = rec
        startedPorts[name] = port
        do { try await stmf.setTargetPortState(.wwn(wwpn), online: true) } catch { throw ServiceError(error) }
        return await lioPortInfo(name)!
    }

    /// `fcadm delete-loop-port`: removed from the store, then taken offline and torn down.
    public func deleteLoopPort(_ text: String) async throws(ServiceError) {
        let wwpn = try Self.parseFCWWN(text, "port WWN")
        let name = PortIdentifier.wwn(wwpn).description
        guard let rec = portRecords[name], rec.provider == Self.loopProvider else {
            throw .notFound("\(name): no such loopback port", code: "TARGET_NOT_FOUND")
        }
        do { try store.write { db in try db.execute(sql: "DELETE FROM target_port WHERE name = ?", arguments: [name]) } } catch {
            throw .storeFailed(error)
        }
        portRecords[name] = nil
        if startedPorts.removeValue(forKey: name) != nil { await lio.current?.removePort(.wwn(wwpn)) }
    }

    /// The LIO ports and the TCMU devices serving them (`fcadm list-loop-port`).
    public func lioPorts() async -> [LIOPortInfo] {
        var out: [LIOPortInfo] = []
        for name in portRecords.values.filter({ $0.provider == Self.loopProvider }).map(\.name).sorted() {
            if let i = await lioPortInfo(name) { out.append(i) }
        }
        return out
    }

    func lioPortInfo(_ name: String) async -> LIOPortInfo? {
        guard let rec = portRecords[name], let id = try? PortIdentifier(parsing: name), case let .wwn(wwpn) = id else { return nil }
        let served = await lio.current?.servedDevices() ?? []
        let devices = served.filter { $0.clone.port == wwpn }.map { d in
            LIOPortInfo.Device(lu: d.clone.lu.description, initiator: "wwn." + d.clone.initiator.hex, lun: Int(d.clone.lun),
                               uio: "uio\(d.minor)", name: d.clone.deviceName, commands: d.counters.commands,
                               copiedCommands: d.counters.copiedCommands, taskManagement: d.counters.taskManagement)
        }
        let port = lio.current?.ports.first { $0.port.wwpn == wwpn }?.port
        return LIOPortInfo(target: name, fabric: "loopback", configfs: port.map { lio.configfs.path($0.targetPath) } ?? "",
                           initiators: (rec.properties["initiator"].map { ["wwn." + $0] }) ?? [],
                           targetState: stmf.targetPortState(id)?.rawValue ?? "Offline", devices: devices)
    }
}
