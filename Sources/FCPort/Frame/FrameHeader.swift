/// R_CTL: routing bits (upper nibble) and information category (lower nibble), FC-FS-4 §9.
public struct RoutingControl: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Device data, uncategorised (FCP_DATA).
    public static let fcpData = RoutingControl(rawValue: 0x01)
    /// FC-4 device data, solicited control (name server / CT request).
    public static let unsolicitedControl = RoutingControl(rawValue: 0x02)
    /// Solicited control (CT reply).
    public static let solicitedControl = RoutingControl(rawValue: 0x03)
    /// Data descriptor (FCP XFER_RDY).
    public static let transferReady = RoutingControl(rawValue: 0x05)
    /// Unsolicited command (FCP_CMND).
    public static let fcpCommand = RoutingControl(rawValue: 0x06)
    /// Command status (FCP_RSP).
    public static let fcpResponse = RoutingControl(rawValue: 0x07)
    /// Extended link service request.
    public static let elsRequest = RoutingControl(rawValue: 0x22)
    /// Extended link service reply.
    public static let elsReply = RoutingControl(rawValue: 0x23)
    /// Basic link service: ABTS.
    public static let abts = RoutingControl(rawValue: 0x81)
    /// Basic link service: BA_ACC.
    public static let baAcc = RoutingControl(rawValue: 0x84)
    /// Basic link service: BA_RJT.
    public static let baRjt = RoutingControl(rawValue: 0x85)

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + (hex.count < 2 ? "0" : "") + hex
    }
}

/// The TYPE field: which protocol the payload belongs to.
public struct FrameType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Basic link services.
    public static let bls = FrameType(rawValue: 0x00)
    /// Extended link services.
    public static let els = FrameType(rawValue: 0x01)
    /// SCSI FCP.
    public static let fcp = FrameType(rawValue: 0x08)
    /// Fibre Channel services (CT).
    public static let ct = FrameType(rawValue: 0x20)
}

/// F_CTL, the 24-bit frame control field (FC-FS-4 table 45).
public struct FrameControl: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue & 0xFF_FFFF }

    /// Exchange context: set when the sender is the exchange responder.
    public static let exchangeResponder = FrameControl(rawValue: 1 << 23)
    /// Sequence context: set when the sender is the sequence recipient.
    public static let sequenceRecipient = FrameControl(rawValue: 1 << 22)
    /// First sequence of the exchange.
    public static let firstSequence = FrameControl(rawValue: 1 << 21)
    /// Last sequence of the exchange.
    public static let lastSequence = FrameControl(rawValue: 1 << 20)
    /// Last frame of the sequence.
    public static let endSequence = FrameControl(rawValue: 1 << 19)
    /// Sequence initiative is transferred to the recipient.
    public static let sequenceInitiative = FrameControl(rawValue: 1 << 16)
    /// The parameter field is a relative offset.
    public static let relativeOffset = FrameControl(rawValue: 1 << 3)

    /// Fill bytes at the end of the payload (0–3), F_CTL bits 1–0.
    public var fillBytes: Int { Int(rawValue & 3) }

    /// A copy with the fill-byte count set.
    public func withFillBytes(_ n: Int) -> FrameControl {
        FrameControl(rawValue: (rawValue & ~3) | UInt32(n & 3))
    }

    /// Originator's single-frame request that hands over the initiative (ELS, CT, FCP_CMND).
    public static let request: FrameControl = [.firstSequence, .endSequence, .sequenceInitiative]
    /// Responder's last sequence (LS_ACC, CT reply, FCP_RSP, BA_ACC).
    public static let finalReply: FrameControl = [.exchangeResponder, .lastSequence, .endSequence, .sequenceInitiative]
}

/// The 24-byte FC-2 frame header.
public struct FrameHeader: Hashable, Sendable {
    public var routing: RoutingControl
    public var destination: FCID
    public var classSpecificControl: UInt8
    public var source: FCID
    public var type: FrameType
    public var control: FrameControl
    public var sequenceID: UInt8
    public var dataFieldControl: UInt8
    public var sequenceCount: UInt16
    /// OX_ID, the originator's exchange id.
    public var originatorExchangeID: UInt16
    /// RX_ID, the responder's exchange id (0xFFFF until assigned).
    public var responderExchangeID: UInt16
    /// The parameter field: relative offset for data frames, else protocol specific.
    public var parameter: UInt32

    public static let length = 24
    /// The RX_ID value meaning "not assigned yet".
    public static let unassignedExchange: UInt16 = 0xFFFF

    public init(routing: RoutingControl, destination: FCID, source: FCID, type: FrameType,
                control: FrameControl, sequenceID: UInt8 = 0, sequenceCount: UInt16 = 0,
                originatorExchangeID: UInt16, responderExchangeID: UInt16 = 0xFFFF,
                parameter: UInt32 = 0, classSpecificControl: UInt8 = 0, dataFieldControl: UInt8 = 0) {
        self.routing = routing
        self.destination = destination
        self.classSpecificControl = classSpecificControl
        self.source = source
        self.type = type
        self.control = control
        self.sequenceID = sequenceID
        self.dataFieldControl = dataFieldControl
        self.sequenceCount = sequenceCount
        self.originatorExchangeID = originatorExchangeID
        self.responderExchangeID = responderExchangeID
        self.parameter = parameter
    }

    /// Writes the 24 header bytes at `p`.
    @inlinable
    public func write(to p: UnsafeMutableRawPointer) {
        func put32(_ v: UInt32, _ at: Int) { p.storeBytes(of: v.bigEndian, toByteOffset: at, as: UInt32.self) }
        put32(UInt32(routing.rawValue) << 24 | destination.rawValue, 0)
        put32(UInt32(classSpecificControl) << 24 | source.rawValue, 4)
        put32(UInt32(type.rawValue) << 24 | control.rawValue, 8)
        put32(UInt32(sequenceID) << 24 | UInt32(dataFieldControl) << 16 | UInt32(sequenceCount), 12)
        put32(UInt32(originatorExchangeID) << 16 | UInt32(responderExchangeID), 16)
        put32(parameter, 20)
    }

    /// Reads 24 header bytes at `p`.
    @inlinable
    public init(reading p: UnsafeRawPointer) {
        func get32(_ at: Int) -> UInt32 { UInt32(bigEndian: p.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        let w0 = get32(0), w1 = get32(4), w2 = get32(8), w3 = get32(12), w4 = get32(16)
        routing = RoutingControl(rawValue: UInt8(w0 >> 24))
        destination = FCID(w0)
        classSpecificControl = UInt8(w1 >> 24)
        source = FCID(w1)
        type = FrameType(rawValue: UInt8(w2 >> 24))
        control = FrameControl(rawValue: w2)
        sequenceID = UInt8(w3 >> 24)
        dataFieldControl = UInt8(truncatingIfNeeded: w3 >> 16)
        sequenceCount = UInt16(truncatingIfNeeded: w3)
        originatorExchangeID = UInt16(w4 >> 16)
        responderExchangeID = UInt16(truncatingIfNeeded: w4)
        parameter = get32(20)
    }

    /// The header a responder uses to answer this frame on the same exchange: addresses
    /// swapped, exchange ids kept, responder context set.
    public func reply(routing: RoutingControl, type: FrameType? = nil,
                      control: FrameControl = .finalReply, responderExchangeID: UInt16? = nil) -> FrameHeader {
        FrameHeader(routing: routing, destination: source, source: destination, type: type ?? self.type,
                    control: control, sequenceID: 0, sequenceCount: 0,
                    originatorExchangeID: originatorExchangeID,
                    responderExchangeID: responderExchangeID ?? self.responderExchangeID)
    }
}
