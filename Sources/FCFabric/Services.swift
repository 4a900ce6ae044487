import FCPort
import STMF

extension Fabric {
    /// Frames addressed to the fabric's well-known addresses: the F_Port login server
    /// (0xFFFFFE), the fabric controller (0xFFFFFD) and the name server (0xFFFFFC).
    func serve(header h: FrameHeader, payload: [UInt8], from port: SwitchPort) {
        let loggedIn = state.withLock { s -> Bool in
            guard var e = s.entries[port] else { return false }
            e.counters.framesIn += 1
            s.entries[port] = e
            return e.linkUp && e.id != nil && e.id == h.source
        }
        switch (h.routing, h.type) {
        case (.elsRequest, .els):
            serveELS(h, payload, from: port, loggedIn: loggedIn)
        case (.unsolicitedControl, .ct) where h.destination == .nameServer && loggedIn:
            serveNameServer(h, payload, from: port)
        case (.elsReply, .els):
            return      // LS_ACC to the fabric controller's RSCNs: nothing to do
        default:
            return      // class 3: frames the fabric has no use for are discarded
        }
    }

    private func reply(_ h: FrameHeader, routing: RoutingControl, type: FrameType, _ payload: [UInt8],
                       to port: SwitchPort) {
        send(FCFrame(header: h.reply(routing: routing, type: type, responderExchangeID: 0xFFFF), payload: payload),
             to: port)
    }

    private func reject(_ h: FrameHeader, _ r: LSReject, to port: SwitchPort) {
        reply(h, routing: .elsReply, type: .els, ELSReply.reject(r).encoded(), to: port)
    }

    private func accept(_ h: FrameHeader, _ a: ELSAccept, to port: SwitchPort) {
        reply(h, routing: .elsReply, type: .els, ELSReply.accept(a).encoded(), to: port)
    }

    private func serveELS(_ h: FrameHeader, _ payload: [UInt8], from port: SwitchPort, loggedIn: Bool) {
        let request: ELSRequest
        do throws(ELSDecodeError) { request = try ELSRequest.decode(payload) } catch {
            reject(h, error.rejection, to: port)
            return
        }
        switch request {
        case .flogi(let sp) where h.destination == .fabricLogin:
            fabricLogin(h, sp, from: port)
        case .fdisc where h.destination == .fabricLogin:
            reject(h, LSReject(.commandNotSupported), to: port)        // no NPIV on the emulated fabric
        case _ where !loggedIn:
            reject(h, LSReject(.unableToPerform, .nPortLoginRequired), to: port)
        case .plogi where h.destination == .nameServer || h.destination == .fabricController:
            let sp = ServiceParameters.nPort(portName: WWN(configuration.fabricName.rawValue | UInt64(h.destination.rawValue & 0xFF)),
                                             nodeName: configuration.fabricName)
            accept(h, .serviceParameters(sp), to: port)
        case .logo where h.destination == .fabricLogin:
            let change = state.withLock { s in s.logout(port) }
            accept(h, .plain, to: port)
            if let change { announce(change: change) }
        case .logo:
            accept(h, .plain, to: port)                                   // logout from a server port
        case .scr(let scr) where h.destination == .fabricController:
            state.withLock { s in s.entries[port]?.stateChangeRegistration = scr.function.rawValue }
            accept(h, .plain, to: port)
        case .rls(let id):
            let lesb = state.withLock { s in s.linkErrorStatus(of: FCID(id), askedBy: port) }
            if let lesb { accept(h, .rls(lesb), to: port) } else { reject(h, LSReject(.unableToPerform, .invalidNPortID), to: port) }
        case .rtv:
            accept(h, .rtv(RTVAccept(resourceAllocationTimeout: configuration.resourceAllocationTimeout,
                                     errorDetectTimeout: configuration.errorDetectTimeout)), to: port)
        case .echo(let data):
            accept(h, .echo(data), to: port)
        default:
            reject(h, LSReject(.commandNotSupported), to: port)
        }
    }

    private func fabricLogin(_ h: FrameHeader, _ sp: ServiceParameters, from port: SwitchPort) {
        guard sp.class3.isValid else {
            reject(h, LSReject(.unableToPerform, .serviceParameterOptions), to: port)
            return
        }
        let size = Int(min(sp.class3.receiveDataFieldSize, sp.receiveDataFieldSize))
        guard size >= 256 else {
            reject(h, LSReject(.unableToPerform, .serviceParameterReceiveDataFieldSize), to: port)
            return
        }
        let result = state.withLock { s in
            s.fabricLogin(port, portName: sp.portName, nodeName: sp.nodeName, receiveDataFieldSize: size)
        }
        switch result {
        case .success(let id):
            var acc = ServiceParameters.fPort(portName: WWN(configuration.fabricName.rawValue | 0x100 | UInt64(port.index & 0xFF)),
                                              fabricName: configuration.fabricName,
                                              receiveDataFieldSize: UInt16(min(size, 2048)))
            acc.word3 = configuration.resourceAllocationTimeout
            acc.errorDetectTimeout = configuration.errorDetectTimeout
            // The LS_ACC goes to the newly assigned address (FC-LS-3 FLOGI: D_ID of the reply).
            var rh = h.reply(routing: .elsReply, type: .els, responderExchangeID: 0xFFFF)
            rh.destination = id
            send(FCFrame(header: rh, payload: ELSReply.accept(.serviceParameters(acc)).encoded()), to: port)
            announce(change: StateChange(id: id, portName: sp.portName))
        case .failure(.portNameInUse):
            reject(h, LSReject(.unableToPerform, .invalidPortName), to: port)
        case .failure(.noAddresses):
            reject(h, LSReject(.unableToPerform, .insufficientResources), to: port)
        case .failure(.linkDown):
            return
        }
    }

    private func serveNameServer(_ h: FrameHeader, _ payload: [UInt8], from port: SwitchPort) {
        let decoded: (header: CTHeader, request: NameServerRequest)
        do throws(CTDecodeError) { decoded = try NameServerRequest.decodeWithHeader(payload) } catch {
            reply(h, routing: .solicitedControl, type: .ct, NameServerReply.reject(error.rejection).encoded(), to: port)
            return
        }
        var registered = false
        let answer: NameServerReply = state.withLock { s in
            guard let me = s.entries[port], let myID = me.id else { return .reject(CTReject(.unableToPerform)) }
            func own(_ id: UInt32, _ body: (inout FabricState.Entry) -> Void) -> NameServerReply {
                guard FCID(id) == myID else { return .reject(CTReject(.unableToPerform, .portIDNotRegistered)) }
                body(&s.entries[port]!)
                registered = true
                return .accept(.registered)
            }
            func visible(_ id: UInt32) -> FabricState.Entry? {
                guard let e = s.entry(FCID(id)), e.linkUp, s.zoned(me, e) else { return nil }
                return e
            }
            switch decoded.request {
            case let .rftID(id, types): return own(id) { $0.fc4Types = types }
            case let .rffID(id, features, type): return own(id) { $0.fc4Features[type] = features }
            case let .rnnID(id, name): return own(id) { $0.nodeName = name }
            case let .rspnID(id, name): return own(id) { $0.symbolicName = name }
            case let .gidFT(type, domain, area):
                let ids = s.entries.values.compactMap { e -> UInt32? in
                    guard let id = e.id, e.linkUp, e.fc4Types.contains(type), s.zoned(me, e) else { return nil }
                    if domain != 0 && id.domain != domain { return nil }
                    if area != 0 && id.area != area { return nil }
                    return id.rawValue
                }.sorted()
                return ids.isEmpty ? .reject(CTReject(.unableToPerform, .fc4TypesNotRegistered)) : .accept(.portIDs(ids))
            case let .gpnID(id):
                guard let e = visible(id), let w = e.portName else { return .reject(CTReject(.unableToPerform, .portIDNotRegistered)) }
                return .accept(.portName(w))
            case let .gnnID(id):
                guard let e = visible(id), let w = e.nodeName else { return .reject(CTReject(.unableToPerform, .portIDNotRegistered)) }
                return .accept(.nodeName(w))
            case let .gidPN(name):
                guard let e = s.entries.values.first(where: { $0.portName == name && $0.id != nil && $0.linkUp }),
                      s.zoned(me, e), let id = e.id else {
                    return .reject(CTReject(.unableToPerform, .portNameNotRegistered))
                }
                return .accept(.portID(id.rawValue))
            case let .gffID(id):
                guard let e = visible(id) else { return .reject(CTReject(.unableToPerform, .portIDNotRegistered)) }
                return .accept(.features(e.fc4Features))
            case let .gspnID(id):
                guard let e = visible(id), !e.symbolicName.isEmpty else {
                    return .reject(CTReject(.unableToPerform, .portIDNotRegistered))
                }
                return .accept(.symbolicName(e.symbolicName))
            }
        }
        reply(h, routing: .solicitedControl, type: .ct, answer.encoded(), to: port)
        // A port's FC-4 registration is a state change others must learn (they query again).
        if registered, case .rffID = decoded.request,
           let change = state.withLock({ s in s.entries[port].flatMap { e in e.id.map { StateChange(id: $0, portName: e.portName) } } }) {
            announce(change: change)
        }
    }

    /// RSCN from the fabric controller to every registered port that may see `change`.
    func announce(change: StateChange) {
        let recipients = state.withLock { s -> [(SwitchPort, FCID, UInt16)] in
            s.stateChangeRecipients(change).map { ($0.0, $0.1, s.nextExchangeID()) }
        }
        let payload = ELSRequest.rscn(RSCN(pages: [RSCNPage(.port, portID: change.id.rawValue)])).encoded()
        for (port, id, oxid) in recipients {
            let h = FrameHeader(routing: .elsRequest, destination: id, source: .fabricController, type: .els,
                                control: .request, originatorExchangeID: oxid)
            send(FCFrame(header: h, payload: payload), to: port)
        }
    }
}
