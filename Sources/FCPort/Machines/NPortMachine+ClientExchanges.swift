/// The exchanges an N_Port originates for itself and its FC-4: the OX_ID pool (FCP commands
/// draw from it too) and the ELS/CT requests waiting for their reply.
struct ClientExchanges: Sendable {
    var ids = ExchangeIDPool()
    var pending: [UInt16: PendingExchange] = [:]
}

/// One single-frame request waiting for the responder's reply on its OX_ID.
struct PendingExchange: Sendable {
    /// Why the exchange was started, and so what its reply moves along.
    enum Purpose: Sendable {
        case fabricLogin
        case fabricLogout
        case request(NPortMachine.RequestID)
        case portLogin(NPortMachine.RequestID, PortLoginStep)
        case logout(NPortMachine.RequestID, FCID)

        /// The FC-4 request this exchange serves, if any.
        var requestID: NPortMachine.RequestID? {
            switch self {
            case .fabricLogin, .fabricLogout: nil
            case .request(let id), .portLogin(let id, _), .logout(let id, _): id
            }
        }
    }

    enum PortLoginStep: Sendable {
        /// PLOGI sent; PRLI with these FCP parameters follows.
        case plogi(FCPServiceParameters)
        /// PRLI sent to this remote port.
        case prli(RemotePort)
    }

    /// The request's command, which says how to decode the reply.
    enum Command: Sendable {
        case els(ELSCommandCode)
        case nameServer(CTCommandCode)
    }

    var purpose: Purpose
    var command: Command
    var source: FCID
    var destination: FCID
    var timer: MachineTimerID

    /// Whether `h` is the reply to this exchange: from the port we asked, to the address we
    /// asked from (FLOGI's reply goes to the address it assigns), of the request's protocol.
    func isAnswered(by h: FrameHeader) -> Bool {
        guard h.source == destination, source == .unassigned || h.destination == source else { return false }
        switch command {
        case .els: return h.routing == .elsReply && h.type == .els
        case .nameServer: return h.routing == .solicitedControl && h.type == .ct
        }
    }
}

/// A decoded LS_ACC or FS_ACC.
enum ClientReply: Sendable {
    case els(ELSAccept)
    case nameServer(NameServerAccept)

    /// The reply as the FC-4 gets it.
    var reply: NPortMachine.Reply {
        switch self {
        case .els(let a): .els(a)
        case .nameServer(let a): .nameServer(a)
        }
    }

    /// The reply payload to `command`: LS_ACC/FS_ACC, or the error LS_RJT/FS_RJT or a
    /// malformed payload make.
    static func decode(_ payload: [UInt8], _ command: PendingExchange.Command) -> Result<ClientReply, NPortError> {
        switch command {
        case .els(let code):
            do throws(ELSDecodeError) {
                switch try ELSReply.decode(payload, request: code) {
                case .accept(let a): return .success(.els(a))
                case .reject(let r): return .failure(.rejected(r))
                }
            } catch {
                return .failure(.malformedReply(error.description))
            }
        case .nameServer(let code):
            do throws(CTDecodeError) {
                switch try NameServerReply.decode(payload, request: code) {
                case .accept(let a): return .success(.nameServer(a))
                case .reject(let r): return .failure(.nameServerRejected(r))
                }
            } catch {
                return .failure(.malformedReply(error.description))
            }
        }
    }
}

extension NPortMachine {
    /// Starts an ELS exchange: the request frame and its reply timer.
    mutating func originate(_ els: ELSRequest, to destination: FCID, from source: FCID, timeout: Duration,
                            purpose: PendingExchange.Purpose, now: FCInstant) -> Result<[Action], NPortError> {
        originate(els.encoded(), routing: .elsRequest, type: .els, command: .els(els.command), to: destination,
                  from: source, timeout: timeout, purpose: purpose, now: now)
    }

    /// Starts a name server exchange (2 × R_A_TOV).
    mutating func originate(_ request: NameServerRequest, from source: FCID, purpose: PendingExchange.Purpose,
                            now: FCInstant) -> Result<[Action], NPortError> {
        originate(request.encoded(), routing: .unsolicitedControl, type: .ct, command: .nameServer(request.command),
                  to: .nameServer, from: source, timeout: exchangeTimeout, purpose: purpose, now: now)
    }

    private mutating func originate(_ payload: [UInt8], routing: RoutingControl, type: FrameType,
                                    command: PendingExchange.Command, to destination: FCID, from source: FCID,
                                    timeout: Duration, purpose: PendingExchange.Purpose,
                                    now: FCInstant) -> Result<[Action], NPortError> {
        guard let oxid = client.ids.allocate() else { return .failure(.noExchangeIDs) }
        let header = FrameHeader(routing: routing, destination: destination, source: source, type: type,
                                 control: .request, originatorExchangeID: oxid)
        let (timer, start) = startTimer(.exchange(oxid), after: timeout, now: now)
        client.pending[oxid] = PendingExchange(purpose: purpose, command: command, source: source,
                                               destination: destination, timer: timer)
        return .success([.send(FCFrame(header: header, payload: payload)), start])
    }

    /// An ELS or CT reply: completes its exchange (a reply nobody waits for is discarded).
    mutating func replyArrived(_ h: FrameHeader, _ payload: [UInt8], now: FCInstant) -> [Action] {
        let oxid = h.originatorExchangeID
        guard let p = client.pending[oxid], p.isAnswered(by: h) else { return [] }
        client.pending[oxid] = nil
        client.ids.release(oxid)
        timers.cancel(p.timer)
        return [.cancelTimer(p.timer)] + complete(p, ClientReply.decode(payload, p.command), header: h, now: now)
    }

    /// No reply within the timeout: the exchange fails and its OX_ID stays unused for
    /// R_A_TOV, so a late reply cannot be taken for the answer to a new exchange (FC-LS-3).
    mutating func exchangeTimedOut(_ oxid: UInt16, now: FCInstant) -> [Action] {
        guard let p = client.pending.removeValue(forKey: oxid) else { return [] }
        let (_, start) = startTimer(.quarantine(oxid), after: resourceAllocationTimeout, now: now)
        return [start] + complete(p, .failure(.timeout), header: nil, now: now)
    }

    mutating func quarantineEnded(_ oxid: UInt16) -> [Action] {
        client.ids.release(oxid)
        return []
    }

    /// Moves along whatever `p` was for, now that it has its outcome.
    private mutating func complete(_ p: PendingExchange, _ result: Result<ClientReply, NPortError>,
                                   header: FrameHeader?, now: FCInstant) -> [Action] {
        switch p.purpose {
        case .fabricLogin:
            return fabricLoginStepEnded(result, header: header, now: now)
        case .fabricLogout:
            return finishStop()
        case .request(let id):
            return [.requestCompleted(id, result.map(\.reply))]
        case .portLogin(let id, let step):
            return portLoginStepEnded(id, step, result, remote: p.destination, now: now)
        case .logout(let id, let remote):
            modifyOnline { $0.remotes[remote] = nil }
            return [.requestCompleted(id, .success(.loggedOut))]
        }
    }

    /// Fails every exchange in flight (the link went down), frees every OX_ID and forgets
    /// every timer; returns the cancellations and the FC-4's failed requests.
    mutating func abandonExchanges() -> [Action] {
        var actions = timers.removeAll().map { Action.cancelTimer($0) }
        let pending = client.pending.sorted { $0.key < $1.key }
        client.pending.removeAll()
        client.ids.releaseAll()
        for (_, p) in pending {
            if let id = p.purpose.requestID { actions.append(.requestCompleted(id, .failure(.linkDown))) }
        }
        return actions
    }
}
