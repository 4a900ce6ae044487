/// Operation codes used by the framework and the providers (SPC-4/SBC-3).
public enum OperationCode {
    public static let testUnitReady: UInt8 = 0x00
    public static let requestSense: UInt8 = 0x03
    public static let read6: UInt8 = 0x08
    public static let write6: UInt8 = 0x0A
    public static let inquiry: UInt8 = 0x12
    public static let modeSelect6: UInt8 = 0x15
    public static let reserve6: UInt8 = 0x16
    public static let release6: UInt8 = 0x17
    public static let modeSense6: UInt8 = 0x1A
    public static let startStopUnit: UInt8 = 0x1B
    public static let sendDiagnostic: UInt8 = 0x1D
    public static let preventAllowMediumRemoval: UInt8 = 0x1E
    public static let readCapacity10: UInt8 = 0x25
    public static let read10: UInt8 = 0x28
    public static let write10: UInt8 = 0x2A
    public static let writeAndVerify10: UInt8 = 0x2E
    public static let verify10: UInt8 = 0x2F
    public static let synchronizeCache10: UInt8 = 0x35
    public static let writeBuffer: UInt8 = 0x3B
    public static let readBuffer: UInt8 = 0x3C
    public static let writeSame10: UInt8 = 0x41
    public static let unmap: UInt8 = 0x42
    public static let logSense: UInt8 = 0x4D
    public static let modeSelect10: UInt8 = 0x55
    public static let reserve10: UInt8 = 0x56
    public static let release10: UInt8 = 0x57
    public static let modeSense10: UInt8 = 0x5A
    public static let persistentReserveIn: UInt8 = 0x5E
    public static let persistentReserveOut: UInt8 = 0x5F
    public static let variableLength: UInt8 = 0x7F
    public static let extendedCopy: UInt8 = 0x83
    public static let receiveCopyResults: UInt8 = 0x84
    public static let read16: UInt8 = 0x88
    public static let compareAndWrite: UInt8 = 0x89
    public static let write16: UInt8 = 0x8A
    public static let writeAndVerify16: UInt8 = 0x8E
    public static let verify16: UInt8 = 0x8F
    public static let synchronizeCache16: UInt8 = 0x91
    public static let writeSame16: UInt8 = 0x93
    public static let serviceActionIn16: UInt8 = 0x9E
    public static let reportLUNs: UInt8 = 0xA0
    public static let maintenanceIn: UInt8 = 0xA3
    public static let maintenanceOut: UInt8 = 0xA4
    public static let read12: UInt8 = 0xA8
    public static let write12: UInt8 = 0xAA
    public static let writeAndVerify12: UInt8 = 0xAE
    public static let verify12: UInt8 = 0xAF

    // Service actions
    public static let saReadCapacity16: UInt8 = 0x10
    public static let saGetLBAStatus: UInt8 = 0x12
    public static let saReportTargetPortGroups: UInt8 = 0x0A
    public static let saReportSupportedOperationCodes: UInt8 = 0x0C
    public static let saReportSupportedTMFs: UInt8 = 0x0D
}
