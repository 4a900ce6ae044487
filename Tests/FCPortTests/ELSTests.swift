import Testing
@testable import FCPort
import STMF

/// genfc.py's FLOGI from the initiator and the fabric's LS_ACC (both decoded by Wireshark).
let genfcFLOGI = hex("""
    04000000 20200014 88000840 00ff001f 000007d0 21000024ff3d0001 20000024ff3d0001
    00000000000000000000000000000000 00000000000000000000000000000000
    80000000000008400 0ff000000010000 00000000000000000000000000000000
    00000000000000000000000000000000
    """)
let genfcFLOGIAccept = hex("""
    02000000 20200014 98000840 00ff001f 000007d0 20010000deadbe01 10000000deadbeef
    00000000000000000000000000000000 00000000000000000000000000000000
    80000000000008400 0ff000000010000 00000000000000000000000000000000
    00000000000000000000000000000000
    """)

/// The service parameters genfc.py writes: class 3 valid (no other option), 2112-byte frames.
func genfcParameters(_ port: WWN, _ node: WWN, fPort: Bool = false) -> ServiceParameters {
    var p = ServiceParameters.nPort(portName: port, nodeName: node, receiveDataFieldSize: 2112)
    if fPort { p.commonFeatures.insert(.fPort) }
    p.class3 = .init(options: .valid, receiveDataFieldSize: 2112, concurrentSequences: 255, openSequencesPerExchange: 1)
    return p
}

let sampleRequests: [ELSRequest] = [
    .flogi(.nPort(portName: initiatorPortName, nodeName: initiatorNodeName)),
    .plogi(.nPort(portName: targetPortName, nodeName: targetNodeName, receiveDataFieldSize: 2112)),
    .fdisc({
        var p = ServiceParameters.nPort(portName: initiatorPortName, nodeName: initiatorNodeName)
        p.commonFeatures = [.payloadLength256, .edTOVResolutionNanoseconds]
        p.extendedParameters = (0..<140).map { UInt8($0) }
        p.vendorVersionLevel = Array("swift-stmf".utf8)
        p.class2 = .class3()
        return p
    }()),
    .logo(LOGO(portID: initiatorID, portName: initiatorPortName)),
    .prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled])),
    .prli(ProcessLogin(pages: [.fcp([.initiatorFunction]), ServiceParameterPage(type: 0x05, originatorProcessAssociatorValid: true, originatorProcessAssociator: 0x1234_5678)])),
    .prlo(ProcessLogin(pages: [ServiceParameterPage()])),
    .adisc(ADISC(hardAddress: 0xEF, portName: initiatorPortName, nodeName: initiatorNodeName, portID: initiatorID)),
    .rscn(RSCN(pages: [RSCNPage(portID: targetID, eventQualifier: 1), RSCNPage(.domain, portID: 0x020000), RSCNPage(.fabric, portID: 0)])),
    .scr(SCR(.full)),
    .scr(SCR(.clear)),
    .echo([]),
    .echo(Array(0..<200)),
    .rls(portID: targetID),
    .rtv,
]

let sampleAccepts: [(ELSCommandCode, ELSAccept)] = [
    (.flogi, .serviceParameters(.fPort(portName: fPortName, fabricName: fabricName))),
    (.plogi, .serviceParameters(.nPort(portName: targetPortName, nodeName: targetNodeName))),
    (.prli, .prli(ProcessLogin(fcp: [.targetFunction, .readXferRdyDisabled], responseCode: .requestExecuted))),
    (.prlo, .prlo(ProcessLogin(pages: [ServiceParameterPage(responseCode: .requestExecuted)]))),
    (.adisc, .adisc(ADISC(portName: targetPortName, nodeName: targetNodeName, portID: targetID))),
    (.echo, .echo([1, 2, 3, 4])),
    (.rls, .rls(LinkErrorStatusBlock(linkFailures: 1, lossOfSynchronization: 2, lossOfSignal: 3, primitiveSequenceErrors: 4, invalidTransmissionWords: 5, invalidCRCs: 6))),
    (.rtv, .rtv(RTVAccept(timeoutQualifier: 1 << 26))),
    (.logo, .plain), (.rscn, .plain), (.scr, .plain),
]

@Suite struct ELSTests {
    @Test func everyRequestRoundTrips() throws {
        for request in sampleRequests {
            let bytes = request.encoded()
            #expect(bytes[0] == request.command.rawValue)
            #expect(try ELSRequest.decode(bytes) == request)
            #expect(try ELSRequest.decode(ArraySlice([0xAA] + bytes).dropFirst()) == request, "slices decode too")
        }
    }

    @Test func everyReplyRoundTrips() throws {
        for (command, accept) in sampleAccepts {
            let bytes = ELSReply.accept(accept).encoded()
            #expect(bytes[0] == 0x02)
            #expect(try ELSReply.decode(bytes, request: command) == .accept(accept))
        }
        let reject = ELSReply.reject(LSReject(.logicalBusy, .insufficientResources, vendorUnique: 7))
        #expect(try ELSReply.decode(reject.encoded(), request: .plogi) == reject)
    }

    @Test func flogiMatchesWiresharkLayout() throws {
        guard case let .flogi(p) = try ELSRequest.decode(genfcFLOGI) else { Issue.record("not FLOGI"); return }
        #expect(p.highestVersion == 0x20 && p.lowestVersion == 0x20)
        #expect(p.bbCredit == 20)
        #expect(p.commonFeatures == [.continuouslyIncreasingRelativeOffset, .alternateBBCreditManagement])
        #expect(p.receiveDataFieldSize == 2112)
        #expect(p.totalConcurrentSequences == 255 && p.relativeOffsetByCategory == 0x1F)
        #expect(p.errorDetectTimeout == 2000)
        #expect(p.portName == initiatorPortName && p.nodeName == initiatorNodeName)
        #expect(!p.class1.isValid && !p.class2.isValid && !p.class4.isValid)
        #expect(p.class3.isValid && p.class3.receiveDataFieldSize == 2112)
        #expect(p.class3.concurrentSequences == 255 && p.class3.openSequencesPerExchange == 1)
        #expect(p.vendorVersionLevel == [UInt8](repeating: 0, count: 16))
        #expect(ELSRequest.flogi(genfcParameters(initiatorPortName, initiatorNodeName)).encoded() == genfcFLOGI)
    }

    @Test func fabricAcceptMatchesWiresharkLayout() throws {
        let reply = try ELSReply.decode(genfcFLOGIAccept, request: .flogi)
        guard case let .accept(.serviceParameters(p)) = reply else { Issue.record("not an LS_ACC"); return }
        #expect(p.isFPort)
        #expect(p.portName == fPortName && p.nodeName == fabricName)
        #expect(ELSReply.accept(.serviceParameters(genfcParameters(fPortName, fabricName, fPort: true))).encoded() == genfcFLOGIAccept)
        // Our own F_Port defaults: word 3 is R_A_TOV.
        let f = ServiceParameters.fPort(portName: fPortName, fabricName: fabricName)
        let b = f.encoded(command: .lsAccept)
        #expect(b.count == 116)
        #expect(Array(b[8...9]) == [0x18, 0x00])            // F_Port + alternate BB credit
        #expect(Array(b[12...15]) == [0, 0, 0x27, 0x10])     // R_A_TOV 10000 ms
        #expect(Array(b[16...19]) == [0, 0, 0x07, 0xD0])     // E_D_TOV 2000 ms
        #expect(Array(b[68...69]) == [0x88, 0x00])           // class 3 valid + sequential delivery
        #expect(Array(b[74...75]) == [0x08, 0x00])           // class 3 receive size 2048
    }

    @Test func prliMatchesWiresharkLayout() throws {
        let request = hex("20100014 08002000 00000000 00000000 00000022")
        #expect(try ELSRequest.decode(request) == .prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled])))
        #expect(ELSRequest.prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled])).encoded() == request)
        let accept = hex("02100014 08002100 00000000 00000000 00000012")
        let decoded = try ELSReply.decode(accept, request: .prli)
        guard case let .accept(.prli(p)) = decoded, let page = p.fcpPage else { Issue.record("not a PRLI LS_ACC"); return }
        #expect(page.responseCode == .requestExecuted && page.establishImagePair)
        #expect(page.fcpParameters == [.targetFunction, .readXferRdyDisabled])
        #expect(decoded.encoded() == accept)
    }

    @Test func logoADISCAndRejectLayouts() throws {
        let logo = hex("05000000 00010100 21000024ff3d0001")
        #expect(try ELSRequest.decode(logo) == .logo(LOGO(portID: initiatorID, portName: initiatorPortName)))
        let adisc = hex("52000000 000000ef 21000024ff3d0001 20000024ff3d0001 00010100")
        #expect(ELSRequest.adisc(ADISC(hardAddress: 0xEF, portName: initiatorPortName, nodeName: initiatorNodeName, portID: initiatorID)).encoded() == adisc)
        #expect(LSReject(.protocolError, .invalidPayloadLength).encoded() == hex("01000000 00072d00"))
        #expect(ELSRequest.rscn(RSCN(pages: [RSCNPage(.area, portID: 0x010200, eventQualifier: 1)])).encoded() == hex("61040008 05010200"))
        #expect(ELSRequest.scr(SCR(.fabricDetected)).encoded() == hex("62000000 00000001"))
        #expect(ELSRequest.rls(portID: targetID).encoded() == hex("0f000000 00010200"))
        #expect(ELSAccept.rtv(RTVAccept()).encoded() == hex("02000000 00002710 000007d0 00000000"))
        #expect(ELSAccept.rls(LinkErrorStatusBlock(invalidCRCs: 9)).encoded() == hex("02000000" + String(repeating: "00000000", count: 5) + "00000009"))
    }

    @Test func malformedRequestsNameTheirRejection() {
        let protocolLength = LSReject(.protocolError, .invalidPayloadLength)
        let cases: [([UInt8], ELSDecodeError, LSReject)] = [
            ([], .empty, protocolLength),
            ([0x12, 0, 0, 0], .unsupportedCommand(0x12), LSReject(.commandNotSupported)),
            ([0xFF], .unsupportedCommand(0xFF), LSReject(.commandNotSupported)),
            ([0x02, 0, 0, 0], .notARequest(.lsAccept), LSReject(.invalidCommandCode)),
            ([0x01, 0, 0, 0, 0, 7, 0, 0], .notARequest(.lsReject), LSReject(.invalidCommandCode)),
            (Array(genfcFLOGI.prefix(115)), .invalidLength(.flogi, actual: 115), protocolLength),
            (genfcFLOGI + [0, 0, 0, 0], .invalidLength(.flogi, actual: 120), protocolLength),
            ([0x03, 0, 0, 0], .invalidLength(.plogi, actual: 4), protocolLength),
            ([0x04, 0, 0], .invalidLength(.flogi, actual: 3), protocolLength),
            (hex("05000000 00010100 21000024ff3d00"), .invalidLength(.logo, actual: 15), protocolLength),
            (hex("20100004"), .invalidLength(.prli, actual: 4), protocolLength),
            (hex("20140018 08002000 00000000 00000000 00000022 00000000"), .invalidPageLength(.prli, 0x14), protocolLength),
            (hex("20100018 08002000 00000000 00000000 00000022"), .payloadLengthMismatch(.prli, field: 0x18, actual: 20), protocolLength),
            (hex("20100018 08002000 00000000 00000000 00000022 00000000"), .payloadLengthMismatch(.prli, field: 0x18, actual: 24), protocolLength),
            (hex("21100014 08000000 00000000 00000000 00000000 00"), .payloadLengthMismatch(.prlo, field: 0x14, actual: 21), protocolLength),
            (hex("61080008 00010200"), .invalidPageLength(.rscn, 8), protocolLength),
            (hex("61040004"), .invalidLength(.rscn, actual: 4), protocolLength),
            (hex("6104000c 00010200"), .payloadLengthMismatch(.rscn, field: 12, actual: 8), protocolLength),
            (hex("62000000 00000004"), .invalidField(.scr, offset: 7), LSReject(.logicalError)),
            (hex("62000000 0000000300"), .invalidLength(.scr, actual: 9), protocolLength),
            (hex("0f000000 000102"), .invalidLength(.rls, actual: 7), protocolLength),
            (hex("0e000000 00000000"), .invalidLength(.rtv, actual: 8), protocolLength),
            (hex("100000"), .invalidLength(.echo, actual: 3), protocolLength),
            (hex("52000000 000000ef"), .invalidLength(.adisc, actual: 8), protocolLength),
        ]
        for (bytes, error, rejection) in cases {
            #expect(throws: error, "\(bytes)") { try ELSRequest.decode(bytes) }
            #expect(error.rejection == rejection, "\(error)")
        }
    }

    @Test func malformedReplies() {
        #expect(throws: ELSDecodeError.unexpectedReplyCode(0x03)) { try ELSReply.decode(genfcFLOGI.dropFirst(0).map { $0 == 0x04 ? 0x03 : $0 }, request: .flogi) }
        #expect(throws: ELSDecodeError.invalidLength(.logo, actual: 8)) { try ELSReply.decode([2, 0, 0, 0, 0, 0, 0, 0], request: .logo) }
        #expect(throws: ELSDecodeError.invalidLength(.lsReject, actual: 7)) { try ELSReply.decode([1, 0, 0, 0, 0, 9, 0], request: .plogi) }
        #expect(throws: ELSDecodeError.invalidLength(.rls, actual: 24)) { try ELSReply.decode([UInt8](repeating: 0, count: 24).with(0, 2), request: .rls) }
        #expect(throws: ELSDecodeError.empty) { try ELSReply.decode([], request: .rtv) }
    }

    @Test func vendorVersionLevelIsAlwaysSixteenBytes() {
        var p = ServiceParameters.nPort(portName: initiatorPortName, nodeName: initiatorNodeName)
        p.vendorVersionLevel = [1, 2, 3]
        #expect(p.vendorVersionLevel.count == 16 && p.vendorVersionLevel.prefix(3) == [1, 2, 3])
        p.vendorVersionLevel = [UInt8](repeating: 9, count: 40)
        #expect(p.vendorVersionLevel == [UInt8](repeating: 9, count: 16))
        #expect(p.encoded(command: .plogi).count == 116)
    }

    @Test func fuzzedPayloadsNeverTrap() {
        let seeds = sampleRequests.map { $0.encoded() } + sampleAccepts.map { ELSReply.accept($0.1).encoded() } + [genfcFLOGI, genfcFLOGIAccept]
        var decoded = 0
        fuzzPayloads(seeds: seeds) { p in
            do throws(ELSDecodeError) {
                let request = try ELSRequest.decode(p)
                decoded += 1
                #expect((try? ELSRequest.decode(request.encoded())) == request)
            } catch {
                _ = error.rejection
            }
            for command in ELSCommandCode.allCases {
                if let reply = try? ELSReply.decode(p, request: command) {
                    #expect((try? ELSReply.decode(reply.encoded(), request: command)) == reply)
                }
            }
        }
        #expect(decoded > 100, "mutations should still produce some valid requests")
    }
}

extension Array where Element == UInt8 {
    /// A copy with byte `index` set to `value`.
    func with(_ index: Int, _ value: UInt8) -> [UInt8] {
        var c = self
        c[index] = value
        return c
    }
}
