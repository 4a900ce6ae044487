import FCLink
import FCPort
import FCTarget
import Foundation
import STMF
import STMFAPI

extension ServiceCore {
    /// The provider name of emulated FC target ports in the store and in `list-target -v`.
    static let emulatedProvider = "fcemu"

    /// Brings up every stored target port through the port provider it names, and restores
    /// its state.
    func startPorts() async {
        for rec in portRecords.values.sorted(by: { $0.relativeID < $1.relativeID }) where startedPorts[rec.name] == nil {
            guard let provider = providers.portProvider(named: rec.provider), let id = try? PortIdentifier(parsing: rec.name) else {
                logger.warning("target port \(rec.name): unknown provider \(rec.provider); left unregistered")
                continue
            }
            let port: (any PortProvider)?
            do {
                port = try provider.start(StoredTargetPort(name: id, alias: rec.alias, relativeID: rec.relativeID,
                                                           properties: rec.properties), stmf: stmf)
            } catch {
                logger.error("target port \(rec.name): \(error)")
                continue
            }
            guard let port else { continue }    // its provider registers it (qla2xxx: the HBA watch follows it)
            startedPorts[rec.name] = port
            if rec.online { try? await stmf.setTargetPortState(id, online: true) }
        }
    }

    /// Takes every port stmfd started offline and deregisters it (import --replace, shutdown).
    func stopPorts() async {
        for name in startedPorts.keys {
            if let id = try? PortIdentifier(parsing: name) { try? await stmf.deregisterTargetPort(id) }
        }
        startedPorts = [:]
    }

    /// The emulated FC ports among them.
    var emulatedPorts: [String: EmulatedTargetPort] { startedPorts.compactMapValues { $0 as? EmulatedTargetPort } }

    /// `fcadm create-emulated-port`: committed, then registered and brought online.
    public func createEmulatedPort(_ r: CreateEmulatedPortRequest) async throws(ServiceError) -> FCPortInfo {
        guard let wwpn = WWN(r.portWWN) else { throw .badRequest("\(r.portWWN): invalid port WWN") }
        var nodeWWN: WWN?
        if let n = r.nodeWWN {
            guard let w = WWN(n) else { throw .badRequest("\(n): invalid node WWN") }
            nodeWWN = w
        }
        guard !r.fabric.isEmpty, r.fabric.utf8.count < 108 else { throw .badRequest("invalid fabric socket path") }
        let name = PortIdentifier.wwn(wwpn).description
        guard portRecords[name] == nil, stmf.targetPortState(.wwn(wwpn)) == nil else {
            throw .conflict("\(name): port already exists", code: "TARGET_EXISTS")
        }
        let port = EmulatedTargetPort(stmf: stmf, portName: wwpn, nodeName: nodeWWN, fabricPath: r.fabric, logger: logger)
        let handle: TargetPortHandle
        // A relative port id no stored record holds either (bound HBA ports keep theirs).
        do { handle = try port.register(relativeID: freeRelativeID()) } catch { throw ServiceError(error) }
        let rec = StoredConfiguration.TargetPort(
            name: name, provider: Self.emulatedProvider, alias: "",
            properties: ["node-wwn": port.nodeName.hex, "fabric": r.fabric], online: true, relativeID: handle.relativeID)
        do { try store.write { db in try StoredConfiguration.upsertPort(db, rec) } } catch {
            try? await stmf.deregisterTargetPort(port.name)
            throw .storeFailed(error)
        }
        portRecords[name] = rec
        startedPorts[name] = port
        do { try await stmf.setTargetPortState(port.name, online: true) } catch { throw ServiceError(error) }
        return fcPortInfo(port)
    }

    /// `fcadm delete-emulated-port`: removed from the store, then taken offline (sessions end).
    public func deleteEmulatedPort(_ text: String) async throws(ServiceError) {
        guard let wwpn = WWN(text) else { throw .badRequest("\(text): invalid port WWN") }
        let name = PortIdentifier.wwn(wwpn).description
        guard let rec = portRecords[name], rec.provider == Self.emulatedProvider else {
            throw .notFound("\(name): no such emulated port", code: "TARGET_NOT_FOUND")
        }
        do { try store.write { db in try db.execute(sql: "DELETE FROM target_port WHERE name = ?", arguments: [name]) } } catch {
            throw .storeFailed(error)
        }
        portRecords[name] = nil
        if startedPorts.removeValue(forKey: name) != nil { try? await stmf.deregisterTargetPort(.wwn(wwpn)) }
    }

    /// `fcinfo hba-port`: the local FC ports.
    public func fcPorts() -> [FCPortInfo] {
        emulatedPorts.values.sorted { $0.portName < $1.portName }.map(fcPortInfo)
    }

    func fcPortInfo(_ port: EmulatedTargetPort) -> FCPortInfo {
        let st = port.status
        let sessions = Set(stmf.sessions(of: port.name).map(\.nexus.initiator))
        let remotes = st.remotePorts.map { r in
            RemotePortInfo(portWWN: r.portName.hex, nodeWWN: r.nodeName.hex, portID: r.id.description,
                           activeFC4Types: r.fcp == nil ? [] : ["SCSI"],
                           scsiTarget: r.fcp?.contains(.targetFunction) ?? false,
                           scsiInitiator: r.fcp?.contains(.initiatorFunction) ?? false,
                           session: sessions.contains(.wwn(r.portName)))
        }
        let linkState: String
        switch st.linkState {
        case .online: linkState = "online"
        case .offline: linkState = "offline"
        case .connecting, .linkDown, .loggingIn: linkState = "link down"
        }
        return FCPortInfo(portWWN: port.portName.hex, nodeWWN: port.nodeName.hex, portMode: "Target",
                          portID: st.portID.map { String($0.rawValue, radix: 16) }, state: linkState,
                          targetState: stmf.targetPortState(port.name)?.rawValue ?? "Offline",
                          driverName: "swift-stmf emulated FC", fabric: port.fabricPath,
                          remotePorts: remotes, openExchanges: st.openExchanges,
                          linkErrors: FCLinkErrors(linkFailures: st.linkErrors.linkFailures,
                                                   lossOfSync: st.linkErrors.lossOfSynchronization,
                                                   lossOfSignal: st.linkErrors.lossOfSignal,
                                                   primitiveSequenceProtocolErrors: st.linkErrors.primitiveSequenceErrors,
                                                   invalidTransmissionWords: st.linkErrors.invalidTransmissionWords,
                                                   invalidCRCs: st.linkErrors.invalidCRCs))
    }
}
