/// What the FC-4 asks the N_Port to do: ELS and name server exchanges, PLOGI + PRLI to a
/// remote port, LOGO.
extension NPortMachine {
    mutating func request(_ id: RequestID, _ request: Request, now: FCInstant) -> [Action] {
        guard isConnected else { return [.requestCompleted(id, .failure(.linkDown))] }
        let result: Result<[Action], NPortError>
        switch request {
        case .els(let els, let destination, let source, let timeout):
            guard let me = source ?? portID else { return [.requestCompleted(id, .failure(.notOnline))] }
            result = originate(els, to: destination, from: me, timeout: timeout ?? exchangeTimeout,
                               purpose: .request(id), now: now)
        case .nameServer(let ns, let source):
            guard let me = source ?? portID else { return [.requestCompleted(id, .failure(.notOnline))] }
            result = originate(ns, from: me, purpose: .request(id), now: now)
        case .login(let remote, let fcp):
            guard let me = portID else { return [.requestCompleted(id, .failure(.notOnline))] }
            result = originate(.plogi(configuration.serviceParameters), to: remote, from: me, timeout: exchangeTimeout,
                               purpose: .portLogin(id, .plogi(fcp)), now: now)
        case .logout(let remote):
            guard let me = portID else { return [.requestCompleted(id, .failure(.notOnline))] }
            result = originate(.logo(LOGO(portID: me.rawValue, portName: configuration.portName)), to: remote, from: me,
                               timeout: configuration.logoutTimeout, purpose: .logout(id, remote), now: now)
            if case .failure = result {
                modifyOnline { $0.remotes[remote] = nil }
                return [.requestCompleted(id, .success(.loggedOut))]
            }
        }
        switch result {
        case .success(let actions): return actions
        case .failure(let e): return [.requestCompleted(id, .failure(e))]
        }
    }

    /// PLOGI answered: the remote port is logged in, PRLI follows. PRLI answered: the image
    /// pair stands when its page says the request was executed.
    mutating func portLoginStepEnded(_ id: RequestID, _ step: PendingExchange.PortLoginStep,
                                     _ result: Result<ClientReply, NPortError>, remote remoteID: FCID,
                                     now: FCInstant) -> [Action] {
        let reply: ClientReply
        switch result {
        case .failure(let e): return [.requestCompleted(id, .failure(e))]
        case .success(let r): reply = r
        }
        switch step {
        case .plogi(let fcp):
            guard case .els(.serviceParameters(let theirs)) = reply else {
                return [.requestCompleted(id, .failure(.malformedReply("PLOGI LS_ACC without service parameters")))]
            }
            guard let me = portID else { return [.requestCompleted(id, .failure(.notOnline))] }
            let remote = RemotePort(id: remoteID, theirs)
            modifyOnline { $0.remotes[remoteID] = remote }
            var actions: [Action] = [.remoteLoggedIn(remote)]
            switch originate(.prli(ProcessLogin(fcp: fcp)), to: remoteID, from: me, timeout: exchangeTimeout,
                             purpose: .portLogin(id, .prli(remote)), now: now) {
            case .success(let sent): actions += sent
            case .failure(let e): actions.append(.requestCompleted(id, .failure(e)))
            }
            return actions
        case .prli(var remote):
            guard case .els(.prli(let accept)) = reply, let page = accept.fcpPage else {
                return [.requestCompleted(id, .failure(.malformedReply("PRLI LS_ACC without an FCP page")))]
            }
            guard page.responseCode == .requestExecuted else {
                return [.requestCompleted(id, .failure(.rejected(LSReject(.unableToPerform))))]
            }
            remote.fcp = page.fcpParameters
            modifyOnline { $0.remotes[remoteID] = remote }
            return [.requestCompleted(id, .success(.loggedIn(remote)))]
        }
    }
}
