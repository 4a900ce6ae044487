import FCPort
import Foundation
import Locking
import Runtime
import STMF

/// An N_Port on the emulated fabric: the shell that runs `NPortMachine` (link state, fabric
/// login and name-server registration, ELS/CT client exchanges with timeouts, the N_Port side
/// of PLOGI/PRLI/LOGO/PRLO/ADISC/RSCN/ECHO/RTV/RLS) over a `FrameLink`. The FC-4 above it
/// (target or initiator) gets FCP and BLS frames.
///
/// The link's reader thread delivers every frame; nothing here blocks it. Timers run in
/// `MachineTimers`; requests the FC-4 makes wait as Swift continuations.
public final class NPort: Sendable {
    public struct Configuration: Sendable {
        public var portName: WWN
        public var nodeName: WWN
        /// FC-4 features registered for FCP (target and/or initiator).
        public var features: FC4Features
        public var symbolicName: String
        public var receiveDataFieldSize: Int
        public var fabricPath: String
        /// Reconnect to the fabric socket when it goes away (a restarted switch).
        public var reconnect: Bool
        /// The event loop the port's link (every connection of it) and timers run on; nil: one
        /// of the shared group's, chosen once.
        public var loop: EventLoop?

        public init(portName: WWN, nodeName: WWN, features: FC4Features, symbolicName: String,
                    receiveDataFieldSize: Int = 2048, fabricPath: String, reconnect: Bool = true, loop: EventLoop? = nil) {
            self.loop = loop
            self.portName = portName
            self.nodeName = nodeName
            self.features = features
            self.symbolicName = symbolicName
            self.receiveDataFieldSize = receiveDataFieldSize
            self.fabricPath = fabricPath
            self.reconnect = reconnect
        }
    }

    public typealias LinkState = NPortLinkState

    /// What the FC-4 layer above is told and asked.
    public struct Handlers: Sendable {
        /// Fabric login and registrations completed at this N_Port ID.
        public var online: @Sendable (FCID) -> Void = { _ in }
        /// The link went down or the fabric went away: every remote login is gone.
        public var linkLost: @Sendable () -> Void = {}
        /// An FCP or BLS frame (or any frame the N_Port does not handle itself).
        public var frame: @Sendable (FrameHeader, UnsafeRawBufferPointer) -> Void = { _, _ in }
        /// PRLI from a remote port: return our FCP parameters to accept, nil to refuse.
        public var processLogin: @Sendable (RemotePort, FCPServiceParameters) -> FCPServiceParameters? = { _, _ in nil }
        /// A remote port's process login ended (PRLO, LOGO, new PLOGI, link loss is `linkLost`).
        public var logout: @Sendable (RemotePort) -> Void = { _ in }
        /// RSCN: these ports (or areas/domains, as pages) changed.
        public var stateChange: @Sendable ([RSCNPage]) -> Void = { _ in }
        public init() {}
    }

    typealias Reply = Result<NPortMachine.Reply, NPortError>

    struct Shell {
        var machine: NPortMachine
        var link: FrameLink?
        /// Bumped for every connection made or closed, so an old link's callbacks are ignored.
        var generation = 0
        var waiting: [NPortMachine.RequestID: CheckedContinuation<Reply, Never>] = [:]
        var nextRequest: UInt64 = 1
        /// `stop` callers, resumed with the link to drain and close.
        var stopping: [CheckedContinuation<FrameLink?, Never>] = []
    }

    public let configuration: Configuration
    let handlers: Handlers
    let shell: Locked<Shell>
    /// The loop the link and the machine's timers run on.
    public let loop: EventLoop
    let timers: MachineTimers

    public init(configuration: Configuration, handlers: Handlers) {
        self.configuration = configuration
        self.handlers = handlers
        loop = configuration.loop ?? EventLoopGroup.shared.next()
        timers = MachineTimers(loop: loop)
        let c = configuration
        shell = Locked(Shell(machine: NPortMachine(configuration: .init(
            portName: c.portName, nodeName: c.nodeName, features: c.features, symbolicName: c.symbolicName,
            receiveDataFieldSize: c.receiveDataFieldSize, reconnect: c.reconnect))))
        timers.onFire { [weak self] ids in
            for id in ids { self?.handle(.timerFired(id)) }
        }
    }

    // MARK: - Public state

    public var linkState: LinkState { shell.withLock { $0.machine.linkState } }
    public var portID: FCID? { shell.withLock { $0.machine.portID } }
    public var remotePorts: [RemotePort] { shell.withLock { $0.machine.remotePorts } }
    /// Link errors counted since this N_Port started: link failures (the link went down, or
    /// the fabric connection was lost, while it was up), loss of signal (the connection lost),
    /// primitive sequence protocol errors (a record stream the port could not parse) and
    /// invalid CRCs (frames received with a bad CRC). An emulated link has no transmission
    /// words or synchronization to lose, so those counters stay zero.
    public var linkErrorStatus: LinkErrorStatusBlock { shell.withLock { $0.machine.linkErrors } }
    public func remotePort(_ id: FCID) -> RemotePort? { shell.withLock { $0.machine.remotePort(id) } }
    /// E_D_TOV and R_A_TOV as the fabric set them at login.
    public var timeouts: (errorDetect: Duration, resourceAllocation: Duration) {
        shell.withLock { ($0.machine.errorDetectTimeout, $0.machine.resourceAllocationTimeout) }
    }
    /// How long an exchange this port originates may wait for its reply: 2 × R_A_TOV (FC-LS-3).
    public var exchangeTimeout: Duration { shell.withLock { $0.machine.exchangeTimeout } }

    // MARK: - Bring up / down

    /// Connects to the fabric and logs in whenever the link is up, until `stop()`.
    public func start() { handle(.start) }

    /// Waits until the port is online (or `timeout` passes); returns its N_Port ID.
    public func waitOnline(timeout: Duration = .seconds(10)) async throws(NPortError) -> FCID {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let id = portID { return id }
            try? await Task.sleep(for: .milliseconds(5))
        }
        throw .timeout
    }

    /// Logs out of the fabric (LOGO to 0xFFFFFE) and closes the link.
    public func stop() async {
        let link = await withCheckedContinuation { (c: CheckedContinuation<FrameLink?, Never>) in
            let actions = shell.withLock { s in
                s.stopping.append(c)
                return s.machine.handle(.stop, at: timers.now)
            }
            perform(actions)
        }
        link?.drain()
        link?.close()
    }

    // MARK: - Exchanges this port originates

    /// Allocates an OX_ID for an exchange this port originates (also used for FCP commands).
    public func allocateExchangeID() -> UInt16? { shell.withLock { $0.machine.allocateExchangeID() } }

    /// Returns an OX_ID to the pool.
    public func releaseExchangeID(_ id: UInt16) { shell.withLock { $0.machine.releaseExchangeID(id) } }

    /// Sends encoded frame-stream records on the link.
    public func send(records: UnsafeRawBufferPointer) { shell.withLock { $0.link }?.send(records: records) }
    public func send(records: [UInt8]) { shell.withLock { $0.link }?.send(records: records) }
    public func send(_ frame: FCFrame) { shell.withLock { $0.link }?.send(frame) }

    /// Sends an ELS request and returns its LS_ACC (an LS_RJT throws `.rejected`).
    public func request(_ els: ELSRequest, to destination: FCID, from source: FCID? = nil,
                        timeout: Duration? = nil) async throws(NPortError) -> ELSAccept {
        guard case .els(let accept) = try await run(.els(els, to: destination, from: source, timeout: timeout)) else {
            throw .malformedReply("\(els.command) completed without an LS_ACC")
        }
        return accept
    }

    /// Sends a name-server request and returns its FS_ACC (an FS_RJT throws `.nameServerRejected`).
    public func nameServer(_ r: NameServerRequest, from source: FCID? = nil) async throws(NPortError) -> NameServerAccept {
        guard case .nameServer(let accept) = try await run(.nameServer(r, from: source)) else {
            throw .malformedReply("\(r.command) completed without an FS_ACC")
        }
        return accept
    }

    /// PLOGI then PRLI (FCP, with `fcp` as our parameters) to a remote N_Port.
    public func login(to id: FCID, fcp: FCPServiceParameters) async throws(NPortError) -> RemotePort {
        guard case .loggedIn(let remote) = try await run(.login(id, fcp: fcp)) else {
            throw .malformedReply("login completed without a remote port")
        }
        return remote
    }

    /// LOGO to a remote port (ends PLOGI and PRLI).
    public func logout(from id: FCID) async { _ = try? await run(.logout(id)) }

    /// Forgets a remote port locally (implicit logout).
    public func forget(_ id: FCID) { handle(.forget(id)) }

    /// Hands a request to the machine and waits for its completion.
    private func run(_ request: NPortMachine.Request) async throws(NPortError) -> NPortMachine.Reply {
        let result = await withCheckedContinuation { (c: CheckedContinuation<Reply, Never>) in
            let actions = shell.withLock { s in
                let id = NPortMachine.RequestID(rawValue: s.nextRequest)
                s.nextRequest += 1
                s.waiting[id] = c
                return s.machine.handle(.request(id, request), at: timers.now)
            }
            perform(actions)
        }
        return try result.get()
    }

    // MARK: - The machine's events and actions

    /// Feeds `event` to the machine (when it comes from the link of `generation`, that link's
    /// still current) and performs what it asks.
    private func handle(_ event: NPortMachine.Event, generation: Int? = nil) {
        let actions = shell.withLock { s -> [NPortMachine.Action] in
            if let generation, generation != s.generation { return [] }
            if case .connectionLost = event { s.link = nil }
            return s.machine.handle(event, at: timers.now)
        }
        perform(actions)
    }

    private func perform(_ actions: [NPortMachine.Action]) {
        for action in actions {
            switch action {
            case .connect: connect()
            case .disconnect: disconnect()
            case .send(let frame): send(frame)
            case .startTimer(let id, let deadline): timers.start(id, deadline: deadline)
            case .cancelTimer(let id): timers.cancel(id)
            case .online(let id): handlers.online(id)
            case .linkLost: handlers.linkLost()
            case .remoteLoggedIn: break
            case .remoteLoggedOut(let remote): handlers.logout(remote)
            case .processLoginRequested(let r):
                handle(.processLoginAnswer(token: r.token, handlers.processLogin(r.remote, r.parameters)))
            case .stateChange(let pages): handlers.stateChange(pages)
            case .requestCompleted(let id, let result):
                shell.withLock { $0.waiting.removeValue(forKey: id) }?.resume(returning: result)
            }
        }
    }

    private func connect() {
        let link: FrameLink
        do {
            link = try FrameLink.connect(path: configuration.fabricPath, loop: loop)
        } catch {
            handle(.connectionFailed)
            return
        }
        // The machine hears of the connection before the reader can deliver the link's Idle.
        let (generation, actions) = shell.withLock { s in
            s.generation += 1
            s.link = link
            return (s.generation, s.machine.handle(.connected, at: timers.now))
        }
        link.start(onRecord: { [self] record, _ in
            switch record {
            case .primitive(let p): handle(.primitive(p), generation: generation)
            case .frame(let bytes): receive(bytes, generation: generation)
            }
        }, onClose: { [self] error in
            handle(.connectionLost(protocolError: error != nil), generation: generation)
        })
        perform(actions)
    }

    /// Detaches the link; a `stop` drains and closes it, else it is closed here.
    private func disconnect() {
        let (link, stopping) = shell.withLock { s in
            defer {
                s.link = nil
                s.generation += 1
                s.stopping.removeAll()
            }
            return (s.link, s.stopping)
        }
        guard let first = stopping.first else {
            link?.close()
            return
        }
        first.resume(returning: link)
        for c in stopping.dropFirst() { c.resume(returning: nil) }
    }

    private func receive(_ bytes: UnsafeRawBufferPointer, generation: Int) {
        let v: (StartOfFrame, FrameHeader, Range<Int>, EndOfFrame)
        do throws(FrameError) { v = try FCFrame.validate(bytes) } catch {
            handle(.invalidFrame(error), generation: generation)     // discarded; a bad CRC is counted
            return
        }
        let h = v.1
        let payload = UnsafeRawBufferPointer(rebasing: bytes[v.2])
        if NPortMachine.handles(h) {
            handle(.frame(h, Array(payload)), generation: generation)
        } else {
            handlers.frame(h, payload)
        }
    }
}
