import FCPort
import Foundation
import STMF
import Locking

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
}

/// An N_Port on the emulated fabric: link state, fabric login and name-server registration,
/// ELS/CT client exchanges with timeouts, and the N_Port side of PLOGI/PRLI/LOGO/PRLO/ADISC/
/// RSCN/ECHO/RTV/RLS. The FC-4 above it (target or initiator) gets FCP and BLS frames.
///
/// The link's reader thread delivers every frame; nothing here blocks it. Requests the port
/// originates run as Swift tasks.
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

        public init(portName: WWN, nodeName: WWN, features: FC4Features, symbolicName: String,
                    receiveDataFieldSize: Int = 2048, fabricPath: String, reconnect: Bool = true) {
            self.portName = portName
            self.nodeName = nodeName
            self.features = features
            self.symbolicName = symbolicName
            self.receiveDataFieldSize = receiveDataFieldSize
            self.fabricPath = fabricPath
            self.reconnect = reconnect
        }
    }

    public enum LinkState: Sendable, Equatable, CustomStringConvertible {
        case offline
        case connecting
        case linkDown
        case loggingIn
        case online(FCID)
        /// Logged in or logging in: the link is up.
        var isUp: Bool {
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

    struct Pending {
        var continuation: CheckedContinuation<(FrameHeader, [UInt8]), any Error>
    }

    struct State {
        var link: FrameLink?
        var linkState: LinkState = .offline
        var wantOnline = false
        var generation = 0
        var remotes: [FCID: RemotePort] = [:]
        var pending: [UInt16: Pending] = [:]
        var inUse = Set<UInt16>()
        var nextExchange: UInt16 = 1
        var errorDetectTimeout: Duration = .seconds(2)
        var resourceAllocationTimeout: Duration = .seconds(10)
        var fabricReceiveSize = 2048
        /// The link error status block RLS reports and `fcinfo hba-port -l` shows.
        var linkErrors = LinkErrorStatusBlock()
    }

    public let configuration: Configuration
    let handlers: Handlers
    let state = Locked(State())

    public init(configuration: Configuration, handlers: Handlers) {
        self.configuration = configuration
        self.handlers = handlers
    }

    // MARK: - Public state

    public var linkState: LinkState { state.withLock { $0.linkState } }
    public var portID: FCID? { if case .online(let id) = linkState { return id } else { return nil } }
    public var remotePorts: [RemotePort] { state.withLock { Array($0.remotes.values) }.sorted { $0.id < $1.id } }
    /// Link errors counted since this N_Port started: link failures (the link went down, or
    /// the fabric connection was lost, while it was up), loss of signal (the connection lost),
    /// primitive sequence protocol errors (a record stream the port could not parse) and
    /// invalid CRCs (frames received with a bad CRC). An emulated link has no transmission
    /// words or synchronization to lose, so those counters stay zero.
    public var linkErrorStatus: LinkErrorStatusBlock { state.withLock { $0.linkErrors } }
    public func remotePort(_ id: FCID) -> RemotePort? { state.withLock { $0.remotes[id] } }
    /// E_D_TOV and R_A_TOV as the fabric set them at login.
    public var timeouts: (errorDetect: Duration, resourceAllocation: Duration) {
        state.withLock { ($0.errorDetectTimeout, $0.resourceAllocationTimeout) }
    }
    /// How long an exchange this port originates may wait for its reply: 2 × R_A_TOV (FC-LS-3).
    public var exchangeTimeout: Duration { state.withLock { $0.resourceAllocationTimeout } * 2 }

    // MARK: - Bring up / down

    /// Connects to the fabric and logs in whenever the link is up, until `stop()`.
    public func start() {
        let go = state.withLock { s -> Bool in
            if s.wantOnline { return false }
            s.wantOnline = true
            return true
        }
        if go { connect() }
    }

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
        let (link, id) = state.withLock { s -> (FrameLink?, FCID?) in
            s.wantOnline = false
            if case .online(let id) = s.linkState { return (s.link, id) }
            return (s.link, nil)
        }
        if let id {
            _ = try? await request(.logo(LOGO(portID: id.rawValue, portName: configuration.portName)),
                                   to: .fabricLogin, timeout: .milliseconds(500))
        }
        link?.drain()
        link?.close()
        dropAll(newState: .offline)
    }

    private func connect() {
        let generation = state.withLock { s -> Int in
            s.linkState = .connecting
            s.generation += 1
            return s.generation
        }
        let link: FrameLink
        do {
            link = try FrameLink.connect(path: configuration.fabricPath)
        } catch {
            scheduleReconnect(generation)
            return
        }
        state.withLock { s in
            s.link = link
            s.linkState = .linkDown
        }
        link.start(onRecord: { [self] record, _ in
            switch record {
            case .primitive(let p): primitive(p, generation: generation)
            case .frame(let bytes): receive(bytes)
            }
        }, onClose: { [self] error in
            let again = state.withLock { s -> Bool in
                guard s.generation == generation else { return false }
                s.link = nil
                if error != nil { s.linkErrors.primitiveSequenceErrors &+= 1 }
                if s.wantOnline {
                    s.linkErrors.lossOfSignal &+= 1
                    if s.linkState.isUp { s.linkErrors.linkFailures &+= 1 }
                }
                return s.wantOnline
            }
            dropAll(newState: again ? .connecting : .offline)
            if again { scheduleReconnect(generation) }
        })
    }

    private func scheduleReconnect(_ generation: Int) {
        guard configuration.reconnect else {
            state.withLock { $0.linkState = .offline }
            return
        }
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(500))
            let again = state.withLock { s in s.wantOnline && s.generation == generation && s.link == nil }
            if again { connect() }
        }
    }

    /// Link state from the fabric: Idle = link up (log in), NOS/OLS/LR = link down.
    private func primitive(_ p: LinkPrimitive, generation: Int) {
        switch p {
        case .idle:
            let start = state.withLock { s -> Bool in
                guard s.generation == generation, s.wantOnline else { return false }
                if case .linkDown = s.linkState { s.linkState = .loggingIn; return true }
                return false
            }
            if start { Task { await fabricLogin(generation: generation) } }
        case .notOperational, .offline, .linkReset:
            state.withLock { s in if s.linkState.isUp { s.linkErrors.linkFailures &+= 1 } }
            dropAll(newState: .linkDown)
        }
    }

    /// Fails pending requests and forgets every remote login.
    private func dropAll(newState: LinkState) {
        let pending = state.withLock { s -> [Pending] in
            let p = Array(s.pending.values)
            s.pending.removeAll()
            s.inUse.removeAll()
            s.remotes.removeAll()
            // A port taken offline stays offline; anything else moves to the new state.
            if newState == .offline || s.linkState != .offline { s.linkState = newState }
            return p
        }
        for p in pending { p.continuation.resume(throwing: NPortError.linkDown) }
        handlers.linkLost()
    }

    /// FLOGI, then name-server login and registrations, then SCR; retried while the link is up.
    private func fabricLogin(generation: Int) async {
        var attempt = 0
        while state.withLock({ $0.generation == generation && $0.wantOnline && $0.linkState == .loggingIn }) {
            attempt += 1
            do {
                try await loginSequence()
                return
            } catch {
                if case .linkDown = error { return }
                try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
            }
        }
    }

    private func loginSequence() async throws(NPortError) {
        let sp = ServiceParameters.nPort(portName: configuration.portName, nodeName: configuration.nodeName,
                                         receiveDataFieldSize: UInt16(configuration.receiveDataFieldSize))
        let (h, payload) = try await exchange(ELSRequest.flogi(sp).encoded(), routing: .elsRequest, type: .els,
                                              to: .fabricLogin, from: .unassigned, timeout: .seconds(2))
        let fabric: ServiceParameters
        switch try decodeReply(payload, request: .flogi) {
        case .serviceParameters(let p): fabric = p
        default: throw .malformedReply("FLOGI LS_ACC without service parameters")
        }
        let myID = h.destination
        state.withLock { s in
            s.errorDetectTimeout = .milliseconds(Int(max(100, fabric.errorDetectTimeout)))
            s.resourceAllocationTimeout = .milliseconds(Int(max(200, fabric.word3)))
            s.fabricReceiveSize = Int(fabric.class3.receiveDataFieldSize)
        }
        _ = try await request(.plogi(sp), to: .nameServer, from: myID)
        _ = try await nameServer(.rftID(portID: myID.rawValue, types: .fcp), from: myID)
        _ = try await nameServer(.rffID(portID: myID.rawValue, features: configuration.features,
                                        type: ServiceParameterPage.fcpType), from: myID)
        _ = try await nameServer(.rspnID(portID: myID.rawValue, symbolicName: Array(configuration.symbolicName.utf8.prefix(255))),
                                 from: myID)
        _ = try await request(.scr(SCR(.full)), to: .fabricController, from: myID)
        let became = state.withLock { s -> Bool in
            guard s.linkState == .loggingIn else { return false }
            s.linkState = .online(myID)
            return true
        }
        if became { handlers.online(myID) }
    }

    // MARK: - Exchanges this port originates

    /// Allocates an OX_ID for an exchange this port originates (also used for FCP commands).
    public func allocateExchangeID() -> UInt16? {
        state.withLock { s in
            for _ in 0..<0xFFFE {
                let id = s.nextExchange
                s.nextExchange = s.nextExchange >= 0xFFFE ? 1 : s.nextExchange + 1
                if !s.inUse.contains(id) { s.inUse.insert(id); return id }
            }
            return nil
        }
    }

    /// Returns an OX_ID to the pool.
    public func releaseExchangeID(_ id: UInt16) { state.withLock { _ = $0.inUse.remove(id) } }

    /// Sends encoded frame-stream records on the link.
    public func send(records: UnsafeRawBufferPointer) { state.withLock { $0.link }?.send(records: records) }
    public func send(records: [UInt8]) { state.withLock { $0.link }?.send(records: records) }
    public func send(_ frame: FCFrame) { state.withLock { $0.link }?.send(frame) }

    /// One request/reply exchange: sends `payload` as a single-frame sequence and waits for the
    /// responder's reply on the same OX_ID.
    func exchange(_ payload: [UInt8], routing: RoutingControl, type: FrameType, to destination: FCID,
                  from source: FCID? = nil, timeout: Duration? = nil) async throws(NPortError) -> (FrameHeader, [UInt8]) {
        guard let link = state.withLock({ $0.link }) else { throw .linkDown }
        guard let src = source ?? portID else { throw .notOnline }
        guard let oxid = allocateExchangeID() else { throw .noExchangeIDs }
        let wait = timeout ?? exchangeTimeout
        let header = FrameHeader(routing: routing, destination: destination, source: src, type: type,
                                 control: .request, originatorExchangeID: oxid)
        do {
            return try await withCheckedThrowingContinuation { (c: CheckedContinuation<(FrameHeader, [UInt8]), any Error>) in
                state.withLock { $0.pending[oxid] = Pending(continuation: c) }
                link.send(FCFrame(header: header, payload: payload))
                Task { [self] in
                    try? await Task.sleep(for: wait)
                    let p = state.withLock { s -> Pending? in
                        guard let p = s.pending.removeValue(forKey: oxid) else { return nil }
                        return p
                    }
                    // The OX_ID stays reserved for R_A_TOV after a timeout (FC-LS-3 exchange reuse).
                    if let p {
                        p.continuation.resume(throwing: NPortError.timeout)
                        try? await Task.sleep(for: state.withLock { $0.resourceAllocationTimeout })
                        releaseExchangeID(oxid)
                    }
                }
            }
        } catch let e as NPortError {
            throw e
        } catch {
            throw .malformedReply("\(error)")
        }
    }

    private func decodeReply(_ payload: [UInt8], request: ELSCommandCode) throws(NPortError) -> ELSAccept {
        let reply: ELSReply
        do throws(ELSDecodeError) { reply = try ELSReply.decode(payload, request: request) } catch {
            throw .malformedReply(error.description)
        }
        switch reply {
        case .accept(let a): return a
        case .reject(let r): throw NPortError.rejected(r)
        }
    }

    /// Sends an ELS request and returns its LS_ACC (an LS_RJT throws `.rejected`).
    public func request(_ els: ELSRequest, to destination: FCID, from source: FCID? = nil,
                        timeout: Duration? = nil) async throws(NPortError) -> ELSAccept {
        let (_, payload) = try await exchange(els.encoded(), routing: .elsRequest, type: .els, to: destination,
                                              from: source, timeout: timeout)
        return try decodeReply(payload, request: els.command)
    }

    /// Sends a name-server request and returns its FS_ACC (an FS_RJT throws `.nameServerRejected`).
    public func nameServer(_ r: NameServerRequest, from source: FCID? = nil) async throws(NPortError) -> NameServerAccept {
        let (_, payload) = try await exchange(r.encoded(), routing: .unsolicitedControl, type: .ct, to: .nameServer,
                                              from: source)
        let reply: NameServerReply
        do throws(CTDecodeError) { reply = try NameServerReply.decode(payload, request: r.command) } catch {
            throw .malformedReply(error.description)
        }
        switch reply {
        case .accept(let a): return a
        case .reject(let j): throw NPortError.nameServerRejected(j)
        }
    }

    /// PLOGI then PRLI (FCP, with `fcp` as our parameters) to a remote N_Port.
    public func login(to id: FCID, fcp: FCPServiceParameters) async throws(NPortError) -> RemotePort {
        let sp = ServiceParameters.nPort(portName: configuration.portName, nodeName: configuration.nodeName,
                                         receiveDataFieldSize: UInt16(configuration.receiveDataFieldSize))
        guard case .serviceParameters(let theirs) = try await request(.plogi(sp), to: id) else {
            throw .malformedReply("PLOGI LS_ACC without service parameters")
        }
        var remote = RemotePort(id: id, portName: theirs.portName, nodeName: theirs.nodeName,
                                receiveDataFieldSize: Int(min(theirs.class3.receiveDataFieldSize, theirs.receiveDataFieldSize)),
                                fcp: nil)
        state.withLock { $0.remotes[id] = remote }
        guard case .prli(let acc) = try await request(.prli(ProcessLogin(fcp: fcp)), to: id),
              let page = acc.fcpPage else {
            throw .malformedReply("PRLI LS_ACC without an FCP page")
        }
        guard page.responseCode == .requestExecuted else {
            throw .rejected(LSReject(.unableToPerform))
        }
        remote.fcp = page.fcpParameters
        state.withLock { $0.remotes[id] = remote }
        return remote
    }

    /// LOGO to a remote port (ends PLOGI and PRLI).
    public func logout(from id: FCID) async {
        guard let me = portID else { return }
        _ = try? await request(.logo(LOGO(portID: me.rawValue, portName: configuration.portName)), to: id,
                               timeout: .seconds(1))
        state.withLock { _ = $0.remotes.removeValue(forKey: id) }
    }

    /// Forgets a remote port locally (implicit logout).
    public func forget(_ id: FCID) { state.withLock { _ = $0.remotes.removeValue(forKey: id) } }

    // MARK: - Receive path

    private func receive(_ bytes: UnsafeRawBufferPointer) {
        let v: (StartOfFrame, FrameHeader, Range<Int>, EndOfFrame)
        do throws(FrameError) { v = try FCFrame.validate(bytes) } catch {
            // Invalid frames are discarded; a bad CRC is counted for RLS.
            if case .badCRC = error { state.withLock { $0.linkErrors.invalidCRCs &+= 1 } }
            return
        }
        let h = v.1
        let payload = UnsafeRawBufferPointer(rebasing: bytes[v.2])
        switch (h.routing, h.type) {
        case (.elsReply, .els), (.solicitedControl, .ct):
            let p = state.withLock { $0.pending.removeValue(forKey: h.originatorExchangeID) }
            if let p {
                releaseExchangeID(h.originatorExchangeID)
                p.continuation.resume(returning: (h, Array(payload)))
            }
        case (.elsRequest, .els):
            serveELS(h, Array(payload))
        default:
            handlers.frame(h, payload)
        }
    }

    private func reply(_ h: FrameHeader, _ reply: ELSReply) {
        send(FCFrame(header: h.reply(routing: .elsReply, type: .els, responderExchangeID: 0xFFFF), payload: reply.encoded()))
    }

    private func serveELS(_ h: FrameHeader, _ payload: [UInt8]) {
        guard let me = portID, h.destination == me else { return }
        let request: ELSRequest
        do throws(ELSDecodeError) { request = try ELSRequest.decode(payload) } catch {
            reply(h, .reject(error.rejection))
            return
        }
        let known = state.withLock { $0.remotes[h.source] }
        switch request {
        case .plogi(let sp):
            guard sp.class3.isValid else {
                reply(h, .reject(LSReject(.unableToPerform, .serviceParameterOptions)))
                return
            }
            if let known { handlers.logout(known) }    // a new PLOGI implicitly logs the old one out
            let remote = RemotePort(id: h.source, portName: sp.portName, nodeName: sp.nodeName,
                                    receiveDataFieldSize: Int(min(sp.class3.receiveDataFieldSize, sp.receiveDataFieldSize)),
                                    fcp: nil)
            state.withLock { $0.remotes[h.source] = remote }
            let mine = ServiceParameters.nPort(portName: configuration.portName, nodeName: configuration.nodeName,
                                               receiveDataFieldSize: UInt16(configuration.receiveDataFieldSize))
            reply(h, .accept(.serviceParameters(mine)))
        case .rscn(let rscn):
            reply(h, .accept(.plain))
            handlers.stateChange(rscn.pages)
        case .echo(let data):
            reply(h, .accept(.echo(data)))
        case .rtv:
            let t = timeouts
            reply(h, .accept(.rtv(RTVAccept(resourceAllocationTimeout: UInt32(t.resourceAllocation.milliseconds),
                                            errorDetectTimeout: UInt32(t.errorDetect.milliseconds)))))
        case .rls:
            reply(h, .accept(.rls(linkErrorStatus)))
        case .adisc:
            guard known != nil else { reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired))); return }
            reply(h, .accept(.adisc(ADISC(portName: configuration.portName, nodeName: configuration.nodeName,
                                          portID: me.rawValue))))
        case .logo:
            reply(h, .accept(.plain))
            if let known {
                state.withLock { _ = $0.remotes.removeValue(forKey: h.source) }
                handlers.logout(known)
            }
        case .prli(let prli):
            guard var remote = known else {
                reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired)))
                return
            }
            guard let page = prli.fcpPage else {
                reply(h, .reject(LSReject(.unableToPerform, .requestNotSupported)))
                return
            }
            if remote.fcp != nil { handlers.logout(remote) }
            if let ours = handlers.processLogin(remote, page.fcpParameters) {
                remote.fcp = page.fcpParameters
                state.withLock { $0.remotes[h.source] = remote }
                reply(h, .accept(.prli(ProcessLogin(pages: [.fcp(ours, establishImagePair: page.establishImagePair,
                                                                 responseCode: .requestExecuted)]))))
            } else {
                reply(h, .reject(LSReject(.unableToPerform, .requestNotSupported)))
            }
        case .prlo:
            guard var remote = known else {
                reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired)))
                return
            }
            reply(h, .accept(.prlo(ProcessLogin(pages: [.fcp([], establishImagePair: false, responseCode: .requestExecuted)]))))
            if remote.fcp != nil {
                remote.fcp = nil
                state.withLock { $0.remotes[h.source] = remote }
                handlers.logout(remote)
            }
        case .flogi, .fdisc, .scr:
            reply(h, .reject(LSReject(.commandNotSupported)))
        }
    }
}

extension Duration {
    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let c = components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
