/// An additional sense code and qualifier pair (SPC-4 table 45).
public struct AdditionalSense: Hashable, Sendable, CustomStringConvertible {
    public var asc: UInt8
    public var ascq: UInt8
    public init(_ asc: UInt8, _ ascq: UInt8) { self.asc = asc; self.ascq = ascq }

    public var description: String {
        let hex = { (v: UInt8) in (v < 16 ? "0" : "") + String(v, radix: 16, uppercase: true) }
        return "\(hex(asc))/\(hex(ascq))"
    }

    public static let noAdditionalSense = AdditionalSense(0x00, 0x00)
    public static let logicalUnitNotReadyCauseNotReportable = AdditionalSense(0x04, 0x00)
    public static let logicalUnitNotReadyInitializingCommandRequired = AdditionalSense(0x04, 0x02)
    public static let logicalUnitNotReadyManualIntervention = AdditionalSense(0x04, 0x03)
    public static let logicalUnitNotReadyOffline = AdditionalSense(0x04, 0x12)
    public static let logicalUnitCommunicationFailure = AdditionalSense(0x08, 0x00)
    public static let logicalUnitCommunicationTimeout = AdditionalSense(0x08, 0x01)
    public static let writeError = AdditionalSense(0x0C, 0x00)
    public static let unrecoveredReadError = AdditionalSense(0x11, 0x00)
    public static let miscompareDuringVerify = AdditionalSense(0x1D, 0x00)
    public static let parameterListLengthError = AdditionalSense(0x1A, 0x00)
    public static let invalidCommandOperationCode = AdditionalSense(0x20, 0x00)
    public static let lbaOutOfRange = AdditionalSense(0x21, 0x00)
    public static let invalidFieldInCDB = AdditionalSense(0x24, 0x00)
    public static let logicalUnitNotSupported = AdditionalSense(0x25, 0x00)
    public static let invalidFieldInParameterList = AdditionalSense(0x26, 0x00)
    public static let parameterNotSupported = AdditionalSense(0x26, 0x01)
    public static let invalidReleaseOfPersistentReservation = AdditionalSense(0x26, 0x04)
    public static let insufficientRegistrationResources = AdditionalSense(0x55, 0x04)
    public static let writeProtected = AdditionalSense(0x27, 0x00)
    public static let powerOnResetOrBusDeviceReset = AdditionalSense(0x29, 0x00)
    public static let powerOnOccurred = AdditionalSense(0x29, 0x01)
    public static let scsiBusResetOccurred = AdditionalSense(0x29, 0x02)
    public static let busDeviceResetFunctionOccurred = AdditionalSense(0x29, 0x03)
    public static let itNexusLossOccurred = AdditionalSense(0x29, 0x07)
    public static let parametersChanged = AdditionalSense(0x2A, 0x00)
    public static let modeParametersChanged = AdditionalSense(0x2A, 0x01)
    public static let reservationsPreempted = AdditionalSense(0x2A, 0x03)
    public static let reservationsReleased = AdditionalSense(0x2A, 0x04)
    public static let registrationsPreempted = AdditionalSense(0x2A, 0x05)
    public static let asymmetricAccessStateChanged = AdditionalSense(0x2A, 0x06)
    public static let capacityDataHasChanged = AdditionalSense(0x2A, 0x09)
    public static let commandSequenceError = AdditionalSense(0x2C, 0x00)
    public static let commandsClearedByAnotherInitiator = AdditionalSense(0x2F, 0x00)
    public static let commandsClearedByDeviceServer = AdditionalSense(0x2F, 0x02)
    public static let savingParametersNotSupported = AdditionalSense(0x39, 0x00)
    public static let mediumNotPresent = AdditionalSense(0x3A, 0x00)
    public static let reportedLUNsDataHasChanged = AdditionalSense(0x3F, 0x0E)
    public static let inquiryDataHasChanged = AdditionalSense(0x3F, 0x03)
    public static let internalTargetFailure = AdditionalSense(0x44, 0x00)
    public static let invalidMessageError = AdditionalSense(0x49, 0x00)
    public static let overlappedCommandsAttempted = AdditionalSense(0x4E, 0x00)
    public static let lowPowerConditionOn = AdditionalSense(0x5E, 0x00)
    public static let spaceAllocationFailedWriteProtect = AdditionalSense(0x27, 0x07)
}
