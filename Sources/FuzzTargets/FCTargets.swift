import FCPort
import FCLink
import STMF

// MARK: frames and the frame stream

/// FC-2 frames and the emulated link's record stream (`FrameStream`, what `FrameLink`'s reader
/// parses). Selector byte: `% 3` = 0 the rest is a record stream, read in chunks of
/// `1 + selector >> 2` KiB as the link's reader gets them from the socket; 1 the rest is one
/// frame; 2 one frame whose CRC is recomputed first, so mutations reach the header checks and
/// the payload decoders behind them. A decoded frame's payload goes to the decoder its
/// R_CTL/TYPE select, as a port would hand it on.
public func fuzzFrame(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    switch selector % 3 {
    case 0: checkStream(body, chunk: (1 + Int(selector >> 2)) * 1024)
    case 1: checkFrame(body)
    default:
        var b = Array(body)
        if b.count >= FCFrame.overhead {
            let n = b.count
            let crc = b.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[4..<(n - 8)])) }
            withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { b[n - 8 + i] = $0[i] } }
        }
        b.withUnsafeBytes { checkFrame($0) }
    }
}

enum StreamItem: Equatable {
    case frame([UInt8])
    case primitive(LinkPrimitive)
    case violation
}

/// All records of `bytes` parsed at once, ending with `.violation` if the stream breaks.
func parseWhole(_ bytes: UnsafeRawBufferPointer) -> (items: [StreamItem], used: Int) {
    var items: [StreamItem] = []
    do {
        let used = try FrameStream.parse(bytes) { rec, raw in
            fuzzCheck(raw.count >= FrameStream.prefixLength, "record bytes without their prefix")
            switch rec {
            case let .frame(f):
                fuzzCheck(f.count + FrameStream.prefixLength == raw.count, "record body \(f.count) within \(raw.count) bytes")
                items.append(.frame(Array(f)))
            case let .primitive(p):
                fuzzCheck(raw.count == 8, "primitive record of \(raw.count) bytes")
                items.append(.primitive(p))
            }
        }
        fuzzCheck(used >= 0 && used <= bytes.count, "parse consumed \(used) of \(bytes.count) bytes")
        return (items, used)
    } catch {
        _ = "\(error)"
        items.append(.violation)
        return (items, -1)
    }
}

func checkStream(_ bytes: UnsafeRawBufferPointer, chunk: Int) {
    let (whole, used) = parseWhole(bytes)

    // The same bytes arriving `chunk` at a time, as FrameLink's reader loop handles them:
    // parse what is there, keep the unparsed tail at the front of the buffer.
    var pieces: [StreamItem] = []
    var buffer: [UInt8] = []
    var offset = 0
    var broken = false
    while offset < bytes.count && !broken {
        let end = min(bytes.count, offset + chunk)
        buffer += bytes[offset..<end]
        offset = end
        let result: Int? = buffer.withUnsafeBytes { p in
            do {
                return try FrameStream.parse(p) { rec, _ in
                    switch rec {
                    case let .frame(f): pieces.append(.frame(Array(f)))
                    case let .primitive(prim): pieces.append(.primitive(prim))
                    }
                }
            } catch { return nil }
        }
        guard let consumed = result else { pieces.append(.violation); broken = true; break }
        buffer.removeFirst(consumed)
    }
    fuzzCheck(pieces == whole, "chunked parse differs from the whole parse")
    if used >= 0 { fuzzCheck(buffer.count == bytes.count - used, "chunked parse left \(buffer.count) bytes, whole parse \(bytes.count - used)") }

    // Every frame record through the frame decoder; the decodable stream re-encoded.
    var reencoded: [UInt8] = []
    var expected: [StreamItem] = []
    for item in whole {
        switch item {
        case let .frame(f):
            f.withUnsafeBytes { checkFrame($0) }
            if let frame = try? FCFrame(decoding: f) {
                frame.encode(into: &reencoded, record: true)
                expected.append(.frame(frame.encoded()))
            }
        case let .primitive(p):
            FrameStream.append(p, to: &reencoded)
            expected.append(.primitive(p))
        case .violation: break
        }
    }
    let (again, againUsed) = reencoded.withUnsafeBytes { parseWhole($0) }
    fuzzCheck(againUsed == reencoded.count, "a re-encoded stream does not parse whole")
    fuzzCheck(again == expected, "re-encoded stream parses to different records")
}

func checkFrame(_ bytes: UnsafeRawBufferPointer) {
    let validated: (StartOfFrame, FrameHeader, Range<Int>, EndOfFrame)
    do throws(FrameError) { validated = try FCFrame.validate(bytes) } catch {
        _ = error.description
        fuzzCheck((try? FCFrame(decoding: bytes)) == nil, "validate refuses a frame the decoder takes")
        return
    }
    let (sof, header, range, eof) = validated
    fuzzCheck(range.lowerBound == 28 && range.upperBound <= bytes.count - 8, "payload range \(range) in \(bytes.count) bytes")
    let frame: FCFrame
    do throws(FrameError) { frame = try FCFrame(decoding: bytes) } catch {
        preconditionFailure("validate accepts a frame the decoder refuses: \(error)")
    }
    fuzzCheck(frame.start == sof && frame.end == eof && frame.header == header, "decode and validate disagree")
    fuzzCheck(frame.payload == Array(bytes[range]), "payload is not the validated range")
    fuzzCheck(frame.encodedLength == bytes.count, "frame of \(bytes.count) bytes re-encodes to \(frame.encodedLength)")
    let encoded = frame.encoded()
    fuzzCheck(encoded.count == bytes.count, "re-encoded frame length \(encoded.count) != \(bytes.count)")
    let again: FCFrame
    do throws(FrameError) { again = try FCFrame(decoding: encoded) } catch {
        preconditionFailure("re-encoded frame does not decode: \(error)")
    }
    fuzzCheck(again == frame, "frame round trip differs")
    // Bytes outside the fill bytes are canonical: SOF, header, payload, CRC of what was sent.
    fuzzCheck(Array(encoded[0..<28]) == Array(bytes[0..<28]), "re-encoded header bytes differ")
    dispatchPayload(header, frame.payload)
}

/// Hands a payload to the decoder a port uses for its R_CTL and TYPE.
func dispatchPayload(_ h: FrameHeader, _ payload: [UInt8]) {
    switch (h.routing, h.type) {
    case (.elsRequest, .els): checkELSRequest(payload)
    case (.elsReply, .els):
        for code in [ELSCommandCode.plogi, .prli, .adisc, .rls, .rtv, .echo, .logo] { checkELSReply(payload, request: code) }
    case (.unsolicitedControl, .ct): checkCTRequest(payload)
    case (.solicitedControl, .ct):
        for code in CTCommandCode.allCases { checkCTReply(payload, request: code) }
    case (_, .bls): checkBLS(h.routing, payload)
    case (.fcpCommand, .fcp): checkFCPCommand(payload)
    case (.fcpResponse, .fcp): checkFCPResponse(payload)
    case (.transferReady, .fcp): checkTransferReady(payload)
    default: break
    }
}

// MARK: ELS

/// ELS requests and replies. Selector bit 7 clear: the rest is a request; set: a reply to the
/// request whose command is `ELSCommandCode.allCases[(selector & 0x7F) % count]`.
public func fuzzELS(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    let payload = Array(body)
    if selector & 0x80 == 0 {
        checkELSRequest(payload)
    } else {
        let all = ELSCommandCode.allCases
        checkELSReply(payload, request: all[Int(selector & 0x7F) % all.count])
    }
}

func checkELSRequest(_ payload: [UInt8]) {
    let request: ELSRequest
    do throws(ELSDecodeError) { request = try ELSRequest.decode(payload) } catch {
        _ = error.rejection.encoded()
        _ = error.description
        return
    }
    fuzzCheck(request.command.rawValue == payload[0], "decoded \(request.command) from command byte \(payload[0])")
    let encoded = request.encoded()
    fuzzCheck(encoded.count == payload.count, "\(request.command) of \(payload.count) bytes re-encodes to \(encoded.count)")
    do throws(ELSDecodeError) {
        let again = try ELSRequest.decode(encoded)
        fuzzCheck(again == request, "\(request.command) round trip differs")
        fuzzCheck(again.encoded() == encoded, "\(request.command) encoding is not stable")
    } catch {
        preconditionFailure("re-encoded \(request.command) does not decode: \(error)")
    }
    // Slices decode as arrays do (the decoders are generic over the collection).
    let slice = ([0xEE] + payload)[1...]
    fuzzCheck((try? ELSRequest.decode(slice)) == request, "\(request.command) decodes differently from a slice")
}

func checkELSReply(_ payload: [UInt8], request code: ELSCommandCode) {
    let reply: ELSReply
    do throws(ELSDecodeError) { reply = try ELSReply.decode(payload, request: code) } catch {
        _ = error.description
        return
    }
    let encoded = reply.encoded()
    fuzzCheck(encoded.count == payload.count, "reply to \(code) of \(payload.count) bytes re-encodes to \(encoded.count)")
    do throws(ELSDecodeError) {
        let again = try ELSReply.decode(encoded, request: code)
        fuzzCheck(again == reply, "reply to \(code) round trip differs")
    } catch {
        preconditionFailure("re-encoded reply to \(code) does not decode: \(error)")
    }
    if case let .reject(j) = reply { _ = j.description }
}

// MARK: CT / name server

/// Name server CT_IUs. Selector bit 7 clear: the rest is a request; set: a reply to
/// `CTCommandCode.allCases[(selector & 0x7F) % count]`.
public func fuzzCT(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    let payload = Array(body)
    if selector & 0x80 == 0 {
        checkCTRequest(payload)
    } else {
        let all = CTCommandCode.allCases
        checkCTReply(payload, request: all[Int(selector & 0x7F) % all.count])
    }
}

func checkCTRequest(_ payload: [UInt8]) {
    if let h = try? CTHeader.decode(payload) { fuzzCheck(h.revision == CTHeader.revision1, "CT revision \(h.revision)") }
    let decoded: (header: CTHeader, request: NameServerRequest)
    do throws(CTDecodeError) { decoded = try NameServerRequest.decodeWithHeader(payload) } catch {
        _ = error.rejection
        _ = error.description
        return
    }
    let (h, request) = decoded
    fuzzCheck(request.command.rawValue == h.code, "decoded \(request.command) from code \(h.code)")
    let encoded = request.encoded(maxSize: h.maxResidualSize, inID: h.inID)
    do throws(CTDecodeError) {
        let (h2, again) = try NameServerRequest.decodeWithHeader(encoded)
        fuzzCheck(again == request, "\(request.command) round trip differs")
        fuzzCheck(h2.maxResidualSize == h.maxResidualSize && h2.inID == h.inID, "\(request.command) preamble round trip differs")
        fuzzCheck(again.encoded(maxSize: h.maxResidualSize, inID: h.inID) == encoded, "\(request.command) encoding is not stable")
    } catch {
        preconditionFailure("re-encoded \(request.command) does not decode: \(error)")
    }
    if case let .gidFT(type, _, _) = request { _ = FC4TypeSet([type]).types }
    if case let .rftID(_, types) = request {
        fuzzCheck(FC4TypeSet(types.types) == types, "FC-4 TYPE set does not rebuild from its members")
    }
}

func checkCTReply(_ payload: [UInt8], request code: CTCommandCode) {
    let reply: NameServerReply
    do throws(CTDecodeError) { reply = try NameServerReply.decode(payload, request: code) } catch {
        _ = error.description
        return
    }
    let encoded = reply.encoded()
    do throws(CTDecodeError) {
        let again = try NameServerReply.decode(encoded, request: code)
        fuzzCheck(again == reply, "reply to \(code) round trip differs")
    } catch {
        preconditionFailure("re-encoded reply to \(code) does not decode: \(error)")
    }
    if case let .accept(.features(map)) = reply {
        for t in 0...255 { _ = map[UInt8(t)] }
    }
}

// MARK: BLS

/// Basic link services. The selector byte is the frame's R_CTL; the rest the payload.
public func fuzzBLS(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    checkBLS(RoutingControl(rawValue: selector), Array(body))
}

func checkBLS(_ routing: RoutingControl, _ payload: [UInt8]) {
    let bls: BasicLinkService
    do throws(BLSDecodeError) { bls = try BasicLinkService.decode(routingControl: routing, payload: payload) } catch {
        _ = error.rejection.encoded()
        _ = error.description
        return
    }
    fuzzCheck(bls.routingControl == routing, "BLS \(bls) decoded from R_CTL \(routing)")
    let encoded = bls.encoded()
    fuzzCheck(encoded.count == payload.count, "BLS of \(payload.count) bytes re-encodes to \(encoded.count)")
    do throws(BLSDecodeError) {
        let again = try BasicLinkService.decode(routingControl: routing, payload: encoded)
        fuzzCheck(again == bls, "BLS round trip differs")
    } catch {
        preconditionFailure("re-encoded BLS does not decode: \(error)")
    }
}

// MARK: FCP

/// FCP IUs. Selector `% 3`: 0 FCP_CMND, 1 FCP_RSP (and the sense data it carries), 2 FCP_XFER_RDY.
public func fuzzFCP(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    let payload = Array(body)
    switch selector % 3 {
    case 0: checkFCPCommand(payload)
    case 1: checkFCPResponse(payload)
    default: checkTransferReady(payload)
    }
}

func checkFCPCommand(_ payload: [UInt8]) {
    let cmd: FCPCommand
    do throws(FCPDecodeError) { cmd = try FCPCommand.decode(payload) } catch {
        let rsp = error.rejection.encoded()
        fuzzCheck((try? FCPResponse.decode(rsp)) == error.rejection, "the FCP_RSP of a refused FCP_CMND does not decode")
        _ = error.description
        return
    }
    fuzzCheck(cmd.cdb.count >= 16 && cmd.cdb.count % 4 == 0 && cmd.cdb.count <= FCPCommand.maximumCDBLength,
              "FCP_CMND CDB of \(cmd.cdb.count) bytes")
    let encoded = cmd.encoded()
    fuzzCheck(encoded.count == payload.count, "FCP_CMND of \(payload.count) bytes re-encodes to \(encoded.count)")
    do throws(FCPDecodeError) {
        let again = try FCPCommand.decode(encoded)
        fuzzCheck(again == cmd, "FCP_CMND round trip differs")
    } catch {
        preconditionFailure("re-encoded FCP_CMND does not decode: \(error)")
    }
    _ = cmd.taskManagementFunction
    _ = cmd.direction.dataDirection
    _ = cmd.taskAttribute.taskAttribute
    _ = LUNAddress(field: cmd.lun)
    let cdb = CDB(cmd.cdb)
    _ = cdb.control
}

func checkFCPResponse(_ payload: [UInt8]) {
    let rsp: FCPResponse
    do throws(FCPDecodeError) { rsp = try FCPResponse.decode(payload) } catch {
        _ = error.description
        return
    }
    let encoded = rsp.encoded()
    do throws(FCPDecodeError) {
        let again = try FCPResponse.decode(encoded)
        fuzzCheck(again == rsp, "FCP_RSP round trip differs")
    } catch {
        preconditionFailure("re-encoded FCP_RSP does not decode: \(error)")
    }
    if !rsp.sense.isEmpty { checkSense(rsp.sense) }
}

/// Sense data as an initiator parses it out of an FCP_RSP; what parses re-encodes in both
/// formats and parses back to the same key, additional sense and sense-key specific field.
func checkSense(_ bytes: [UInt8]) {
    guard let sense = SenseData(parsing: bytes) else { return }
    for descriptor in [false, true] {
        let enc = sense.bytes(descriptor: descriptor)
        fuzzCheck(enc.count == sense.encodedLength(descriptor: descriptor), "sense length \(enc.count) != \(sense.encodedLength(descriptor: descriptor))")
        guard let again = SenseData(parsing: enc) else { preconditionFailure("re-encoded sense \(hex(enc)) does not parse") }
        fuzzCheck(again.key == sense.key && again.additional == sense.additional, "sense round trip \(again) != \(sense)")
        fuzzCheck(again.senseKeySpecific == sense.senseKeySpecific, "sense-key specific round trip \(again) != \(sense)")
    }
}

func checkTransferReady(_ payload: [UInt8]) {
    let x: TransferReady
    do throws(FCPDecodeError) { x = try TransferReady.decode(payload) } catch {
        _ = error.description
        return
    }
    let encoded = x.encoded()
    fuzzCheck(encoded.count == payload.count, "XFER_RDY re-encodes to \(encoded.count) bytes")
    fuzzCheck((try? TransferReady.decode(encoded)) == x, "XFER_RDY round trip differs")
}
