/// Bringing the port up and down: start/stop, the transport to the fabric and the link's
/// primitive sequences.
extension NPortMachine {
    mutating func start() -> [Action] {
        guard !enabled, !stopping else { return [] }
        enabled = true
        guard case .offline = state else { return [] }
        state = .connecting(ConnectingState())
        return [.connect]
    }

    /// LOGO to the fabric first when online; otherwise down at once.
    mutating func stop(now: FCInstant) -> [Action] {
        enabled = false
        guard !stopping else { return [] }
        if case .online(let s) = state {
            let logo = ELSRequest.logo(LOGO(portID: s.portID.rawValue, portName: configuration.portName))
            if case .success(let actions) = originate(logo, to: .fabricLogin, from: s.portID,
                                                       timeout: configuration.fabricLogoutTimeout,
                                                       purpose: .fabricLogout, now: now) {
                stopping = true
                return actions
            }
        }
        return finishStop()
    }

    /// The end of `stop`: the connection closes and every login and exchange is gone.
    mutating func finishStop() -> [Action] {
        stopping = false
        return [.disconnect] + drop(to: .offline)
    }

    /// Fails the exchanges in flight, forgets every remote login and moves to `next`; a stop
    /// waiting for its LOGO ends here too.
    mutating func drop(to next: State) -> [Action] {
        var actions = abandonExchanges()
        state = next
        if stopping {
            stopping = false
            state = .offline
            actions.insert(.disconnect, at: 0)
        }
        actions.append(.linkLost)
        return actions
    }

    mutating func connected() -> [Action] {
        switch state {
        case .connecting:
            state = .linkDown
            return []
        case .offline:
            return [.disconnect]        // stopped while connecting
        case .linkDown, .loggingIn, .online:
            return []
        }
    }

    mutating func connectionFailed(now: FCInstant) -> [Action] {
        guard enabled, case .connecting = state else { return [] }
        return scheduleReconnect(now: now)
    }

    /// The connection went away: counted in the link error status while the port wanted to be
    /// online (loss of signal; a link failure when the link was up), then reconnect.
    mutating func connectionLost(protocolError: Bool, now: FCInstant) -> [Action] {
        guard isConnected else { return [] }
        if protocolError { linkErrors.primitiveSequenceErrors &+= 1 }
        guard enabled else { return finishStop() }
        linkErrors.lossOfSignal &+= 1
        if linkState.isUp { linkErrors.linkFailures &+= 1 }
        return drop(to: .connecting(ConnectingState())) + scheduleReconnect(now: now)
    }

    private mutating func scheduleReconnect(now: FCInstant) -> [Action] {
        guard configuration.reconnect else {
            state = .offline
            return []
        }
        let (id, start) = startTimer(.reconnect, after: configuration.reconnectDelay, now: now)
        state = .connecting(ConnectingState(reconnectTimer: id))
        return [start]
    }

    mutating func reconnect() -> [Action] {
        guard enabled, case .connecting = state else { return [] }
        state = .connecting(ConnectingState())
        return [.connect]
    }

    /// Idle: the link is up, log in. NOS, OLS, LR: the link is down (a link failure if it was up).
    mutating func primitive(_ p: LinkPrimitive, now: FCInstant) -> [Action] {
        switch p {
        case .idle:
            guard enabled, case .linkDown = state else { return [] }
            return beginFabricLogin(attempt: 1, now: now)
        case .notOperational, .offline, .linkReset:
            guard isConnected else { return [] }
            if linkState.isUp { linkErrors.linkFailures &+= 1 }
            return drop(to: .linkDown)
        }
    }
}
