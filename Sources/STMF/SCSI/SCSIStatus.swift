/// SAM-5 status codes returned at the end of a command.
public struct SCSIStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let good = SCSIStatus(rawValue: 0x00)
    public static let checkCondition = SCSIStatus(rawValue: 0x02)
    public static let conditionMet = SCSIStatus(rawValue: 0x04)
    public static let busy = SCSIStatus(rawValue: 0x08)
    public static let reservationConflict = SCSIStatus(rawValue: 0x18)
    public static let taskSetFull = SCSIStatus(rawValue: 0x28)
    public static let acaActive = SCSIStatus(rawValue: 0x30)
    public static let taskAborted = SCSIStatus(rawValue: 0x40)

    public var description: String {
        switch self {
        case .good: "GOOD"
        case .checkCondition: "CHECK CONDITION"
        case .conditionMet: "CONDITION MET"
        case .busy: "BUSY"
        case .reservationConflict: "RESERVATION CONFLICT"
        case .taskSetFull: "TASK SET FULL"
        case .acaActive: "ACA ACTIVE"
        case .taskAborted: "TASK ABORTED"
        default: "status 0x" + String(rawValue, radix: 16)
        }
    }
}
