@testable import FCPort
import STMF
import Testing

/// The FCP initiator exchange machine, frame by frame with a manual clock.
@Suite("FCP initiator exchange machine")
struct InitiatorExchangeMachineTests {
    typealias H = InitiatorHarness

    static func pattern(_ n: Int, _ seed: UInt8 = 1) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) &+ seed } }

    @Test func readCompletesWithDataByOffsetAndDuplicatesCountOnce() throws {
        var h = H()
        h.read(0x10, length: 6144)
        let sent = h.takeSent()
        #expect(sent.count == 1)
        let cmd = try #require(sent.first)
        #expect(cmd.header.routing == .fcpCommand && cmd.header.destination == H.target && cmd.header.originatorExchangeID == 0x10)
        let decoded = try FCPCommand.decode(cmd.payload)
        #expect(decoded.direction == .read && decoded.dataLength == 6144)
        let data = Self.pattern(6144)
        // Out of order, the middle frame twice.
        h.data(oxid: 0x10, offset: 4096, Array(data[4096..<6144]))
        h.data(oxid: 0x10, offset: 2048, Array(data[2048..<4096]))
        h.data(oxid: 0x10, offset: 2048, Array(data[2048..<4096]))
        h.data(oxid: 0x10, offset: 0, Array(data[0..<2048]))
        #expect(h.completed.isEmpty)
        h.response(oxid: 0x10)
        #expect(h.completed[0x10] == .success(.init(response: FCPResponse(), data: data)))
        #expect(h.released == [0x10] && h.machine.count == 0 && h.timers.deadlines.isEmpty)
    }

    @Test func aDuplicateCannotHideALostFrame() throws {
        var h = H()
        h.read(1, length: 6144)
        h.data(oxid: 1, offset: 0, Self.pattern(2048))
        h.data(oxid: 1, offset: 0, Self.pattern(2048))
        h.data(oxid: 1, offset: 4096, Self.pattern(2048))
        h.response(oxid: 1)
        #expect(h.completed[1] == .failure(.transport("2048 bytes of FCP_DATA missing")))
        #expect(h.released == [1])
        // With an underflow residual covering the gap, the data the target says it moved is there.
        h.read(2, length: 6144)
        h.data(oxid: 2, offset: 0, Self.pattern(2048))
        h.response(oxid: 2, FCPResponse(residual: .underflow(4096)))
        #expect(h.completed[2] == .success(.init(response: FCPResponse(residual: .underflow(4096)), data: Self.pattern(2048))))
        // CHECK CONDITION with sense: no data is expected.
        h.read(3, length: 512)
        let sense: [UInt8] = [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0]     // ILLEGAL REQUEST 24/00
        h.response(oxid: 3, FCPResponse(status: .checkCondition, residual: .underflow(512), sense: sense))
        guard case .success(let c)? = h.completed[3] else { Issue.record("not completed"); return }
        #expect(c.response.sense == sense && c.data.isEmpty)
    }

    @Test func writeBurstsSplitToTheTargetsReceiveSize() throws {
        var h = H()
        let data = Self.pattern(8192, 3)
        h.write(5, data, maximumPayload: 1024)
        _ = h.takeSent()
        h.transferReady(oxid: 5, offset: 0, length: 4096)
        let first = h.takeSent()
        #expect(first.count == 4)
        #expect(first.map(\.header.parameter) == [0, 1024, 2048, 3072])
        #expect(first.allSatisfy { $0.header.sequenceID == 1 && $0.header.responderExchangeID == H.rxid && $0.header.routing == .fcpData })
        #expect(first.last?.header.control.contains([.endSequence, .sequenceInitiative]) == true)
        #expect(first.dropLast().allSatisfy { !$0.header.control.contains(.endSequence) })
        h.transferReady(oxid: 5, offset: 4096, length: 4096)
        let second = h.takeSent()
        #expect(second.map(\.header.sequenceID) == [2, 2, 2, 2])
        #expect((first + second).flatMap(\.payload) == data)
        h.response(oxid: 5)
        #expect(h.completed[5] == .success(.init(response: FCPResponse(), data: [])))
    }

    @Test func lostXferRdyTimesOutAbortsAndQuarantines() throws {
        var h = H()
        h.write(7, Self.pattern(4096), timeout: .milliseconds(300))
        _ = h.takeSent()
        h.advance(.milliseconds(299))
        #expect(h.takeSent().isEmpty)
        h.advance(.milliseconds(1))
        let abts = try h.firstSent()
        #expect(abts.header.routing == .abts && abts.header.type == .bls && abts.header.originatorExchangeID == 7)
        #expect(abts.header.responderExchangeID == FrameHeader.unassignedExchange && abts.payload.isEmpty)
        #expect(h.completed.isEmpty)
        h.baAcc(oxid: 7)
        #expect(h.completed[7] == .failure(.timeout) && h.released.isEmpty && h.machine.count == 1)
        h.advance(.milliseconds(999))
        #expect(h.released.isEmpty)
        h.advance(.milliseconds(1))
        #expect(h.released == [7] && h.machine.count == 0 && h.timers.deadlines.isEmpty)
    }

    @Test func unansweredABTSGivesUpAfterRATOV() throws {
        var h = H()
        h.read(8, length: 512, timeout: .milliseconds(100))
        h.data(oxid: 8, offset: 0, Self.pattern(256))     // learns the RX_ID
        _ = h.takeSent()
        h.advance(.milliseconds(100))
        #expect(h.takeSent().first?.header.responderExchangeID == H.rxid)
        h.advance(.seconds(1))
        #expect(h.completed[8] == .failure(.timeout) && h.released.isEmpty)
        h.advance(.seconds(1))
        #expect(h.released == [8])
    }

    @Test func abtsRaces() throws {
        var h = H()
        // FCP_RSP crossing our ABTS: the exchange is being aborted, the response is not taken.
        h.read(1, length: 512, tag: 11)
        #expect(h.machine.activeExchanges(.tag(11)) == 1)
        h.handle(.abort(.tag(11), reason: .aborted))
        #expect(h.takeSent().last?.header.routing == .abts)
        h.data(oxid: 1, offset: 0, Self.pattern(512))
        h.response(oxid: 1)
        #expect(h.completed.isEmpty)
        h.baAcc(oxid: 1)
        #expect(h.completed[1] == .failure(.aborted))
        // A second BA_ACC, or one for an exchange never aborted, changes nothing.
        h.baAcc(oxid: 1)
        h.read(2, length: 512)
        h.baAcc(oxid: 2)
        #expect(h.completed[2] == nil)
        // The target's ABTS crossing ours: accepted, the command fails once.
        h.handle(.abort(.target(H.target), reason: .aborted))
        _ = h.takeSent()
        h.fromTarget(.abts, oxid: 2, [], type: .bls)
        let acc = try h.firstSent()
        #expect(acc.header.routing == .baAcc && acc.header.destination == H.target)
        #expect(try BAAccept.decode(acc.payload) == BAAccept.abortingExchange(oxID: 2, rxID: H.rxid))
        #expect(h.completed[2] == .failure(.aborted))
        h.baAcc(oxid: 2)
        // Aborting what already completed starts nothing.
        h.read(3, length: 0)
        h.response(oxid: 3)
        #expect(h.machine.activeExchanges(.tag(11)) == 0 && h.machine.activeExchanges(.target(nil)) == 0)
        h.handle(.abort(.target(nil), reason: .aborted))
        #expect(h.takeSent().count == 1)      // only the FCP_CMND of 3
    }

    @Test func targetAbortIsAcceptedEvenForUnknownExchanges() throws {
        var h = H()
        h.fromTarget(.abts, oxid: 0x7777, [], type: .bls)
        let acc = try h.firstSent()
        #expect(acc.header.routing == .baAcc && acc.header.originatorExchangeID == 0x7777)
        #expect(acc.header.control == [.endSequence, .lastSequence, .sequenceInitiative])
        #expect(h.completed.isEmpty && h.machine.count == 0)
        h.read(4, length: 512)
        h.fromTarget(.abts, oxid: 4, [], type: .bls)
        #expect(h.completed[4] == .failure(.aborted) && h.machine.count == 1)
        h.advance(.seconds(1))
        #expect(h.released == [4])
    }

    @Test func oxidReuseInsideRATOVIsRefused() throws {
        var h = H()
        h.read(9, length: 1024)
        h.handle(.remoteLoggedOut(H.target))
        #expect(h.completed[9] == .failure(.notLoggedIn(H.target)))
        _ = h.takeSent()
        // Late frames of the old exchange do nothing; the OX_ID cannot start a new one yet.
        h.data(oxid: 9, offset: 0, Self.pattern(1024))
        h.response(oxid: 9)
        h.completed = [:]
        h.read(9, length: 1024)
        #expect(h.completed[9] == .failure(.linkDown) && h.takeSent().isEmpty)
        h.advance(.seconds(1))
        #expect(h.released == [9])
        h.completed = [:]
        h.read(9, length: 1024)
        #expect(h.takeSent().count == 1 && h.completed.isEmpty)
    }

    @Test func linkLostFailsEverythingAndStaleStartsFail() throws {
        var h = H()
        h.read(1, length: 512)
        h.write(2, Self.pattern(512))
        h.read(3, length: 512)
        h.handle(.abort(.tag(0), reason: .aborted))
        h.fromTarget(.abts, oxid: 3, [], type: .bls)      // 3 is reported and quarantined
        let epoch = h.machine.linkEpoch
        h.handle(.linkLost)
        #expect(h.completed[1] == .failure(.linkDown) && h.completed[2] == .failure(.linkDown))
        #expect(h.completed[3] == .failure(.aborted))
        #expect(h.machine.count == 0 && h.timers.deadlines.isEmpty && h.released.isEmpty)
        _ = h.takeSent()
        h.handle(.start(.init(oxid: 4, source: H.source, target: H.target, command: FCPCommand(lun: 0, cdb: [0]),
                              maximumPayload: 2048, timeout: .seconds(1)), linkEpoch: epoch))
        #expect(h.completed[4] == .failure(.linkDown) && h.takeSent().isEmpty)
    }

    @Test func linkBounceMidWriteSequence() throws {
        var h = H()
        h.write(6, Self.pattern(8192), maximumPayload: 2048)
        h.transferReady(oxid: 6, offset: 0, length: 4096)
        #expect(h.takeSent().count == 3)         // FCP_CMND and the first burst
        h.handle(.linkLost)
        #expect(h.completed[6] == .failure(.linkDown))
        // What the target still had on its way is for an exchange that no longer exists.
        h.transferReady(oxid: 6, offset: 4096, length: 4096)
        h.response(oxid: 6)
        h.fromTarget(.abts, oxid: 6, [], type: .bls)
        #expect(h.takeSent().map(\.header.routing) == [.baAcc])
        #expect(h.machine.count == 0 && h.released.isEmpty)
        // The N_Port freed every OX_ID with the link: the same one starts a new exchange.
        h.completed = [:]
        h.write(6, Self.pattern(512))
        h.transferReady(oxid: 6, offset: 0, length: 512)
        h.response(oxid: 6)
        #expect(h.completed[6] == .success(.init(response: FCPResponse(), data: [])))
    }

    @Test func logoutFailsOnlyThatTargetsCommands() throws {
        var h = H()
        let other = FCID(0x010500)
        h.read(1, length: 512)
        h.read(2, length: 512, target: other)
        h.handle(.remoteLoggedOut(other))
        #expect(h.completed[2] == .failure(.notLoggedIn(other)) && h.completed[1] == nil)
        h.response(oxid: 1)
        #expect(h.completed[1] != nil)
        // Frames from a port that is not the exchange's target are not the target's.
        h.read(5, length: 512)
        h.fromTarget(.fcpResponse, oxid: 5, FCPResponse().encoded(), source: other)
        #expect(h.completed[5] == nil)
    }

    @Test func fcpViolationsFailTheCommand() throws {
        var h = H()
        h.read(1, length: 1024)
        h.data(oxid: 1, offset: 512, Self.pattern(1024))
        h.response(oxid: 1)
        #expect(h.completed[1] == .failure(.transport("FCP_DATA at offset 512 + 1024 beyond FCP_DL 1024")))
        h.write(2, Self.pattern(1024))
        h.data(oxid: 2, offset: 0, Self.pattern(16))
        h.response(oxid: 2)
        #expect(h.completed[2] == .failure(.transport("FCP_DATA on a command without data-in")))
        h.read(3, length: 1024)
        h.transferReady(oxid: 3, offset: 0, length: 1024)
        h.response(oxid: 3)
        #expect(h.completed[3] == .failure(.transport("XFER_RDY for 0+1024 beyond FCP_DL 1024")))
        h.write(4, Self.pattern(1024))
        _ = h.takeSent()
        h.transferReady(oxid: 4, offset: 512, length: 1024)
        #expect(h.takeSent().isEmpty)
        h.response(oxid: 4)
        #expect(h.completed[4] == .failure(.transport("XFER_RDY for 512+1024 beyond FCP_DL 1024")))
        h.read(5, length: 0)
        h.fromTarget(.fcpResponse, oxid: 5, [0, 1, 2])
        #expect(h.completed[5] == .failure(.transport("undecodable FCP_RSP")))
        #expect(h.released == [1, 2, 3, 4, 5] && h.machine.count == 0)
    }
}
