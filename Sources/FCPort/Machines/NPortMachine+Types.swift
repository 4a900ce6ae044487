import STMF

/// Why an N_Port request failed.
public enum NPortError: Error, Sendable, Equatable, CustomStringConvertible {
    case notOnline
    case linkDown
    case timeout
    case rejected(LSReject)
    case nameServerRejected(CTReject)
    case malformedReply(String)
    case noExchangeIDs

    public var description: String {
        switch self {
        case .notOnline: "the port is not logged in to the fabric"
        case .linkDown: "the link went down"
        case .timeout: "no reply within the timeout"
        case .rejected(let r): "LS_RJT \(r)"
        case .nameServerRejected(let r): "name server FS_RJT \(r)"
        case .malformedReply(let m): "malformed reply: \(m)"
        case .noExchangeIDs: "no free exchange ids"
        }
    }
}

/// A logged-in remote N_Port as this port knows it.
public struct RemotePort: Sendable, Equatable {
    public var id: FCID
    public var portName: WWN
    public var nodeName: WWN
    /// The largest data field the remote port accepts (from its PLOGI).
    public var receiveDataFieldSize: Int
    /// FCP service parameters once a process login (PRLI) is established.
    public var fcp: FCPServiceParameters?

    public init(id: FCID, portName: WWN, nodeName: WWN, receiveDataFieldSize: Int, fcp: FCPServiceParameters? = nil) {
        self.id = id
        self.portName = portName
        self.nodeName = nodeName
        self.receiveDataFieldSize = receiveDataFieldSize
        self.fcp = fcp
    }

    /// The remote port as its PLOGI (or PLOGI LS_ACC) service parameters describe it.
    init(id: FCID, _ sp: ServiceParameters) {
        self.init(id: id, portName: sp.portName, nodeName: sp.nodeName,
                  receiveDataFieldSize: Int(min(sp.class3.receiveDataFieldSize, sp.receiveDataFieldSize)))
    }
}

/// Where an N_Port is, from not wanting to be online to logged in to the fabric.
public enum NPortLinkState: Sendable, Equatable, CustomStringConvertible {
    /// Not started, stopped, or given up on an unreachable fabric.
    case offline
    /// Started; the transport to the fabric is not connected (yet, or any more).
    case connecting
    /// Connected; the link is down (no Idle yet, or NOS/OLS/LR).
    case linkDown
    /// The link is up: FLOGI, name server registration and SCR are under way.
    case loggingIn
    /// Logged in to the fabric with this N_Port ID.
    case online(FCID)

    /// Logged in or logging in: the link is up.
    public var isUp: Bool {
        switch self {
        case .online, .loggingIn: true
        case .offline, .connecting, .linkDown: false
        }
    }

    public var description: String {
        switch self {
        case .offline: "offline"
        case .connecting: "connecting"
        case .linkDown: "link down"
        case .loggingIn: "logging in"
        case .online(let id): "online \(id)"
        }
    }
}

extension NPortMachine {
    /// The FC-4's name for one of its requests, echoed in `requestCompleted`.
    public struct RequestID: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public var description: String { "request \(rawValue)" }
    }

    /// What the FC-4 above asks of the N_Port.
    public enum Request: Sendable, Equatable {
        /// An ELS request/reply exchange: LS_ACC completes it with `.els`, LS_RJT fails it
        /// with `.rejected`. `source` overrides our N_Port ID (then the port need only be
        /// connected); `timeout` defaults to 2 × R_A_TOV.
        case els(ELSRequest, to: FCID, from: FCID? = nil, timeout: Duration? = nil)
        /// A name server request: FS_ACC completes it with `.nameServer`, FS_RJT fails it with
        /// `.nameServerRejected`.
        case nameServer(NameServerRequest, from: FCID? = nil)
        /// PLOGI then PRLI (FCP, with these parameters as ours): completes with `.loggedIn`.
        case login(FCID, fcp: FCPServiceParameters)
        /// LOGO to a remote port (1 s to answer); its login is forgotten whatever the answer.
        case logout(FCID)
    }

    /// How a request completed.
    public enum Reply: Sendable, Equatable {
        case els(ELSAccept)
        case nameServer(NameServerAccept)
        case loggedIn(RemotePort)
        case loggedOut
    }

    /// A PRLI from a remote port, waiting for the FC-4's answer (`Event.processLoginAnswer`).
    public struct ProcessLoginRequest: Sendable, Equatable {
        /// Names this PRLI in the answer.
        public var token: UInt64
        public var remote: RemotePort
        /// The remote port's FCP service parameters.
        public var parameters: FCPServiceParameters
    }

    /// An event for the machine. Each comes with `now` (see `handle(_:at:)`).
    public enum Event: Sendable, Equatable {
        /// The FC-4 wants the port online (connect, then log in whenever the link is up).
        case start
        /// The FC-4 takes the port offline: LOGO to the fabric when online (500 ms to answer),
        /// then `disconnect`; every remote login ends.
        case stop
        /// The transport to the fabric connected (the link is down until Idle).
        case connected
        /// Connecting to the fabric failed.
        case connectionFailed
        /// The transport went away; `protocolError` when its byte stream was violated.
        case connectionLost(protocolError: Bool)
        /// A primitive sequence: Idle = link up, NOS/OLS/LR = link down.
        case primitive(LinkPrimitive)
        /// A received frame for which `NPortMachine.handles` is true (ELS, ELS reply, CT reply).
        case frame(FrameHeader, [UInt8])
        /// A frame that failed validation (a bad CRC counts in the link error status).
        case invalidFrame(FrameError)
        case timerFired(MachineTimerID)
        case request(RequestID, Request)
        /// The FC-4's answer to `processLoginRequested`: our FCP parameters to accept, nil to refuse.
        case processLoginAnswer(token: UInt64, FCPServiceParameters?)
        /// Forget a remote port's login locally (implicit logout; nothing is sent).
        case forget(FCID)
    }

    /// What the runtime does, in order, after an event.
    public enum Action: Sendable, Equatable {
        /// Connect to the fabric; report `connected` or `connectionFailed`.
        case connect
        /// Close the connection (after sending what is queued).
        case disconnect
        case send(FCFrame)
        /// Fire `timerFired(id)` at `deadline` unless cancelled first.
        case startTimer(MachineTimerID, deadline: FCInstant)
        case cancelTimer(MachineTimerID)
        /// Fabric login and registrations completed at this N_Port ID.
        case online(FCID)
        /// The link went down or the fabric went away: every remote login is gone.
        case linkLost
        /// A remote port logged in with PLOGI (theirs or ours).
        case remoteLoggedIn(RemotePort)
        /// A remote port's login or process login ended (PRLO, LOGO, a new PLOGI or PRLI).
        case remoteLoggedOut(RemotePort)
        /// A remote port asks for a process login: answer with `processLoginAnswer`.
        case processLoginRequested(ProcessLoginRequest)
        /// RSCN: these ports (or areas, domains) changed.
        case stateChange([RSCNPage])
        case requestCompleted(RequestID, Result<Reply, NPortError>)
    }
}
