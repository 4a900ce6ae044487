import STMF

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
public struct ReservationState: Sendable, Equatable {
    public init() {}

    // PLACEHOLDER BODIES: the signatures below are the contract; the reservations work
    // replaces every body in this file.

    /// APTPL as last set by a REGISTER.
    public var persistThroughPowerLoss: Bool { false }

    public func conflicts(_ cdb: CDB, nexus: Nexus) -> Bool { false }

    /// PERSISTENT RESERVE IN parameter data (full length; the caller applies the allocation length).
    public func persistentReserveIn(cdb: CDB, nexus: Nexus) throws(SCSIError) -> [UInt8] {
        throw .invalidOperationCode
    }

    public mutating func persistentReserveOut(cdb: CDB, nexus: Nexus, parameters: UnsafeRawBufferPointer,
                                              targetPorts: [TargetPortInfo]) throws(SCSIError) -> ReservationEffects {
        throw .invalidOperationCode
    }

    /// RESERVE (6) / RESERVE (10).
    public mutating func reserve(cdb: CDB, nexus: Nexus) throws(SCSIError) -> ReservationEffects {
        throw .invalidOperationCode
    }

    /// RELEASE (6) / RELEASE (10).
    public mutating func release(cdb: CDB, nexus: Nexus) throws(SCSIError) -> ReservationEffects {
        throw .invalidOperationCode
    }

    public mutating func nexusLost(_ nexus: Nexus) {}
    public mutating func logicalUnitReset() {}

    public func encoded() -> [UInt8] { [] }
    public init(decoding bytes: [UInt8]) throws(ReservationDecodingError) { self.init() }
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
