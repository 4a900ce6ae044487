import Testing
@testable import FCPort
import STMF

let sampleNameServerRequests: [NameServerRequest] = [
    .rftID(portID: initiatorID, types: .fcp),
    .rftID(portID: targetID, types: FC4TypeSet([0x05, 0x08, 0x20, 0xFF])),
    .rffID(portID: targetID, features: .target, type: 0x08),
    .rnnID(portID: targetID, nodeName: targetNodeName),
    .rspnID(portID: targetID, symbolicName: Array("swift-stmf target port".utf8)),
    .rspnID(portID: targetID, symbolicName: []),
    .rspnID(portID: targetID, symbolicName: [UInt8](repeating: 0x41, count: 255)),
    .gidFT(type: 0x08),
    .gidFT(type: 0x08, domainScope: 1, areaScope: 2),
    .gpnID(portID: targetID),
    .gnnID(portID: targetID),
    .gidPN(portName: targetPortName),
    .gffID(portID: targetID),
    .gspnID(portID: targetID),
]

let sampleNameServerReplies: [(CTCommandCode, NameServerReply)] = {
    var features = FC4FeatureMap()
    features[0x08] = [.target, .initiator]
    return [
        (.rftID, .accept(.registered)), (.rffID, .accept(.registered)), (.rnnID, .accept(.registered)), (.rspnID, .accept(.registered)),
        (.gidFT, .accept(.portIDs([targetID]))),
        (.gidFT, .accept(.portIDs([0x010100, 0x010200, 0x020300]))),
        (.gpnID, .accept(.portName(targetPortName))),
        (.gnnID, .accept(.nodeName(targetNodeName))),
        (.gidPN, .accept(.portID(targetID))),
        (.gffID, .accept(.features(features))),
        (.gspnID, .accept(.symbolicName(Array("tgt".utf8)))),
        (.gidFT, .reject(CTReject(.unableToPerform, .fc4TypesNotRegistered))),
        (.gpnID, .reject(CTReject(.logicalError, .portIDNotRegistered, vendorUnique: 3))),
    ]
}()

@Suite struct CTTests {
    @Test func requestsRoundTrip() throws {
        for request in sampleNameServerRequests {
            let bytes = request.encoded(maxSize: 0x100)
            #expect(bytes.count % 4 == 0, "CT_IUs are whole words")
            let (header, decoded) = try NameServerRequest.decodeWithHeader(bytes)
            #expect(decoded == request)
            #expect(header.code == request.command.rawValue && header.maxResidualSize == 0x100)
        }
    }

    @Test func repliesRoundTrip() throws {
        for (command, reply) in sampleNameServerReplies {
            let bytes = reply.encoded()
            #expect(bytes.count % 4 == 0)
            #expect(try NameServerReply.decode(bytes, request: command) == reply)
        }
    }

    @Test func matchesWiresharkLayouts() throws {
        // genfc.py's RFT_ID (FCP bit: word 0, byte 2, bit 0), GID_FT, their accepts and GPN_ID's.
        let rft = hex("01000000 fc020000 02170000 00000000 00010100 00000100" + String(repeating: "00000000", count: 7))
        #expect(try NameServerRequest.decode(rft) == .rftID(portID: initiatorID, types: .fcp))
        #expect(NameServerRequest.rftID(portID: initiatorID, types: .fcp).encoded() == rft)
        let gidft = hex("01000000 fc020000 01710100 00000000 00000008")
        #expect(NameServerRequest.gidFT(type: 8).encoded(maxSize: 0x100) == gidft)
        let gidftAccept = hex("01000000 fc020000 80020000 00000000 80010200")
        #expect(try NameServerReply.decode(gidftAccept, request: .gidFT) == .accept(.portIDs([targetID])))
        let gpnAccept = hex("01000000 fc020000 80020000 00000000 21000024ff3d0002")
        #expect(NameServerReply.accept(.portName(targetPortName)).encoded() == gpnAccept)
        // Field by field from FC-GS: RFF_ID features byte 2, type byte 3 of word 1.
        #expect(Array(NameServerRequest.rffID(portID: targetID, features: .target, type: 8).encoded().suffix(8)) == hex("00010200 00000108"))
        #expect(Array(NameServerRequest.rspnID(portID: targetID, symbolicName: Array("abc".utf8)).encoded().suffix(8)) == hex("00010200 03616263"))
        #expect(Array(NameServerRequest.rspnID(portID: targetID, symbolicName: Array("ab".utf8)).encoded().suffix(8)) == hex("00010200 02616200"))
        #expect(NameServerReply.reject(CTReject(.unableToPerform, .fc4TypesNotRegistered)).encoded() == hex("01000000 fc020000 80010000 00090700"))
    }

    @Test func fc4FeatureAndTypeMaps() {
        var map = FC4FeatureMap()
        map[0x08] = .target
        #expect(map.bytes[7] == 0x01 && map.bytes.enumerated().allSatisfy { $0.offset == 7 || $0.element == 0 })
        map[0x09] = .initiator
        #expect(map.bytes[7] == 0x21)
        map[0x00] = [.target, .initiator]
        #expect(map.bytes[3] == 0x03)
        map[0xFF] = .initiator
        #expect(map.bytes[124] == 0x20)
        #expect(map[0x08] == .target && map[0x09] == .initiator && map[0x0A] == [])
        let types = FC4TypeSet([0x00, 0x08, 0x1F, 0x20, 0xFF])
        #expect(types.types == [0x00, 0x08, 0x1F, 0x20, 0xFF])
        #expect(types.words[0] == 0x8000_0101 && types.words[1] == 1 && types.words[7] == 0x8000_0000)
        #expect(!types.contains(0x09))
    }

    @Test func malformedRequestsNameTheirRejection() {
        let size = CTReject(.invalidIUSize)
        let gpn = NameServerRequest.gpnID(portID: targetID).encoded()
        let cases: [([UInt8], CTDecodeError, CTReject)] = [
            ([], .truncated(actual: 0), size),
            (Array(gpn.prefix(15)), .truncated(actual: 15), size),
            (gpn.with(0, 2), .invalidRevision(2), CTReject(.invalidVersionLevel)),
            (gpn.with(4, 0xFA), .unsupportedService(type: 0xFA, subtype: 2), CTReject(.unableToPerform)),
            (gpn.with(5, 0x03), .unsupportedService(type: 0xFC, subtype: 3), CTReject(.unableToPerform)),
            (gpn.with(8, 0x80).with(9, 0x02), .notARequest(0x8002), CTReject(.invalidCommandCode)),
            (gpn.with(8, 0x80).with(9, 0x01), .notARequest(0x8001), CTReject(.invalidCommandCode)),
            (gpn.with(9, 0x00), .unsupportedCommand(0x0100), CTReject(.commandNotSupported)),
            (gpn.with(8, 0x04).with(9, 0x10), .unsupportedCommand(0x0410), CTReject(.commandNotSupported)),
            (Array(gpn.prefix(18)), .invalidSize(.gpnID, actual: 2), size),
            (gpn + [0, 0, 0, 0], .invalidSize(.gpnID, actual: 8), size),
            (Array(NameServerRequest.rftID(portID: 1, types: .fcp).encoded().dropLast(4)), .invalidSize(.rftID, actual: 32), size),
            (Array(NameServerRequest.gidPN(portName: targetPortName).encoded().dropLast()), .invalidSize(.gidPN, actual: 7), size),
            (NameServerRequest.rspnID(portID: 1, symbolicName: Array("abc".utf8)).encoded().with(20, 4), .invalidSize(.rspnID, actual: 8), size),
            (NameServerRequest.rspnID(portID: 1, symbolicName: Array("ab".utf8)).encoded() + [0, 0, 0, 0], .invalidSize(.rspnID, actual: 12), size),
            (Array(NameServerRequest.rspnID(portID: 1, symbolicName: []).encoded().prefix(20)), .invalidSize(.rspnID, actual: 4), size),
        ]
        for (bytes, error, rejection) in cases {
            #expect(throws: error, "\(bytes)") { try NameServerRequest.decode(bytes) }
            #expect(error.rejection == rejection, "\(error)")
        }
    }

    @Test func malformedReplies() {
        let acc = NameServerReply.accept(.portIDs([1, 2])).encoded()
        #expect(throws: CTDecodeError.invalidField(.gidFT, offset: 16)) { try NameServerReply.decode(acc.with(16, 0x80), request: .gidFT) }
        #expect(throws: CTDecodeError.invalidField(.gidFT, offset: 20)) { try NameServerReply.decode(acc.with(20, 0x00), request: .gidFT) }
        #expect(throws: CTDecodeError.invalidSize(.gidFT, actual: 0)) { try NameServerReply.decode(NameServerReply.accept(.registered).encoded(), request: .gidFT) }
        #expect(throws: CTDecodeError.invalidSize(.gidFT, actual: 10)) { try NameServerReply.decode(acc + [0, 0], request: .gidFT) }
        #expect(throws: CTDecodeError.unexpectedResponseCode(0x0112)) { try NameServerReply.decode(NameServerRequest.gpnID(portID: 1).encoded(), request: .gpnID) }
        #expect(CTDecodeError.unexpectedResponseCode(0x0112).rejection == CTReject(.protocolError))
        #expect(throws: CTDecodeError.invalidSize(.gpnID, actual: 4)) { try NameServerReply.decode(NameServerReply.reject(CTReject(.logicalBusy)).encoded() + [0, 0, 0, 0], request: .gpnID) }
        #expect(throws: CTDecodeError.invalidSize(.gffID, actual: 124)) { try NameServerReply.decode(Array(NameServerReply.accept(.features(FC4FeatureMap())).encoded().dropLast(4)), request: .gffID) }
        #expect(throws: CTDecodeError.invalidSize(.rnnID, actual: 4)) { try NameServerReply.decode(NameServerReply.accept(.registered).encoded() + [0, 0, 0, 0], request: .rnnID) }
    }

    @Test func fuzzedPayloadsNeverTrap() {
        let seeds = sampleNameServerRequests.map { $0.encoded() } + sampleNameServerReplies.map { $0.1.encoded() }
        var decoded = 0
        fuzzPayloads(seeds: seeds) { p in
            do throws(CTDecodeError) {
                let request = try NameServerRequest.decode(p)
                decoded += 1
                #expect((try? NameServerRequest.decode(request.encoded())) == request)
            } catch {
                _ = error.rejection
            }
            for command in CTCommandCode.allCases {
                if let reply = try? NameServerReply.decode(p, request: command) {
                    #expect((try? NameServerReply.decode(reply.encoded(), request: command)) == reply)
                }
            }
        }
        #expect(decoded > 100)
    }
}
