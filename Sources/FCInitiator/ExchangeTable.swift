import FCLink
import FCPort
import STMF
import Locking

typealias Outcome = Result<SCSIResult, InitiatorError>

/// The FCP exchanges in flight: the shell that runs `InitiatorExchangeMachine` for
/// `FCInitiator`. The link's reader thread calls `receive`; submitters call `start`; timers
/// fire from `MachineTimers`. Each caller waits on a continuation keyed by its OX_ID.
final class ExchangeTable: @unchecked Sendable {
    /// Who waits for a command: an async caller, or a callback run where the command ends (the
    /// link's loop, for a command that completes by a frame).
    enum Waiter {
        case continuation(CheckedContinuation<Outcome, Never>)
        case callback(@Sendable (Outcome) -> Void)

        func resume(_ o: Outcome) {
            switch self {
            case .continuation(let c): c.resume(returning: o)
            case .callback(let f): f(o)
            }
        }
    }

    struct State {
        var machine = InitiatorExchangeMachine()
        var waiting: [UInt16: Waiter] = [:]
    }

    /// Set once, before the N_Port starts.
    private(set) var nport: NPort!
    let state = Locked(State())
    /// The command timers, on the N_Port's loop (so a command that times out ends on the same
    /// thread as one the target answers). Set once with `attach`.
    private(set) var timers: MachineTimers!

    init() {}

    func attach(_ nport: NPort) {
        self.nport = nport
        timers = MachineTimers(loop: nport.loop)
        timers.onFire { [weak self] ids in
            for id in ids { self?.handle(.timerFired(id)) }
        }
    }

    /// Changes each time the link is lost; a command started with an older value fails.
    var generation: Int { state.withLock { $0.machine.linkEpoch } }
    /// Exchanges held: active, aborting or quarantined.
    var count: Int { state.withLock { $0.machine.count } }

    /// The port logged in to the fabric, which set R_A_TOV.
    func online() {
        let ratov = nport.timeouts.resourceAllocation
        state.withLock { $0.machine.resourceAllocationTimeout = ratov }
    }

    /// Sends `command`; `waiter` gets its outcome when it ends.
    func start(_ command: InitiatorExchangeMachine.Command, generation: Int, waiter: Waiter) {
        let started = state.withLock { s -> Bool in
            guard s.waiting[command.oxid] == nil else { return false }
            s.waiting[command.oxid] = waiter
            return true
        }
        guard started else { return waiter.resume(.failure(.linkDown)) }
        handle(.start(command, linkEpoch: generation))
    }

    func receive(_ h: FrameHeader, _ payload: UnsafeRawBufferPointer) { handle(.frame(h, payload)) }

    /// Aborts (ABTS) the active exchanges `selection` names; returns how many.
    @discardableResult
    func abort(_ selection: InitiatorExchangeMachine.Selection) -> Int {
        handle(.abort(selection, reason: .aborted)) { $0.activeExchanges(selection) }
    }

    /// The target logged us out: its commands fail at once.
    func remoteLoggedOut(_ id: FCID) { handle(.remoteLoggedOut(id)) }

    /// The link went down: every exchange is gone (the N_Port freed every OX_ID).
    func linkLost() { handle(.linkLost) }

    // MARK: - The machine's events and actions

    /// Feeds `event` to the machine and performs what it asks; `before` reads the machine
    /// under the same lock, just before the event.
    @discardableResult
    private func handle<R>(_ event: InitiatorExchangeMachine.Event,
                           before: (InitiatorExchangeMachine) -> R = { _ in () }) -> R {
        let (value, actions, done) = state.withLock { s in
            let value = before(s.machine)
            let actions = s.machine.handle(event, at: timers.now)
            var done: [(Waiter, Outcome)] = []
            for case .completed(let oxid, let result) in actions {
                if let c = s.waiting.removeValue(forKey: oxid) { done.append((c, Self.outcome(result))) }
            }
            return (value, actions, done)
        }
        for action in actions {
            switch action {
            case .send(let frame):
                nport.send(frame)
            case .sendSequence(let header, let data, let offset, let maximumPayload):
                // Encoded and handed to the link 64 frames (128 KiB) at a time, so a long
                // sequence is on its way while the rest is encoded.
                var records: [UInt8] = []
                let splitter = SequenceSplitter(maximumPayload: maximumPayload)
                data.withUnsafeBytes { p in
                    let frames = splitter.frameCount(p.count)
                    var first = 0
                    while first < frames {
                        let piece = first..<min(frames, first + 64)
                        splitter.encode(header: header, data: p, relativeOffset: offset, frames: piece, into: &records, records: true)
                        nport.send(records: records)
                        records.removeAll(keepingCapacity: true)
                        first = piece.upperBound
                    }
                }
            case .startTimer(let id, let deadline): timers.start(id, deadline: deadline)
            case .cancelTimer(let id): timers.cancel(id)
            case .releaseExchangeID(let oxid): nport.releaseExchangeID(oxid)
            case .completed: break
            }
        }
        for (w, outcome) in done { w.resume(outcome) }
        return value
    }

    static func outcome(_ result: Result<InitiatorExchangeMachine.Completion, InitiatorExchangeMachine.Failure>) -> Outcome {
        switch result {
        case .success(let c):
            .success(SCSIResult(status: c.response.status, data: c.data, residual: c.response.residual,
                                sense: c.response.sense, responseCode: c.response.responseCode))
        case .failure(let f):
            .failure(InitiatorError(f))
        }
    }
}
