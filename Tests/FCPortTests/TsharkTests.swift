import Foundation
import Testing
@testable import FCPort
import STMF

/// Wireshark's FC dissectors decode our payloads: each is wrapped into a minimal FC frame
/// (link type 225: SOF, 24-byte header, payload, little-endian CRC-32, EOF) in a pcap, then
/// tshark's decoded fields are compared with what was encoded.
@Suite struct TsharkTests {
    /// One frame of the capture.
    struct Frame {
        var routing: UInt8
        var destination: UInt32
        var source: UInt32
        var type: UInt8
        var reply: Bool
        var oxID: UInt16
        var payload: [UInt8]
    }

    static let fabricLogin: UInt32 = 0xFFFFFE, fabricController: UInt32 = 0xFFFFFD, nameServer: UInt32 = 0xFFFFFC

    /// Request/reply pairs covering every codec, OX_IDs matching so tshark pairs replies.
    static func conversation() -> [Frame] {
        var frames: [Frame] = []
        var ox: UInt16 = 0x100
        func els(_ request: ELSRequest, _ reply: ELSReply, to d: UInt32, from s: UInt32 = initiatorID) {
            ox += 1
            frames.append(Frame(routing: 0x22, destination: d, source: s, type: 0x01, reply: false, oxID: ox, payload: request.encoded()))
            frames.append(Frame(routing: 0x23, destination: s, source: d, type: 0x01, reply: true, oxID: ox, payload: reply.encoded()))
        }
        func ct(_ request: NameServerRequest, _ reply: NameServerReply) {
            ox += 1
            frames.append(Frame(routing: 0x02, destination: nameServer, source: initiatorID, type: 0x20, reply: false, oxID: ox, payload: request.encoded(maxSize: 0x100)))
            frames.append(Frame(routing: 0x03, destination: initiatorID, source: nameServer, type: 0x20, reply: true, oxID: ox, payload: reply.encoded()))
        }
        let nPort = ServiceParameters.nPort(portName: initiatorPortName, nodeName: initiatorNodeName)
        let target = ServiceParameters.nPort(portName: targetPortName, nodeName: targetNodeName)
        els(.flogi(nPort), .accept(.serviceParameters(.fPort(portName: fPortName, fabricName: fabricName))), to: fabricLogin, from: 0)
        els(.plogi(nPort), .accept(.serviceParameters(target)), to: targetID)
        els(.prli(ProcessLogin(fcp: [.initiatorFunction, .readXferRdyDisabled])),
            .accept(.prli(ProcessLogin(fcp: [.targetFunction, .readXferRdyDisabled], responseCode: .requestExecuted))), to: targetID)
        els(.adisc(ADISC(portName: initiatorPortName, nodeName: initiatorNodeName, portID: initiatorID)),
            .accept(.adisc(ADISC(portName: targetPortName, nodeName: targetNodeName, portID: targetID))), to: targetID)
        els(.scr(SCR(.full)), .accept(.plain), to: fabricController)
        els(.rscn(RSCN(pages: [RSCNPage(portID: targetID, eventQualifier: 1), RSCNPage(.domain, portID: 0x020000)])), .accept(.plain),
            to: initiatorID, from: fabricController)
        els(.rls(portID: targetID), .accept(.rls(LinkErrorStatusBlock(linkFailures: 3, invalidCRCs: 7))), to: targetID)
        els(.rtv, .accept(.rtv(RTVAccept())), to: targetID)
        els(.echo(Array(0..<8)), .accept(.echo(Array(0..<8))), to: targetID)
        els(.plogi(nPort), .reject(LSReject(.logicalBusy, .insufficientResources)), to: targetID)
        els(.prlo(ProcessLogin(pages: [ServiceParameterPage()])), .accept(.prlo(ProcessLogin(pages: [ServiceParameterPage(responseCode: .requestExecuted)]))), to: targetID)
        els(.logo(LOGO(portID: initiatorID, portName: initiatorPortName)), .accept(.plain), to: targetID)

        var features = FC4FeatureMap()
        features[0x08] = .target
        ct(.rftID(portID: initiatorID, types: .fcp), .accept(.registered))
        ct(.rffID(portID: initiatorID, features: .initiator, type: 8), .accept(.registered))
        ct(.rnnID(portID: initiatorID, nodeName: initiatorNodeName), .accept(.registered))
        ct(.rspnID(portID: initiatorID, symbolicName: Array("swift-stmf initiator".utf8)), .accept(.registered))
        ct(.gidFT(type: 8), .accept(.portIDs([targetID, 0x020300])))
        ct(.gpnID(portID: targetID), .accept(.portName(targetPortName)))
        ct(.gnnID(portID: targetID), .accept(.nodeName(targetNodeName)))
        ct(.gidPN(portName: targetPortName), .accept(.portID(targetID)))
        ct(.gffID(portID: targetID), .accept(.features(features)))
        ct(.gspnID(portID: targetID), .accept(.symbolicName(Array("swift-stmf target".utf8))))
        ct(.gidFT(type: 5), .reject(CTReject(.unableToPerform, .fc4TypesNotRegistered)))

        func fcp(_ routing: UInt8, _ payload: [UInt8], reply: Bool) {
            frames.append(Frame(routing: routing, destination: reply ? initiatorID : targetID, source: reply ? targetID : initiatorID,
                                type: 0x08, reply: reply, oxID: ox, payload: payload))
        }
        ox += 1
        fcp(0x06, FCPCommand(lun: LUNAddress.field(for: 1), cdb: [0x2A, 0, 0, 0, 0, 0x10, 0, 0, 1, 0], direction: .write, dataLength: 512).encoded(), reply: false)
        fcp(0x05, TransferReady(relativeOffset: 0, burstLength: 512).encoded(), reply: true)
        fcp(0x07, FCPResponse().encoded(), reply: true)
        ox += 1
        fcp(0x06, FCPCommand(lun: 0, cdb: [0, 0, 0, 0, 0, 0], taskAttribute: .ordered).encoded(), reply: false)
        fcp(0x07, FCPResponse(status: .checkCondition, residual: .underflow(4072), sense: hex("700006000000000a00000000290000000000")).encoded(), reply: true)
        ox += 1
        fcp(0x06, FCPCommand(lun: LUNAddress.field(for: 2), taskManagement: .logicalUnitReset).encoded(), reply: false)
        fcp(0x07, FCPResponse(taskManagement: .functionComplete).encoded(), reply: true)
        frames.append(Frame(routing: 0x81, destination: targetID, source: initiatorID, type: 0x00, reply: false, oxID: ox, payload: BasicLinkService.abts.encoded()))
        frames.append(Frame(routing: 0x84, destination: initiatorID, source: targetID, type: 0x00, reply: true, oxID: ox,
                            payload: BasicLinkService.accept(.abortingExchange(oxID: ox, rxID: 0x0205)).encoded()))
        ox += 1
        frames.append(Frame(routing: 0x81, destination: targetID, source: initiatorID, type: 0x00, reply: false, oxID: ox, payload: []))
        frames.append(Frame(routing: 0x85, destination: initiatorID, source: targetID, type: 0x00, reply: true, oxID: ox,
                            payload: BasicLinkService.reject(BAReject(.logicalError, .invalidOXIDRXIDCombination)).encoded()))
        return frames
    }

    /// The frame as link type 225 carries it.
    static func delimited(_ f: Frame) -> [UInt8] {
        var h: [UInt8] = []
        func be(_ v: UInt32, _ n: Int) { for i in (0..<n).reversed() { h.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        let fill = (4 - f.payload.count % 4) % 4
        be(UInt32(f.routing), 1); be(f.destination, 3); be(0, 1); be(f.source, 3); be(UInt32(f.type), 1)
        be((f.reply ? 0x99_0000 : 0x29_0000) | UInt32(fill), 3)      // F_CTL: request / last reply, one-frame sequence
        be(0, 1); be(0, 1); be(0, 2); be(UInt32(f.oxID), 2); be(f.reply ? 0x0042 : 0xFFFF, 2); be(0, 4)
        let frame = h + f.payload + [UInt8](repeating: 0, count: fill)
        let crc = CRC32.checksum(frame)
        return [0xBC, 0xB5, 0x56, 0x56] + frame + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) } + [0xBC, 0x95, 0x75, 0x75]
    }

    /// A pcap file (microsecond, little-endian) of the frames.
    static func pcap(_ frames: [Frame]) -> [UInt8] {
        var out: [UInt8] = []
        func le(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        le(0xA1B2_C3D4); le(0x0004_0002); le(0); le(0); le(65535); le(225)
        for (i, f) in frames.enumerated() {
            let d = delimited(f)
            le(1_700_000_000 + UInt32(i)); le(0); le(UInt32(d.count)); le(UInt32(d.count))
            out += d
        }
        return out
    }

    static func tshark(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["tshark"] + arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static var tsharkInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/tshark")
        }
    }

    @Test func wiresharkDecodesEveryPayload() throws {
        // tshark is optional on a developer machine: without it there is nothing to compare with.
        guard Self.tsharkInstalled else { return }
        let frames = Self.conversation()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fcport-tshark-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // FCPORT_KEEP_PCAP=1 keeps the capture for a look in Wireshark.
        defer { if ProcessInfo.processInfo.environment["FCPORT_KEEP_PCAP"] == nil { try? FileManager.default.removeItem(at: dir) } }
        let file = dir.appendingPathComponent("codecs.pcap").path
        try Data(Self.pcap(frames)).write(to: URL(fileURLWithPath: file))

        let errors = try Self.tshark(["-r", file, "-Y", "_ws.malformed || _ws.expert.severity >= 0x00600000 || fc.crc.status==0",
                                      "-T", "fields", "-e", "frame.number"])
        #expect(errors.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "frames with errors: \(errors)")

        let fields = ["fc.crc.status", "fcels.opcode", "fcels.npname", "fcels.fnname", "fcels.rjt.reason", "fcels.rjt.detail",
                      "fcels.fcpflags", "fcels.prlilo.response_code", "fcels.scr.regn", "fcels.rscn.evqual", "fcels.rscn.addrfmt",
                      "fcels.rscn.domain", "fcels.portid", "fcels.invalid_crc_count", "fcels.link_failure_count", "fcels.edtov",
                      "fcels.logi.rcvsize",
                      "fcdns.opcode", "fcdns.req.portid", "fcdns.rply.portid", "fcdns.rply.pname", "fcdns.rply.nname",
                      "fcdns.req.portname", "fcdns.req.fc4type", "fcdns.fc4types.fcp", "fcdns.fc4features.t", "fcdns.fc4features.i",
                      "fcdns.req.spname", "fcdns.rply.spname", "fcdns.rply.reason", "fcdns.rply.reasondet", "fcdns.maxres_size",
                      "fcp.lun", "fcp.taskattr", "fcp.taskmgmt", "fcp.wrdata", "fcp.rddata", "fcp.dl", "fcp.burstlen", "fcp.data_ro",
                      "fcp.status", "fcp.resid", "fcp.rspcode", "fcp.snslen", "scsi.sns.key", "scsi.sns.asc",
                      "fc.bls_oxid", "fc.bls_rxid", "fc.bls_hseqcnt", "fc.bls_reason", "fc.bls_rjtdetail"]
        let json = try Self.tshark(["-r", file, "-T", "json"] + fields.flatMap { ["-e", $0] })
        let packets = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(packets.count == frames.count)
        let layers: [[String: [String]]] = packets.map { (($0["_source"] as? [String: Any])?["layers"] as? [String: [String]]) ?? [:] }
        func hex2(_ v: Int, _ digits: Int) -> String {
            let h = String(v, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, digits - h.count)) + h
        }
        // Every frame's CRC is good, and every opcode Wireshark shows is the one we encoded.
        // (Wireshark 4.0 shows no fields for RLS, RTV and ECHO: frames 13-18 are only error-checked.)
        for (i, f) in frames.enumerated() {
            #expect(layers[i]["fc.crc.status"] == ["1"], "frame \(i + 1)")
            if f.type == 0x01, let op = layers[i]["fcels.opcode"] { #expect(op == [hex2(Int(f.payload[0]), 2)], "frame \(i + 1)") }
            if f.type == 0x20 { #expect(layers[i]["fcdns.opcode"] == [hex2(Int(f.payload[8]) << 8 | Int(f.payload[9]), 4)], "frame \(i + 1)") }
        }
        let abortedOX = hex2(Int(frames[54].oxID), 4)
        let expected: [Int: [String: [String]]] = [
            1: ["fcels.opcode": ["0x04"], "fcels.npname": ["21:00:00:24:ff:3d:00:01"], "fcels.fnname": ["20:00:00:24:ff:3d:00:01"],
                "fcels.logi.rcvsize": ["2048"], "fcels.edtov": ["2000"]],
            2: ["fcels.opcode": ["0x02"], "fcels.npname": ["20:01:00:00:de:ad:be:01"], "fcels.fnname": ["10:00:00:00:de:ad:be:ef"]],
            3: ["fcels.opcode": ["0x03"]],
            4: ["fcels.npname": ["21:00:00:24:ff:3d:00:02"], "fcels.fnname": ["20:00:00:24:ff:3d:00:02"]],
            5: ["fcels.opcode": ["0x20"], "fcels.fcpflags": ["0x00000022"]],
            6: ["fcels.fcpflags": ["0x00000012"], "fcels.prlilo.response_code": ["0x21"]],   // image pair established + executed
            7: ["fcels.opcode": ["0x52"], "fcels.portid": ["01.01.00"], "fcels.npname": ["21:00:00:24:ff:3d:00:01"]],
            8: ["fcels.portid": ["01.02.00"], "fcels.npname": ["21:00:00:24:ff:3d:00:02"]],
            9: ["fcels.opcode": ["0x62"], "fcels.scr.regn": ["0x03"]],
            11: ["fcels.opcode": ["0x61"], "fcels.rscn.addrfmt": ["0x00", "0x02"], "fcels.rscn.evqual": ["0x01", "0x00"],
                 "fcels.rscn.domain": ["0x01", "0x02"]],
            20: ["fcels.opcode": ["0x01"], "fcels.rjt.reason": ["0x05"], "fcels.rjt.detail": ["0x29"]],
            21: ["fcels.opcode": ["0x21"]],
            22: ["fcels.prlilo.response_code": ["0x01"]],
            23: ["fcels.opcode": ["0x05"], "fcels.portid": ["01.01.00"], "fcels.npname": ["21:00:00:24:ff:3d:00:01"]],
            25: ["fcdns.req.portid": ["01.01.00"], "fcdns.fc4types.fcp": ["1"], "fcdns.maxres_size": ["256"]],
            27: ["fcdns.req.portid": ["01.01.00"], "fcdns.fc4features.i": ["1"], "fcdns.fc4features.t": ["0"], "fcdns.req.fc4type": ["0x08"]],
            31: ["fcdns.req.spname": ["swift-stmf initiator"]],
            33: ["fcdns.req.fc4type": ["0x08"]],
            34: ["fcdns.rply.portid": ["01.02.00", "02.03.00"]],
            35: ["fcdns.req.portid": ["01.02.00"]],
            36: ["fcdns.rply.pname": ["21:00:00:24:ff:3d:00:02"]],
            38: ["fcdns.rply.nname": ["20:00:00:24:ff:3d:00:02"]],
            39: ["fcdns.req.portname": ["21:00:00:24:ff:3d:00:02"]],
            40: ["fcdns.rply.portid": ["01.02.00"]],
            // 42 (GFF_ID FS_ACC): Wireshark 4.0 reads only the object's first byte; FCP's nibble
            // is in byte 7 (as Linux lpfc reads it), checked in CTTests.
            44: ["fcdns.rply.spname": ["swift-stmf target"]],
            46: ["fcdns.rply.reason": ["0x09"], "fcdns.rply.reasondet": ["0x07"]],
            47: ["fcp.lun": ["0x01"], "fcp.dl": ["512"], "fcp.wrdata": ["1"], "fcp.rddata": ["0"], "fcp.taskattr": ["0x00"], "fcp.taskmgmt": ["0x00"]],
            48: ["fcp.burstlen": ["512"], "fcp.data_ro": ["0"]],
            49: ["fcp.status": ["0x00"]],
            50: ["fcp.taskattr": ["0x02"], "fcp.dl": ["0"]],
            51: ["fcp.status": ["0x02"], "fcp.resid": ["4072"], "fcp.snslen": ["18"], "scsi.sns.key": ["0x06"], "scsi.sns.asc": ["0x29"]],
            52: ["fcp.lun": ["0x02"], "fcp.taskmgmt": ["0x10"]],
            53: ["fcp.rspcode": ["0x00"], "fcp.status": ["0x00"]],
            55: ["fc.bls_oxid": [abortedOX], "fc.bls_rxid": ["0x0205"], "fc.bls_hseqcnt": ["0xffff"]],
            57: ["fc.bls_reason": ["0x03"], "fc.bls_rjtdetail": ["0x03"]],
        ]
        for (frame, fieldValues) in expected.sorted(by: { $0.key < $1.key }) {
            for (field, value) in fieldValues.sorted(by: { $0.key < $1.key }) {
                #expect(layers[frame - 1][field] == value, "frame \(frame) \(field)")
            }
        }
    }
}
