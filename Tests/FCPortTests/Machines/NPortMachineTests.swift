@testable import FCPort
import STMF
import Testing

/// The N_Port login machine, frame by frame with a manual clock: no sockets, no threads.
@Suite("N_Port login machine")
struct NPortMachineTests {
    static let me = FCID(initiatorID)
    static let remote = FCID(targetID)

    static func remotePLOGI(_ name: WWN = targetPortName) -> ELSRequest {
        .plogi(.nPort(portName: name, nodeName: targetNodeName, receiveDataFieldSize: 1024))
    }

    /// Online, with the remote port logged in (PLOGI) and, with `prli`, an FCP image pair.
    func onlineWithRemote(prli: Bool) -> NPortHarness {
        var n = NPortHarness(portName: targetPortName, nodeName: targetNodeName, features: .target)
        n.bringOnline(as: Self.me)
        n.remoteRequest(Self.remotePLOGI(initiatorPortName), from: Self.remote)
        _ = n.sentReply(to: .plogi)
        _ = n.takeReports()
        guard prli else { return n }
        n.remoteRequest(.prli(ProcessLogin(fcp: [.initiatorFunction])), from: Self.remote)
        guard case .processLoginRequested(let r)? = n.takeReports().first else { Issue.record("no PRLI question"); return n }
        n.handle(.processLoginAnswer(token: r.token, [.targetFunction]))
        _ = n.sentReply(to: .prli)
        return n
    }

    // MARK: fabric login

    @Test func fabricLoginRegistersAndGoesOnline() throws {
        var n = NPortHarness()
        n.handle(.start)
        #expect(n.connects == 1 && n.machine.linkState == .connecting)
        n.handle(.connected)
        #expect(n.machine.linkState == .linkDown && n.takeSent().isEmpty)
        n.handle(.primitive(.idle))
        #expect(n.machine.linkState == .loggingIn)
        let flogi = try n.frame()
        #expect(flogi.header.source == .unassigned && flogi.header.destination == .fabricLogin)
        guard case .flogi(let sp) = try ELSRequest.decode(flogi.payload) else { Issue.record("not FLOGI"); return }
        #expect(sp.portName == initiatorPortName && sp.class3.isValid)
        var fabric = ServiceParameters.fPort(portName: fPortName, fabricName: fabricName)
        fabric.resourceAllocationTimeout = 3000
        fabric.errorDetectTimeout = 700
        n.answer(flogi, .accept(.serviceParameters(fabric)), destination: Self.me)
        #expect(n.machine.resourceAllocationTimeout == .seconds(3) && n.machine.errorDetectTimeout == .milliseconds(700))

        let plogi = try n.frame()
        #expect(plogi.header.source == Self.me && plogi.header.destination == .nameServer)
        guard case .plogi = try ELSRequest.decode(plogi.payload) else { Issue.record("not PLOGI"); return }
        n.answer(plogi, .accept(.serviceParameters(.nPort(portName: WWN(1), nodeName: fabricName))))
        var registrations: [NameServerRequest] = []
        for _ in 0..<3 {
            let ct = try n.frame()
            #expect(ct.header.routing == .unsolicitedControl && ct.header.type == .ct && ct.header.destination == .nameServer)
            registrations.append(try NameServerRequest.decode(ct.payload))
            n.answer(ct, .accept(.registered))
        }
        #expect(registrations == [.rftID(portID: Self.me.rawValue, types: .fcp),
                                  .rffID(portID: Self.me.rawValue, features: .initiator, type: ServiceParameterPage.fcpType),
                                  .rspnID(portID: Self.me.rawValue, symbolicName: Array("harness".utf8))])
        let scr = try n.frame()
        #expect(try ELSRequest.decode(scr.payload) == .scr(SCR(.full)) && scr.header.destination == .fabricController)
        #expect(n.takeReports().isEmpty)
        n.answer(scr, .accept(.plain))
        #expect(n.takeReports() == [.online(Self.me)])
        #expect(n.machine.linkState == .online(Self.me) && n.machine.portID == Self.me)
        #expect(n.machine.pendingExchanges == 0 && n.timers.deadlines.isEmpty)
    }

    @Test func flogiRetriesWithGrowingBackoffWhileTheLinkIsUp() throws {
        var n = NPortHarness()
        n.linkUp()
        let first = try n.frame()
        // Unanswered: times out after 2 s, then 100 ms of backoff.
        n.advance(.milliseconds(1999))
        #expect(n.takeSent().isEmpty)
        n.advance(.milliseconds(1))
        #expect(n.takeSent().isEmpty)
        n.advance(.milliseconds(100))
        let second = try n.frame()
        #expect(second.header.originatorExchangeID != first.header.originatorExchangeID)
        // A late answer to the first is not taken for the second's.
        n.answer(first, .accept(.serviceParameters(.fPort(portName: fPortName, fabricName: fabricName))), destination: Self.me)
        #expect(n.machine.linkState == .loggingIn && n.takeSent().isEmpty)
        // Refused: 200 ms of backoff this time.
        n.answer(second, .reject(LSReject(.logicalBusy)))
        n.advance(.milliseconds(199))
        #expect(n.takeSent().isEmpty)
        n.advance(.milliseconds(1))
        let third = try n.frame()
        // The link goes down while the port waits: no more FLOGIs until Idle.
        n.answer(third, .reject(LSReject(.logicalBusy)))
        n.handle(.primitive(.notOperational))
        #expect(n.takeReports() == [.linkLost] && n.machine.linkState == .linkDown)
        n.advance(.seconds(10))
        #expect(n.takeSent().isEmpty && n.timers.deadlines.isEmpty)
        n.handle(.primitive(.idle))
        n.completeFabricLogin(as: Self.me)
    }

    @Test func nameServerRejectStartsOverFromFLOGI() throws {
        var n = NPortHarness()
        n.linkUp()
        let plogi = try n.answerFLOGI(as: Self.me)
        n.answer(plogi, .accept(.serviceParameters(.nPort(portName: WWN(1), nodeName: fabricName))))
        let rft = try n.frame()
        n.answer(rft, .reject(CTReject(.unableToPerform, .fc4TypesNotRegistered)))
        #expect(n.machine.linkState == .loggingIn && n.takeReports().isEmpty)
        n.advance(.milliseconds(100))
        let again = try #require(n.sent.first)
        guard case .flogi = try ELSRequest.decode(again.payload) else { Issue.record("did not start over with FLOGI"); return }
        n.completeFabricLogin(as: Self.me)
    }

    @Test func linkBounceMidLoginDropsTheSequence() throws {
        var n = NPortHarness()
        n.linkUp()
        let plogi = try n.answerFLOGI(as: Self.me)
        n.handle(.primitive(.linkReset))
        #expect(n.takeReports() == [.linkLost])
        #expect(n.machine.pendingExchanges == 0 && n.timers.deadlines.isEmpty)
        #expect(n.machine.linkErrors.linkFailures == 1)
        // The answer that was on its way arrives after the bounce: discarded.
        n.answer(plogi, .accept(.serviceParameters(.nPort(portName: WWN(1), nodeName: fabricName))))
        #expect(n.takeSent().isEmpty && n.machine.linkState == .linkDown)
        n.handle(.primitive(.idle))
        n.completeFabricLogin(as: Self.me)
    }

    // MARK: link and connection

    @Test func connectionLossCountsAndReconnects() throws {
        var n = NPortHarness()
        n.bringOnline()
        n.handle(.connectionLost(protocolError: true))
        #expect(n.takeReports() == [.linkLost] && n.machine.linkState == .connecting)
        #expect(n.machine.linkErrors == LinkErrorStatusBlock(linkFailures: 1, lossOfSignal: 1, primitiveSequenceErrors: 1))
        n.advance(.milliseconds(499))
        #expect(n.connects == 1)
        n.advance(.milliseconds(1))
        #expect(n.connects == 2)
        n.handle(.connectionFailed)
        n.advance(.milliseconds(500))
        #expect(n.connects == 3)
        n.handle(.connected)
        n.handle(.primitive(.idle))
        n.completeFabricLogin(as: Self.me)
        // Invalid frames: only a bad CRC counts.
        n.handle(.invalidFrame(.badCRC(expected: 1, found: 2)))
        n.handle(.invalidFrame(.misaligned(payloadLength: 3)))
        #expect(n.machine.linkErrors.invalidCRCs == 1)

        var once = NPortHarness(reconnect: false)
        once.bringOnline()
        once.handle(.connectionLost(protocolError: false))
        #expect(once.machine.linkState == .offline && once.timers.deadlines.isEmpty)
    }

    @Test func stopLogsOutOfTheFabricThenDisconnects() throws {
        var n = NPortHarness()
        n.bringOnline()
        let echo = n.request(.els(.echo([1, 2, 3, 4]), to: Self.remote))
        _ = n.takeSent()
        n.handle(.stop)
        let logo = try n.frame()
        #expect(try ELSRequest.decode(logo.payload) == .logo(LOGO(portID: Self.me.rawValue, portName: initiatorPortName)))
        #expect(logo.header.destination == .fabricLogin && n.disconnects == 0)
        n.answer(logo, .accept(.plain))
        #expect(n.disconnects == 1 && n.machine.linkState == .offline)
        #expect(n.takeReports() == [.requestCompleted(echo, .failure(.linkDown)), .linkLost])
        #expect(n.timers.deadlines.isEmpty)
        // The connection closing now is not a loss of signal, and nothing reconnects.
        n.handle(.connectionLost(protocolError: false))
        #expect(n.machine.linkErrors == LinkErrorStatusBlock() && n.connects == 1)

        // Unanswered LOGO: down after 500 ms anyway.
        var m = NPortHarness()
        m.bringOnline()
        m.handle(.stop)
        _ = m.takeSent()
        m.advance(.milliseconds(499))
        #expect(m.disconnects == 0)
        m.advance(.milliseconds(1))
        #expect(m.disconnects == 1 && m.machine.linkState == .offline)
        // Not online: down at once, no LOGO.
        var o = NPortHarness()
        o.handle(.start)
        o.handle(.connected)
        o.handle(.stop)
        #expect(o.disconnects == 1 && o.takeSent().isEmpty && o.machine.linkState == .offline)
        o.handle(.start)
        #expect(o.connects == 2)
    }

    // MARK: requests the FC-4 makes

    @Test func requestsNeedAConnectionAndALogin() throws {
        var n = NPortHarness()
        n.handle(.start)
        let a = n.request(.nameServer(.gidFT(type: 8)))
        #expect(n.takeReports() == [.requestCompleted(a, .failure(.linkDown))])
        n.handle(.connected)
        let b = n.request(.nameServer(.gidFT(type: 8)))
        #expect(n.takeReports() == [.requestCompleted(b, .failure(.notOnline))])
        // With an explicit source the port need only be connected.
        n.request(.els(.rtv, to: .fabricController, from: FCID(0x010203)))
        #expect(n.sentFrame()?.header.source == FCID(0x010203))
    }

    @Test func nameServerQueryAndRejection() throws {
        var n = NPortHarness()
        n.bringOnline()
        let q = n.request(.nameServer(.gidPN(portName: targetPortName)))
        let f = try n.frame()
        #expect(try NameServerRequest.decode(f.payload) == .gidPN(portName: targetPortName))
        // A reply from another port, or of another protocol, is not the answer.
        var wrong = f.header.reply(routing: .solicitedControl, type: .ct)
        wrong.source = Self.remote
        n.receive(wrong, NameServerReply.accept(.portID(1)).encoded())
        n.receive(f.header.reply(routing: .elsReply, type: .els), ELSReply.accept(.plain).encoded())
        #expect(n.takeReports().isEmpty)
        n.answer(f, .accept(.portID(Self.remote.rawValue)))
        #expect(n.takeReports() == [.requestCompleted(q, .success(.nameServer(.portID(Self.remote.rawValue))))])
        let r = n.request(.nameServer(.gidPN(portName: WWN(0xBAD))))
        n.answer(try n.frame(), .reject(CTReject(.unableToPerform, .portNameNotRegistered)))
        #expect(n.takeReports() == [.requestCompleted(r, .failure(.nameServerRejected(CTReject(.unableToPerform, .portNameNotRegistered))))])
        #expect(n.timers.deadlines.isEmpty)
    }

    @Test func timedOutExchangeKeepsItsOXIDForRATOV() throws {
        var n = NPortHarness()
        n.bringOnline()
        let ratov = Duration.milliseconds(Int(NPortHarness.fabricTimeouts.resourceAllocation))
        let id = n.request(.els(.echo([9, 9, 9, 9]), to: Self.remote))
        let f = try n.frame()
        let oxid = f.header.originatorExchangeID
        n.advance(ratov * 2 - .milliseconds(1))
        #expect(n.takeReports().isEmpty)
        n.advance(.milliseconds(1))
        #expect(n.takeReports() == [.requestCompleted(id, .failure(.timeout))])
        // A late reply completes nothing, and no new exchange gets the OX_ID inside R_A_TOV.
        n.answer(f, .accept(.echo([9, 9, 9, 9])))
        #expect(n.takeReports().isEmpty)
        var taken: [UInt16] = []
        while let x = n.machine.allocateExchangeID() { taken.append(x) }
        #expect(taken.count == 0xFFFD && !taken.contains(oxid))
        for x in taken { n.machine.releaseExchangeID(x) }
        n.advance(ratov)
        var after: [UInt16] = []
        while let x = n.machine.allocateExchangeID() { after.append(x) }
        #expect(after.count == 0xFFFE && after.contains(oxid))
    }

    @Test func loginToARemotePortAndPRLIOutcomes() throws {
        var n = NPortHarness()
        n.bringOnline()
        let id = n.request(.login(Self.remote, fcp: [.initiatorFunction]))
        let plogi = try n.frame()
        guard case .plogi = try ELSRequest.decode(plogi.payload) else { Issue.record("not PLOGI"); return }
        n.answer(plogi, .accept(.serviceParameters(.nPort(portName: targetPortName, nodeName: targetNodeName,
                                                          receiveDataFieldSize: 1024))))
        let remote = RemotePort(id: Self.remote, portName: targetPortName, nodeName: targetNodeName, receiveDataFieldSize: 1024)
        #expect(n.takeReports() == [.remoteLoggedIn(remote)])
        let prli = try n.frame()
        #expect(try ELSRequest.decode(prli.payload) == .prli(ProcessLogin(fcp: [.initiatorFunction])))
        n.answer(prli, .accept(.prli(ProcessLogin(fcp: [.targetFunction], responseCode: .requestExecuted))))
        var logged = remote
        logged.fcp = [.targetFunction]
        #expect(n.takeReports() == [.requestCompleted(id, .success(.loggedIn(logged)))])
        #expect(n.machine.remotePort(Self.remote) == logged)

        // A PRLI LS_ACC that did not execute is a rejection; one without an FCP page is malformed.
        let again = n.request(.login(Self.remote, fcp: [.initiatorFunction]))
        n.answer(try n.frame(), .accept(.serviceParameters(.nPort(portName: targetPortName, nodeName: targetNodeName))))
        n.answer(try n.frame(), .accept(.prli(ProcessLogin(fcp: [], responseCode: .noResources))))
        #expect(n.takeReports().last == .requestCompleted(again, .failure(.rejected(LSReject(.unableToPerform)))))
        let third = n.request(.login(Self.remote, fcp: [.initiatorFunction]))
        n.answer(try n.frame(), .reject(LSReject(.unableToPerform, .insufficientResources)))
        #expect(n.takeReports() == [.requestCompleted(third, .failure(.rejected(LSReject(.unableToPerform, .insufficientResources))))])

        // LOGO: the login is forgotten whatever the answer.
        let out = n.request(.logout(Self.remote))
        let logo = try n.frame()
        n.answer(logo, .reject(LSReject(.unableToPerform)))
        #expect(n.takeReports() == [.requestCompleted(out, .success(.loggedOut))])
        #expect(n.machine.remotePort(Self.remote) == nil)
    }

    @Test func linkBounceFailsRequestsAndForgetsLogins() throws {
        var n = onlineWithRemote(prli: true)
        #expect(n.machine.remotePorts.count == 1)
        let q = n.request(.login(FCID(0x010300), fcp: [.targetFunction]))
        _ = n.takeSent()
        n.handle(.primitive(.notOperational))
        #expect(n.takeReports() == [.requestCompleted(q, .failure(.linkDown)), .linkLost])
        #expect(n.machine.remotePorts.isEmpty && n.machine.linkState == .linkDown)
        #expect(n.machine.allocateExchangeID() != nil && n.timers.deadlines.isEmpty)
    }

    // MARK: the responder side

    @Test func plogiAndPrliFromARemotePort() throws {
        var n = NPortHarness(portName: targetPortName, nodeName: targetNodeName, features: .target)
        n.bringOnline(as: Self.me)
        n.remoteRequest(Self.remotePLOGI(initiatorPortName), from: Self.remote)
        guard case .accept(.serviceParameters(let ours))? = n.sentReply(to: .plogi) else { Issue.record("no PLOGI LS_ACC"); return }
        #expect(ours.portName == targetPortName)
        let remote = RemotePort(id: Self.remote, portName: initiatorPortName, nodeName: targetNodeName, receiveDataFieldSize: 1024)
        #expect(n.takeReports() == [.remoteLoggedIn(remote)])

        n.remoteRequest(.prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled])), from: Self.remote)
        #expect(n.takeSent().isEmpty)
        guard case .processLoginRequested(let ask)? = n.takeReports().first else { Issue.record("FC-4 not asked"); return }
        #expect(ask.remote == remote && ask.parameters == [.initiatorFunction, .readXferRdyDisabled])
        n.handle(.processLoginAnswer(token: ask.token, [.targetFunction]))
        guard case .accept(.prli(let acc))? = n.sentReply(to: .prli), let page = acc.fcpPage else { Issue.record("no PRLI LS_ACC"); return }
        #expect(page.responseCode == .requestExecuted && page.establishImagePair && page.fcpParameters == [.targetFunction])
        #expect(n.machine.remotePort(Self.remote)?.fcp == [.initiatorFunction, .readXferRdyDisabled])
        // An answer that comes twice is not sent twice.
        n.handle(.processLoginAnswer(token: ask.token, [.targetFunction]))
        #expect(n.takeSent().isEmpty)

        // A second PRLI ends the first image pair before the FC-4 is asked; refused, none is left.
        n.remoteRequest(.prli(ProcessLogin(fcp: [.initiatorFunction])), from: Self.remote)
        let reports = n.takeReports()
        var ended = remote
        ended.fcp = [.initiatorFunction, .readXferRdyDisabled]
        #expect(reports.first == .remoteLoggedOut(ended))
        guard case .processLoginRequested(let ask2)? = reports.last else { Issue.record("FC-4 not asked again"); return }
        n.handle(.processLoginAnswer(token: ask2.token, nil))
        #expect(n.sentReply(to: .prli) == .reject(LSReject(.unableToPerform, .requestNotSupported)))
        #expect(n.machine.remotePort(Self.remote)?.fcp == nil)

        // PRLI without a login, or without an FCP page.
        n.remoteRequest(.prli(ProcessLogin(fcp: [.initiatorFunction])), from: FCID(0x010999))
        #expect(n.sentReply(to: .prli) == .reject(LSReject(.unableToPerform, .nPortLoginRequired)))
        n.remoteRequest(.prli(ProcessLogin(pages: [ServiceParameterPage(type: 0x05)])), from: Self.remote)
        #expect(n.sentReply(to: .prli) == .reject(LSReject(.unableToPerform, .requestNotSupported)))
    }

    @Test func newPLOGIImplicitlyLogsOutTheOldLogin() throws {
        var n = onlineWithRemote(prli: true)
        let old = try #require(n.machine.remotePort(Self.remote))
        #expect(old.fcp != nil)
        n.remoteRequest(Self.remotePLOGI(initiatorPortName), from: Self.remote, oxid: 0x0200)
        guard case .accept(.serviceParameters)? = n.sentReply(to: .plogi) else { Issue.record("no PLOGI LS_ACC"); return }
        var fresh = old
        fresh.fcp = nil
        #expect(n.takeReports() == [.remoteLoggedOut(old), .remoteLoggedIn(fresh)])
        #expect(n.machine.remotePort(Self.remote) == fresh)
        // Class 3 not offered: refused, the login stays as it was.
        var bad = ServiceParameters.nPort(portName: initiatorPortName, nodeName: targetNodeName)
        bad.class3 = .unsupported
        n.remoteRequest(.plogi(bad), from: Self.remote)
        #expect(n.sentReply(to: .plogi) == .reject(LSReject(.unableToPerform, .serviceParameterOptions)))
        #expect(n.takeReports().isEmpty)
    }

    @Test func crossingPLOGIsTheHigherPortNameWins() throws {
        // We are the higher port name: the lower one's PLOGI is refused while ours is out.
        var high = NPortHarness(portName: WWN(0x2100_0000_0000_0009))
        high.bringOnline()
        let id = high.request(.login(Self.remote, fcp: [.initiatorFunction]))
        let ours = try high.frame()
        high.remoteRequest(Self.remotePLOGI(WWN(0x2100_0000_0000_0001)), from: Self.remote)
        #expect(high.sentReply(to: .plogi) == .reject(LSReject(.commandAlreadyInProgress)))
        high.answer(ours, .accept(.serviceParameters(.nPort(portName: WWN(0x2100_0000_0000_0001), nodeName: targetNodeName))))
        let prli = try high.frame()
        high.answer(prli, .accept(.prli(ProcessLogin(fcp: [.targetFunction], responseCode: .requestExecuted))))
        guard case .requestCompleted(id, .success(.loggedIn))? = high.takeReports().last else { Issue.record("login failed"); return }

        // We are the lower: theirs is accepted, and ours still completes.
        var low = NPortHarness(portName: WWN(0x2100_0000_0000_0001))
        low.bringOnline()
        let lid = low.request(.login(Self.remote, fcp: [.initiatorFunction]))
        let lowPLOGI = try low.frame()
        low.remoteRequest(Self.remotePLOGI(WWN(0x2100_0000_0000_0009)), from: Self.remote)
        guard case .accept(.serviceParameters)? = low.sentReply(to: .plogi) else { Issue.record("their PLOGI refused"); return }
        low.answer(lowPLOGI, .accept(.serviceParameters(.nPort(portName: WWN(0x2100_0000_0000_0009), nodeName: targetNodeName))))
        low.answer(try low.frame(), .accept(.prli(ProcessLogin(fcp: [.targetFunction], responseCode: .requestExecuted))))
        guard case .requestCompleted(lid, .success(.loggedIn))? = low.takeReports().last else { Issue.record("login failed"); return }
    }

    @Test func prloEndsTheImagePairButNotTheLogin() throws {
        var n = onlineWithRemote(prli: true)
        let before = try #require(n.machine.remotePort(Self.remote))
        n.remoteRequest(.prlo(ProcessLogin(fcp: [], establishImagePair: false)), from: Self.remote)
        guard case .accept(.prlo(let acc))? = n.sentReply(to: .prlo) else { Issue.record("no PRLO LS_ACC"); return }
        #expect(acc.fcpPage?.responseCode == .requestExecuted)
        var after = before
        after.fcp = nil
        #expect(n.takeReports() == [.remoteLoggedOut(after)])
        #expect(n.machine.remotePort(Self.remote) == after)
        // Again: accepted, nothing more to end.
        n.remoteRequest(.prlo(ProcessLogin(fcp: [], establishImagePair: false)), from: Self.remote)
        guard case .accept(.prlo)? = n.sentReply(to: .prlo) else { Issue.record("no PRLO LS_ACC"); return }
        #expect(n.takeReports().isEmpty)
        // ADISC still answered: the PLOGI stands.
        n.remoteRequest(.adisc(ADISC(portName: initiatorPortName, nodeName: targetNodeName, portID: Self.remote.rawValue)),
                        from: Self.remote)
        #expect(n.sentReply(to: .adisc) == .accept(.adisc(ADISC(portName: targetPortName, nodeName: targetNodeName,
                                                                 portID: Self.me.rawValue))))
    }

    @Test func framesAfterLOGOFindNoLogin() throws {
        var n = onlineWithRemote(prli: true)
        let before = try #require(n.machine.remotePort(Self.remote))
        n.remoteRequest(.logo(LOGO(portID: Self.remote.rawValue, portName: initiatorPortName)), from: Self.remote)
        #expect(n.sentReply(to: .logo) == .accept(.plain))
        #expect(n.takeReports() == [.remoteLoggedOut(before)])
        #expect(n.machine.remotePorts.isEmpty)
        let requireLogin = ELSReply.reject(LSReject(.unableToPerform, .nPortLoginRequired))
        n.remoteRequest(.prli(ProcessLogin(fcp: [.initiatorFunction])), from: Self.remote)
        #expect(n.sentReply(to: .prli) == requireLogin)
        n.remoteRequest(.prlo(ProcessLogin(fcp: [], establishImagePair: false)), from: Self.remote)
        #expect(n.sentReply(to: .prlo) == requireLogin)
        n.remoteRequest(.adisc(ADISC(portName: initiatorPortName, nodeName: targetNodeName, portID: Self.remote.rawValue)),
                        from: Self.remote)
        #expect(n.sentReply(to: .adisc) == requireLogin)
        n.remoteRequest(.logo(LOGO(portID: Self.remote.rawValue, portName: initiatorPortName)), from: Self.remote)
        #expect(n.sentReply(to: .logo) == .accept(.plain))
        #expect(n.takeReports().isEmpty)
    }

    @Test func rscnEchoRTVAndRLS() throws {
        var n = NPortHarness()
        n.bringOnline()
        let pages = [RSCNPage(.port, portID: targetID), RSCNPage(.area, portID: 0x010200, eventQualifier: 1)]
        n.remoteRequest(.rscn(RSCN(pages: pages)), from: .fabricController)
        #expect(n.sentReply(to: .rscn) == .accept(.plain))
        #expect(n.takeReports() == [.stateChange(pages)])
        n.remoteRequest(.echo([1, 2, 3, 4, 5, 6, 7, 8]), from: Self.remote)
        #expect(n.sentReply(to: .echo) == .accept(.echo([1, 2, 3, 4, 5, 6, 7, 8])))
        n.remoteRequest(.rtv, from: Self.remote)
        #expect(n.sentReply(to: .rtv) == .accept(.rtv(RTVAccept(resourceAllocationTimeout: 1000, errorDetectTimeout: 500))))
        n.handle(.invalidFrame(.badCRC(expected: 0, found: 1)))
        n.handle(.invalidFrame(.badCRC(expected: 0, found: 1)))
        n.remoteRequest(.rls(portID: Self.me.rawValue), from: .fabricController)
        #expect(n.sentReply(to: .rls) == .accept(.rls(LinkErrorStatusBlock(invalidCRCs: 2))))
        #expect(n.takeReports().isEmpty)
    }

    @Test func fabricServicesRefusedAndStrayFramesDiscarded() throws {
        var n = NPortHarness()
        // Not online yet: requests to us are discarded.
        n.handle(.start)
        n.handle(.connected)
        n.remoteRequest(.echo([0, 0, 0, 0]), from: Self.remote, to: Self.me)
        #expect(n.takeSent().isEmpty)
        n.handle(.primitive(.idle))
        n.completeFabricLogin(as: Self.me)
        let sp = ServiceParameters.nPort(portName: targetPortName, nodeName: targetNodeName)
        for request in [ELSRequest.flogi(sp), .fdisc(sp), .scr(SCR(.full))] {
            n.remoteRequest(request, from: Self.remote)
            #expect(n.sentReply(to: request.command) == .reject(LSReject(.commandNotSupported)))
        }
        // Undecodable: the codec's rejection.
        n.receive(FrameHeader(routing: .elsRequest, destination: Self.me, source: Self.remote, type: .els, control: .request,
                              originatorExchangeID: 7), [ELSCommandCode.logo.rawValue, 0, 0, 0])
        #expect(n.sentReply(to: .logo) == .reject(LSReject(.protocolError, .invalidPayloadLength)))
        // For another D_ID: discarded.
        n.remoteRequest(Self.remotePLOGI(), from: Self.remote, to: FCID(0x010777))
        #expect(n.takeSent().isEmpty && n.machine.remotePorts.isEmpty && n.takeReports().isEmpty)
        // Which frames are the N_Port's at all.
        let h = FrameHeader(routing: .fcpCommand, destination: Self.me, source: Self.remote, type: .fcp, control: .request,
                            originatorExchangeID: 1)
        #expect(!NPortMachine.handles(h))
        var els = h
        els.routing = .elsRequest
        els.type = .els
        #expect(NPortMachine.handles(els))
    }
}
