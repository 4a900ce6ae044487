import FCPort
import STMF
import Testing

/// The target's FCP exchange machine driven frame by frame on a manual time line: no socket,
/// no thread, no SCSI layer (the test plays it from the actions).
@Suite struct TargetExchangeMachineTests {
    static let me = FCID(0x010100)
    static let host = FCID(0x010200)
    static let other = FCID(0x010300)

    struct Rig {
        var machine = TargetExchangeMachine(dataTimeout: .seconds(2))
        var now = FCInstant.zero
        var actions: [TargetExchangeMachine.Action] = []

        init(sessions: [FCID] = [TargetExchangeMachineTests.host]) {
            for s in sessions { _ = handle(.sessionBegan(s, receiveSize: 2048)) }
        }

        @discardableResult
        mutating func handle(_ e: TargetExchangeMachine.Event) -> [TargetExchangeMachine.Action] {
            actions.removeAll()
            machine.handle(e, at: now, into: &actions)
            return actions
        }

        mutating func frame(_ h: FrameHeader, _ payload: [UInt8]) -> [TargetExchangeMachine.Action] {
            payload.withUnsafeBytes { p in handle(.frame(h, p)) }
        }

        mutating func command(ox: UInt16, _ cmd: FCPCommand, from s: FCID = TargetExchangeMachineTests.host) -> [TargetExchangeMachine.Action] {
            frame(FrameHeader(routing: .fcpCommand, destination: TargetExchangeMachineTests.me, source: s, type: .fcp,
                              control: .request, originatorExchangeID: ox), cmd.encoded())
        }

        mutating func data(ox: UInt16, rx: UInt16, offset: Int, _ bytes: [UInt8], from s: FCID = TargetExchangeMachineTests.host) -> [TargetExchangeMachine.Action] {
            frame(FrameHeader(routing: .fcpData, destination: TargetExchangeMachineTests.me, source: s, type: .fcp,
                              control: [.relativeOffset], originatorExchangeID: ox, responderExchangeID: rx,
                              parameter: UInt32(offset)), bytes)
        }

        mutating func abts(ox: UInt16, from s: FCID = TargetExchangeMachineTests.host) -> [TargetExchangeMachine.Action] {
            frame(FrameHeader(routing: .abts, destination: TargetExchangeMachineTests.me, source: s, type: .bls,
                              control: [.endSequence, .sequenceInitiative], originatorExchangeID: ox), [])
        }
    }

    static func read(blocks: UInt16) -> FCPCommand {
        FCPCommand(lun: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, UInt8(blocks), 0], direction: .read, dataLength: UInt32(blocks) * 512)
    }

    static func write(blocks: UInt16) -> FCPCommand {
        FCPCommand(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, UInt8(blocks), 0], direction: .write, dataLength: UInt32(blocks) * 512)
    }

    static func key(_ ox: UInt16, _ s: FCID = host) -> TargetExchangeMachine.Key { .init(source: s, oxID: ox) }

    /// The FCP_RSP an action sends, decoded by the product's own decoder.
    static func response(_ a: TargetExchangeMachine.Action?) -> FCPResponse? {
        switch a {
        case let .sendResponse(_, _, r)?: return try? FCPResponse.decode(r.encoded())
        case let .sendDataAndResponse(_, _, _, _, _, r)?: return try? FCPResponse.decode(r.encoded())
        default: return nil
        }
    }

    @Test func aReadIsAdmittedAndAnsweredWithItsDataAndStatus() {
        var r = Rig()
        let a = r.command(ox: 1, Self.read(blocks: 8))
        guard case let .admit(key, cmd)? = a.first, a.count == 1 else { Issue.record("\(a)"); return }
        #expect(key == Self.key(1) && cmd.dataLength == 4096)
        #expect(key.tag == UInt64(Self.host.rawValue) << 16 | 1 && TargetExchangeMachine.Key(tag: key.tag) == key)
        let buf = IOBuffer(capacity: 4096)
        let done = r.handle(.completed(key, TaskResponse(status: .good, dataLength: 4096, intendedLength: 4096), dataIn: buf))
        guard case let .sendDataAndResponse(h, rx, data, length, maxPayload, rsp)? = done.first, done.count == 1 else {
            Issue.record("\(done)"); return
        }
        #expect(h.originatorExchangeID == 1 && rx != FrameHeader.unassignedExchange && data === buf && length == 4096)
        #expect(maxPayload == 2048)
        #expect(rsp.status == .good && rsp.residual == .none)
        #expect(r.machine.openExchanges == 0)
    }

    @Test func writeDataArrivesOutOfOrderAndTwiceAndCountsOnce() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 2, Self.write(blocks: 8)).first else { Issue.record("no admit"); return }
        let buf = IOBuffer(capacity: 4096)
        let x = r.handle(.dataRequested(key, buffer: buf, length: 4096))
        guard case let .sendTransferReady(_, rx, length)? = x.first else { Issue.record("\(x)"); return }
        #expect(length == 4096)
        #expect(x.contains { if case .startTimer = $0 { true } else { false } })
        let second = [UInt8](repeating: 2, count: 2048), first = [UInt8](repeating: 1, count: 2048)
        #expect(r.data(ox: 2, rx: rx, offset: 2048, second).isEmpty)
        #expect(r.data(ox: 2, rx: rx, offset: 2048, second).isEmpty, "a duplicated frame must not complete the data")
        let done = r.data(ox: 2, rx: rx, offset: 0, first)
        #expect(done.count == 1)
        if case .dataReceived(let k)? = done.first { #expect(k == key) } else { Issue.record("\(done)") }
        #expect(buf.count == 4096 && buf.array() == first + second)
        // More frames for it are stale now.
        #expect(r.data(ox: 2, rx: rx, offset: 0, first).isEmpty)
    }

    @Test func dataBeyondTheBurstEndsTheExchange() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 3, Self.write(blocks: 1)).first else { return }
        r.handle(.dataRequested(key, buffer: IOBuffer(capacity: 512), length: 512))
        let a = r.data(ox: 3, rx: 1, offset: 256, [UInt8](repeating: 0, count: 512))
        #expect(a.count == 2)
        if case .dataFailed(let k)? = a.first { #expect(k == key) } else { Issue.record("\(a)") }
        #expect(Self.response(a.last)?.responseCode?.rawValue == 3)
        #expect(r.machine.openExchanges == 0)
    }

    @Test func aCommandWithoutAnImagePairLogsTheSenderOut() {
        var r = Rig()
        let a = r.command(ox: 4, Self.read(blocks: 1), from: Self.other)
        if case .logout(let id)? = a.first, a.count == 1 { #expect(id == Self.other) } else { Issue.record("\(a)") }
    }

    @Test func aRepeatedCommandFrameIsDroppedAndADifferentOneIsOverlapped() {
        var r = Rig()
        #expect(r.command(ox: 5, Self.read(blocks: 1)).count == 1)
        #expect(r.command(ox: 5, Self.read(blocks: 1)).isEmpty)
        #expect(r.machine.duplicateFrames == 1)
        let a = r.command(ox: 5, Self.read(blocks: 2))
        let rsp = Self.response(a.first)
        #expect(rsp?.status == .checkCondition)
        #expect(rsp.map { SenseData(parsing: $0.sense)?.additional.asc == 0x4E } == true, "OVERLAPPED COMMANDS ATTEMPTED")
    }

    @Test func abtsWhileReceivingDataEndsItAtOnce() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 6, Self.write(blocks: 8)).first else { return }
        r.handle(.dataRequested(key, buffer: IOBuffer(capacity: 4096), length: 4096))
        let a = r.abts(ox: 6)
        #expect(a.count == 2)
        if case .dataFailed(let k)? = a.first { #expect(k == key) } else { Issue.record("\(a)") }
        if case let .sendBasicAccept(h, _)? = a.last { #expect(h.originatorExchangeID == 6) } else { Issue.record("\(a)") }
        // The task ends aborted meanwhile: nothing more is sent.
        #expect(r.handle(.completed(key, TaskResponse(status: .good, aborted: true), dataIn: nil)).isEmpty)
    }

    @Test func abtsWhileExecutingWaitsForTheTaskToLeaveTheLU() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 7, Self.read(blocks: 1)).first else { return }
        let a = r.abts(ox: 7)
        if case let .abortTask(k, lun)? = a.first, a.count == 1 { #expect(k == key && lun == 0) } else { Issue.record("\(a)"); return }
        #expect(r.abts(ox: 7).isEmpty, "a second ABTS while the first is served")
        // The task completes (it raced the abort): no data, no status for an aborted exchange.
        #expect(r.handle(.completed(key, .good, dataIn: IOBuffer(capacity: 512))).isEmpty)
        let done = r.handle(.abortDone(key))
        if case .sendBasicAccept? = done.first, done.count == 1 {} else { Issue.record("\(done)") }
        #expect(r.machine.openExchanges == 0)
        // ABTS for an exchange the port does not know is accepted too.
        if case .sendBasicAccept? = r.abts(ox: 99).first {} else { Issue.record("unknown exchange") }
    }

    @Test func dataThatStopsArrivingIsReclaimedAfterTheTimeout() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 8, Self.write(blocks: 8)).first else { return }
        let x = r.handle(.dataRequested(key, buffer: IOBuffer(capacity: 4096), length: 4096))
        guard case let .startTimer(id, deadline)? = x.last else { Issue.record("\(x)"); return }
        #expect(deadline > r.now + .seconds(2))
        r.now = r.now + .seconds(1)
        #expect(r.data(ox: 8, rx: 1, offset: 0, [UInt8](repeating: 0, count: 2048)).isEmpty)   // activity moves it on
        r.now = deadline
        let fired = r.handle(.timerFired(id))
        #expect(!fired.contains { if case .dataFailed = $0 { true } else { false } }, "reclaimed inside its timeout")
        guard case let .startTimer(id2, deadline2)? = fired.last else { Issue.record("\(fired)"); return }
        r.now = deadline2
        let again = r.handle(.timerFired(id2))
        if case .dataFailed(let k)? = again.first { #expect(k == key) } else { Issue.record("\(again)") }
        #expect(r.machine.reclaimed == 1 && r.machine.openExchanges == 0)
        // An old timer id is not recognised.
        #expect(r.handle(.timerFired(id)).isEmpty)
    }

    @Test func framesAfterLogoAreIgnoredAndItsExchangesGoWithIt() {
        var r = Rig(sessions: [Self.host, Self.other])
        guard case let .admit(k1, _)? = r.command(ox: 9, Self.write(blocks: 8)).first else { return }
        r.handle(.dataRequested(k1, buffer: IOBuffer(capacity: 4096), length: 4096))
        guard case .admit? = r.command(ox: 9, Self.read(blocks: 1), from: Self.other).first else { return }
        let a = r.handle(.sessionEnded(Self.host))
        if case .dataFailed(let k)? = a.first, a.count == 1 { #expect(k == k1) } else { Issue.record("\(a)") }
        #expect(r.data(ox: 9, rx: 1, offset: 0, [UInt8](repeating: 0, count: 2048)).isEmpty)
        if case .logout? = r.command(ox: 10, Self.read(blocks: 1)).first {} else { Issue.record("a command after LOGO") }
        #expect(r.machine.openExchanges == 1, "the other initiator's exchange stays")
    }

    @Test func aLinkBounceMidSequenceDropsEverything() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 11, Self.write(blocks: 8)).first else { return }
        let x = r.handle(.dataRequested(key, buffer: IOBuffer(capacity: 4096), length: 4096))
        #expect(r.data(ox: 11, rx: 1, offset: 0, [UInt8](repeating: 0, count: 2048)).isEmpty)
        let a = r.handle(.linkLost)
        #expect(a.contains { if case .dataFailed(let k) = $0 { k == key } else { false } })
        #expect(a.contains { if case .cancelTimer = $0 { true } else { false } })
        #expect(r.machine.openExchanges == 0 && r.machine.sessionCount == 0)
        if case let .startTimer(id, _)? = x.last { #expect(r.handle(.timerFired(id)).isEmpty) }
        // Back up with a new PRLI: the same OX_ID is a new exchange.
        r.handle(.sessionBegan(Self.host, receiveSize: 1024))
        guard case .admit? = r.command(ox: 11, Self.read(blocks: 4)).first else { Issue.record("not admitted after the bounce"); return }
        let done = r.handle(.completed(key, TaskResponse(status: .good, dataLength: 2048, intendedLength: 2048), dataIn: IOBuffer(capacity: 2048)))
        if case let .sendDataAndResponse(_, _, _, _, maxPayload, _)? = done.first { #expect(maxPayload == 1024) } else { Issue.record("\(done)") }
    }

    @Test func refusalsAndTaskManagementAndUndecodableCommands() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 12, Self.write(blocks: 8)).first else { return }
        let refused = r.handle(.refused(key, TaskResponse(error: .lbaOutOfRange, descriptorSense: false)))
        let rsp = Self.response(refused.first)
        #expect(rsp?.status == .checkCondition && rsp?.residual == .underflow(4096))
        // A task management function.
        let tmf = r.command(ox: 13, FCPCommand(lun: 0, taskManagement: .logicalUnitReset))
        guard case let .taskManagement(k, fn)? = tmf.first else { Issue.record("\(tmf)"); return }
        #expect(fn == .logicalUnitReset(lun: 0))
        #expect(Self.response(r.handle(.taskManagementDone(k, .functionComplete)).first)?.responseCode?.rawValue == 0)
        // A payload that is no FCP_CMND.
        let bad = r.frame(FrameHeader(routing: .fcpCommand, destination: Self.me, source: Self.host, type: .fcp,
                                      control: .request, originatorExchangeID: 14), [1, 2, 3])
        #expect(Self.response(bad.first)?.responseCode != nil)
        // Data requested for an exchange that went away: the SCSI layer is told at once.
        if case .dataFailed? = r.handle(.dataRequested(Self.key(77), buffer: IOBuffer(capacity: 1), length: 1)).first {} else {
            Issue.record("data requested for a gone exchange")
        }
    }

    @Test func anAbortFromTheSCSILayerDuringTheDataPhaseSendsNothing() {
        var r = Rig()
        guard case let .admit(key, _)? = r.command(ox: 15, Self.write(blocks: 8)).first else { return }
        r.handle(.dataRequested(key, buffer: IOBuffer(capacity: 4096), length: 4096))
        let a = r.handle(.abandon(key))
        if case .dataFailed(let k)? = a.first, a.count == 1 { #expect(k == key) } else { Issue.record("\(a)") }
        #expect(r.handle(.abandon(key)).isEmpty)
    }
}
