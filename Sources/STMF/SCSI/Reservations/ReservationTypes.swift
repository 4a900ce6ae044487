
/// Persistent reservation types (SPC-4 table 169, PERSISTENT RESERVE OUT TYPE field).
public enum PersistentReservationType: UInt8, Sendable, Hashable, CaseIterable {
    case writeExclusive = 0x1
    case exclusiveAccess = 0x3
    case writeExclusiveRegistrantsOnly = 0x5
    case exclusiveAccessRegistrantsOnly = 0x6
    case writeExclusiveAllRegistrants = 0x7
    case exclusiveAccessAllRegistrants = 0x8

    /// All registrants types: every registered I_T nexus is a reservation holder.
    public var isAllRegistrants: Bool { self == .writeExclusiveAllRegistrants || self == .exclusiveAccessAllRegistrants }
    /// Registrants only or all registrants: registered I_T nexuses have access.
    public var admitsRegistrants: Bool { rawValue >= 0x5 }
    /// Write exclusive family: reads allowed to everyone.
    public var isWriteExclusive: Bool {
        self == .writeExclusive || self == .writeExclusiveRegistrantsOnly || self == .writeExclusiveAllRegistrants
    }
}

/// An I_T nexus as the reservation engine identifies it: the initiator port and the
/// relative target port identifier (stable across logins, unlike session ids).
public struct ITNexusID: Sendable, Hashable, CustomStringConvertible {
    public var initiator: PortIdentifier
    public var relativeTargetPortID: UInt16
    public init(initiator: PortIdentifier, relativeTargetPortID: UInt16) {
        self.initiator = initiator
        self.relativeTargetPortID = relativeTargetPortID
    }
    public init(_ nexus: Nexus) {
        self.init(initiator: nexus.initiator, relativeTargetPortID: nexus.relativeTargetPortID)
    }
    public var description: String { "\(initiator)@\(relativeTargetPortID)" }
    var scope: UnitAttentionScope { .nexus(initiator: initiator, relativeTargetPortID: relativeTargetPortID) }
}

/// One registered I_T nexus.
public struct PRRegistration: Sendable, Hashable {
    public var nexus: ITNexusID
    public var key: UInt64
    /// Registered by a REGISTER with ALL_TG_PT set (reported in READ FULL STATUS).
    public var allTargetPorts: Bool
    public init(nexus: ITNexusID, key: UInt64, allTargetPorts: Bool = false) {
        self.nexus = nexus
        self.key = key
        self.allTargetPorts = allTargetPorts
    }
}

/// The persistent reservation, if any. `holder` is nil for the all registrants types
/// (every registrant holds it).
public struct PersistentReservation: Sendable, Hashable {
    public var type: PersistentReservationType
    public var holder: ITNexusID?
    public init(type: PersistentReservationType, holder: ITNexusID?) {
        self.type = type
        self.holder = holder
    }
}

/// PERSISTENT RESERVE OUT service actions (SPC-4 table 168).
enum PROutServiceAction: UInt8 {
    case register = 0x0
    case reserve = 0x1
    case release = 0x2
    case clear = 0x3
    case preempt = 0x4
    case preemptAndAbort = 0x5
    case registerAndIgnoreExistingKey = 0x6
    case registerAndMove = 0x7
}

/// PERSISTENT RESERVE IN service actions (SPC-4 table 160).
enum PRInServiceAction: UInt8 {
    case readKeys = 0x0
    case readReservation = 0x1
    case reportCapabilities = 0x2
    case readFullStatus = 0x3
}

extension SCSIError {
    static let invalidReleaseOfPR = SCSIError(.illegalRequest, .invalidReleaseOfPersistentReservation)
    static let insufficientRegistrationResources = SCSIError(.illegalRequest, .insufficientRegistrationResources)
    /// INVALID FIELD IN CDB without a field pointer (the offending field is in the parameter
    /// list, but SPC-4 table 36 mandates this additional sense code).
    static let invalidFieldInCDBNoPointer = SCSIError(.illegalRequest, .invalidFieldInCDB)
}

// Big-endian helpers.
@inline(__always) func be16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }
@inline(__always) func be32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 { UInt32(be16(b, o)) << 16 | UInt32(be16(b, o + 2)) }
@inline(__always) func be64(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt64 { UInt64(be32(b, o)) << 32 | UInt64(be32(b, o + 4)) }

extension Array where Element == UInt8 {
    mutating func appendBE16(_ v: UInt16) { append(UInt8(v >> 8)); append(UInt8(truncatingIfNeeded: v)) }
    mutating func appendBE32(_ v: UInt32) { appendBE16(UInt16(v >> 16)); appendBE16(UInt16(truncatingIfNeeded: v)) }
    mutating func appendBE64(_ v: UInt64) { appendBE32(UInt32(v >> 32)); appendBE32(UInt32(truncatingIfNeeded: v)) }
    mutating func putBE32(_ v: UInt32, at o: Int) {
        self[o] = UInt8(v >> 24); self[o + 1] = UInt8(truncatingIfNeeded: v >> 16)
        self[o + 2] = UInt8(truncatingIfNeeded: v >> 8); self[o + 3] = UInt8(truncatingIfNeeded: v)
    }
}
