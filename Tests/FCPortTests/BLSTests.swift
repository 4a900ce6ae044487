import Testing
@testable import FCPort

@Suite struct BLSTests {
    @Test func roundTrips() throws {
        let samples: [BasicLinkService] = [
            .abts,
            .accept(.abortingExchange(oxID: 0x1010, rxID: 0x0205)),
            .accept(BAAccept(sequenceIDValid: true, lastDeliverableSequenceID: 3, oxID: 1, rxID: 2, lowSequenceCount: 4, highSequenceCount: 9)),
            .reject(BAReject(.unableToPerform, .invalidOXIDRXIDCombination, vendorUnique: 0x42)),
        ]
        for bls in samples {
            #expect(try BasicLinkService.decode(routingControl: bls.routingControl, payload: bls.encoded()) == bls)
        }
        #expect(BasicLinkService.abts.routingControl.rawValue == 0x81)
        #expect(BasicLinkService.reject(BAReject(.logicalError)).routingControl.rawValue == 0x85)
    }

    @Test func matchesWiresharkLayout() throws {
        // genfc.py's BA_ACC: SEQ_ID valid, SEQ_ID 0, OX_ID 0x1010, RX_ID 0x0205, SEQ_CNT 0...0xFFFF.
        let bytes = hex("80000000 10100205 0000ffff")
        let acc = try BAAccept.decode(bytes)
        #expect(acc == BAAccept(sequenceIDValid: true, oxID: 0x1010, rxID: 0x0205))
        #expect(acc.encoded() == bytes)
        #expect(BAAccept.abortingExchange(oxID: 0x1010, rxID: 0x0205).encoded() == hex("00000000 10100205 0000ffff"))
        #expect(BAReject(.logicalError, .invalidOXIDRXIDCombination).encoded() == [0x00, 0x03, 0x03, 0x00])
        #expect(BAReject(.protocolError, .sequenceAbortedNoSequenceInformation, vendorUnique: 1).encoded() == [0, 7, 5, 1])
    }

    @Test func malformedNameTheirRejection() {
        let cases: [(RoutingControl, [UInt8], BLSDecodeError, BAReject)] = [
            (.abts, [0, 0, 0, 0], .invalidLength(.abts, actual: 4), BAReject(.protocolError)),
            (.baAcc, [UInt8](repeating: 0, count: 11), .invalidLength(.baAcc, actual: 11), BAReject(.protocolError)),
            (.baAcc, [UInt8](repeating: 0, count: 16), .invalidLength(.baAcc, actual: 16), BAReject(.protocolError)),
            (.baRjt, [0, 1, 0], .invalidLength(.baRjt, actual: 3), BAReject(.protocolError)),
            (.baRjt, [0, 1, 0, 0, 0], .invalidLength(.baRjt, actual: 5), BAReject(.protocolError)),
            (RoutingControl(rawValue: 0x80), [], .unsupported(RoutingControl(rawValue: 0x80)), BAReject(.invalidCommandCode)),
            (RoutingControl(rawValue: 0x86), [], .unsupported(RoutingControl(rawValue: 0x86)), BAReject(.invalidCommandCode)),
        ]
        for (routing, bytes, error, rejection) in cases {
            #expect(throws: error) { try BasicLinkService.decode(routingControl: routing, payload: bytes) }
            #expect(error.rejection == rejection)
        }
    }

    @Test func fuzzedPayloadsNeverTrap() {
        let seeds = [BAAccept.abortingExchange(oxID: 1, rxID: 2).encoded(), BAReject(.logicalBusy).encoded(), []]
        var rng = SeededGenerator(seed: 0xB15)
        fuzzPayloads(seeds: seeds) { p in
            let routing = RoutingControl(rawValue: [0x80, 0x81, 0x84, 0x85, 0x86].randomElement(using: &rng)!)
            if let bls = try? BasicLinkService.decode(routingControl: routing, payload: p) {
                #expect((try? BasicLinkService.decode(routingControl: routing, payload: bls.encoded())) == bls)
            }
        }
    }
}
