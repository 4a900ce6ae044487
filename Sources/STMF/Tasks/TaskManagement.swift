/// SAM-5 task management functions.
public enum TaskManagementFunction: Sendable, Hashable, CustomStringConvertible {
    case abortTask(tag: UInt64, lun: UInt64)
    case abortTaskSet(lun: UInt64)
    case clearTaskSet(lun: UInt64)
    case logicalUnitReset(lun: UInt64)
    case itNexusReset
    case targetReset
    case clearACA(lun: UInt64)
    case queryTask(tag: UInt64, lun: UInt64)

    public var description: String {
        switch self {
        case let .abortTask(tag, lun): "ABORT TASK tag=\(tag) lun=\(lun)"
        case let .abortTaskSet(lun): "ABORT TASK SET lun=\(lun)"
        case let .clearTaskSet(lun): "CLEAR TASK SET lun=\(lun)"
        case let .logicalUnitReset(lun): "LOGICAL UNIT RESET lun=\(lun)"
        case .itNexusReset: "I_T NEXUS RESET"
        case .targetReset: "TARGET RESET"
        case let .clearACA(lun): "CLEAR ACA lun=\(lun)"
        case let .queryTask(tag, lun): "QUERY TASK tag=\(tag) lun=\(lun)"
        }
    }
}

/// SAM-5 service responses of a task management function.
public enum TaskManagementResponse: Sendable, Hashable {
    case functionComplete
    case functionSucceeded
    case functionRejected
    case incorrectLogicalUnitNumber
    case serviceDeliveryFailure

    /// FCP-4 RSP_CODE for FCP_RSP_INFO.
    public var fcpResponseCode: UInt8 {
        switch self {
        case .functionComplete: 0x00
        case .functionSucceeded: 0x08
        case .functionRejected: 0x04
        case .incorrectLogicalUnitNumber: 0x09
        case .serviceDeliveryFailure: 0x05
        }
    }
}
