import STMF

/// The N_Port's link and login logic as a pure state machine: link state, fabric login
/// (FLOGI with retries, name server PLOGI and registrations, SCR), the ELS/CT exchanges the
/// port originates (timeouts of 2 × R_A_TOV, OX_IDs quarantined for R_A_TOV after a timeout),
/// PLOGI/PRLI/LOGO to remote ports, and the N_Port side of PLOGI/PRLI/PRLO/LOGO/ADISC/RSCN/
/// ECHO/RTV/RLS with the link error counters RLS reports.
///
/// Each event (`handle(_:at:)`) returns the actions the runtime performs in order: frames to
/// send, timers to start or cancel, the transport to connect or close, and reports to the FC-4.
/// The machine touches no socket, thread or clock; `now` comes with every event. FCP and BLS
/// frames are the FC-4's (`handles(_:)` says which frames come here).
public struct NPortMachine: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var portName: WWN
        public var nodeName: WWN
        /// FC-4 features registered for FCP (target and/or initiator).
        public var features: FC4Features
        public var symbolicName: String
        public var receiveDataFieldSize: Int
        /// Connect again after the transport is lost or cannot connect.
        public var reconnect: Bool
        /// How long to wait before connecting again.
        public var reconnectDelay: Duration
        /// How long FLOGI may wait for its LS_ACC (the fabric's R_A_TOV is not known yet).
        public var fabricLoginTimeout: Duration
        /// How long the LOGO to the fabric at `stop` may wait.
        public var fabricLogoutTimeout: Duration
        /// How long a LOGO to a remote port may wait.
        public var logoutTimeout: Duration

        public init(portName: WWN, nodeName: WWN, features: FC4Features, symbolicName: String,
                    receiveDataFieldSize: Int = 2048, reconnect: Bool = true,
                    reconnectDelay: Duration = .milliseconds(500), fabricLoginTimeout: Duration = .seconds(2),
                    fabricLogoutTimeout: Duration = .milliseconds(500), logoutTimeout: Duration = .seconds(1)) {
            self.portName = portName
            self.nodeName = nodeName
            self.features = features
            self.symbolicName = symbolicName
            self.receiveDataFieldSize = receiveDataFieldSize
            self.reconnect = reconnect
            self.reconnectDelay = reconnectDelay
            self.fabricLoginTimeout = fabricLoginTimeout
            self.fabricLogoutTimeout = fabricLogoutTimeout
            self.logoutTimeout = logoutTimeout
        }

        /// Our FLOGI/PLOGI service parameters (and PLOGI LS_ACC).
        var serviceParameters: ServiceParameters {
            .nPort(portName: portName, nodeName: nodeName, receiveDataFieldSize: UInt16(receiveDataFieldSize))
        }
    }

    /// One struct per state (swift-nio-ssh's shape); what every state shares is kept beside it.
    enum State: Sendable {
        case offline
        case connecting(ConnectingState)
        case linkDown
        case loggingIn(FabricLoginState)
        case online(OnlineState)
    }

    public let configuration: Configuration
    var state: State = .offline
    /// The FC-4 wants the port online (`start` until `stop`).
    var enabled = false
    /// `stop` is waiting for the fabric's answer to LOGO.
    var stopping = false
    var client = ClientExchanges()
    var timers = TimerTable<TimerPurpose>()
    /// The link error status block RLS reports.
    public internal(set) var linkErrors = LinkErrorStatusBlock()
    /// E_D_TOV and R_A_TOV as the fabric set them at FLOGI.
    public internal(set) var errorDetectTimeout: Duration = .seconds(2)
    public internal(set) var resourceAllocationTimeout: Duration = .seconds(10)
    /// The fabric's receive data field size from FLOGI.
    public internal(set) var fabricReceiveSize = 2048

    enum TimerPurpose: Sendable {
        /// A client exchange's reply is due.
        case exchange(UInt16)
        /// A timed-out exchange's OX_ID may be used again.
        case quarantine(UInt16)
        case fabricLoginRetry
        case reconnect
    }

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: - Events

    /// Applies `event`, which happened at `now`; returns what to do, in order.
    public mutating func handle(_ event: Event, at now: FCInstant) -> [Action] {
        switch event {
        case .start: return start()
        case .stop: return stop(now: now)
        case .connected: return connected()
        case .connectionFailed: return connectionFailed(now: now)
        case .connectionLost(let protocolError): return connectionLost(protocolError: protocolError, now: now)
        case .primitive(let p): return primitive(p, now: now)
        case .frame(let h, let payload): return frame(h, payload, now: now)
        case .invalidFrame(let error):
            if case .badCRC = error { linkErrors.invalidCRCs &+= 1 }
            return []
        case .timerFired(let id): return timerFired(id, now: now)
        case .request(let id, let request): return self.request(id, request, now: now)
        case .processLoginAnswer(let token, let ours): return processLoginAnswer(token: token, ours)
        case .forget(let id):
            modifyOnline { $0.remotes[id] = nil }
            return []
        }
    }

    /// Whether a received frame is the N_Port's (ELS requests, ELS replies, CT replies) rather
    /// than the FC-4's (FCP, BLS and anything else).
    public static func handles(_ h: FrameHeader) -> Bool {
        switch (h.routing, h.type) {
        case (.elsReply, .els), (.solicitedControl, .ct), (.elsRequest, .els): true
        default: false
        }
    }

    private mutating func frame(_ h: FrameHeader, _ payload: [UInt8], now: FCInstant) -> [Action] {
        switch (h.routing, h.type) {
        case (.elsReply, .els), (.solicitedControl, .ct): replyArrived(h, payload, now: now)
        case (.elsRequest, .els): serve(h, payload, now: now)
        default: []
        }
    }

    private mutating func timerFired(_ id: MachineTimerID, now: FCInstant) -> [Action] {
        switch timers.fired(id) {
        case nil: []
        case .exchange(let oxid)?: exchangeTimedOut(oxid, now: now)
        case .quarantine(let oxid)?: quarantineEnded(oxid)
        case .fabricLoginRetry?: retryFabricLogin(now: now)
        case .reconnect?: reconnect()
        }
    }

    // MARK: - What the runtime and FC-4 may ask at any time

    public var linkState: NPortLinkState {
        switch state {
        case .offline: .offline
        case .connecting: .connecting
        case .linkDown: .linkDown
        case .loggingIn: .loggingIn
        case .online(let s): .online(s.portID)
        }
    }

    /// Our N_Port ID while online.
    public var portID: FCID? {
        if case .online(let s) = state { return s.portID }
        return nil
    }

    /// Whether the transport to the fabric is connected.
    var isConnected: Bool {
        switch state {
        case .offline, .connecting: false
        case .linkDown, .loggingIn, .online: true
        }
    }

    /// The remote ports logged in with PLOGI, by N_Port ID.
    public var remotePorts: [RemotePort] {
        guard case .online(let s) = state else { return [] }
        return s.remotes.values.sorted { $0.id < $1.id }
    }

    public func remotePort(_ id: FCID) -> RemotePort? {
        guard case .online(let s) = state else { return nil }
        return s.remotes[id]
    }

    /// How long an exchange this port originates may wait for its reply: 2 × R_A_TOV (FC-LS-3).
    public var exchangeTimeout: Duration { resourceAllocationTimeout * 2 }

    /// Client exchanges waiting for their reply.
    public var pendingExchanges: Int { client.pending.count }

    /// Timers the machine expects to fire (client exchanges, quarantines, retries).
    public var runningTimers: Int { timers.count }

    /// An OX_ID for an exchange the FC-4 originates (FCP commands): from the same pool as the
    /// N_Port's own, so the two never collide. Nil when every OX_ID is in use.
    public mutating func allocateExchangeID() -> UInt16? { client.ids.allocate() }

    /// Returns an OX_ID the FC-4 allocated.
    public mutating func releaseExchangeID(_ id: UInt16) { client.ids.release(id) }

    /// Applies `body` to the online state, if that is the state.
    mutating func modifyOnline(_ body: (inout OnlineState) -> Void) {
        guard case .online(var s) = state else { return }
        state = .offline            // keeps `s` uniquely referenced while it changes
        body(&s)
        state = .online(s)
    }

    mutating func startTimer(_ purpose: TimerPurpose, after delay: Duration, now: FCInstant) -> (MachineTimerID, Action) {
        let id = timers.start(purpose)
        return (id, .startTimer(id, deadline: now + delay))
    }
}
