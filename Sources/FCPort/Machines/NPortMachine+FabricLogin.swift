/// Fabric login: FLOGI, PLOGI to the name server, RFT_ID (FCP), RFF_ID (our FC-4 features),
/// RSPN_ID (symbolic name) and SCR (full registration), retried from FLOGI with a growing
/// backoff (100 ms per attempt, at most 2 s) for as long as the link stays up.
extension NPortMachine {
    mutating func beginFabricLogin(attempt: Int, now: FCInstant) -> [Action] {
        var s = FabricLoginState()
        s.attempt = attempt
        return send(.flogi, s, now: now)
    }

    /// Sends the request of `step` (or backs off when it cannot be sent).
    private mutating func send(_ step: FabricLoginState.Step, _ s: FabricLoginState, now: FCInstant) -> [Action] {
        var s = s
        s.step = step
        state = .loggingIn(s)
        let me = s.portID
        let result: Result<[Action], NPortError>
        switch step {
        case .flogi:
            result = originate(.flogi(configuration.serviceParameters), to: .fabricLogin, from: .unassigned,
                               timeout: configuration.fabricLoginTimeout, purpose: .fabricLogin, now: now)
        case .nameServerLogin:
            result = originate(.plogi(configuration.serviceParameters), to: .nameServer, from: me,
                               timeout: exchangeTimeout, purpose: .fabricLogin, now: now)
        case .registerTypes:
            result = originate(.rftID(portID: me.rawValue, types: .fcp), from: me, purpose: .fabricLogin, now: now)
        case .registerFeatures:
            result = originate(.rffID(portID: me.rawValue, features: configuration.features, type: ServiceParameterPage.fcpType),
                               from: me, purpose: .fabricLogin, now: now)
        case .registerSymbolicName:
            result = originate(.rspnID(portID: me.rawValue, symbolicName: Array(configuration.symbolicName.utf8.prefix(255))),
                               from: me, purpose: .fabricLogin, now: now)
        case .stateChangeRegistration:
            result = originate(.scr(SCR(.full)), to: .fabricController, from: me, timeout: exchangeTimeout,
                               purpose: .fabricLogin, now: now)
        case .backoff:
            return []
        }
        switch result {
        case .success(let actions): return actions
        case .failure: return backOff(s, now: now)
        }
    }

    /// The reply (or failure) of the current step: on to the next, online after SCR, or back off.
    mutating func fabricLoginStepEnded(_ result: Result<ClientReply, NPortError>, header: FrameHeader?,
                                       now: FCInstant) -> [Action] {
        guard case .loggingIn(var s) = state else { return [] }
        guard case .success(let reply) = result else { return backOff(s, now: now) }
        let next: FabricLoginState.Step
        switch s.step {
        case .flogi:
            guard case .els(.serviceParameters(let fabric)) = reply, let header else { return backOff(s, now: now) }
            errorDetectTimeout = .milliseconds(Int(max(100, fabric.errorDetectTimeout)))
            resourceAllocationTimeout = .milliseconds(Int(max(200, fabric.resourceAllocationTimeout)))
            fabricReceiveSize = Int(fabric.class3.receiveDataFieldSize)
            s.portID = header.destination      // FLOGI's LS_ACC comes to the address it assigns
            next = .nameServerLogin
        case .nameServerLogin: next = .registerTypes
        case .registerTypes: next = .registerFeatures
        case .registerFeatures: next = .registerSymbolicName
        case .registerSymbolicName: next = .stateChangeRegistration
        case .stateChangeRegistration:
            state = .online(OnlineState(portID: s.portID))
            return [.online(s.portID)]
        case .backoff:
            return []
        }
        return send(next, s, now: now)
    }

    private mutating func backOff(_ s: FabricLoginState, now: FCInstant) -> [Action] {
        var s = s
        let (id, start) = startTimer(.fabricLoginRetry, after: s.backoff, now: now)
        s.step = .backoff(id)
        state = .loggingIn(s)
        return [start]
    }

    mutating func retryFabricLogin(now: FCInstant) -> [Action] {
        guard enabled, case .loggingIn(let s) = state, case .backoff = s.step else { return [] }
        return beginFabricLogin(attempt: s.attempt + 1, now: now)
    }
}
