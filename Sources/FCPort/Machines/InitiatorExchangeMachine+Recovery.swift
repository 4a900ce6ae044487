/// Timeouts, aborts, logouts and link loss.
extension InitiatorExchangeMachine {
    /// An exchange's timer: an active one is aborted (ABTS, failing with `.timeout`), an
    /// unanswered ABTS gives up after R_A_TOV, a quarantined OX_ID is released.
    mutating func timerFired(_ id: MachineTimerID, now: FCInstant) -> [Action] {
        guard let oxid = timers.fired(id), let phase = exchanges[oxid]?.phase else { return [] }
        switch phase {
        case .active:
            return abortExchange(oxid, reason: .timeout, now: now)
        case .aborting(let reason):
            return quarantine(oxid, reporting: reason, now: now)
        case .quarantined:
            exchanges[oxid] = nil
            return [.releaseExchangeID(oxid)]
        }
    }

    /// ABTS for every active exchange `selection` names (in OX_ID order).
    mutating func abort(_ selection: Selection, reason: Failure, now: FCInstant) -> [Action] {
        var actions: [Action] = []
        for oxid in exchanges.keys.sorted() {
            guard let ex = exchanges[oxid], ex.phase == .active, ex.matches(selection) else { continue }
            actions += abortExchange(oxid, reason: reason, now: now)
        }
        return actions
    }

    /// Fails at once the exchanges `match` selects (the target logged us out).
    mutating func fail(_ error: Failure, now: FCInstant, where match: (InitiatorExchange) -> Bool) -> [Action] {
        var actions: [Action] = []
        for oxid in exchanges.keys.sorted() where match(exchanges[oxid]!) {
            actions += quarantine(oxid, reporting: error, now: now)
        }
        return actions
    }

    /// The link went down: every exchange is gone (the N_Port freed every OX_ID); those not
    /// yet reported fail with `.linkDown`.
    mutating func linkLost() -> [Action] {
        linkEpoch += 1
        var actions = timers.removeAll().map { Action.cancelTimer($0) }
        for oxid in exchanges.keys.sorted() where !exchanges[oxid]!.reported {
            actions.append(.completed(oxid: oxid, .failure(.linkDown)))
        }
        exchanges.removeAll()
        return actions
    }

    /// ABTS: the exchange waits R_A_TOV for BA_ACC/BA_RJT, then fails with `reason` either way.
    private mutating func abortExchange(_ oxid: UInt16, reason: Failure, now: FCInstant) -> [Action] {
        guard var ex = exchanges.removeValue(forKey: oxid) else { return [] }
        ex.phase = .aborting(reason)
        let actions = [.send(ex.abts)] + retime(&ex, deadline: now + resourceAllocationTimeout)
        exchanges[oxid] = ex
        return actions
    }

    /// Ends an exchange without a clean end: the command fails with `failure` unless it was
    /// reported already, and its OX_ID stays unused for R_A_TOV.
    mutating func quarantine(_ oxid: UInt16, reporting failure: Failure, now: FCInstant) -> [Action] {
        guard var ex = exchanges.removeValue(forKey: oxid) else { return [] }
        let report: [Action] = ex.reported ? [] : [.completed(oxid: oxid, .failure(failure))]
        ex.phase = .quarantined
        let actions = retime(&ex, deadline: now + resourceAllocationTimeout)
        exchanges[oxid] = ex
        return actions + report
    }
}
