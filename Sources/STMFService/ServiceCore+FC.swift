import FCFabric
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
        let wwpn = try Self.parseFCWWN(r.portWWN, "port WWN")
        let nodeWWN = try r.nodeWWN.map { (n: String) throws(ServiceError) -> WWN in try Self.parseFCWWN(n, "node WWN") }
        guard r.fabric.hasPrefix("/"), r.fabric.utf8.count < 108, !r.fabric.utf8.contains(0) else {
            throw .badRequest("\(r.fabric.debugDescription): invalid fabric socket path: must be an absolute path shorter than 108 bytes",
                              code: "INVALID_PATH")
        }
        let name = PortIdentifier.wwn(wwpn).description
        guard portRecords[name] == nil, stmf.targetPortState(.wwn(wwpn)) == nil else {
            throw .conflict("\(name): port already exists", code: "TARGET_EXISTS")
        }
        // A port on a fabric that is not there would wait for it for ever: refuse it now.
        if let why = Self.fabricProblem(r.fabric) { throw ServiceError(400, "FABRIC_NOT_FOUND", why) }
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
        let wwpn = try Self.parseFCWWN(text, "port WWN")
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

    /// `fcinfo hba-port`: the local FC ports, with what their fabrics say of their remote ports.
    public func fcPorts() -> [FCPortInfo] {
        let ports = emulatedPorts.values.sorted { $0.portName < $1.portName }
        var fabrics: [String: [PortStatus]] = [:]
        for path in Set(ports.map(\.fabricPath)) { fabrics[path] = Self.fabricPorts(path) }
        return ports.map { fcPortInfo($0, fabric: fabrics[$0.fabricPath] ?? []) }
    }

    static func parseFCWWN(_ text: String, _ what: String) throws(ServiceError) -> WWN {
        guard let w = WWN(text.hasPrefix("wwn.") ? String(text.dropFirst(4)) : text) else {
            throw .badRequest(Wording.invalidWWN(text, what), code: "INVALID_WWN")
        }
        return w
    }

    /// Why no emulated fabric answers at `path`, or nil when one does (its control socket).
    static func fabricProblem(_ path: String) -> String? {
        do {
            let reply = try FabricControl.request(ControlRequest(op: .show), socket: path)
            return reply.ok ? nil : "\(path): the fabric refused a status request: \(reply.error ?? "no reason")"
        } catch {
            return "\(path): no emulated fabric answers there (\(error)); start fcfabric --socket \(path), "
                + "or name the socket of the running fabric with --fabric or $FCFABRIC_SOCKET"
        }
    }

    /// The fabric's view of its ports (symbolic names, counters), or none when it does not answer.
    static func fabricPorts(_ path: String) -> [PortStatus] {
        (try? FabricControl.request(ControlRequest(op: .show), socket: path))?.ports ?? []
    }

    func fcPortInfo(_ port: EmulatedTargetPort, fabric: [PortStatus] = []) -> FCPortInfo {
        let st = port.status
        let sessions = Set(stmf.sessions(of: port.name).map(\.nexus.initiator))
        let remotes = st.remotePorts.map { r in
            let seen = fabric.first { $0.portName.flatMap { WWN($0) } == r.portName }
            return RemotePortInfo(portWWN: r.portName.hex, nodeWWN: r.nodeName.hex, portID: r.id.description,
                                  activeFC4Types: r.fcp == nil ? [] : ["SCSI"],
                                  scsiTarget: r.fcp?.contains(.targetFunction) ?? false,
                                  scsiInitiator: r.fcp?.contains(.initiatorFunction) ?? false,
                                  session: sessions.contains(.wwn(r.portName)),
                                  symbolicName: seen?.symbolicName,
                                  // What RLS to the fabric controller answers for it.
                                  linkErrors: seen.map { FCLinkErrors(linkFailures: UInt32(clamping: $0.counters.linkFailures),
                                                                      invalidCRCs: UInt32(clamping: $0.counters.crcErrors)) })
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
