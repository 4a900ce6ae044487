import FCLink
import FCPort
import Foundation
import Logging
import STMF
import Locking

/// An emulated FC target HBA port: COMSTAR's fct + qlt roles for the emulated fabric. It logs
/// in to the fabric (FLOGI, FC-4 type FCP with the target feature), accepts PLOGI/PRLI from
/// initiators and creates one STMF session per image pair (initiator `wwn.<WWPN>`), terminates
/// FCP (XFER_RDY, FCP_DATA, FCP_RSP, task management, ABTS) into those sessions, and ends the
/// sessions on LOGO, PRLO, link loss and offline. Exchanges waiting for data that stops
/// arriving are reclaimed after 2 × R_A_TOV.
public final class EmulatedTargetPort: PortProvider, TaskPort, Sendable {
    public let portName: WWN
    public let nodeName: WWN
    public let fabricPath: String
    public var name: PortIdentifier { .wwn(portName) }

    let stmf: STMF
    let logger: Logger
    let nport: Locked<NPort?> = Locked(nil)
    let handle: Locked<TargetPortHandle?> = Locked(nil)
    let table = Locked(ExchangeTable())
    let sweeper: Locked<Task<Void, Never>?> = Locked(nil)

    public init(stmf: STMF, portName: WWN, nodeName: WWN? = nil, fabricPath: String,
                logger: Logger = Logger(label: "fct")) {
        self.stmf = stmf
        self.portName = portName
        self.nodeName = nodeName ?? Self.derivedNodeName(portName)
        self.fabricPath = fabricPath
        self.logger = logger
    }

    /// The node name an HBA would pair with a port name: first byte 0x20 (21:00:… → 20:00:…),
    /// or the port name with one bit changed when it already starts with 0x20.
    public static func derivedNodeName(_ port: WWN) -> WWN {
        let n = port.rawValue & 0x00FF_FFFF_FFFF_FFFF | 0x2000_0000_0000_0000
        return WWN(n == port.rawValue ? n ^ 0x0001_0000_0000_0000 : n)
    }

    /// Registers the port with STMF as `wwn.<WWPN>` (offline until `setTargetPortState`).
    @discardableResult
    public func register(alias: String = "", relativeID: UInt16? = nil) throws(STMFError) -> TargetPortHandle {
        let h = try stmf.registerTargetPort(name, provider: self, alias: alias, relativeID: relativeID)
        handle.withLock { $0 = h }
        return h
    }

    // MARK: PortProvider

    /// Connects to the fabric and logs in; the port stays online (link down) if the fabric is
    /// not there yet and logs in when it appears, as an HBA does when a cable is plugged in.
    public func online() async throws {
        let port = NPort(configuration: .init(portName: portName, nodeName: nodeName, features: .target,
                                              symbolicName: "swift-stmf emulated target \(portName.hex)",
                                              fabricPath: fabricPath),
                         handlers: handlers())
        // One N_Port per port provider: a second online() while one is running is a no-op.
        let installed = nport.withLock { p -> Bool in
            guard p == nil else { return false }
            p = port
            return true
        }
        guard installed else { return }
        port.start()
        _ = try? await port.waitOnline(timeout: .seconds(2))
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                self?.reclaimStaleExchanges()
            }
        }
        sweeper.withLock { $0 = task }
    }

    /// Logs out of the fabric; every session ends.
    public func offline() async {
        sweeper.withLock { $0?.cancel(); $0 = nil }
        let port = nport.withLock { p -> NPort? in defer { p = nil }; return p }
        await port?.stop()
        await endAllSessions()
    }

    // MARK: Status (fcinfo, list-target)

    public struct Status: Sendable {
        public var linkState: NPort.LinkState
        public var portID: FCID?
        public var remotePorts: [RemotePort]
        public var openExchanges: Int
        public var reclaimedExchanges: Int
        public var linkErrors: LinkErrorStatusBlock
    }

    public var status: Status {
        let port = nport.withLock { $0 }
        let t = table.withLock { ($0.exchanges.count, $0.reclaimed) }
        return Status(linkState: port?.linkState ?? .offline, portID: port?.portID,
                      remotePorts: port?.remotePorts ?? [], openExchanges: t.0, reclaimedExchanges: t.1,
                      linkErrors: port?.linkErrorStatus ?? LinkErrorStatusBlock())
    }

    // MARK: N_Port events

    private func handlers() -> NPort.Handlers {
        var h = NPort.Handlers()
        h.processLogin = { [weak self] remote, theirs in
            guard let self, theirs.contains(.initiatorFunction) else { return nil }
            return self.beginSession(remote) ? [.targetFunction, .readXferRdyDisabled, .retry] : nil
        }
        h.logout = { [weak self] remote in
            guard let self else { return }
            Task { await self.endSession(remote.id) }
        }
        h.linkLost = { [weak self] in
            guard let self else { return }
            Task { await self.endAllSessions() }
        }
        h.frame = { [weak self] header, payload in self?.frame(header, payload) }
        h.stateChange = { [weak self] pages in self?.stateChange(pages) }
        return h
    }

    private func beginSession(_ remote: RemotePort) -> Bool {
        guard let handle = handle.withLock({ $0 }) else { return false }
        let session: Session
        do { session = try handle.createSession(initiator: .wwn(remote.portName), taskPort: self) } catch {
            logger.warning("no session for \(remote.portName.hex): \(error)")
            return false
        }
        let old = table.withLock { t -> Session? in
            let old = t.sessions[remote.id]?.session
            t.sessions[remote.id] = SessionEntry(session: session, remote: remote)
            return old
        }
        if let old { Task { await handle.removeSession(old) } }
        logger.info("session \(session.nexus.sessionID) for initiator \(remote.portName.hex) at \(remote.id)")
        return true
    }

    func endSession(_ id: FCID) async {
        let (ended, waiting) = table.withLock { t -> (SessionEntry?, [SCSITask]) in
            let waiting = t.dropExchanges(from: id)
            return (t.sessions.removeValue(forKey: id), waiting)
        }
        for task in waiting { task.session?.dataTransferred(task, ok: false) }
        guard let ended, let handle = handle.withLock({ $0 }) else { return }
        await handle.removeSession(ended.session)
    }

    func endAllSessions() async {
        let (all, waiting) = table.withLock { t -> ([SessionEntry], [SCSITask]) in
            let s = Array(t.sessions.values)
            t.sessions.removeAll()
            return (s, t.dropAll())
        }
        for task in waiting { task.session?.dataTransferred(task, ok: false) }
        guard let handle = handle.withLock({ $0 }) else { return }
        for s in all { await handle.removeSession(s.session) }
    }

    /// RSCN: an affected initiator that left the fabric loses its session (implicit logout).
    private func stateChange(_ pages: [RSCNPage]) {
        guard let port = nport.withLock({ $0 }) else { return }
        let ids = table.withLock { Array($0.sessions.keys) }
        for id in ids where pages.contains(where: { $0.covers(id) }) {
            Task {
                do throws(NPortError) {
                    _ = try await port.nameServer(.gpnID(portID: id.rawValue))
                } catch {
                    if case .nameServerRejected = error {
                        port.forget(id)
                        await endSession(id)
                    }
                }
            }
        }
    }

    func send(records: [UInt8]) { nport.withLock { $0 }?.send(records: records) }
    var localID: FCID? { nport.withLock { $0 }?.portID }
}

extension RSCNPage {
    /// Whether this page's address (port, area, domain or fabric format) covers `id`.
    func covers(_ id: FCID) -> Bool {
        let a = FCID(portID)
        switch addressFormat {
        case .port: return a == id
        case .area: return a.domain == id.domain && a.area == id.area
        case .domain: return a.domain == id.domain
        case .fabric: return true
        }
    }
}
