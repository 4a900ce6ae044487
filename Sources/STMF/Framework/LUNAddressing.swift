/// SAM-5 LUN field encoding/decoding (single level: peripheral and flat addressing, plus the
/// REPORT LUNS well-known logical unit).
public enum LUNAddress: Hashable, Sendable {
    case lun(UInt16)
    case reportLUNsWellKnown
    case unsupported

    /// The REPORT LUNS well-known LUN (W-LUN 0x01).
    public static let reportLUNsWellKnownField: UInt64 = 0xC101_0000_0000_0000

    public init(field: UInt64) {
        if field == Self.reportLUNsWellKnownField { self = .reportLUNsWellKnown; return }
        guard field & 0x0000_FFFF_FFFF_FFFF == 0 else { self = .unsupported; return }
        let b0 = UInt8(field >> 56), b1 = UInt8((field >> 48) & 0xFF)
        switch b0 >> 6 {
        case 0: self = b0 == 0 ? .lun(UInt16(b1)) : .unsupported   // peripheral, bus 0
        case 1: self = .lun(UInt16(b0 & 0x3F) << 8 | UInt16(b1))  // flat
        default: self = .unsupported
        }
    }

    /// The 8-byte LUN field for `lun`: peripheral addressing below 256, flat above.
    public static func field(for lun: UInt16) -> UInt64 {
        if lun < 256 { return UInt64(lun) << 48 }
        return (UInt64(0x40 | (lun >> 8) & 0x3F) << 56) | (UInt64(lun & 0xFF) << 48)
    }
}
