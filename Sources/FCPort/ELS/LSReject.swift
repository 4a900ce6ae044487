/// LS_RJT reason codes (FC-LS-3). Any byte decodes; the named ones are the standard's.
public struct LSRejectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let invalidCommandCode = Self(rawValue: 0x01)
    public static let logicalError = Self(rawValue: 0x03)
    public static let logicalBusy = Self(rawValue: 0x05)
    public static let protocolError = Self(rawValue: 0x07)
    public static let unableToPerform = Self(rawValue: 0x09)
    public static let commandNotSupported = Self(rawValue: 0x0B)
    public static let commandAlreadyInProgress = Self(rawValue: 0x0E)
    public static let vendorUnique = Self(rawValue: 0xFF)

    public var description: String {
        switch self {
        case .invalidCommandCode: "invalid command code"
        case .logicalError: "logical error"
        case .logicalBusy: "logical busy"
        case .protocolError: "protocol error"
        case .unableToPerform: "unable to perform command request"
        case .commandNotSupported: "command not supported"
        case .commandAlreadyInProgress: "command already in progress"
        case .vendorUnique: "vendor unique"
        default: "reason 0x" + String(rawValue, radix: 16)
        }
    }
}

/// LS_RJT reason code explanations (FC-LS-3).
public struct LSRejectExplanation: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let none = Self(rawValue: 0x00)
    public static let serviceParameterOptions = Self(rawValue: 0x01)
    public static let serviceParameterInitiatorControl = Self(rawValue: 0x03)
    public static let serviceParameterRecipientControl = Self(rawValue: 0x05)
    public static let serviceParameterReceiveDataFieldSize = Self(rawValue: 0x07)
    public static let serviceParameterConcurrentSequences = Self(rawValue: 0x09)
    public static let serviceParameterCredit = Self(rawValue: 0x0B)
    public static let invalidPortName = Self(rawValue: 0x0D)
    public static let invalidNodeOrFabricName = Self(rawValue: 0x0E)
    public static let invalidCommonServiceParameters = Self(rawValue: 0x0F)
    public static let invalidAssociationHeader = Self(rawValue: 0x11)
    public static let associationHeaderRequired = Self(rawValue: 0x13)
    public static let invalidOriginatorSID = Self(rawValue: 0x15)
    public static let invalidOXIDRXIDCombination = Self(rawValue: 0x17)
    public static let requestAlreadyInProgress = Self(rawValue: 0x19)
    public static let nPortLoginRequired = Self(rawValue: 0x1E)
    public static let invalidNPortID = Self(rawValue: 0x1F)
    public static let insufficientResources = Self(rawValue: 0x29)
    public static let unableToSupplyRequestedData = Self(rawValue: 0x2A)
    public static let requestNotSupported = Self(rawValue: 0x2C)
    public static let invalidPayloadLength = Self(rawValue: 0x2D)
    public static let loginExtensionNotSupported = Self(rawValue: 0x46)
    public static let authenticationRequired = Self(rawValue: 0x48)
}

/// An LS_RJT payload (FC-LS-3): 8 bytes, command code 0x01.
public struct LSReject: Sendable, Equatable, CustomStringConvertible {
    public var reason: LSRejectReason
    public var explanation: LSRejectExplanation
    public var vendorUnique: UInt8

    /// Length of an LS_RJT payload.
    public static let size = 8

    public init(_ reason: LSRejectReason, _ explanation: LSRejectExplanation = .none, vendorUnique: UInt8 = 0) {
        self.reason = reason
        self.explanation = explanation
        self.vendorUnique = vendorUnique
    }

    /// The 8-byte LS_RJT payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.commandWord(ELSCommandCode.lsReject.rawValue)
        w.u8(0)
        w.u8(reason.rawValue)
        w.u8(explanation.rawValue)
        w.u8(vendorUnique)
        return w.bytes
    }

    /// Decodes an LS_RJT payload (the command byte must be 0x01, the length exactly 8).
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(ELSDecodeError) -> LSReject {
        let r = ByteReader(payload)
        guard r.count > 0 else { throw .empty }
        guard r[0] == ELSCommandCode.lsReject.rawValue else { throw .unexpectedReplyCode(r[0]) }
        guard r.count == size else { throw .invalidLength(.lsReject, actual: r.count) }
        return LSReject(LSRejectReason(rawValue: r[5]), LSRejectExplanation(rawValue: r[6]), vendorUnique: r[7])
    }

    public var description: String {
        "LS_RJT \(reason), explanation 0x" + String(explanation.rawValue, radix: 16)
    }
}
