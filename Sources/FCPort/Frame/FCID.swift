/// A 24-bit Fibre Channel address identifier (N_Port ID, or a well-known address).
public struct FCID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The identifier in the low 24 bits.
    public let rawValue: UInt32

    /// Makes an identifier from the low 24 bits of `rawValue`.
    public init(_ rawValue: UInt32) { self.rawValue = rawValue & 0xFF_FFFF }

    /// Makes an identifier from domain, area and port.
    public init(domain: UInt8, area: UInt8, port: UInt8) {
        rawValue = UInt32(domain) << 16 | UInt32(area) << 8 | UInt32(port)
    }

    public var domain: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 16) }
    public var area: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    public var port: UInt8 { UInt8(truncatingIfNeeded: rawValue) }

    /// FLOGI/FDISC destination: the fabric's F_Port login server (FC-FS-4 table 39).
    public static let fabricLogin = FCID(0xFF_FFFE)
    /// The fabric controller, where SCR is sent and RSCN comes from.
    public static let fabricController = FCID(0xFF_FFFD)
    /// The directory (name) server.
    public static let nameServer = FCID(0xFF_FFFC)
    /// The unassigned address an N_Port uses as S_ID before FLOGI completes.
    public static let unassigned = FCID(0)

    /// Whether the address is one of the well-known fabric addresses (0xFFFFF0–0xFFFFFF).
    public var isWellKnown: Bool { rawValue >= 0xFF_FFF0 }

    public var description: String {
        let hex = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 6 - hex.count)) + hex
    }

    public static func < (a: FCID, b: FCID) -> Bool { a.rawValue < b.rawValue }
}
