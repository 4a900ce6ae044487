/// BA_RJT reason codes (FC-LS-3). Any byte decodes.
public struct BARejectReason: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let invalidCommandCode = Self(rawValue: 0x01)
    public static let logicalError = Self(rawValue: 0x03)
    public static let logicalBusy = Self(rawValue: 0x05)
    public static let protocolError = Self(rawValue: 0x07)
    public static let unableToPerform = Self(rawValue: 0x09)
    public static let vendorUnique = Self(rawValue: 0xFF)
}

/// BA_RJT reason explanations (FC-LS-3).
public struct BARejectExplanation: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let none = Self(rawValue: 0x00)
    public static let invalidOXIDRXIDCombination = Self(rawValue: 0x03)
    public static let sequenceAbortedNoSequenceInformation = Self(rawValue: 0x05)
}

/// BA_ACC payload (FC-LS-3), the answer to ABTS: 12 bytes.
public struct BAAccept: Sendable, Equatable {
    /// Whether `lastDeliverableSequenceID` is meaningful (abort of a sequence).
    public var sequenceIDValid: Bool
    /// SEQ_ID of the last sequence delivered.
    public var lastDeliverableSequenceID: UInt8
    public var oxID: UInt16
    public var rxID: UInt16
    public var lowSequenceCount: UInt16
    public var highSequenceCount: UInt16

    /// Length of the payload.
    public static let size = 12

    public init(sequenceIDValid: Bool = false, lastDeliverableSequenceID: UInt8 = 0, oxID: UInt16, rxID: UInt16,
                lowSequenceCount: UInt16 = 0, highSequenceCount: UInt16 = 0xFFFF) {
        self.sequenceIDValid = sequenceIDValid
        self.lastDeliverableSequenceID = lastDeliverableSequenceID
        self.oxID = oxID
        self.rxID = rxID
        self.lowSequenceCount = lowSequenceCount
        self.highSequenceCount = highSequenceCount
    }

    /// The BA_ACC for an ABTS that aborts the whole exchange: no SEQ_ID, SEQ_CNT 0...0xFFFF.
    public static func abortingExchange(oxID: UInt16, rxID: UInt16) -> BAAccept {
        BAAccept(oxID: oxID, rxID: rxID)
    }

    /// The BA_ACC payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.u8(sequenceIDValid ? 0x80 : 0x00)
        w.u8(lastDeliverableSequenceID)
        w.u16(0)
        w.u16(oxID)
        w.u16(rxID)
        w.u16(lowSequenceCount)
        w.u16(highSequenceCount)
        return w.bytes
    }

    /// Decodes a BA_ACC payload (exactly 12 bytes).
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(BLSDecodeError) -> BAAccept {
        let r = ByteReader(payload)
        guard r.count == size else { throw .invalidLength(.baAcc, actual: r.count) }
        return BAAccept(sequenceIDValid: r[0] & 0x80 != 0, lastDeliverableSequenceID: r[1], oxID: r.u16(at: 4),
                        rxID: r.u16(at: 6), lowSequenceCount: r.u16(at: 8), highSequenceCount: r.u16(at: 10))
    }
}

/// BA_RJT payload (FC-LS-3): 4 bytes.
public struct BAReject: Sendable, Equatable {
    public var reason: BARejectReason
    public var explanation: BARejectExplanation
    public var vendorUnique: UInt8

    /// Length of the payload.
    public static let size = 4

    public init(_ reason: BARejectReason, _ explanation: BARejectExplanation = .none, vendorUnique: UInt8 = 0) {
        self.reason = reason
        self.explanation = explanation
        self.vendorUnique = vendorUnique
    }

    /// The BA_RJT payload.
    public func encoded() -> [UInt8] { [0, reason.rawValue, explanation.rawValue, vendorUnique] }

    /// Decodes a BA_RJT payload (exactly 4 bytes).
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(BLSDecodeError) -> BAReject {
        let r = ByteReader(payload)
        guard r.count == size else { throw .invalidLength(.baRjt, actual: r.count) }
        return BAReject(BARejectReason(rawValue: r[1]), BARejectExplanation(rawValue: r[2]), vendorUnique: r[3])
    }
}

/// A basic link service frame (TYPE 0x00), told apart by R_CTL. ABTS carries no payload;
/// whether it aborts a sequence or the exchange is in the header's parameter field.
public enum BasicLinkService: Sendable, Equatable {
    case abts
    case accept(BAAccept)
    case reject(BAReject)

    /// The R_CTL this BLS is sent with.
    public var routingControl: RoutingControl {
        switch self {
        case .abts: .abts
        case .accept: .baAcc
        case .reject: .baRjt
        }
    }

    /// Decodes the payload of a BLS frame whose R_CTL is `routingControl`.
    /// On failure the error's `rejection` is the BA_RJT to send (for ABTS).
    public static func decode(routingControl: RoutingControl, payload: some RandomAccessCollection<UInt8>) throws(BLSDecodeError) -> BasicLinkService {
        switch routingControl {
        case .abts:
            guard payload.isEmpty else { throw .invalidLength(.abts, actual: payload.count) }
            return .abts
        case .baAcc: return .accept(try BAAccept.decode(payload))
        case .baRjt: return .reject(try BAReject.decode(payload))
        default: throw .unsupported(routingControl)
        }
    }

    /// The payload (empty for ABTS).
    public func encoded() -> [UInt8] {
        switch self {
        case .abts: []
        case let .accept(a): a.encoded()
        case let .reject(j): j.encoded()
        }
    }
}

/// Why a BLS payload could not be decoded, and the BA_RJT its receiver sends (`rejection`).
public enum BLSDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An R_CTL this implementation does not handle (NOP, RMC, PRMT, reserved).
    case unsupported(RoutingControl)
    /// The payload length is not the one the BLS defines (0 for ABTS, 12 BA_ACC, 4 BA_RJT).
    case invalidLength(RoutingControl, actual: Int)

    /// The BA_RJT the receiver sends.
    public var rejection: BAReject {
        switch self {
        case .unsupported: BAReject(.invalidCommandCode)
        case .invalidLength: BAReject(.protocolError)
        }
    }

    public var description: String {
        switch self {
        case let .unsupported(r): "unsupported basic link service R_CTL \(r)"
        case let .invalidLength(r, n): "basic link service R_CTL \(r) with \(n)-byte payload"
        }
    }
}
