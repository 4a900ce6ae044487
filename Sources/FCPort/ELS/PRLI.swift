/// FCP service parameter bits (service parameter page word 3, FCP-4).
public struct FCPServiceParameters: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Write FCP_XFER_RDY disabled: the initiator may send the first burst unsolicited.
    public static let writeXferRdyDisabled = Self(rawValue: 0x0001)
    /// Read FCP_XFER_RDY disabled (always set by FCP-4 ports).
    public static let readXferRdyDisabled = Self(rawValue: 0x0002)
    /// The port has the target function.
    public static let targetFunction = Self(rawValue: 0x0010)
    /// The port has the initiator function.
    public static let initiatorFunction = Self(rawValue: 0x0020)
    /// Data overlay allowed.
    public static let dataOverlayAllowed = Self(rawValue: 0x0040)
    /// Confirmed completion (FCP_CONF) allowed.
    public static let confirmedCompletionAllowed = Self(rawValue: 0x0080)
    /// Retry (sequence-level error recovery).
    public static let retry = Self(rawValue: 0x0100)
    /// Task retry identification requested.
    public static let taskRetryIdentificationRequested = Self(rawValue: 0x0200)
}

/// The response code of a PRLI/PRLO LS_ACC service parameter page (FC-LS-3).
public struct ProcessLoginResponseCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    /// Not a response (request pages carry 0).
    public static let none = Self(rawValue: 0)
    public static let requestExecuted = Self(rawValue: 1)
    public static let noResources = Self(rawValue: 2)
    public static let initializationNotComplete = Self(rawValue: 3)
    public static let noSuchProcessAssociator = Self(rawValue: 4)
    public static let configurationPrecludesImagePair = Self(rawValue: 5)
    public static let executedConditionally = Self(rawValue: 6)
    public static let multiplePagesNotSupported = Self(rawValue: 7)
    public static let invalidServiceParameters = Self(rawValue: 8)
}

/// One 16-byte service parameter page of PRLI or PRLO (FC-LS-3).
public struct ServiceParameterPage: Sendable, Equatable {
    /// FC-4 TYPE code of the page (0x08 for FCP).
    public var type: UInt8
    public var typeExtension: UInt8
    public var originatorProcessAssociatorValid: Bool
    public var responderProcessAssociatorValid: Bool
    /// PRLI request: establish image pair; PRLI LS_ACC: image pair established. Zero in PRLO.
    public var establishImagePair: Bool
    /// Response code (LS_ACC pages only).
    public var responseCode: ProcessLoginResponseCode
    public var originatorProcessAssociator: UInt32
    public var responderProcessAssociator: UInt32
    /// Type-dependent service parameters (word 3); see `fcpParameters` for FCP.
    public var serviceParameters: UInt32

    /// FC-4 TYPE of SCSI FCP.
    public static let fcpType: UInt8 = 0x08
    /// Length of a page.
    public static let size = 16

    public init(type: UInt8 = ServiceParameterPage.fcpType, typeExtension: UInt8 = 0,
                originatorProcessAssociatorValid: Bool = false, responderProcessAssociatorValid: Bool = false,
                establishImagePair: Bool = false, responseCode: ProcessLoginResponseCode = .none,
                originatorProcessAssociator: UInt32 = 0, responderProcessAssociator: UInt32 = 0,
                serviceParameters: UInt32 = 0) {
        self.type = type
        self.typeExtension = typeExtension
        self.originatorProcessAssociatorValid = originatorProcessAssociatorValid
        self.responderProcessAssociatorValid = responderProcessAssociatorValid
        self.establishImagePair = establishImagePair
        self.responseCode = responseCode
        self.originatorProcessAssociator = originatorProcessAssociator
        self.responderProcessAssociator = responderProcessAssociator
        self.serviceParameters = serviceParameters
    }

    /// An FCP page with `parameters`, establishing (request) or reporting (accept) an image pair.
    public static func fcp(_ parameters: FCPServiceParameters, establishImagePair: Bool = true,
                           responseCode: ProcessLoginResponseCode = .none) -> ServiceParameterPage {
        ServiceParameterPage(establishImagePair: establishImagePair, responseCode: responseCode,
                             serviceParameters: parameters.rawValue)
    }

    /// Word 3 read as FCP service parameters.
    public var fcpParameters: FCPServiceParameters {
        get { FCPServiceParameters(rawValue: serviceParameters) }
        set { serviceParameters = newValue.rawValue }
    }

    func encode(into w: inout ByteWriter) {
        w.u8(type)
        w.u8(typeExtension)
        w.u8((originatorProcessAssociatorValid ? 0x80 : 0) | (responderProcessAssociatorValid ? 0x40 : 0)
             | (establishImagePair ? 0x20 : 0) | responseCode.rawValue)
        w.u8(0)
        w.u32(originatorProcessAssociator)
        w.u32(responderProcessAssociator)
        w.u32(serviceParameters)
    }

    init(_ r: ByteReader<some RandomAccessCollection<UInt8>>, at o: Int) {
        let flags = r[o + 2]
        self.init(type: r[o], typeExtension: r[o + 1],
                  originatorProcessAssociatorValid: flags & 0x80 != 0, responderProcessAssociatorValid: flags & 0x40 != 0,
                  establishImagePair: flags & 0x20 != 0, responseCode: ProcessLoginResponseCode(rawValue: flags),
                  originatorProcessAssociator: r.u32(at: o + 4), responderProcessAssociator: r.u32(at: o + 8),
                  serviceParameters: r.u32(at: o + 12))
    }
}

/// The payload of PRLI, PRLO and their LS_ACC (FC-LS-3): a command word holding the
/// page length (16) and the payload length, then one or more service parameter pages.
public struct ProcessLogin: Sendable, Equatable {
    public var pages: [ServiceParameterPage]

    public init(pages: [ServiceParameterPage]) { self.pages = pages }

    /// A single FCP page.
    public init(fcp parameters: FCPServiceParameters, establishImagePair: Bool = true,
                responseCode: ProcessLoginResponseCode = .none) {
        pages = [.fcp(parameters, establishImagePair: establishImagePair, responseCode: responseCode)]
    }

    /// The first FCP page, if any.
    public var fcpPage: ServiceParameterPage? { pages.first { $0.type == ServiceParameterPage.fcpType } }

    /// The payload with `command` (PRLI, PRLO or LS_ACC) in its first byte.
    public func encoded(command: ELSCommandCode) -> [UInt8] {
        let length = 4 + ServiceParameterPage.size * pages.count
        var w = ByteWriter(capacity: length)
        w.u8(command.rawValue)
        w.u8(UInt8(ServiceParameterPage.size))
        w.u16(UInt16(truncatingIfNeeded: length))
        for p in pages { p.encode(into: &w) }
        return w.bytes
    }

    /// Decodes `command`'s payload: page length 16, payload length = 4 + 16 × pages = size.
    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>, command: ELSCommandCode) throws(ELSDecodeError) -> ProcessLogin {
        guard r.count >= 4 + ServiceParameterPage.size else { throw .invalidLength(command, actual: r.count) }
        guard r[1] == UInt8(ServiceParameterPage.size) else { throw .invalidPageLength(command, r[1]) }
        let length = Int(r.u16(at: 2))
        guard length == r.count, (length - 4) % ServiceParameterPage.size == 0 else {
            throw .payloadLengthMismatch(command, field: length, actual: r.count)
        }
        let pages = stride(from: 4, to: length, by: ServiceParameterPage.size).map { ServiceParameterPage(r, at: $0) }
        return ProcessLogin(pages: pages)
    }
}
