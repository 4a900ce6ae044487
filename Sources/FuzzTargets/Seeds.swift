import FCPort
import Foundation
@_spi(Fuzzing) import SBD
@_spi(Fuzzing) import SGBridge
import STMF
import STMFAPI

/// The seed corpus: valid inputs of every target, built with the product's encoders (the same
/// ones the tests use). `fuzz-seeds` (in Fuzz/) writes them to `Fuzz/corpus/<target>/`.
public enum FuzzSeeds {
    /// Target name → (file name, bytes).
    public static func all() -> [String: [(name: String, bytes: [UInt8])]] {
        ["frame": frames(), "els": els(), "ct": ct(), "bls": bls(), "fcp": fcp(), "cdb": cdbs(),
         "sgbridge": sgbridge(), "api": api(), "export": export(), "metadata": metadata(), "tcmu": tcmu()]
    }

    static let portA = WWN(0x2100_0024_FF00_0001), nodeA = WWN(0x2000_0024_FF00_0001)
    static let portB = WWN(0x5000_0000_0000_00A1), nodeB = WWN(0x5000_0000_0000_00A0)

    static func elsRequests() -> [(String, ELSRequest)] {
        let sp = ServiceParameters.nPort(portName: portA, nodeName: nodeA)
        var ext = ServiceParameters.nPort(portName: portA, nodeName: nodeA)
        ext.commonFeatures.insert(.payloadLength256)
        ext.extendedParameters = [UInt8](repeating: 0, count: ServiceParameters.extendedSize - ServiceParameters.size)
        return [
            ("flogi", .flogi(sp)), ("plogi", .plogi(sp)), ("plogi-256", .plogi(ext)), ("fdisc", .fdisc(sp)),
            ("logo", .logo(LOGO(portID: 0x010200, portName: portA))),
            ("prli", .prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled]))),
            ("prli-2pages", .prli(ProcessLogin(pages: [.fcp([.targetFunction]), ServiceParameterPage(type: 0x05)]))),
            ("prlo", .prlo(ProcessLogin(fcp: [], establishImagePair: false))),
            ("adisc", .adisc(ADISC(portName: portA, nodeName: nodeA, portID: 0x010200))),
            ("rscn", .rscn(RSCN(pages: [RSCNPage(portID: 0x010200), RSCNPage(.area, portID: 0x010300, eventQualifier: 2)]))),
            ("scr", .scr(SCR(.full))), ("echo", .echo(Array("hello fabric".utf8))), ("rls", .rls(portID: 0x010200)), ("rtv", .rtv),
        ]
    }

    static func frame(_ routing: RoutingControl, _ type: FrameType, _ payload: [UInt8], control: FrameControl = .request,
                      start: StartOfFrame = .initiate3, oxID: UInt16 = 0x1234) -> FCFrame {
        FCFrame(start: start, header: FrameHeader(routing: routing, destination: FCID(0x010200), source: FCID(0x010300), type: type,
                                                  control: control, originatorExchangeID: oxID), payload: payload)
    }

    static func frames() -> [(name: String, bytes: [UInt8])] {
        let sp = ServiceParameters.nPort(portName: portA, nodeName: nodeA)
        let fs: [(String, FCFrame)] = [
            ("plogi", frame(.elsRequest, .els, ELSRequest.plogi(sp).encoded())),
            ("ls-acc", frame(.elsReply, .els, ELSReply.accept(.serviceParameters(sp)).encoded(), control: .finalReply)),
            ("ls-rjt", frame(.elsReply, .els, ELSReply.reject(LSReject(.logicalError)).encoded(), control: .finalReply)),
            ("gid-ft", frame(.unsolicitedControl, .ct, NameServerRequest.gidFT(type: 8).encoded())),
            ("gid-ft-acc", frame(.solicitedControl, .ct, NameServerReply.accept(.portIDs([0x010200, 0x010300])).encoded(), control: .finalReply)),
            ("abts", frame(.abts, .bls, [], start: .normal3)),
            ("ba-acc", frame(.baAcc, .bls, BAAccept.abortingExchange(oxID: 0x1234, rxID: 7).encoded(), control: .finalReply)),
            ("fcp-cmnd", frame(.fcpCommand, .fcp, FCPCommand(lun: 0, cdb: [0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], direction: .read, dataLength: 512).encoded())),
            ("fcp-rsp", frame(.fcpResponse, .fcp, FCPResponse(status: .checkCondition, sense: SenseData(.illegalRequest, .invalidFieldInCDB).bytes(descriptor: false)).encoded(), control: .finalReply)),
            ("xfer-rdy", frame(.transferReady, .fcp, TransferReady(relativeOffset: 0, burstLength: 4096).encoded(), control: [.exchangeResponder, .endSequence, .sequenceInitiative])),
            ("fcp-data-odd", frame(.fcpData, .fcp, [UInt8](repeating: 0xA5, count: 13), control: [.exchangeResponder, .relativeOffset])),
        ]
        var out: [(String, [UInt8])] = []
        for (name, f) in fs {
            out.append(("frame-" + name, [1] + f.encoded()))
            out.append(("crcfix-" + name, [2] + f.encoded()))
        }
        // Streams: link up, a few frames, a primitive between them; chunk sizes vary.
        var stream: [UInt8] = []
        FrameStream.append(.idle, to: &stream)
        for (_, f) in fs.prefix(6) { f.encode(into: &stream, record: true) }
        FrameStream.append(.linkReset, to: &stream)
        out.append(("stream-mixed", [0] + stream))
        out.append(("stream-mixed-chunk2k", [4] + stream))
        var down: [UInt8] = []
        FrameStream.append(.notOperational, to: &down)
        FrameStream.append(.offline, to: &down)
        out.append(("stream-primitives", [0] + down))
        var partial: [UInt8] = []
        fs[7].1.encode(into: &partial, record: true)
        out.append(("stream-partial", [0] + partial.dropLast(5)))
        return out
    }

    static func els() -> [(name: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = elsRequests().map { ("req-" + $0.0, [0x00] + $0.1.encoded()) }
        let all = ELSCommandCode.allCases
        func sel(_ c: ELSCommandCode) -> UInt8 { 0x80 | UInt8(all.firstIndex(of: c)!) }
        let sp = ServiceParameters.fPort(portName: portB, fabricName: nodeB)
        let replies: [(String, ELSCommandCode, ELSReply)] = [
            ("flogi-acc", .flogi, .accept(.serviceParameters(sp))),
            ("plogi-acc", .plogi, .accept(.serviceParameters(.nPort(portName: portB, nodeName: nodeB)))),
            ("prli-acc", .prli, .accept(.prli(ProcessLogin(fcp: [.targetFunction], responseCode: .requestExecuted)))),
            ("prlo-acc", .prlo, .accept(.prlo(ProcessLogin(fcp: [], establishImagePair: false, responseCode: .requestExecuted)))),
            ("adisc-acc", .adisc, .accept(.adisc(ADISC(portName: portB, nodeName: nodeB, portID: 0x010200)))),
            ("echo-acc", .echo, .accept(.echo(Array("hello fabric".utf8)))),
            ("rls-acc", .rls, .accept(.rls(LinkErrorStatusBlock(linkFailures: 1, invalidCRCs: 3)))),
            ("rtv-acc", .rtv, .accept(.rtv(RTVAccept()))),
            ("logo-acc", .logo, .accept(.plain)),
            ("plogi-rjt", .plogi, .reject(LSReject(.unableToPerform, .insufficientResources))),
        ]
        out += replies.map { ("reply-" + $0.0, [sel($0.1)] + $0.2.encoded()) }
        return out
    }

    static func ct() -> [(name: String, bytes: [UInt8])] {
        let requests: [(String, NameServerRequest)] = [
            ("rft-id", .rftID(portID: 0x010200, types: .fcp)), ("rff-id", .rffID(portID: 0x010200, features: .target, type: 8)),
            ("rnn-id", .rnnID(portID: 0x010200, nodeName: nodeA)), ("rspn-id", .rspnID(portID: 0x010200, symbolicName: Array("swift-stmf port 1".utf8))),
            ("gid-ft", .gidFT(type: 8)), ("gid-ft-scoped", .gidFT(type: 8, domainScope: 1, areaScope: 2)),
            ("gpn-id", .gpnID(portID: 0x010200)), ("gnn-id", .gnnID(portID: 0x010200)), ("gid-pn", .gidPN(portName: portA)),
            ("gff-id", .gffID(portID: 0x010200)), ("gspn-id", .gspnID(portID: 0x010200)),
        ]
        var out: [(String, [UInt8])] = requests.map { ("req-" + $0.0, [0x00] + $0.1.encoded(maxSize: 512)) }
        let all = CTCommandCode.allCases
        func sel(_ c: CTCommandCode) -> UInt8 { 0x80 | UInt8(all.firstIndex(of: c)!) }
        var features = FC4FeatureMap()
        features[8] = [.target]
        let replies: [(String, CTCommandCode, NameServerReply)] = [
            ("gid-ft-acc", .gidFT, .accept(.portIDs([0x010200, 0x010300, 0x020100]))),
            ("gpn-id-acc", .gpnID, .accept(.portName(portA))), ("gnn-id-acc", .gnnID, .accept(.nodeName(nodeA))),
            ("gid-pn-acc", .gidPN, .accept(.portID(0x010200))), ("gff-id-acc", .gffID, .accept(.features(features))),
            ("gspn-id-acc", .gspnID, .accept(.symbolicName(Array("swift-stmf".utf8)))),
            ("rft-id-acc", .rftID, .accept(.registered)),
            ("gpn-id-rjt", .gpnID, .reject(CTReject(.unableToPerform, .portIDNotRegistered))),
        ]
        out += replies.map { ("reply-" + $0.0, [sel($0.1)] + $0.2.encoded()) }
        return out
    }

    static func bls() -> [(name: String, bytes: [UInt8])] {
        [("abts", [RoutingControl.abts.rawValue]),
         ("ba-acc", [RoutingControl.baAcc.rawValue] + BAAccept.abortingExchange(oxID: 0x1234, rxID: 0x0007).encoded()),
         ("ba-acc-seq", [RoutingControl.baAcc.rawValue] + BAAccept(sequenceIDValid: true, lastDeliverableSequenceID: 3, oxID: 1, rxID: 2, lowSequenceCount: 4, highSequenceCount: 9).encoded()),
         ("ba-rjt", [RoutingControl.baRjt.rawValue] + BAReject(.unableToPerform, .invalidOXIDRXIDCombination).encoded())]
    }

    static func fcp() -> [(name: String, bytes: [UInt8])] {
        let commands: [(String, FCPCommand)] = [
            ("read10", FCPCommand(lun: 0, cdb: [0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0], direction: .read, dataLength: 4096)),
            ("write10", FCPCommand(lun: 0, cdb: [0x2A, 0, 0, 0, 0, 8, 0, 0, 8, 0], direction: .write, dataLength: 4096)),
            ("read16", FCPCommand(lun: 0x0001_0000_0000_0000, cdb: [0x88, 0] + [UInt8](repeating: 0, count: 7) + [0x10, 0, 0, 0, 1, 0, 0], direction: .read, dataLength: 512)),
            ("inquiry", FCPCommand(lun: 0, cdb: [0x12, 0, 0, 0, 0xFF, 0], direction: .read, dataLength: 255, taskAttribute: .headOfQueue)),
            ("report-luns", FCPCommand(lun: LUNAddress.reportLUNsWellKnownField, cdb: [0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0], direction: .read, dataLength: 4096)),
            ("cdb32", FCPCommand(lun: 0, cdb: [0x7F, 0, 0, 0, 0, 0, 0, 0x18] + [UInt8](repeating: 0, count: 24), direction: .none, dataLength: 0)),
            ("tmf-lun-reset", FCPCommand(lun: 0, taskManagement: .logicalUnitReset)),
            ("tmf-abort-task-set", FCPCommand(lun: 0, taskManagement: .abortTaskSet)),
        ]
        var out: [(String, [UInt8])] = commands.map { ("cmnd-" + $0.0, [0] + $0.1.encoded()) }
        let responses: [(String, FCPResponse)] = [
            ("good", FCPResponse()),
            ("underflow", FCPResponse(residual: .underflow(512))),
            ("check-fixed", FCPResponse(status: .checkCondition, sense: SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 2, bit: 3)).bytes(descriptor: false))),
            ("check-descriptor", FCPResponse(status: .checkCondition, sense: SenseData(.mediumError, AdditionalSense(0x11, 0), information: 0x1234_5678_9A).bytes(descriptor: true))),
            ("rsp-info", FCPResponse(responseCode: .taskManagementFunctionComplete)),
        ]
        out += responses.map { ("rsp-" + $0.0, [1] + $0.1.encoded()) }
        out.append(("xfer-rdy", [2] + TransferReady(relativeOffset: 8192, burstLength: 65536).encoded()))
        return out
    }

    /// `[selector][flags][FCP_DL 3][CDB][data-out]` for `fuzzCDB`.
    static func cdbInput(_ cdb: [UInt8], direction: DataDirection = .none, dl: Int = 0, out: [UInt8] = [], flags: UInt8 = 0) -> [UInt8] {
        let selector: UInt8 = switch cdb.count {
        case 6: 0
        case 10: 1
        case 12: 2
        case 16: 3
        case 32: 4
        default: 5
        }
        var b: [UInt8] = [selector, direction.rawValue | flags, UInt8(dl >> 16), UInt8((dl >> 8) & 0xFF), UInt8(dl & 0xFF)]
        if selector == 5 { b.append(UInt8(cdb.count)) }
        return b + cdb + out
    }

    static func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) } }

    static func cdbs() -> [(name: String, bytes: [UInt8])] {
        let block = [UInt8](repeating: 0x5A, count: 512)
        let prList = be(0, 8) + be(0xABCD, 8) + [0, 0, 0, 0] + [0, 0, 0, 0]
        let unmapList = be(6 + 16, 2) + be(16, 2) + [0, 0, 0, 0] + be(16, 8) + be(8, 4) + [0, 0, 0, 0]
        var controlPage = [UInt8](repeating: 0, count: 12)
        controlPage[0] = 0x0A; controlPage[1] = 0x0A; controlPage[2] = 0x04
        let ms6 = [0, 0, 0, 0] + controlPage
        let ms10 = [0, 0, 0, 0, 0, 0, 0, 0] + controlPage
        var cachingPage = [UInt8](repeating: 0, count: 20)
        cachingPage[0] = 0x08; cachingPage[1] = 0x12; cachingPage[2] = 0x04
        let r: DataDirection = .read, w: DataDirection = .write
        let list: [(String, [UInt8], DataDirection, Int, [UInt8])] = [
            ("test-unit-ready", [0x00, 0, 0, 0, 0, 0], .none, 0, []),
            ("request-sense", [0x03, 0, 0, 0, 252, 0], r, 252, []),
            ("request-sense-desc", [0x03, 1, 0, 0, 252, 0], r, 252, []),
            ("read6", [0x08, 0, 0, 1, 1, 0], r, 512, []),
            ("write6", [0x0A, 0, 0, 1, 1, 0], w, 512, block),
            ("inquiry", [0x12, 0, 0, 0, 0xFF, 0], r, 255, []),
            ("inquiry-vpd00", [0x12, 1, 0x00, 0, 0xFF, 0], r, 255, []),
            ("inquiry-vpd80", [0x12, 1, 0x80, 0, 0xFF, 0], r, 255, []),
            ("inquiry-vpd83", [0x12, 1, 0x83, 0x04, 0x00, 0], r, 1024, []),
            ("inquiry-vpd86", [0x12, 1, 0x86, 0, 0x40, 0], r, 64, []),
            ("inquiry-vpdb0", [0x12, 1, 0xB0, 0, 0x40, 0], r, 64, []),
            ("inquiry-vpdb1", [0x12, 1, 0xB1, 0, 0x40, 0], r, 64, []),
            ("inquiry-vpdb2", [0x12, 1, 0xB2, 0, 0x40, 0], r, 64, []),
            ("inquiry-short-alloc", [0x12, 0, 0, 0, 5, 0], r, 255, []),
            ("mode-select6-control", [0x15, 0x10, 0, 0, UInt8(ms6.count), 0], w, ms6.count, ms6),
            ("mode-select6-caching", [0x15, 0x11, 0, 0, UInt8(4 + cachingPage.count), 0], w, 4 + cachingPage.count, [0, 0, 0, 0] + cachingPage),
            ("reserve6", [0x16, 0, 0, 0, 0, 0], .none, 0, []),
            ("release6", [0x17, 0, 0, 0, 0, 0], .none, 0, []),
            ("mode-sense6-all", [0x1A, 0, 0x3F, 0, 0xFF, 0], r, 255, []),
            ("mode-sense6-changeable", [0x1A, 0x08, 0x7F, 0, 0xFF, 0], r, 255, []),
            ("start-stop-stop", [0x1B, 0, 0, 0, 0x00, 0], .none, 0, []),
            ("start-stop-start", [0x1B, 1, 0, 0, 0x01, 0], .none, 0, []),
            ("send-diagnostic", [0x1D, 0x04, 0, 0, 0, 0], .none, 0, []),
            ("prevent-allow", [0x1E, 0, 0, 0, 1, 0], .none, 0, []),
            ("read-capacity10", [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], r, 8, []),
            ("read10", [0x28, 0] + be(2, 4) + [0] + be(2, 2) + [0], r, 1024, []),
            ("read10-fua", [0x28, 0x08] + be(0, 4) + [0] + be(1, 2) + [0], r, 512, []),
            ("write10", [0x2A, 0] + be(3, 4) + [0] + be(1, 2) + [0], w, 512, block),
            ("write-and-verify10", [0x2E, 0x02] + be(4, 4) + [0] + be(1, 2) + [0], w, 512, block),
            ("verify10-bytchk", [0x2F, 0x02] + be(4, 4) + [0] + be(1, 2) + [0], w, 512, block),
            ("verify10", [0x2F, 0] + be(4, 4) + [0] + be(8, 2) + [0], .none, 0, []),
            ("pre-fetch10", [0x34, 0] + be(0, 4) + [0] + be(8, 2) + [0], .none, 0, []),
            ("sync-cache10", [0x35, 0] + be(0, 4) + [0] + be(0, 2) + [0], .none, 0, []),
            ("read-defect10", [0x37, 0, 0x18, 0, 0, 0, 0, 0, 0x40, 0], r, 64, []),
            ("write-buffer", [0x3B, 0x02, 0, 0, 0, 0, 0, 0, 0x10, 0], w, 16, [UInt8](repeating: 1, count: 16)),
            ("read-buffer", [0x3C, 0x02, 0, 0, 0, 0, 0, 0, 0x10, 0], r, 16, []),
            ("write-same10", [0x41, 0] + be(8, 4) + [0] + be(4, 2) + [0], w, 512, block),
            ("write-same10-unmap", [0x41, 0x08] + be(8, 4) + [0] + be(4, 2) + [0], w, 512, [UInt8](repeating: 0, count: 512)),
            ("unmap", [0x42, 0, 0, 0, 0, 0, 0] + be(UInt64(unmapList.count), 2) + [0], w, unmapList.count, unmapList),
            ("log-sense", [0x4D, 0, 0x40, 0, 0, 0, 0, 0x01, 0x00, 0], r, 256, []),
            ("mode-select10", [0x55, 0x10, 0, 0, 0, 0, 0] + be(UInt64(ms10.count), 2) + [0], w, ms10.count, ms10),
            ("reserve10", [0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0], .none, 0, []),
            ("release10", [0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0], .none, 0, []),
            ("mode-sense10", [0x5A, 0, 0x3F, 0, 0, 0, 0, 0x04, 0x00, 0], r, 1024, []),
            ("mode-sense10-llba", [0x5A, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0x00, 0], r, 256, []),
            ("pr-in-read-keys", [0x5E, 0, 0, 0, 0, 0, 0, 0x04, 0x00, 0], r, 1024, []),
            ("pr-in-read-reservation", [0x5E, 1, 0, 0, 0, 0, 0, 0x04, 0x00, 0], r, 1024, []),
            ("pr-in-report-capabilities", [0x5E, 2, 0, 0, 0, 0, 0, 0x04, 0x00, 0], r, 1024, []),
            ("pr-in-read-full-status", [0x5E, 3, 0, 0, 0, 0, 0, 0x04, 0x00, 0], r, 1024, []),
            ("pr-out-register", [0x5F, 0, 0, 0, 0] + be(24, 4) + [0], w, 24, prList),
            ("pr-out-register-ignore", [0x5F, 6, 0, 0, 0] + be(24, 4) + [0], w, 24, prList),
            ("pr-out-reserve", [0x5F, 1, 0x01, 0, 0] + be(24, 4) + [0], w, 24, be(0xABCD, 8) + be(0, 8) + [0, 0, 0, 0, 0, 0, 0, 0]),
            ("read16", [0x88, 0] + be(1, 8) + be(2, 4) + [0, 0], r, 1024, []),
            ("compare-and-write", [0x89, 0] + be(5, 8) + [0, 0, 0, 1, 0, 0], w, 1024, [UInt8](repeating: 0, count: 512) + block),
            ("write16", [0x8A, 0] + be(6, 8) + be(1, 4) + [0, 0], w, 512, block),
            ("orwrite16", [0x8B, 0] + be(6, 8) + be(1, 4) + [0, 0], w, 512, block),
            ("write-and-verify16", [0x8E, 0] + be(6, 8) + be(1, 4) + [0, 0], w, 512, block),
            ("verify16", [0x8F, 0] + be(6, 8) + be(1, 4) + [0, 0], .none, 0, []),
            ("pre-fetch16", [0x90, 0] + be(0, 8) + be(16, 4) + [0, 0], .none, 0, []),
            ("sync-cache16", [0x91, 0] + be(0, 8) + be(0, 4) + [0, 0], .none, 0, []),
            ("write-same16", [0x93, 0] + be(16, 8) + be(8, 4) + [0, 0], w, 512, block),
            ("write-same16-unmap", [0x93, 0x08] + be(16, 8) + be(8, 4) + [0, 0], w, 512, [UInt8](repeating: 0, count: 512)),
            ("read-capacity16", [0x9E, 0x10] + be(0, 8) + be(32, 4) + [0, 0], r, 32, []),
            ("get-lba-status", [0x9E, 0x12] + be(0, 8) + be(24, 4) + [0, 0], r, 24, []),
            ("report-luns", [0xA0, 0, 0, 0, 0, 0] + be(256, 4) + [0, 0], r, 256, []),
            ("rtpg", [0xA3, 0x0A, 0, 0, 0, 0] + be(1024, 4) + [0, 0], r, 1024, []),
            ("rsoc-all", [0xA3, 0x0C, 0, 0, 0, 0] + be(2048, 4) + [0, 0], r, 2048, []),
            ("rsoc-one", [0xA3, 0x0C, 0x01, 0x28, 0, 0] + be(64, 4) + [0, 0], r, 64, []),
            ("rsoc-rctd", [0xA3, 0x0C, 0x80, 0, 0, 0] + be(4096, 4) + [0, 0], r, 4096, []),
            ("report-tmfs", [0xA3, 0x0D, 0, 0, 0, 0] + be(16, 4) + [0, 0], r, 16, []),
            ("read12", [0xA8, 0] + be(7, 4) + be(1, 4) + [0, 0], r, 512, []),
            ("write12", [0xAA, 0] + be(7, 4) + be(1, 4) + [0, 0], w, 512, block),
            ("write-and-verify12", [0xAE, 0] + be(7, 4) + be(1, 4) + [0, 0], w, 512, block),
            ("verify12", [0xAF, 0] + be(7, 4) + be(1, 4) + [0, 0], .none, 0, []),
            ("read-defect12", [0xB7, 0x18] + be(0, 4) + be(64, 4) + [0, 0], r, 64, []),
            ("read-out-of-range", [0x88, 0] + be(2048, 8) + be(1, 4) + [0, 0], r, 512, []),
            ("extended-copy", [0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], .none, 0, []),
            ("variable-length", [0x7F, 0, 0, 0, 0, 0, 0, 0x18] + [UInt8](repeating: 0, count: 24), .none, 0, []),
        ]
        var out = list.map { ("cdb-" + $0.0, cdbInput($0.1, direction: $0.2, dl: $0.3, out: $0.4)) }
        out.append(("flags-lun7-inquiry", cdbInput([0x12, 0, 0, 0, 0xFF, 0], direction: .read, dl: 255, flags: 0x08)))
        out.append(("flags-wlun-report-luns", cdbInput([0xA0, 0, 0, 0, 0, 0] + be(256, 4) + [0, 0], direction: .read, dl: 256, flags: 0x0C)))
        out.append(("flags-ua-tur", cdbInput([0, 0, 0, 0, 0, 0], flags: 0x40)))
        out.append(("flags-ordered-write", cdbInput([0x2A, 0] + be(3, 4) + [0] + be(1, 2) + [0], direction: .write, dl: 512, out: block, flags: 0x10)))
        out.append(("flags-4k-read-capacity16", cdbInput([0x9E, 0x10] + be(0, 8) + be(32, 4) + [0, 0], direction: .read, dl: 32, flags: 0x80)))
        out.append(("flags-bidi-inquiry", cdbInput([0x12, 0, 0, 0, 0xFF, 0], direction: .bidirectional, dl: 255)))
        return out
    }

    static func sgbridge() -> [(name: String, bytes: [UInt8])] {
        let inquiry = SGRequest(id: 1, cdb: [0x12, 0, 0, 0, 0x60, 0], direction: .fromDevice, transferLength: 96, timeoutMilliseconds: 30_000)
        let write = SGRequest(id: 2, cdb: [0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0], direction: .toDevice, dataOut: [UInt8](repeating: 0xA5, count: 512))
        let tur = SGRequest(id: 3, cdb: [0, 0, 0, 0, 0, 0])
        var replies: [UInt8] = []
        func reply(_ r: SGReply, id: UInt64) {
            var h = [UInt8](repeating: 0, count: SGBridgeProtocol.replyHeaderSize)
            h.withUnsafeMutableBytes { SGBridgeProtocol.encodeReplyHeader(r, id: id, senseLength: r.sense.count, dataInLength: r.dataIn.count, into: $0) }
            replies += h + r.sense + r.dataIn
        }
        reply(.good(dataIn: [UInt8](repeating: 0x20, count: 36)), id: 1)
        reply(SGReply(status: 2, sense: SenseData(.illegalRequest, .invalidFieldInCDB).bytes(descriptor: false)), id: 2)
        reply(.transportFailure(SGHostStatus.noConnect), id: 3)
        reply(SGReply(dataIn: [1, 2, 3, 4], residual: 92), id: 4)
        return [
            ("req-inquiry", [0] + SGBridgeProtocol.encode(request: inquiry)),
            ("req-write", [0] + SGBridgeProtocol.encode(request: write)),
            ("req-stream", [0] + SGBridgeProtocol.encode(request: tur) + SGBridgeProtocol.encode(request: inquiry) + SGBridgeProtocol.encode(request: tur)),
            ("replies", [1] + replies),
        ]
    }

    static func api() -> [(name: String, bytes: [UInt8])] {
        func json<T: Encodable>(_ v: T) -> [UInt8] {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            return Array((try? e.encode(v)) ?? Data())
        }
        func sel(_ name: String) -> UInt8 { UInt8(apiRequestTypes.firstIndex { $0.0 == name }!) }
        // As `stmfadm create-lu -p` passes them: names and values as typed.
        let props = ["size": "1g", "blk": "4096", "guid": "600144F0F0220000000000000000F001", "serial": "SN-1",
                     "alias": "vol", "wcd": "true", "oui": "00A0B8"]
        return [
            ("create-lu", [sel("CreateLURequest")] + json(CreateLURequest(file: "/var/lib/stmf/lu1", properties: props, overwrite: true))),
            ("create-lu-ram", [sel("CreateLURequest")] + Array(#"{"file":"ram:fast","properties":{"size":"1m"},"provider":"sbd"}"#.utf8)),
            // The first API's shapes: typed properties, modify and import fields of their own.
            ("create-lu-v1", [sel("CreateLURequest")] + Array(#"{"file":"ram:fast","properties":{"size":1048576,"wcd":true}}"#.utf8)),
            ("modify-lu", [sel("ModifyLURequest")] + json(ModifyLURequest(properties: ["size": "2g", "alias": "bigger", "wp": "false"]))),
            ("modify-lu-v1", [sel("ModifyLURequest")] + Array(#"{"alias":"bigger","size":2147483648,"writeProtect":false}"#.utf8)),
            ("import-lu", [sel("ImportLURequest")] + json(ImportLURequest(file: "/dev/sdb", properties: ["meta": "/var/lib/stmf/sdb.meta"]))),
            ("import-lu-v1", [sel("ImportLURequest")] + Array(#"{"file":"/dev/sdb","meta":"/var/lib/stmf/sdb.meta"}"#.utf8)),
            ("create-group", [sel("CreateGroupRequest")] + json(CreateGroupRequest(name: "hosts"))),
            ("group-members", [sel("GroupMemberRequest")] + json(GroupMemberRequest(members: ["wwn.2100001B32A1B2C3", "iqn.1986-03.com.sun:01:host", "eui.0123456789ABCDEF"]))),
            ("add-view", [sel("AddViewRequest")] + json(AddViewRequest(hostGroup: "hosts", targetGroup: nil, lun: 3))),
            ("remove-views", [sel("RemoveViewsRequest")] + json(RemoveViewsRequest(all: false, entries: [0, 2]))),
            ("create-port", [sel("CreateEmulatedPortRequest")] + json(CreateEmulatedPortRequest(portWWN: "50:00:00:00:00:00:00:a1", nodeWWN: nil, fabric: "/run/fcfabric.sock"))),
            ("properties", [sel("LUProperties")] + json(props)),
        ]
    }

    static func configuration() -> StoredConfiguration {
        // The bags as SBD normalises them.
        var p = SBDProperties()
        p.size = 1 << 20; p.guid = "600144F0F0220000000000000000F001"; p.serial = "SN-1"; p.alias = "one"
        var ram = SBDProperties()
        ram.size = 1 << 20; ram.guid = "600144F0F0220000000000000000F002"
        var c = StoredConfiguration()
        c.logicalUnits = [
            .init(guid: "600144F0F0220000000000000000F001", provider: SBDProvider.name, file: "/var/lib/stmf/lu1", size: 1 << 20,
                  properties: p.propertyBag, online: true, reservations: reservationState().encoded()),
            .init(guid: "600144F0F0220000000000000000F002", provider: SBDProvider.name, file: "ram:two", size: 1 << 20,
                  properties: ram.propertyBag, online: false, reservations: nil),
        ]
        c.hostGroups = [GroupInfo(name: "hosts", members: ["wwn.2100001B32A1B2C3"])]
        c.targetGroups = [GroupInfo(name: "ports", members: ["wwn.50000000000000A1"])]
        c.viewEntries = [ViewEntryInfo(lu: "600144F0F0220000000000000000F001", entry: 0, hostGroup: "hosts", targetGroup: nil, lun: 0)]
        c.targetPorts = [.init(name: "wwn.50000000000000A1", provider: "fcemu", alias: "port a", properties: ["fabric": "/run/fcfabric.sock"], online: true, relativeID: 1)]
        c.settings = ["alua": "disabled"]
        return c
    }

    /// A reservation state with two registrations and a reservation, as REGISTER and RESERVE build it.
    static func reservationState() -> ReservationState {
        var s = ReservationState()
        let ports = [TargetPortInfo(name: .wwn(portB), relativeID: 1, groupID: 1, online: true)]
        for (i, key) in [UInt64(0xABCD), 0x1234].enumerated() {
            let nexus = Nexus(sessionID: UInt64(i + 1), initiator: .wwn(WWN(0x2100_0000_0000_0001 + UInt64(i))), targetPort: .wwn(portB),
                              relativeTargetPortID: 1, targetPortGroupID: 1)
            let params = be(0, 8) + be(key, 8) + [0, 0, 0, 0] + [1, 0, 0, 0]
            _ = params.withUnsafeBytes { p in
                try? s.persistentReserveOut(cdb: CDB([0x5F, 0, 0, 0, 0] + be(24, 4) + [0]), nexus: nexus, parameters: p, targetPorts: ports)
            }
            if i == 0 {
                let reserve = be(key, 8) + be(0, 8) + [0, 0, 0, 0, 0, 0, 0, 0]
                _ = reserve.withUnsafeBytes { p in
                    try? s.persistentReserveOut(cdb: CDB([0x5F, 1, 0x03, 0, 0] + be(24, 4) + [0]), nexus: nexus, parameters: p, targetPorts: ports)
                }
            }
        }
        return s
    }

    static func export() -> [(name: String, bytes: [UInt8])] {
        let doc = (try? ExportDocument.encode(configuration(), exportedAt: "2026-12-04T00:00:00Z")) ?? []
        let nl = doc.firstIndex(of: 0x0A)!
        let empty = (try? ExportDocument.encode(StoredConfiguration(), exportedAt: "2026-12-04T00:00:00Z")) ?? []
        return [("export", [0] + doc), ("export-body", [1] + doc[(nl + 1)...]), ("export-empty", [0] + empty)]
    }

    static func metadataPayload(kind: String, dataOffset: Int, dataPath: String?, reservations: [UInt8]?) -> [UInt8] {
        var d: [String: Any] = [
            "properties": ["size": 1 << 20, "blk": 512, "guid": "600144F0F0220000000000000000F001", "serial": "SN-1",
                           "vid": "STMF", "pid": "SBD DISK", "rev": "1.0", "wcd": false, "wp": false],
            "guid": "600144F0F0220000000000000000F001", "kind": kind, "dataOffset": dataOffset, "blockCount": 2048,
            "savedWriteCacheEnabled": true, "savedDescriptorSense": false,
        ]
        if let dataPath { d["dataPath"] = dataPath }
        if let reservations { d["reservations"] = reservations.map { Int($0) } }
        let json = (try? JSONSerialization.data(withJSONObject: d, options: [.sortedKeys])) ?? Data()
        // Through SBD's own record type and encoder, so the seed is what SBD writes.
        guard let record = try? JSONDecoder().decode(SBDMetadataRecord.self, from: json),
              let slot = try? SBDMetadataCodec.encodeSlot(record, generation: 1) else { return Array(json) }
        return Array(slot[SBDMetadataCodec.headerLength...])
    }

    static func metadata() -> [(name: String, bytes: [UInt8])] {
        let inBand = metadataPayload(kind: "file", dataOffset: 65536, dataPath: "/var/lib/stmf/lu1", reservations: nil)
        let separate = metadataPayload(kind: "file", dataOffset: 0, dataPath: "/var/lib/stmf/lu1.data", reservations: nil)
        let withPR = metadataPayload(kind: "blockDevice", dataOffset: 65536, dataPath: "/dev/sdb", reservations: reservationState().encoded())
        var out: [(String, [UInt8])] = [
            ("payload-inband", [1] + inBand), ("payload-separate", [1] + separate),
            ("payload-reservations", [1] + withPR), ("payload-slot1-gen9", [1 | 2 | (9 << 3)] + inBand),
        ]
        // The area as SBD writes it (slot 0 only: the zero fill stands for the rest).
        if let record = try? JSONDecoder().decode(SBDMetadataRecord.self, from: Data(inBand)),
           let slot = try? SBDMetadataCodec.encodeSlot(record, generation: 3) {
            out.append(("area-slot0", [0] + slot))
        }
        return out
    }
}
