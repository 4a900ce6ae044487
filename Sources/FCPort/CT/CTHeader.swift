/// The CT_IU preamble (FC-GS-7): 16 bytes in front of every name server request and reply.
public struct CTHeader: Sendable, Equatable {
    /// CT revision; 0x01 is the only one defined.
    public var revision: UInt8
    /// IN_ID: N_Port ID of the original requester (0 unless a proxy set it).
    public var inID: UInt32
    public var gsType: UInt8
    public var gsSubtype: UInt8
    public var options: UInt8
    /// Command code (requests) or FS_ACC/FS_RJT (replies).
    public var code: UInt16
    /// Requests: largest reply accepted, in 4-byte words (0 = no limit). Replies: residual.
    public var maxResidualSize: UInt16
    /// FS_RJT reason (0 otherwise).
    public var reason: CTRejectReason
    /// FS_RJT reason explanation (0 otherwise).
    public var explanation: NameServerRejectExplanation
    public var vendorUnique: UInt8

    /// Length of the preamble.
    public static let size = 16
    /// CT revision 1.
    public static let revision1: UInt8 = 0x01
    /// GS_TYPE of the directory service.
    public static let directoryService: UInt8 = 0xFC
    /// GS_SUBTYPE of the name server within the directory service.
    public static let nameServer: UInt8 = 0x02

    public init(revision: UInt8 = CTHeader.revision1, inID: UInt32 = 0, gsType: UInt8 = CTHeader.directoryService,
                gsSubtype: UInt8 = CTHeader.nameServer, options: UInt8 = 0, code: UInt16, maxResidualSize: UInt16 = 0,
                reason: CTRejectReason = CTRejectReason(rawValue: 0), explanation: NameServerRejectExplanation = .none,
                vendorUnique: UInt8 = 0) {
        self.revision = revision
        self.inID = inID & 0xFF_FFFF
        self.gsType = gsType
        self.gsSubtype = gsSubtype
        self.options = options
        self.code = code
        self.maxResidualSize = maxResidualSize
        self.reason = reason
        self.explanation = explanation
        self.vendorUnique = vendorUnique
    }

    func encode(into w: inout ByteWriter) {
        w.u8(revision)
        w.u24(inID)
        w.u8(gsType)
        w.u8(gsSubtype)
        w.u8(options)
        w.u8(0)
        w.u16(code)
        w.u16(maxResidualSize)
        w.u8(0)
        w.u8(reason.rawValue)
        w.u8(explanation.rawValue)
        w.u8(vendorUnique)
    }

    /// Decodes the preamble at the start of a CT_IU: at least 16 bytes, revision 1.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(CTDecodeError) -> CTHeader {
        try decode(ByteReader(payload))
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(CTDecodeError) -> CTHeader {
        guard r.count >= size else { throw .truncated(actual: r.count) }
        guard r[0] == revision1 else { throw .invalidRevision(r[0]) }
        return CTHeader(revision: r[0], inID: r.u24(at: 1), gsType: r[4], gsSubtype: r[5], options: r[6],
                        code: r.u16(at: 8), maxResidualSize: r.u16(at: 10),
                        reason: CTRejectReason(rawValue: r[13]),
                        explanation: NameServerRejectExplanation(rawValue: r[14]), vendorUnique: r[15])
    }
}

/// CT response codes in the preamble's command/response field.
public enum CTResponseCode: UInt16, Sendable {
    /// FS_RJT.
    case reject = 0x8001
    /// FS_ACC.
    case accept = 0x8002
}

/// FS_RJT reason codes (FC-GS-7). Any byte decodes.
public struct CTRejectReason: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let invalidCommandCode = Self(rawValue: 0x01)
    public static let invalidVersionLevel = Self(rawValue: 0x02)
    public static let logicalError = Self(rawValue: 0x03)
    public static let invalidIUSize = Self(rawValue: 0x04)
    public static let logicalBusy = Self(rawValue: 0x05)
    public static let protocolError = Self(rawValue: 0x07)
    public static let unableToPerform = Self(rawValue: 0x09)
    public static let commandNotSupported = Self(rawValue: 0x0B)
    public static let vendorUnique = Self(rawValue: 0xFF)
}

/// FS_RJT reason code explanations of the name server (FC-GS-7).
public struct NameServerRejectExplanation: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let none = Self(rawValue: 0x00)
    public static let portIDNotRegistered = Self(rawValue: 0x01)
    public static let portNameNotRegistered = Self(rawValue: 0x02)
    public static let nodeNameNotRegistered = Self(rawValue: 0x03)
    public static let classOfServiceNotRegistered = Self(rawValue: 0x04)
    public static let nodeIPAddressNotRegistered = Self(rawValue: 0x05)
    public static let initialProcessAssociatorNotRegistered = Self(rawValue: 0x06)
    public static let fc4TypesNotRegistered = Self(rawValue: 0x07)
    public static let symbolicPortNameNotRegistered = Self(rawValue: 0x08)
    public static let symbolicNodeNameNotRegistered = Self(rawValue: 0x09)
    public static let portTypeNotRegistered = Self(rawValue: 0x0A)
    public static let portIPAddressNotRegistered = Self(rawValue: 0x0B)
    public static let fabricPortNameNotRegistered = Self(rawValue: 0x0C)
    public static let hardAddressNotRegistered = Self(rawValue: 0x0D)
    public static let fc4DescriptorNotRegistered = Self(rawValue: 0x0E)
    public static let fc4FeaturesNotRegistered = Self(rawValue: 0x0F)
    public static let accessDenied = Self(rawValue: 0x10)
    public static let unacceptablePortID = Self(rawValue: 0x11)
    public static let databaseEmpty = Self(rawValue: 0x12)
    public static let noObjectRegisteredInScope = Self(rawValue: 0x13)
}

/// An FS_RJT: reason, explanation and vendor unique byte of the preamble.
public struct CTReject: Sendable, Equatable {
    public var reason: CTRejectReason
    public var explanation: NameServerRejectExplanation
    public var vendorUnique: UInt8

    public init(_ reason: CTRejectReason, _ explanation: NameServerRejectExplanation = .none, vendorUnique: UInt8 = 0) {
        self.reason = reason
        self.explanation = explanation
        self.vendorUnique = vendorUnique
    }
}

/// Why a CT_IU could not be decoded, and the FS_RJT its receiver sends (`rejection`).
public enum CTDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Shorter than the 16-byte preamble.
    case truncated(actual: Int)
    /// CT revision other than 1.
    case invalidRevision(UInt8)
    /// GS_TYPE/GS_SUBTYPE other than directory service / name server.
    case unsupportedService(type: UInt8, subtype: UInt8)
    /// FS_ACC or FS_RJT where a request was expected.
    case notARequest(UInt16)
    /// A command code the name server does not implement.
    case unsupportedCommand(UInt16)
    /// The payload after the preamble has the wrong size for the command.
    case invalidSize(CTCommandCode, actual: Int)
    /// A reply whose code is neither FS_ACC nor FS_RJT.
    case unexpectedResponseCode(UInt16)
    /// A field holds a value the command does not allow (byte offset in the CT_IU).
    case invalidField(CTCommandCode, offset: Int)

    /// The FS_RJT the receiver of the malformed request sends.
    public var rejection: CTReject {
        switch self {
        case .truncated, .invalidSize: CTReject(.invalidIUSize)
        case .invalidRevision: CTReject(.invalidVersionLevel)
        case .unsupportedService: CTReject(.unableToPerform)
        case .notARequest: CTReject(.invalidCommandCode)
        case .unsupportedCommand: CTReject(.commandNotSupported)
        case .unexpectedResponseCode: CTReject(.protocolError)
        case .invalidField: CTReject(.logicalError)
        }
    }

    public var description: String {
        func hex(_ v: some BinaryInteger) -> String { "0x" + String(v, radix: 16) }
        return switch self {
        case let .truncated(n): "CT_IU of \(n) bytes is shorter than its preamble"
        case let .invalidRevision(r): "CT revision \(hex(r))"
        case let .unsupportedService(t, s): "GS_TYPE \(hex(t)) subtype \(hex(s)) is not the name server"
        case let .notARequest(c): "CT code \(hex(c)) is a response"
        case let .unsupportedCommand(c): "unsupported name server command \(hex(c))"
        case let .invalidSize(c, n): "\(c) with \(n) bytes after the preamble"
        case let .unexpectedResponseCode(c): "CT response code \(hex(c))"
        case let .invalidField(c, o): "\(c) invalid field at byte \(o)"
        }
    }
}
