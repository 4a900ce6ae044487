import STMF

/// Name server command codes (FC-GS-7) this implementation speaks.
public enum CTCommandCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case gpnID = 0x0112
    case gnnID = 0x0113
    case gspnID = 0x0118
    case gffID = 0x011F
    case gidPN = 0x0121
    case gidFT = 0x0171
    case rnnID = 0x0213
    case rftID = 0x0217
    case rspnID = 0x0218
    case rffID = 0x021F

    public var description: String {
        switch self {
        case .gpnID: "GPN_ID"
        case .gnnID: "GNN_ID"
        case .gspnID: "GSPN_ID"
        case .gffID: "GFF_ID"
        case .gidPN: "GID_PN"
        case .gidFT: "GID_FT"
        case .rnnID: "RNN_ID"
        case .rftID: "RFT_ID"
        case .rspnID: "RSPN_ID"
        case .rffID: "RFF_ID"
        }
    }
}

/// The FC-4 TYPEs object (FC-GS-7): a 256-bit map, 8 big-endian words; TYPE t is bit t % 32 of
/// word t / 32 (so FCP, TYPE 8, is byte 2 bit 0).
public struct FC4TypeSet: Sendable, Equatable {
    /// The eight words of the map.
    public private(set) var words: [UInt32]

    /// Length of the object.
    public static let size = 32

    public init(_ types: some Sequence<UInt8> = []) {
        words = [UInt32](repeating: 0, count: 8)
        for t in types { insert(t) }
    }

    /// FCP only.
    public static let fcp = FC4TypeSet([ServiceParameterPage.fcpType])

    /// Whether `type` is in the set.
    public func contains(_ type: UInt8) -> Bool { words[Int(type >> 5)] & (1 << (type & 31)) != 0 }

    /// Adds `type`.
    public mutating func insert(_ type: UInt8) { words[Int(type >> 5)] |= 1 << (type & 31) }

    /// The TYPEs in the set, ascending.
    public var types: [UInt8] { (0...255).map { UInt8($0) }.filter(contains) }

    func encode(into w: inout ByteWriter) { for v in words { w.u32(v) } }

    init(_ r: ByteReader<some RandomAccessCollection<UInt8>>, at o: Int) {
        words = (0..<8).map { r.u32(at: o + 4 * $0) }
    }
}

/// FC-4 features of one TYPE (FC-GS-7, 4 bits; for FCP: target and initiator).
public struct FC4Features: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let target = Self(rawValue: 0x01)
    public static let initiator = Self(rawValue: 0x02)
}

/// The FC-4 Features object returned by GFF_ID (FC-GS-7): 4 bits for each of 256 TYPEs in 32
/// big-endian words; TYPE t is nibble t % 8 (from the least significant) of word t / 8, so
/// FCP's features are the low nibble of byte 7.
public struct FC4FeatureMap: Sendable, Equatable {
    /// The 128 bytes of the object.
    public private(set) var bytes: [UInt8]

    /// Length of the object.
    public static let size = 128

    public init() { bytes = [UInt8](repeating: 0, count: Self.size) }

    /// The features of FC-4 TYPE `type`.
    public subscript(type: UInt8) -> FC4Features {
        get {
            let (i, shift) = Self.position(type)
            return FC4Features(rawValue: (bytes[i] >> shift) & 0x0F)
        }
        set {
            let (i, shift) = Self.position(type)
            bytes[i] = bytes[i] & ~(0x0F << shift) | (newValue.rawValue & 0x0F) << shift
        }
    }

    private static func position(_ type: UInt8) -> (Int, UInt8) {
        let t = Int(type)
        return (4 * (t / 8) + 3 - (t % 8) / 2, UInt8(t % 2) * 4)
    }

    init(_ r: ByteReader<some RandomAccessCollection<UInt8>>, at o: Int) { bytes = r.bytes(at: o, count: Self.size) }
}

/// A name server request (CT_IU to 0xFFFFFC, GS_TYPE 0xFC, GS_SUBTYPE 0x02).
public enum NameServerRequest: Sendable, Equatable {
    /// Register FC-4 TYPEs.
    case rftID(portID: UInt32, types: FC4TypeSet)
    /// Register FC-4 features of one TYPE.
    case rffID(portID: UInt32, features: FC4Features, type: UInt8)
    /// Register node name.
    case rnnID(portID: UInt32, nodeName: WWN)
    /// Register symbolic port name (at most 255 bytes).
    case rspnID(portID: UInt32, symbolicName: [UInt8])
    /// Get port IDs of an FC-4 TYPE, optionally scoped to a domain/area (0 = whole fabric).
    case gidFT(type: UInt8, domainScope: UInt8 = 0, areaScope: UInt8 = 0)
    /// Get port name of a port ID.
    case gpnID(portID: UInt32)
    /// Get node name of a port ID.
    case gnnID(portID: UInt32)
    /// Get port ID of a port name.
    case gidPN(portName: WWN)
    /// Get FC-4 features of a port ID.
    case gffID(portID: UInt32)
    /// Get symbolic port name of a port ID.
    case gspnID(portID: UInt32)

    /// The command code.
    public var command: CTCommandCode {
        switch self {
        case .rftID: .rftID
        case .rffID: .rffID
        case .rnnID: .rnnID
        case .rspnID: .rspnID
        case .gidFT: .gidFT
        case .gpnID: .gpnID
        case .gnnID: .gnnID
        case .gidPN: .gidPN
        case .gffID: .gffID
        case .gspnID: .gspnID
        }
    }

    /// The CT_IU: preamble and request. `maxSize` is the largest reply accepted, in words.
    public func encoded(maxSize: UInt16 = 0, inID: UInt32 = 0) -> [UInt8] {
        var w = ByteWriter(capacity: CTHeader.size + 36)
        CTHeader(inID: inID, code: command.rawValue, maxResidualSize: maxSize).encode(into: &w)
        switch self {
        case let .rftID(id, types):
            w.portIDWord(id)
            types.encode(into: &w)
        case let .rffID(id, features, type):
            w.portIDWord(id)
            w.zeros(2)
            w.u8(features.rawValue)
            w.u8(type)
        case let .rnnID(id, name):
            w.portIDWord(id)
            w.wwn(name)
        case let .rspnID(id, name):
            w.portIDWord(id)
            Self.appendSymbolicName(name, to: &w)
        case let .gidFT(type, domain, area):
            w.u8(0)
            w.u8(domain)
            w.u8(area)
            w.u8(type)
        case let .gpnID(id), let .gnnID(id), let .gffID(id), let .gspnID(id):
            w.portIDWord(id)
        case let .gidPN(name):
            w.wwn(name)
        }
        return w.bytes
    }

    /// Decodes a request CT_IU. On failure the error's `rejection` is the FS_RJT to send.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(CTDecodeError) -> NameServerRequest {
        try decodeWithHeader(payload).request
    }

    /// Decodes a request CT_IU and returns its preamble too (for the maximum reply size).
    public static func decodeWithHeader(_ payload: some RandomAccessCollection<UInt8>) throws(CTDecodeError) -> (header: CTHeader, request: NameServerRequest) {
        let r = ByteReader(payload)
        let h = try CTHeader.decode(r)
        guard h.gsType == CTHeader.directoryService, h.gsSubtype == CTHeader.nameServer else {
            throw .unsupportedService(type: h.gsType, subtype: h.gsSubtype)
        }
        if CTResponseCode(rawValue: h.code) != nil { throw .notARequest(h.code) }
        guard let command = CTCommandCode(rawValue: h.code) else { throw .unsupportedCommand(h.code) }
        let o = CTHeader.size, body = r.count - o
        func require(_ n: Int) throws(CTDecodeError) {
            guard body == n else { throw .invalidSize(command, actual: body) }
        }
        let request: NameServerRequest
        switch command {
        case .rftID:
            try require(4 + FC4TypeSet.size)
            request = .rftID(portID: r.u24(at: o + 1), types: FC4TypeSet(r, at: o + 4))
        case .rffID:
            try require(8)
            request = .rffID(portID: r.u24(at: o + 1), features: FC4Features(rawValue: r[o + 6]), type: r[o + 7])
        case .rnnID:
            try require(12)
            request = .rnnID(portID: r.u24(at: o + 1), nodeName: r.wwn(at: o + 4))
        case .rspnID:
            guard body >= 5 else { throw .invalidSize(command, actual: body) }
            request = .rspnID(portID: r.u24(at: o + 1), symbolicName: try symbolicName(r, at: o + 4, command: command))
        case .gidFT:
            try require(4)
            request = .gidFT(type: r[o + 3], domainScope: r[o + 1], areaScope: r[o + 2])
        case .gpnID, .gnnID, .gffID, .gspnID:
            try require(4)
            let id = r.u24(at: o + 1)
            request = switch command {
            case .gpnID: .gpnID(portID: id)
            case .gnnID: .gnnID(portID: id)
            case .gffID: .gffID(portID: id)
            default: .gspnID(portID: id)
            }
        case .gidPN:
            try require(8)
            request = .gidPN(portName: r.wwn(at: o))
        }
        return (h, request)
    }

    /// Appends a length byte, the name (at most 255 bytes) and zeros to a word boundary.
    static func appendSymbolicName(_ name: [UInt8], to w: inout ByteWriter) {
        let n = min(name.count, 255)
        w.u8(UInt8(n))
        w.append(name.prefix(n))
        w.zeros((4 - w.bytes.count % 4) % 4)
    }

    /// Reads a symbolic name (length byte at `o`) that, with up to 3 pad bytes, ends the CT_IU.
    static func symbolicName(_ r: ByteReader<some RandomAccessCollection<UInt8>>, at o: Int, command: CTCommandCode) throws(CTDecodeError) -> [UInt8] {
        let n = Int(r[o]), end = o + 1 + n
        guard end <= r.count, r.count - end < 4 else { throw .invalidSize(command, actual: r.count - CTHeader.size) }
        return r.bytes(at: o + 1, count: n)
    }
}

/// The FS_ACC payload of each name server request, typed by the request.
public enum NameServerAccept: Sendable, Equatable {
    /// RFT_ID, RFF_ID, RNN_ID, RSPN_ID: the preamble alone.
    case registered
    /// GID_FT: the port IDs (at least one; the last is flagged on the wire).
    case portIDs([UInt32])
    /// GPN_ID.
    case portName(WWN)
    /// GNN_ID.
    case nodeName(WWN)
    /// GID_PN.
    case portID(UInt32)
    /// GFF_ID.
    case features(FC4FeatureMap)
    /// GSPN_ID.
    case symbolicName([UInt8])
}

/// A name server reply: FS_ACC typed by the request, or FS_RJT.
public enum NameServerReply: Sendable, Equatable {
    case accept(NameServerAccept)
    case reject(CTReject)

    /// The CT_IU: preamble (FS_ACC or FS_RJT, `residual` in words) and payload.
    public func encoded(residual: UInt16 = 0) -> [UInt8] {
        var w = ByteWriter(capacity: CTHeader.size + 8)
        switch self {
        case let .reject(j):
            CTHeader(code: CTResponseCode.reject.rawValue, maxResidualSize: residual, reason: j.reason,
                     explanation: j.explanation, vendorUnique: j.vendorUnique).encode(into: &w)
        case let .accept(a):
            CTHeader(code: CTResponseCode.accept.rawValue, maxResidualSize: residual).encode(into: &w)
            switch a {
            case .registered: break
            case let .portIDs(ids):
                for (i, id) in ids.enumerated() { w.portIDWord(id, flags: i == ids.count - 1 ? 0x80 : 0) }
            case let .portName(n), let .nodeName(n): w.wwn(n)
            case let .portID(id): w.portIDWord(id)
            case let .features(map): w.append(map.bytes)
            case let .symbolicName(name): NameServerRequest.appendSymbolicName(name, to: &w)
            }
        }
        return w.bytes
    }

    /// Decodes the reply to a request whose command was `request`.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>, request command: CTCommandCode) throws(CTDecodeError) -> NameServerReply {
        let r = ByteReader(payload)
        let h = try CTHeader.decode(r)
        guard h.gsType == CTHeader.directoryService, h.gsSubtype == CTHeader.nameServer else {
            throw .unsupportedService(type: h.gsType, subtype: h.gsSubtype)
        }
        let o = CTHeader.size, body = r.count - o
        func require(_ n: Int) throws(CTDecodeError) {
            guard body == n else { throw .invalidSize(command, actual: body) }
        }
        switch CTResponseCode(rawValue: h.code) {
        case .reject?:
            try require(0)
            return .reject(CTReject(h.reason, h.explanation, vendorUnique: h.vendorUnique))
        case nil:
            throw .unexpectedResponseCode(h.code)
        case .accept?:
            break
        }
        switch command {
        case .rftID, .rffID, .rnnID, .rspnID:
            try require(0)
            return .accept(.registered)
        case .gidFT:
            guard body >= 4, body % 4 == 0 else { throw .invalidSize(command, actual: body) }
            var ids: [UInt32] = []
            ids.reserveCapacity(body / 4)
            for e in stride(from: o, to: r.count, by: 4) {
                let last = r[e] & 0x80 != 0
                guard last == (e + 4 == r.count) else { throw .invalidField(command, offset: e) }
                ids.append(r.u24(at: e + 1))
            }
            return .accept(.portIDs(ids))
        case .gpnID:
            try require(8)
            return .accept(.portName(r.wwn(at: o)))
        case .gnnID:
            try require(8)
            return .accept(.nodeName(r.wwn(at: o)))
        case .gidPN:
            try require(4)
            return .accept(.portID(r.u24(at: o + 1)))
        case .gffID:
            try require(FC4FeatureMap.size)
            return .accept(.features(FC4FeatureMap(r, at: o)))
        case .gspnID:
            guard body >= 1 else { throw .invalidSize(command, actual: body) }
            return .accept(.symbolicName(try NameServerRequest.symbolicName(r, at: o, command: command)))
        }
    }
}
