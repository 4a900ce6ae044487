/// The N_Port side of the ELS requests remote ports and the fabric send us: PLOGI, PRLI, PRLO,
/// LOGO, ADISC, RSCN, ECHO, RTV, RLS. FLOGI, FDISC and SCR are a fabric's to answer. Served
/// only while online and only when addressed to our N_Port ID; anything else is discarded.
extension NPortMachine {
    mutating func serve(_ h: FrameHeader, _ payload: [UInt8], now: FCInstant) -> [Action] {
        guard case .online(var s) = state, h.destination == s.portID else { return [] }
        let request: ELSRequest
        do throws(ELSDecodeError) { request = try ELSRequest.decode(payload) } catch {
            return [reply(h, .reject(error.rejection))]
        }
        let known = s.remotes[h.source]
        let mine = configuration
        var actions: [Action] = []
        switch request {
        case .plogi(let sp):
            guard sp.class3.isValid else {
                return [reply(h, .reject(LSReject(.unableToPerform, .serviceParameterOptions)))]
            }
            // PLOGIs crossing (FC-LS-3, as Linux libfc): the port with the higher port name
            // keeps its own and refuses the other's.
            if client.pending.values.contains(where: { $0.destination == h.source && $0.isOutstandingPLOGI }),
               sp.portName < mine.portName {
                return [reply(h, .reject(LSReject(.commandAlreadyInProgress)))]
            }
            if let known { actions.append(.remoteLoggedOut(known)) }    // a new PLOGI implicitly logs the old one out
            let remote = RemotePort(id: h.source, sp)
            s.remotes[h.source] = remote
            state = .online(s)
            actions.append(reply(h, .accept(.serviceParameters(mine.serviceParameters))))
            actions.append(.remoteLoggedIn(remote))
        case .rscn(let rscn):
            actions = [reply(h, .accept(.plain)), .stateChange(rscn.pages)]
        case .echo(let data):
            actions = [reply(h, .accept(.echo(data)))]
        case .rtv:
            actions = [reply(h, .accept(.rtv(RTVAccept(resourceAllocationTimeout: UInt32(resourceAllocationTimeout.milliseconds),
                                                       errorDetectTimeout: UInt32(errorDetectTimeout.milliseconds)))))]
        case .rls:
            actions = [reply(h, .accept(.rls(linkErrors)))]
        case .adisc:
            guard known != nil else { return [reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired)))] }
            actions = [reply(h, .accept(.adisc(ADISC(portName: mine.portName, nodeName: mine.nodeName,
                                                     portID: s.portID.rawValue))))]
        case .logo:
            actions = [reply(h, .accept(.plain))]
            if let known {
                s.remotes[h.source] = nil
                state = .online(s)
                actions.append(.remoteLoggedOut(known))
            }
        case .prli(let prli):
            guard var remote = known else {
                return [reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired)))]
            }
            guard let page = prli.fcpPage else {
                return [reply(h, .reject(LSReject(.unableToPerform, .requestNotSupported)))]
            }
            // A new PRLI replaces the image pair: the old one ends before the FC-4 is asked.
            if remote.fcp != nil {
                actions.append(.remoteLoggedOut(remote))
                remote.fcp = nil
                s.remotes[h.source] = remote
            }
            let token = s.nextToken
            s.nextToken &+= 1
            s.processLogins[token] = PendingProcessLogin(header: h, portName: remote.portName, page: page)
            state = .online(s)
            actions.append(.processLoginRequested(ProcessLoginRequest(token: token, remote: remote,
                                                                      parameters: page.fcpParameters)))
        case .prlo:
            guard var remote = known else {
                return [reply(h, .reject(LSReject(.unableToPerform, .nPortLoginRequired)))]
            }
            actions = [reply(h, .accept(.prlo(ProcessLogin(pages: [.fcp([], establishImagePair: false,
                                                                         responseCode: .requestExecuted)]))))]
            if remote.fcp != nil {
                remote.fcp = nil
                s.remotes[h.source] = remote
                state = .online(s)
                actions.append(.remoteLoggedOut(remote))
            }
        case .flogi, .fdisc, .scr:
            actions = [reply(h, .reject(LSReject(.commandNotSupported)))]
        }
        return actions
    }

    /// The FC-4 answered a PRLI: LS_ACC with our FCP page, or LS_RJT. A PRLI whose remote
    /// port logged out (or whose link went down) meanwhile gets no answer from here.
    mutating func processLoginAnswer(token: UInt64, _ ours: FCPServiceParameters?) -> [Action] {
        guard case .online(var s) = state, let p = s.processLogins.removeValue(forKey: token) else { return [] }
        let id = p.header.source
        guard var remote = s.remotes[id], remote.portName == p.portName else {
            state = .online(s)
            return []
        }
        guard let ours else {
            state = .online(s)
            return [reply(p.header, .reject(LSReject(.unableToPerform, .requestNotSupported)))]
        }
        remote.fcp = p.page.fcpParameters
        s.remotes[id] = remote
        state = .online(s)
        return [reply(p.header, .accept(.prli(ProcessLogin(pages: [.fcp(ours, establishImagePair: p.page.establishImagePair,
                                                                        responseCode: .requestExecuted)]))))]
    }

    /// The ELS reply to the request `h`.
    private func reply(_ h: FrameHeader, _ reply: ELSReply) -> Action {
        .send(FCFrame(header: h.reply(routing: .elsReply, type: .els, responderExchangeID: 0xFFFF), payload: reply.encoded()))
    }
}

extension PendingExchange {
    /// A PLOGI we sent to log in to a remote port, still unanswered.
    var isOutstandingPLOGI: Bool {
        if case .portLogin(_, .plogi) = purpose { return true }
        return false
    }
}
