#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A logical unit's GUID: a 16-byte NAA IEEE Registered Extended (NAA 6) identifier, printed
/// as 32 uppercase hex digits as COMSTAR does (600144F0…).
public struct LUGUID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Parses 32 hex digits (case-insensitive). Only NAA type 6 is accepted, as COMSTAR's
    /// create-lu -p guid= does.
    public init?(_ text: String) {
        guard text.count == 32, text.allSatisfy(\.isHexDigit),
              let h = UInt64(text.prefix(16), radix: 16), let l = UInt64(text.suffix(16), radix: 16),
              h >> 60 == 6 else { return nil }
        high = h; low = l
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) } +
        (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
    }

    public var description: String {
        func h(_ v: UInt64) -> String { let s = String(v, radix: 16, uppercase: true); return String(repeating: "0", count: 16 - s.count) + s }
        return h(high) + h(low)
    }

    public static func < (a: LUGUID, b: LUGUID) -> Bool { (a.high, a.low) < (b.high, b.low) }

    /// The IEEE company id (OUI) carried in the identifier.
    public var oui: UInt32 { UInt32((high >> 36) & 0xFF_FFFF) }

    /// Sun's OUI, which COMSTAR puts in its GUIDs.
    public static let defaultOUI: UInt32 = 0x00144F
}

/// Generates NAA-6 GUIDs from an OUI, the host id, the time and a counter, so identifiers
/// differ across hosts, across restarts (time) and within one process (counter).
///
/// Layout (128 bits): NAA 6 (4) | OUI (24) | reserved 0 (4) | host id (32) | seconds (32) |
/// counter (32). The counter starts at a random value each process, so two processes started
/// in the same second on the same host still differ with overwhelming probability; the caller
/// (the config store) also refuses a GUID already in use.
public final class LUGUIDGenerator: Sendable {
    private let counter: Atomic<UInt32>
    private let hostID: UInt32

    public static let shared = LUGUIDGenerator()

    public init(hostID: UInt32? = nil) {
        self.hostID = hostID ?? UInt32(truncatingIfNeeded: gethostid())
        counter = Atomic(UInt32.random(in: 0...UInt32.max))
    }

    /// `hostID`: the host id to put in the GUID instead of this host's (`create-lu -p host-id=`,
    /// so that an LU made here can carry the identity of the host that will serve it).
    public func next(oui: UInt32 = LUGUID.defaultOUI, hostID: UInt32? = nil,
                     now: UInt32 = UInt32(truncatingIfNeeded: time(nil))) -> LUGUID {
        let c = counter.add(1, ordering: .relaxed).newValue
        let high = (UInt64(6) << 60) | (UInt64(oui & 0xFF_FFFF) << 36) | (UInt64(hostID ?? self.hostID))
        let low = UInt64(now) << 32 | UInt64(c)
        return LUGUID(high: high, low: low)
    }
}
