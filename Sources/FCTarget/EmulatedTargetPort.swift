import FCLink
import FCPort
import Foundation
import Logging
import Locking
import Runtime
import STMF

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
    let portHandle: Locked<TargetPortHandle?> = Locked(nil)
    /// The loop the port's link, exchanges and commands run on.
    let loop: EventLoop
    /// Loop-owned command-path state.
    let core: PortCore

    public init(stmf: STMF, portName: WWN, nodeName: WWN? = nil, fabricPath: String,
                logger: Logger = Logger(label: "fct"), loop: EventLoop? = nil) {
        self.stmf = stmf
        self.portName = portName
        self.nodeName = nodeName ?? Self.derivedNodeName(portName)
        self.fabricPath = fabricPath
        self.logger = logger
        let loop = loop ?? EventLoopGroup.shared.next()
        self.loop = loop
        core = PortCore(origin: loop.clock.now())
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
        portHandle.withLock { $0 = h }
        return h
    }

    // MARK: PortProvider

    /// Connects to the fabric and logs in; the port stays online (link down) if the fabric is
    /// not there yet and logs in when it appears, as an HBA does when a cable is plugged in.
    public func online() async throws {
        let port = NPort(configuration: .init(portName: portName, nodeName: nodeName, features: .target,
                                              symbolicName: "swift-stmf emulated target \(portName.hex)",
                                              fabricPath: fabricPath, loop: loop),
                         handlers: handlers())
        // One N_Port per port provider: a second online() while one is running is a no-op.
        let installed = nport.withLock { p -> Bool in
            guard p == nil else { return false }
            p = port
            return true
        }
        guard installed else { return }
        await onLoopWait { [self] in
            core.machine.dataTimeout = .seconds(20)
        }
        port.start()
        if (try? await port.waitOnline(timeout: .seconds(2))) != nil {
            let limit = port.exchangeTimeout
            await onLoopWait { [self] in core.machine.dataTimeout = limit }
        }
    }

    /// Logs out of the fabric; every session ends.
    public func offline() async {
        let port = nport.withLock { p -> NPort? in defer { p = nil }; return p }
        await port?.stop()
        await endAllSessions()
    }

    /// Runs `body` on the port's loop and waits for it (control paths).
    func onLoopWait<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        if loop.inEventLoop { return body() }
        return await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            loop.execute { c.resume(returning: body()) }
        }
    }

    /// Runs `body` on the port's loop and blocks the caller until it ran (status readers that
    /// are not async).
    func onLoopSync<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        if loop.inEventLoop { return body() }
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            result.withLock { $0 = body() }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
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
        let t = onLoopSync { [core] in (core.machine.openExchanges, core.machine.reclaimed) }
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

    /// PRLI from an initiator (on the loop: the N_Port hands it over from the link): a new STMF
    /// session, replacing the image pair it had.
    private func beginSession(_ remote: RemotePort) -> Bool {
        guard let h = portHandle.withLock({ $0 }) else { return false }
        let session: Session
        do { session = try h.createSession(initiator: .wwn(remote.portName), taskPort: self) } catch {
            logger.warning("no session for \(remote.portName.hex): \(error)")
            return false
        }
        let old: Session? = onLoopSync { [self] in
            let old = core.sessions[remote.id]?.session
            core.sessions[remote.id] = SessionEntry(session: session, remote: remote)
            handle(.sessionBegan(remote.id, receiveSize: remote.receiveDataFieldSize))
            return old
        }
        if let old { Task { await h.removeSession(old) } }
        logger.info("session \(session.nexus.sessionID) for initiator \(remote.portName.hex) at \(remote.id)")
        return true
    }

    func endSession(_ id: FCID) async {
        let ended: SessionEntry? = await onLoopWait { [self] in
            let e = core.sessions.removeValue(forKey: id)
            handle(.sessionEnded(id))
            return e
        }
        guard let ended, let h = portHandle.withLock({ $0 }) else { return }
        await h.removeSession(ended.session)
    }

    func endAllSessions() async {
        let all: [SessionEntry] = await onLoopWait { [self] in
            let s = Array(core.sessions.values)
            core.sessions.removeAll()
            handle(.linkLost)
            return s
        }
        guard let h = portHandle.withLock({ $0 }) else { return }
        for s in all { await h.removeSession(s.session) }
    }

    /// RSCN: an affected initiator that left the fabric loses its session (implicit logout).
    private func stateChange(_ pages: [RSCNPage]) {
        guard let port = nport.withLock({ $0 }) else { return }
        let ids: [FCID] = onLoopSync { [core] in Array(core.sessions.keys) }
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

    func send(records: UnsafeRawBufferPointer) { nport.withLock { $0 }?.send(records: records) }
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
