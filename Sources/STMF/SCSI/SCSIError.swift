/// A command failure that ends in CHECK CONDITION (or another non-GOOD status).
/// LU providers throw it from command handlers (typed throws: no allocation).
public struct SCSIError: Error, Hashable, Sendable, CustomStringConvertible {
    public var status: SCSIStatus
    public var sense: SenseData?

    public init(status: SCSIStatus, sense: SenseData?) {
        self.status = status
        self.sense = sense
    }

    public init(_ key: SenseKey, _ additional: AdditionalSense, information: UInt64? = nil,
                senseKeySpecific: SenseKeySpecific? = nil) {
        self.status = .checkCondition
        self.sense = SenseData(key, additional, information: information, senseKeySpecific: senseKeySpecific)
    }

    public var description: String {
        if let sense { return "\(status): \(sense)" }
        return status.description
    }

    public static func invalidFieldInCDB(byte: Int, bit: Int? = nil) -> SCSIError {
        SCSIError(.illegalRequest, .invalidFieldInCDB,
                  senseKeySpecific: .fieldPointer(inCDB: true, byte: UInt16(byte), bit: bit.map { UInt8($0) }))
    }

    public static func invalidFieldInParameterList(byte: Int, bit: Int? = nil) -> SCSIError {
        SCSIError(.illegalRequest, .invalidFieldInParameterList,
                  senseKeySpecific: .fieldPointer(inCDB: false, byte: UInt16(byte), bit: bit.map { UInt8($0) }))
    }

    public static let invalidOperationCode = SCSIError(.illegalRequest, .invalidCommandOperationCode,
        senseKeySpecific: .fieldPointer(inCDB: true, byte: 0, bit: nil))
    public static let lbaOutOfRange = SCSIError(.illegalRequest, .lbaOutOfRange)
    public static let parameterListLengthError = SCSIError(.illegalRequest, .parameterListLengthError)
    public static let logicalUnitNotSupported = SCSIError(.illegalRequest, .logicalUnitNotSupported)
    public static let writeProtected = SCSIError(.dataProtect, .writeProtected)
    public static let spaceAllocationFailed = SCSIError(.dataProtect, .spaceAllocationFailedWriteProtect)
    public static let reservationConflict = SCSIError(status: .reservationConflict, sense: nil)
    public static let busy = SCSIError(status: .busy, sense: nil)
    public static let taskSetFull = SCSIError(status: .taskSetFull, sense: nil)
    public static let internalTargetFailure = SCSIError(.hardwareError, .internalTargetFailure)
    public static let writeError = SCSIError(.mediumError, .writeError)
    public static let unrecoveredReadError = SCSIError(.mediumError, .unrecoveredReadError)
    public static let notReadyOffline = SCSIError(.notReady, .logicalUnitNotReadyOffline)
    public static let notReadyStartRequired = SCSIError(.notReady, .logicalUnitNotReadyInitializingCommandRequired)

    public static func miscompare(offset: UInt64) -> SCSIError {
        SCSIError(.miscompare, .miscompareDuringVerify, information: offset)
    }

    public static func unitAttention(_ a: AdditionalSense) -> SCSIError {
        SCSIError(.unitAttention, a)
    }
}
