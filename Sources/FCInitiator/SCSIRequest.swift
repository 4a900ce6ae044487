import FCLink
import FCPort
import STMF

/// One SCSI command for `FCInitiator.execute`: the LUN, the CDB, the data direction with its
/// data-out bytes or expected data-in length (together FCP_DL), the task attribute and the
/// time the command may take before it is aborted with ABTS.
public struct SCSIRequest: Sendable {
    public var lun: UInt16
    public var cdb: [UInt8]
    public var direction: FCPCommand.Direction
    /// Data-out for writes (its length is FCP_DL).
    public var dataOut: [UInt8]
    /// Data-in the command may return (FCP_DL for reads).
    public var readLength: Int
    public var taskAttribute: FCPTaskAttribute
    /// Overrides the default command timeout (2 × R_A_TOV).
    public var timeout: Duration?
    /// A caller-chosen tag by which `FCInitiator.abort(tag:)` finds the command while in flight.
    public var tag: UInt64?

    public init(lun: UInt16, cdb: [UInt8], direction: FCPCommand.Direction = .none, dataOut: [UInt8] = [],
                readLength: Int = 0, taskAttribute: FCPTaskAttribute = .simple, timeout: Duration? = nil,
                tag: UInt64? = nil) {
        self.lun = lun
        self.cdb = cdb
        self.direction = direction
        self.dataOut = dataOut
        self.readLength = readLength
        self.taskAttribute = taskAttribute
        self.timeout = timeout
        self.tag = tag
    }

    /// FCP_DL.
    public var dataLength: Int {
        switch direction {
        case .none: 0
        case .read: readLength
        case .write: dataOut.count
        }
    }
}

/// How a command completed at the target (FCP_RSP): status, data-in, residual, sense and
/// FCP_RSP_INFO.
public struct SCSIResult: Sendable {
    public var status: SCSIStatus
    /// Data-in, cut to the bytes the target moved (FCP_DL minus an underflow residual).
    public var data: [UInt8]
    public var residual: FCPResidual
    public var sense: [UInt8]
    /// FCP_RSP_INFO's response code (task management and FCP errors).
    public var responseCode: FCPResponseCode?

    public init(status: SCSIStatus, data: [UInt8] = [], residual: FCPResidual = .none, sense: [UInt8] = [],
                responseCode: FCPResponseCode? = nil) {
        self.status = status
        self.data = data
        self.residual = residual
        self.sense = sense
        self.responseCode = responseCode
    }

    /// The parsed sense data, if any.
    public var senseData: SenseData? { sense.isEmpty ? nil : SenseData(parsing: sense) }

    /// CHECK CONDITION with UNIT ATTENTION.
    public var isUnitAttention: Bool {
        status == .checkCondition && senseData?.key == .unitAttention
    }

    /// The residual as a signed count (positive: underflow).
    public var residualCount: Int {
        switch residual {
        case .none: 0
        case .underflow(let n): Int(n)
        case .overflow(let n): -Int(n)
        }
    }

    /// GOOD status.
    public var isGood: Bool { status == .good && (responseCode == nil || responseCode == .taskManagementFunctionComplete) }

    /// A one-line description: status, and the sense key / ASC / ASCQ for CHECK CONDITION.
    public var summary: String {
        if status == .checkCondition, let s = senseData {
            let text = s.additional.name.map { " (\($0))" } ?? ""
            return "CHECK CONDITION, sense key \(s.key.name) (0x\(String(s.key.rawValue, radix: 16, uppercase: true))),"
                + " ASC/ASCQ \(s.additional)\(text)"
        }
        if let r = responseCode, r != .taskManagementFunctionComplete { return "\(status), FCP_RSP_INFO code \(r.rawValue)" }
        return "\(status)"
    }
}

/// Why a command or login did not complete.
public enum InitiatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The port is not logged in to the fabric.
    case notOnline
    /// The link went down while the command was in flight.
    case linkDown
    /// No FCP_RSP within the command's timeout; the exchange was aborted (ABTS).
    case timeout
    /// The command was aborted on request (`FCInitiator.abort`).
    case aborted
    /// Every OX_ID is in use.
    case noExchangeIDs
    /// No process login with the target at this N_Port ID.
    case notLoggedIn(FCID)
    /// The name server knows no port with this WWPN.
    case targetNotFound(WWN)
    /// PLOGI or PRLI was refused.
    case loginFailed(String)
    /// The target broke FCP (data beyond FCP_DL, missing data, bad XFER_RDY).
    case transport(String)
    /// A fabric service (name server) failed.
    case fabric(String)

    /// Whether retrying (after re-login) may help, as the Linux midlayer retries.
    public var isRetryable: Bool {
        switch self {
        case .notOnline, .linkDown, .timeout, .noExchangeIDs, .notLoggedIn, .transport: true
        case .aborted, .targetNotFound, .loginFailed, .fabric: false
        }
    }

    public var description: String {
        switch self {
        case .notOnline: "the initiator port is not logged in to the fabric"
        case .linkDown: "the link went down"
        case .timeout: "command timed out (exchange aborted)"
        case .aborted: "command aborted"
        case .noExchangeIDs: "no free exchange ids"
        case .notLoggedIn(let id): "not logged in to N_Port \(id)"
        case .targetNotFound(let w): "no target port wwn.\(w.hex) on the fabric"
        case .loginFailed(let m): "login failed: \(m)"
        case .transport(let m): "transport error: \(m)"
        case .fabric(let m): "fabric service error: \(m)"
        }
    }

    init(_ f: InitiatorExchangeMachine.Failure) {
        switch f {
        case .timeout: self = .timeout
        case .aborted: self = .aborted
        case .linkDown: self = .linkDown
        case .notLoggedIn(let id): self = .notLoggedIn(id)
        case .transport(let m): self = .transport(m)
        }
    }

    init(_ e: NPortError) {
        switch e {
        case .notOnline: self = .notOnline
        case .linkDown: self = .linkDown
        case .timeout: self = .timeout
        case .noExchangeIDs: self = .noExchangeIDs
        case .rejected(let r): self = .loginFailed("LS_RJT \(r)")
        case .nameServerRejected(let r): self = .fabric("FS_RJT \(r)")
        case .malformedReply(let m): self = .transport(m)
        }
    }
}

extension SenseKey {
    /// The SPC-4 name ("ILLEGAL REQUEST").
    public var name: String {
        switch self {
        case .noSense: "NO SENSE"
        case .recoveredError: "RECOVERED ERROR"
        case .notReady: "NOT READY"
        case .mediumError: "MEDIUM ERROR"
        case .hardwareError: "HARDWARE ERROR"
        case .illegalRequest: "ILLEGAL REQUEST"
        case .unitAttention: "UNIT ATTENTION"
        case .dataProtect: "DATA PROTECT"
        case .blankCheck: "BLANK CHECK"
        case .vendorSpecific: "VENDOR SPECIFIC"
        case .copyAborted: "COPY ABORTED"
        case .abortedCommand: "ABORTED COMMAND"
        case .reserved: "RESERVED"
        case .volumeOverflow: "VOLUME OVERFLOW"
        case .miscompare: "MISCOMPARE"
        case .completed: "COMPLETED"
        }
    }
}

extension AdditionalSense {
    /// SPC-4's text for the codes STMF and SBD report (nil for others).
    public var name: String? {
        switch (asc, ascq) {
        case (0x04, 0x00): "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE"
        case (0x04, 0x03): "LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED"
        case (0x04, 0x12): "LOGICAL UNIT NOT READY, OFFLINE"
        case (0x0C, 0x00): "WRITE ERROR"
        case (0x11, 0x00): "UNRECOVERED READ ERROR"
        case (0x1A, 0x00): "PARAMETER LIST LENGTH ERROR"
        case (0x1D, 0x00): "MISCOMPARE DURING VERIFY OPERATION"
        case (0x20, 0x00): "INVALID COMMAND OPERATION CODE"
        case (0x21, 0x00): "LOGICAL BLOCK ADDRESS OUT OF RANGE"
        case (0x24, 0x00): "INVALID FIELD IN CDB"
        case (0x25, 0x00): "LOGICAL UNIT NOT SUPPORTED"
        case (0x26, 0x00): "INVALID FIELD IN PARAMETER LIST"
        case (0x27, 0x00): "WRITE PROTECTED"
        case (0x29, 0x00): "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED"
        case (0x29, 0x03): "BUS DEVICE RESET FUNCTION OCCURRED"
        case (0x29, 0x07): "I_T NEXUS LOSS OCCURRED"
        case (0x2A, 0x01): "MODE PARAMETERS CHANGED"
        case (0x2A, 0x09): "CAPACITY DATA HAS CHANGED"
        case (0x2F, 0x00): "COMMANDS CLEARED BY ANOTHER INITIATOR"
        case (0x3A, 0x00): "MEDIUM NOT PRESENT"
        case (0x3F, 0x0E): "REPORTED LUNS DATA HAS CHANGED"
        case (0x44, 0x00): "INTERNAL TARGET FAILURE"
        default: nil
        }
    }
}
