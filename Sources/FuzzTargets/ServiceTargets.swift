import Checksum
import Foundation
@_spi(Fuzzing) import SBD
@_spi(Fuzzing) import SGBridge
import STMF
import STMFAPI

// MARK: SG bridge

/// The SG_IO bridge protocol. Selector bit 0 clear: the rest is a stream of request frames as
/// `SGBridgeServer`'s reader takes them (header, CDB, data-out; the stream ends at the first
/// frame that does not decode or is cut short); set: a stream of reply headers with the sense
/// and data-in after each, as the shim reads them.
public func fuzzSGBridge(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    if selector & 1 == 0 { checkSGRequests(Array(body)) } else { checkSGReplies(Array(body)) }
}

func requestHeader(_ b: ArraySlice<UInt8>) throws(SGBridgeProtocol.DecodingError) -> SGBridgeProtocol.RequestHeader {
    let r: Result<SGBridgeProtocol.RequestHeader, SGBridgeProtocol.DecodingError> = b.withUnsafeBytes { p in
        do throws(SGBridgeProtocol.DecodingError) { return .success(try SGBridgeProtocol.decodeRequestHeader(p)) } catch { return .failure(error) }
    }
    return try r.get()
}

func replyHeader(_ b: ArraySlice<UInt8>) throws(SGBridgeProtocol.DecodingError) -> SGBridgeProtocol.ReplyHeader {
    let r: Result<SGBridgeProtocol.ReplyHeader, SGBridgeProtocol.DecodingError> = b.withUnsafeBytes { p in
        do throws(SGBridgeProtocol.DecodingError) { return .success(try SGBridgeProtocol.decodeReplyHeader(p)) } catch { return .failure(error) }
    }
    return try r.get()
}

func checkSGRequests(_ b: [UInt8]) {
    var at = 0
    while b.count - at >= SGBridgeProtocol.requestHeaderSize {
        let header: SGBridgeProtocol.RequestHeader
        do throws(SGBridgeProtocol.DecodingError) {
            header = try requestHeader(b[at..<(at + SGBridgeProtocol.requestHeaderSize)])
        } catch {
            _ = error.description
            return
        }
        fuzzCheck((1...SGBridgeProtocol.maxCDBLength).contains(header.cdbLength), "CDB length \(header.cdbLength)")
        fuzzCheck(header.transferLength >= 0 && header.transferLength <= SGBridgeProtocol.maxTransfer, "transfer \(header.transferLength)")
        fuzzCheck(header.dataOutLength <= header.transferLength, "data-out \(header.dataOutLength) > transfer \(header.transferLength)")
        at += SGBridgeProtocol.requestHeaderSize
        guard b.count - at >= header.cdbLength + header.dataOutLength else { return }   // truncated frame
        let cdb = Array(b[at..<(at + header.cdbLength)])
        at += header.cdbLength
        let dataOut = Array(b[at..<(at + header.dataOutLength)])
        at += header.dataOutLength
        let request = SGRequest(id: header.id, cdb: cdb, direction: header.direction, dataOut: dataOut,
                                transferLength: header.transferLength, timeoutMilliseconds: header.timeoutMilliseconds)
        let frame = SGBridgeProtocol.encode(request: request)
        fuzzCheck(frame.count == SGBridgeProtocol.requestHeaderSize + cdb.count + dataOut.count, "request re-encodes to \(frame.count) bytes")
        do throws(SGBridgeProtocol.DecodingError) {
            let again = try requestHeader(frame[0..<SGBridgeProtocol.requestHeaderSize])
            fuzzCheck(again == header, "request header round trip \(again) != \(header)")
        } catch {
            preconditionFailure("re-encoded request header does not decode: \(error)")
        }
        fuzzCheck(Array(frame[SGBridgeProtocol.requestHeaderSize...]) == cdb + dataOut, "request body round trip differs")
    }
}

func checkSGReplies(_ b: [UInt8]) {
    var at = 0
    while b.count - at >= SGBridgeProtocol.replyHeaderSize {
        let header: SGBridgeProtocol.ReplyHeader
        do throws(SGBridgeProtocol.DecodingError) {
            header = try replyHeader(b[at..<(at + SGBridgeProtocol.replyHeaderSize)])
        } catch {
            _ = error.description
            return
        }
        fuzzCheck(header.senseLength <= SGBridgeProtocol.maxSenseLength, "sense length \(header.senseLength)")
        fuzzCheck(header.dataInLength >= 0 && header.dataInLength <= SGBridgeProtocol.maxTransfer, "data-in \(header.dataInLength)")
        at += SGBridgeProtocol.replyHeaderSize
        guard b.count - at >= header.senseLength + header.dataInLength else { return }
        let sense = Array(b[at..<(at + header.senseLength)])
        at += header.senseLength
        let dataIn = Array(b[at..<(at + header.dataInLength)])
        at += header.dataInLength
        if !sense.isEmpty { checkSense(sense) }
        // The server's encoder, given what the header describes, writes the same header.
        let reply = SGReply(status: header.status, hostStatus: header.hostStatus, driverStatus: header.driverStatus,
                            dataIn: dataIn, residual: Int(header.residual), sense: sense)
        var out = [UInt8](repeating: 0, count: SGBridgeProtocol.replyHeaderSize)
        out.withUnsafeMutableBytes {
            SGBridgeProtocol.encodeReplyHeader(reply, id: header.id, senseLength: sense.count, dataInLength: dataIn.count, into: $0)
        }
        do throws(SGBridgeProtocol.DecodingError) {
            let again = try replyHeader(out[...])
            fuzzCheck(again == header, "reply header round trip \(again) != \(header)")
        } catch {
            preconditionFailure("re-encoded reply header does not decode: \(error)")
        }
    }
}

// MARK: management API request bodies

/// The LU providers the service registers, by name, as the API targets check property bags.
let fuzzProviders: ProviderRegistry = {
    var r = ProviderRegistry()
    try? r.register(SBDProvider())
    return r
}()

/// What the service does with a request's property bag: the named provider normalises it (an
/// unknown name is refused before that); what it accepts it must accept again unchanged.
func checkProperties(_ bag: [String: String], for operation: LUOperation, provider name: String) {
    guard let provider = fuzzProviders.logicalUnitProvider(named: name),
          let normal = try? provider.normalize(bag, for: operation) else { return }
    do {
        let again = try provider.normalize(normal, for: operation)
        fuzzCheck(again == normal, "\(name) \(operation) normalisation is not stable: \(normal) -> \(again)")
    } catch {
        preconditionFailure("\(name) refuses the \(operation) properties it normalised itself: \(normal): \(error)")
    }
}

/// The request types the management API decodes from JSON bodies, with the checks the service
/// runs on what they carry.
let apiRequestTypes: [(String, @Sendable (Data) -> Void)] = [
    ("CreateLURequest", { d in
        roundTrip(CreateLURequest.self, d) { r in
            checkProperties(r.properties, for: .create, provider: r.provider)
            _ = LUPropertyName.parseSize(r.file)
        }
    }),
    ("ModifyLURequest", { d in roundTrip(ModifyLURequest.self, d) { r in checkProperties(r.properties, for: .modify, provider: r.provider ?? defaultLUProvider) } }),
    ("ImportLURequest", { d in roundTrip(ImportLURequest.self, d) { r in checkProperties(r.properties, for: .import, provider: r.provider) } }),
    ("CreateGroupRequest", { d in roundTrip(CreateGroupRequest.self, d) { r in _ = try? PortIdentifier(parsing: r.name) } }),
    ("GroupMemberRequest", { d in roundTrip(GroupMemberRequest.self, d) { r in for m in r.members { _ = try? PortIdentifier(parsing: m) } } }),
    ("AddViewRequest", { d in roundTrip(AddViewRequest.self, d) { _ in } }),
    ("RemoveViewsRequest", { d in roundTrip(RemoveViewsRequest.self, d) { _ in } }),
    ("CreateEmulatedPortRequest", { d in
        roundTrip(CreateEmulatedPortRequest.self, d) { r in
            _ = try? PortIdentifier(parsing: r.portWWN)
            if let n = r.nodeWWN { _ = try? PortIdentifier(parsing: n) }
        }
    }),
    // A bag on its own (the first API's typed properties read too), for create and for modify.
    ("LUProperties", { d in
        guard let bag = try? PropertyBag.decode(json: d) else { return }
        do {
            let again = try PropertyBag.decode(json: JSONEncoder().encode(bag))
            fuzzCheck(again == bag, "property bag JSON round trip differs")
        } catch {
            preconditionFailure("a property bag does not re-encode: \(error)")
        }
        checkProperties(bag, for: .create, provider: defaultLUProvider)
        checkProperties(bag, for: .modify, provider: defaultLUProvider)
    }),
]

/// Management API request bodies. Selector `% count` picks the request type; the rest is the
/// JSON body, decoded with the service's plain `JSONDecoder`. What decodes is re-encoded and
/// decoded again and must come back equal (the request types hold only strings, integers,
/// booleans and arrays of them, so the round trip is exact).
public func fuzzAPIRequest(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    let (_, run) = apiRequestTypes[Int(selector) % apiRequestTypes.count]
    run(Data(body))
}

func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ data: Data, _ then: (T) -> Void) {
    guard let value = try? JSONDecoder().decode(T.self, from: data) else { return }
    let encoded: Data
    do { encoded = try JSONEncoder().encode(value) } catch { preconditionFailure("\(T.self) decodes but does not encode: \(error)") }
    do {
        let again = try JSONDecoder().decode(T.self, from: encoded)
        fuzzCheck(again == value, "\(T.self) JSON round trip differs: \(again) != \(value)")
    } catch {
        preconditionFailure("re-encoded \(T.self) does not decode: \(error)")
    }
    then(value)
}

// MARK: export document

/// `stmfadm export` documents (`ExportDocument.decode`, which import runs first). Selector bit 0
/// clear: the rest is the whole document; set: the rest is a body for which a correct header
/// line (length and SHA-256) is written first, so mutations reach the JSON decoder.
public func fuzzExportDocument(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    var doc: [UInt8]
    if selector & 1 == 0 {
        doc = Array(body)
    } else {
        let b = Array(body)
        let header = "{\"format\":\"\(ExportDocument.format)\",\"length\":\(b.count),\"sha256\":\"\(SHA256.hex(b))\",\"version\":\(ExportDocument.version)}\n"
        doc = Array(header.utf8) + b
    }
    let decoded: ExportDocument.Body
    do throws(ExportDocument.DecodeError) { decoded = try ExportDocument.decode(doc) } catch {
        _ = error.description
        return
    }
    let encoded: [UInt8]
    do { encoded = try ExportDocument.encode(decoded.configuration, exportedAt: decoded.exportedAt) } catch {
        preconditionFailure("a decoded export does not encode: \(error)")
    }
    do throws(ExportDocument.DecodeError) {
        let again = try ExportDocument.decode(encoded)
        fuzzCheck(again == decoded, "export round trip differs")
    } catch {
        preconditionFailure("a re-encoded export does not decode: \(error)")
    }
    // What import checks before it stores anything, then what the store needs of what passed:
    // each size as a signed 64-bit SQLite integer; and what passed passes again unchanged.
    if let checked = try? decoded.configuration.checkingLogicalUnits(with: fuzzProviders) {
        for lu in checked.logicalUnits {
            fuzzCheck(Int64(exactly: lu.size) != nil, "import accepts LU \(lu.guid) of \(lu.size) bytes, which the store cannot hold")
        }
        do {
            let again = try checked.checkingLogicalUnits(with: fuzzProviders)
            fuzzCheck(again == checked, "import's LU normalisation is not stable")
        } catch {
            preconditionFailure("import refuses the LUs it normalised itself: \(error)")
        }
    }
    for lu in decoded.configuration.logicalUnits {
        _ = LUGUID(lu.guid)
        if let r = lu.reservations { _ = try? ReservationState(decoding: r) }
    }
    for g in decoded.configuration.hostGroups + decoded.configuration.targetGroups {
        for m in g.members { _ = try? PortIdentifier(parsing: m) }
    }
    for p in decoded.configuration.targetPorts { _ = try? PortIdentifier(parsing: p.name) }
}

// MARK: SBD metadata

/// SBD's on-disk metadata area as import-lu reads it (both slots, the newest valid copy, then
/// the GUID, properties, reservation state, data offset and size checks). Selector bit 0
/// clear: the rest is the area from offset 0 (zero-filled to 64 KiB; longer is kept); set:
/// the rest is one slot's JSON payload, written with a correct header into the slot bit 1
/// picks, at generation `selector >> 3`, with its CRC-32C computed unless bit 2 is set.
/// A decoded area is re-encoded with SBD's slot encoder and must decode to the same record.
public func fuzzSBDMetadata(_ data: UnsafeRawBufferPointer) {
    guard let (selector, body) = split(data) else { return }
    let areaSize = SBDMetadataCodec.areaSize, slotSize = SBDMetadataCodec.slotSize
    var area = [UInt8](repeating: 0, count: areaSize)
    if selector & 1 == 0 {
        let n = min(body.count, areaSize)
        for i in 0..<n { area[i] = body[i] }
        if body.count > areaSize { area += body[areaSize...] }   // longer areas are read too
    } else {
        let payload = Array(body.prefix(slotSize - SBDMetadataCodec.headerLength))
        var slot = Array("SBDLUMD".utf8) + [0]
        slot += [0, 1, 0, 40]
        let len = UInt32(payload.count), gen = UInt64(selector >> 3)
        slot += [UInt8(len >> 24), UInt8((len >> 16) & 0xFF), UInt8((len >> 8) & 0xFF), UInt8(len & 0xFF)]
        for i in (0..<8).reversed() { slot.append(UInt8((gen >> (8 * UInt64(i))) & 0xFF)) }
        slot += [0, 0, 0, 0] + [UInt8](repeating: 0, count: 12) + payload
        if selector & 4 == 0 {
            var crc = FuzzCRC32C.update(0, slot[0..<24])
            crc = FuzzCRC32C.update(crc, slot[28..<40])
            crc = FuzzCRC32C.update(crc, slot[40...])
            slot[24] = UInt8(crc >> 24); slot[25] = UInt8((crc >> 16) & 0xFF); slot[26] = UInt8((crc >> 8) & 0xFF); slot[27] = UInt8(crc & 0xFF)
        }
        let base = selector & 2 == 0 ? 0 : slotSize
        area.replaceSubrange(base..<(base + slot.count), with: slot)
    }
    let decoded: (record: SBDMetadataRecord, generation: UInt64, slot: Int)
    do throws(SBDError) { decoded = try SBDMetadataCodec.decode(area: area) } catch {
        _ = error.description
        return
    }
    fuzzCheck(decoded.slot == 0 || decoded.slot == 1, "slot \(decoded.slot)")
    if let r = decoded.record.reservations {
        do {
            let state = try ReservationState(decoding: r)
            fuzzCheck((try? ReservationState(decoding: state.encoded())) == state, "reservation state round trip differs")
        } catch {
            preconditionFailure("import accepted reservations that do not decode: \(error)")
        }
    }
    // SBD's own writer, into the slot the next update would use, then into the other one.
    let slotBytes: [UInt8]
    do throws(SBDError) { slotBytes = try SBDMetadataCodec.encodeSlot(decoded.record, generation: decoded.generation &+ 1) } catch {
        if case .metadata(.tooLarge) = error { return }   // a record that only fits as the fuzzer packed it
        preconditionFailure("a decoded record does not encode: \(error)")
    }
    var fresh = [UInt8](repeating: 0, count: areaSize)
    fresh.replaceSubrange(0..<slotBytes.count, with: slotBytes)
    do throws(SBDError) {
        let again = try SBDMetadataCodec.decode(area: fresh)
        fuzzCheck(again.record == decoded.record, "metadata round trip differs")
        fuzzCheck(again.generation == decoded.generation &+ 1 && again.slot == 0, "metadata generation/slot round trip differs")
    } catch {
        preconditionFailure("a re-encoded record does not decode: \(error)")
    }
}
