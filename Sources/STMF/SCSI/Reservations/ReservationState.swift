
/// What a reservation command asks the LU to do beyond answering: unit attentions to
/// establish, and whether the reservation state must be written to the LU metadata (APTPL).
public struct ReservationEffects: Sendable, Equatable {
    public var unitAttentions: [UnitAttentionEffect] = []
    /// The persistent state changed while APTPL is (or was) set: persist `encoded()` before
    /// completing the command with GOOD.
    public var persist: Bool = false
    /// PREEMPT AND ABORT: abort the tasks of these nexuses on this LU.
    public var abortTasksOf: [UnitAttentionScope] = []
    public init() {}
}

public struct UnitAttentionEffect: Sendable, Equatable {
    public var sense: AdditionalSense
    public var scope: UnitAttentionScope
    public init(_ sense: AdditionalSense, _ scope: UnitAttentionScope) { self.sense = sense; self.scope = scope }
}

/// Reservation state of one logical unit: SPC-4 persistent reservations (PERSISTENT RESERVE
/// IN/OUT, every service action and type, ALL_TG_PT, APTPL) and SPC-2 RESERVE/RELEASE.
///
/// A pure value: the LU serialises access, applies the effects and persists `encoded()` in
/// its metadata when asked.
///
/// INTERFACE CONTRACT (implemented in this folder):
/// - `conflicts(_:nexus:)` — true when the command must end in RESERVATION CONFLICT
///   (SPC-4 5.13.1 table "commands allowed in the presence of various reservations", and
///   SPC-2 reservations: everything but the allowed commands from other nexuses).
/// - `persistentReserveIn(cdb:nexus:)` — parameter data for READ KEYS, READ RESERVATION,
///   REPORT CAPABILITIES, READ FULL STATUS (caller truncates to the allocation length).
/// - `persistentReserveOut(cdb:nexus:parameters:targetPorts:)` — REGISTER, RESERVE, RELEASE,
///   CLEAR, PREEMPT, PREEMPT AND ABORT, REGISTER AND IGNORE EXISTING KEY, REGISTER AND MOVE.
/// - `reserve6/10`, `release6/10` — SPC-2 reservations (RESERVE/RELEASE (6) and (10)).
/// - `nexusLost(_:)` — SPC-2 reservation of that nexus released; PR untouched.
/// - `logicalUnitReset()` — SPC-2 reservation released; PR untouched.
/// - `encoded()` / `init(decoding:)` — versioned binary form kept in the LU metadata (APTPL).
///
/// Behaviour choices (see the files of this folder for the details):
/// - CRH=0 (SPC-4 5.13.3): RESERVE/RELEASE conflict for everyone while any I_T nexus is
///   registered; PR IN/OUT conflict for everyone while an SPC-2 reservation exists.
/// - PR OUT never conflicts in `conflicts(_:nexus:)`: each service action checks the
///   registration and key itself and throws RESERVATION CONFLICT.
/// - Unit attentions name I_T nexuses (`.nexus(initiator:relativeTargetPortID:)`); PREEMPT AND
///   ABORT lists the preempted I_T nexuses in `abortTasksOf`.
/// - `encoded()` keeps PRgeneration; call `powerOn()` after decoding at LU load, which sets
///   it to zero as SPC-4 6.15.2 requires.
public struct ReservationState: Sendable, Equatable {
    /// Registered I_T nexuses, in registration order.
    public internal(set) var registrations: [PRRegistration] = []
    /// The persistent reservation, if any.
    public internal(set) var reservation: PersistentReservation?
    /// PRgeneration (SPC-4 6.15.2).
    public internal(set) var generation: UInt32 = 0
    /// APTPL as last set by a REGISTER, REGISTER AND IGNORE EXISTING KEY or REGISTER AND MOVE.
    var aptpl: Bool = false
    /// The I_T nexus holding an SPC-2 RESERVE, if any (never persisted).
    public internal(set) var spc2Holder: ITNexusID?

    /// Registrations the LU accepts; more fail with INSUFFICIENT REGISTRATION RESOURCES.
    public static let maximumRegistrations = 4096

    public init() {}

    /// APTPL as last set by a REGISTER.
    public var persistThroughPowerLoss: Bool { aptpl }

    public func conflicts(_ cdb: CDB, nexus: Nexus) -> Bool {
        conflictCheck(cdb, nexus: ITNexusID(nexus))
    }

    /// PERSISTENT RESERVE IN parameter data (full length; the caller applies the allocation length).
    public func persistentReserveIn(cdb: CDB, nexus: Nexus) throws(SCSIError) -> [UInt8] {
        try prIn(cdb: cdb, nexus: nexus)
    }

    public mutating func persistentReserveOut(cdb: CDB, nexus: Nexus, parameters: UnsafeRawBufferPointer,
                                              targetPorts: [TargetPortInfo]) throws(SCSIError) -> ReservationEffects {
        try prOut(cdb: cdb, nexus: nexus, parameters: parameters, targetPorts: targetPorts)
    }

    /// RESERVE (6) / RESERVE (10).
    public mutating func reserve(cdb: CDB, nexus: Nexus) throws(SCSIError) -> ReservationEffects {
        try spc2Reserve(cdb: cdb, nexus: ITNexusID(nexus))
    }

    /// RELEASE (6) / RELEASE (10).
    public mutating func release(cdb: CDB, nexus: Nexus) throws(SCSIError) -> ReservationEffects {
        try spc2Release(cdb: cdb, nexus: ITNexusID(nexus))
    }

    public mutating func nexusLost(_ nexus: Nexus) {
        if spc2Holder == ITNexusID(nexus) { spc2Holder = nil }
    }

    public mutating func logicalUnitReset() { spc2Holder = nil }

    /// Power on with the state loaded from the metadata: SPC-4 6.15.2 sets PRgeneration to
    /// zero on power on whatever APTPL says, and SPC-2 reservations do not survive.
    public mutating func powerOn() {
        generation = 0
        spc2Holder = nil
    }

    public func encoded() -> [UInt8] { encode() }
    public init(decoding bytes: [UInt8]) throws(ReservationDecodingError) {
        self = try Self.decode(bytes)
    }
}

public enum ReservationDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated
    case badVersion(UInt16)
    case malformed(String)
    public var description: String {
        switch self {
        case .truncated: "reservation state is truncated"
        case let .badVersion(v): "reservation state version \(v) is not supported"
        case let .malformed(m): "reservation state is malformed: \(m)"
        }
    }
}
