import FCLink
import FCPort
import Foundation
import STMF
import Locking

/// An emulated initiator HBA port on the emulated fabric: an `NPort` with the FCP initiator
/// function that discovers targets through the name server, logs in (PLOGI/PRLI) and runs
/// SCSI commands as FCP exchanges, with FC-style recovery: a command that does not complete
/// within its timeout is aborted with ABTS and its OX_ID kept out of use for R_A_TOV; link loss
/// fails every exchange at once; `executeWithRetry` retries like the Linux SCSI midlayer,
/// logging in to the target again by WWPN when needed.
public final class FCInitiator: Sendable {
    /// The WWPN `fcinit` uses unless told otherwise.
    public static let defaultPortName = WWN(0x2100_0024_FFFC_0001)
    /// Where the fabric listens unless told otherwise (`FabricAddress.defaultSocketPath`).
    public static var defaultFabricPath: String { FabricAddress.defaultSocketPath }

    /// What this initiator knows about a target it logged in to.
    struct TargetLogin: Sendable {
        var id: FCID
        /// RSCN count when the login (or last ADISC) was done.
        var rscnGeneration: Int
        /// Bumped on every (re)login, so concurrent retries re-login once.
        var epoch: Int
    }

    struct Notes: Sendable {
        var rscnGeneration = 0
        var rscnPages: [RSCNPage] = []
        var targets: [WWN: TargetLogin] = [:]
        var epoch = 0
    }

    public let nport: NPort
    let table: ExchangeTable
    /// Shared with the N_Port's handlers (RSCN).
    let state: LockedBox<Notes>
    let logins = LoginCoordinator()

    /// The FCP service parameters sent in PRLI.
    public static let processLoginParameters: FCPServiceParameters = [.initiatorFunction, .readXferRdyDisabled]

    public init(portName: WWN = FCInitiator.defaultPortName, nodeName: WWN? = nil,
                fabricPath: String = FabricAddress.defaultSocketPath, symbolicName: String? = nil,
                receiveDataFieldSize: Int = 2048, reconnect: Bool = true) {
        let table = ExchangeTable()
        let notes = LockedBox(Notes())
        var handlers = NPort.Handlers()
        handlers.online = { _ in table.online() }
        handlers.frame = { h, p in table.receive(h, p) }
        handlers.linkLost = { table.linkLost() }
        handlers.logout = { remote in table.remoteLoggedOut(remote.id) }
        handlers.stateChange = { pages in
            notes.withLock { n in
                n.rscnGeneration += 1
                n.rscnPages.append(contentsOf: pages)
                if n.rscnPages.count > 256 { n.rscnPages.removeFirst(n.rscnPages.count - 256) }
            }
        }
        handlers.processLogin = { _, _ in nil }   // an initiator offers no target function
        let node = nodeName ?? WWN(portName.rawValue ^ 0x0100_0000_0000_0000)
        nport = NPort(configuration: .init(portName: portName, nodeName: node, features: .initiator,
                                           symbolicName: symbolicName ?? "fcinit \(portName.colonSeparated)",
                                           receiveDataFieldSize: receiveDataFieldSize, fabricPath: fabricPath,
                                           reconnect: reconnect),
                      handlers: handlers)
        table.attach(nport)
        self.table = table
        state = notes
    }

    public var portName: WWN { nport.configuration.portName }
    public var portID: FCID? { nport.portID }
    /// Exchanges in the table (active, aborting or quarantined).
    public var exchangeCount: Int { table.count }
    /// RSCNs received so far, and their pages (the most recent 256).
    public var stateChanges: (count: Int, pages: [RSCNPage]) { state.withLock { ($0.rscnGeneration, $0.rscnPages) } }

    // MARK: - Bring up / down

    /// Checks that something listens at the fabric path (a clear error before `start`).
    public static func checkFabric(_ path: String) throws(SocketError) {
        let fd = try UnixSocket.connect(path)
        close(fd)
    }

    /// Connects to the fabric and logs in (again after every link loss) until `stop()`.
    public func start() { nport.start() }

    /// Waits until the port is logged in to the fabric; returns its N_Port ID.
    @discardableResult
    public func waitOnline(timeout: Duration = .seconds(10)) async throws(InitiatorError) -> FCID {
        do { return try await nport.waitOnline(timeout: timeout) } catch { throw .notOnline }
    }

    /// Logs out of the targets and the fabric; commands in flight fail with `.linkDown`.
    public func stop() async {
        let targets = state.withLock { n -> [FCID] in
            defer { n.targets.removeAll() }
            return n.targets.values.map(\.id)
        }
        for id in targets where nport.remotePort(id) != nil { await nport.logout(from: id) }
        await nport.stop()
    }

    // MARK: - Logins

    /// PLOGI + PRLI to the port at `id`; remembers it by WWPN for `executeWithRetry`.
    @discardableResult
    public func login(id: FCID) async throws(InitiatorError) -> RemotePort {
        guard nport.portID != nil else { throw .notOnline }
        let generation = state.withLock { $0.rscnGeneration }
        let remote: RemotePort
        do { remote = try await nport.login(to: id, fcp: Self.processLoginParameters) } catch {
            nport.forget(id)
            switch error {
            case .rejected(let r): throw .loginFailed("LS_RJT \(r)")
            case .timeout: throw .loginFailed("no answer to PLOGI/PRLI")
            default: throw InitiatorError(error)
            }
        }
        state.withLock { n in
            n.epoch += 1
            n.targets[remote.portName] = TargetLogin(id: id, rscnGeneration: generation, epoch: n.epoch)
        }
        return remote
    }

    /// Finds the target port named `wwpn` (GID_PN) and logs in to it.
    @discardableResult
    public func login(to wwpn: WWN) async throws(InitiatorError) -> FCID {
        let id = try await lookUp(wwpn)
        try await login(id: id)
        return id
    }

    /// The N_Port ID of `wwpn` from the name server.
    public func lookUp(_ wwpn: WWN) async throws(InitiatorError) -> FCID {
        guard nport.portID != nil else { throw .notOnline }
        do {
            guard case .portID(let raw) = try await nport.nameServer(.gidPN(portName: wwpn)) else {
                throw InitiatorError.fabric("GID_PN reply without a port ID")
            }
            return FCID(raw)
        } catch let e as InitiatorError {
            throw e
        } catch let e as NPortError {
            if case .nameServerRejected = e { throw .targetNotFound(wwpn) }
            throw InitiatorError(e)
        } catch {
            throw .fabric("\(error)")
        }
    }

    /// The current login to `wwpn`, logging in (or checking with ADISC) when there is none or
    /// when `staleEpoch` is the login a failed command used and nobody has logged in since.
    func currentLogin(_ wwpn: WWN, staleEpoch: Int?) async throws(InitiatorError) -> TargetLogin {
        if let t = valid(wwpn, staleEpoch: staleEpoch) { return t }
        let result = await logins.run(wwpn) { [self] () async -> Result<TargetLogin, InitiatorError> in
            if let t = valid(wwpn, staleEpoch: staleEpoch) { return .success(t) }
            do throws(InitiatorError) { return .success(try await revalidate(wwpn)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func valid(_ wwpn: WWN, staleEpoch: Int?) -> TargetLogin? {
        guard let t = state.withLock({ $0.targets[wwpn] }), t.epoch != staleEpoch,
              nport.remotePort(t.id)?.fcp != nil else { return nil }
        return t
    }

    /// GID_PN; if the login at that N_Port ID still stands, ADISC confirms it (the target kept
    /// our session); otherwise PLOGI/PRLI again.
    private func revalidate(_ wwpn: WWN) async throws(InitiatorError) -> TargetLogin {
        if nport.portID == nil { _ = try? await nport.waitOnline(timeout: nport.timeouts.resourceAllocation * 3) }
        let id = try await lookUp(wwpn)
        let generation = state.withLock { $0.rscnGeneration }
        if let me = nport.portID, let t = state.withLock({ $0.targets[wwpn] }), t.id == id,
           nport.remotePort(id)?.fcp != nil {
            let adisc = ADISC(portName: nport.configuration.portName, nodeName: nport.configuration.nodeName,
                              portID: me.rawValue)
            if case .adisc(let theirs)? = try? await nport.request(.adisc(adisc), to: id), theirs.portName == wwpn {
                return state.withLock { n in
                    n.epoch += 1
                    let fresh = TargetLogin(id: id, rscnGeneration: generation, epoch: n.epoch)
                    n.targets[wwpn] = fresh
                    return fresh
                }
            }
        }
        try await login(id: id)
        guard let t = state.withLock({ $0.targets[wwpn] }) else { throw .notLoggedIn(id) }
        return t
    }

    // MARK: - Commands

    /// Runs one command as one FCP exchange with the logged-in target at `target`.
    public func execute(_ request: SCSIRequest, target: FCID) async throws(InitiatorError) -> SCSIResult {
        guard request.lun < 0x4000 else { throw .transport("LUN \(request.lun) cannot be addressed") }
        let command = FCPCommand(lun: LUNAddress.field(for: request.lun), cdb: request.cdb, direction: request.direction,
                                 dataLength: UInt32(request.dataLength), taskAttribute: request.taskAttribute)
        return try await run(command, request: request, target: target)
    }

    /// Sends a task management request (FCP_CMND with a task management flag) for `lun` and
    /// returns the FCP_RSP (its `responseCode` is the outcome).
    public func taskManagement(_ flag: FCPTaskManagementFlag, lun: UInt16, target: FCID,
                               timeout: Duration? = nil) async throws(InitiatorError) -> SCSIResult {
        let command = FCPCommand(lun: LUNAddress.field(for: lun), taskManagement: flag)
        return try await run(command, request: SCSIRequest(lun: lun, cdb: [], timeout: timeout), target: target)
    }

    private func run(_ command: FCPCommand, request: SCSIRequest, target: FCID) async throws(InitiatorError) -> SCSIResult {
        let exchange = try prepare(command, request: request, target: target)
        let result = await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
            table.start(exchange.command, generation: exchange.generation, waiter: .continuation(c))
        }
        return try result.get()
    }

    /// The exchange for a command: the login checked, an OX_ID taken.
    private func prepare(_ command: FCPCommand, request: SCSIRequest, target: FCID) throws(InitiatorError)
        -> (command: InitiatorExchangeMachine.Command, generation: Int) {
        guard let me = nport.portID else { throw .notOnline }
        guard let remote = nport.remotePort(target), remote.fcp != nil else { throw .notLoggedIn(target) }
        let generation = table.generation
        guard let oxid = nport.allocateExchangeID() else { throw .noExchangeIDs }
        return (InitiatorExchangeMachine.Command(
            oxid: oxid, source: me, target: target, command: command, dataOut: request.dataOut,
            maximumPayload: remote.receiveDataFieldSize, timeout: request.timeout ?? nport.exchangeTimeout, tag: request.tag),
                generation)
    }

    /// Runs one command and calls `completion` with its outcome where it ends: on the port's
    /// event loop for a command the target answers (no task, no continuation, no thread hop),
    /// at once for one that cannot start. The run-to-completion path of `fcinit bench`; call it
    /// on `nport.loop` so its frames join the loop's turn.
    public func submit(_ request: SCSIRequest, target: FCID,
                       completion: @escaping @Sendable (Result<SCSIResult, InitiatorError>) -> Void) {
        guard request.lun < 0x4000 else { return completion(.failure(.transport("LUN \(request.lun) cannot be addressed"))) }
        let command = FCPCommand(lun: LUNAddress.field(for: request.lun), cdb: request.cdb, direction: request.direction,
                                 dataLength: UInt32(request.dataLength), taskAttribute: request.taskAttribute)
        do throws(InitiatorError) {
            let exchange = try prepare(command, request: request, target: target)
            table.start(exchange.command, generation: exchange.generation, waiter: .callback(completion))
        } catch {
            completion(.failure(error))
        }
    }

    /// Runs `request` on the target port named `wwpn`, retrying (up to `retries` times) a
    /// command that timed out, lost its link or login, or lost data, as the Linux SCSI midlayer
    /// does: after link loss it waits for the fabric login, then logs in to the target again
    /// (GID_PN, ADISC or PLOGI/PRLI). BUSY and TASK SET FULL are retried after a short wait, and
    /// UNIT ATTENTION when `retryUnitAttention` is set (as the midlayer does for disks).
    ///
    /// With `devLossTimeout`, losing the target (its link down, gone from the name server, the
    /// login lost) is not counted as a retry: the command waits for the target to return for up
    /// to that long from when it went away, as the Linux FC transport holds I/O on a blocked
    /// remote port until dev_loss_tmo, and fails only then.
    public func executeWithRetry(_ request: SCSIRequest, target wwpn: WWN, retries: Int = 5,
                                 retryUnitAttention: Bool = true,
                                 devLossTimeout: Duration? = nil) async throws(InitiatorError) -> SCSIResult {
        var failures = 0
        var unitAttentions = 0
        var staleEpoch: Int?
        var lostSince: ContinuousClock.Instant?
        /// Whether an outage of the target may still be waited out (and notes when it began).
        func withinDevLoss() -> Bool {
            guard let devLossTimeout else { return false }
            let since = lostSince ?? .now
            lostSince = since
            return ContinuousClock.now - since < devLossTimeout
        }
        while true {
            let login: TargetLogin
            do {
                login = try await currentLogin(wwpn, staleEpoch: staleEpoch)
            } catch {
                // The target may be away for a while (its link is down, it is not in the name
                // server yet): keep trying, as the FC transport does until dev_loss_tmo.
                let transient = switch error {
                case .targetNotFound, .loginFailed: true
                default: error.isRetryable
                }
                guard transient else { throw error }
                if withinDevLoss() {
                    await backoff(6)
                    continue
                }
                guard failures < retries else { throw error }
                failures += 1
                await backoff(failures)
                continue
            }
            staleEpoch = nil
            lostSince = nil
            do {
                let r = try await execute(request, target: login.id)
                if (r.status == .busy || r.status == .taskSetFull) && failures < retries {
                    failures += 1
                    await backoff(failures)
                    continue
                }
                if retryUnitAttention && r.isUnitAttention && unitAttentions < 16 {
                    unitAttentions += 1
                    continue
                }
                return r
            } catch {
                let outage = switch error {
                case .linkDown, .notOnline, .notLoggedIn: true
                default: false
                }
                guard error.isRetryable, (outage && withinDevLoss()) || failures < retries else { throw error }
                if !(outage && devLossTimeout != nil) { failures += 1 }
                switch error {
                case .linkDown, .notOnline:
                    _ = try? await nport.waitOnline(timeout: nport.timeouts.resourceAllocation * 3)
                    staleEpoch = login.epoch
                case .notLoggedIn:
                    staleEpoch = login.epoch
                case .timeout:
                    // A fabric change since the login (RSCN) or repeated timeouts: check the login.
                    let changed = state.withLock { $0.rscnGeneration } != login.rscnGeneration
                    if changed || failures >= 2 { staleEpoch = login.epoch }
                default:
                    break
                }
            }
        }
    }

    private func backoff(_ n: Int) async {
        try? await Task.sleep(for: .milliseconds(min(1000, 10 << min(n, 6))))
    }

    /// Aborts (ABTS) the in-flight command whose request carried `tag`; it then fails with
    /// `.aborted`. Returns whether such a command was in flight.
    @discardableResult
    public func abort(tag: UInt64) -> Bool {
        table.abort(.tag(tag)) > 0
    }

    /// Aborts every in-flight command to `target` (all targets when nil); returns how many.
    @discardableResult
    public func abortAll(target: FCID? = nil) -> Int {
        table.abort(.target(target))
    }

    /// The N_Port ID this initiator last logged in to for `wwpn`.
    public func loggedInID(_ wwpn: WWN) -> FCID? { state.withLock { $0.targets[wwpn]?.id } }
}

/// Runs one (re)login per target at a time; concurrent callers share its outcome.
actor LoginCoordinator {
    private var inFlight: [WWN: Task<Result<FCInitiator.TargetLogin, InitiatorError>, Never>] = [:]

    func run(_ wwpn: WWN, _ body: @escaping @Sendable () async -> Result<FCInitiator.TargetLogin, InitiatorError>)
        async -> Result<FCInitiator.TargetLogin, InitiatorError> {
        if let t = inFlight[wwpn] { return await t.value }
        let t = Task { await body() }
        inFlight[wwpn] = t
        let r = await t.value
        inFlight[wwpn] = nil
        return r
    }
}

/// A mutex in a class, so closures and objects can share it.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Locked<Value>
    init(_ value: Value) { mutex = Locked(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
