/// How a task ended, as the LU (or STMF itself) reports it to the port provider.
public struct TaskResponse: Sendable, CustomStringConvertible {
    public var status: SCSIStatus
    public var sense: SenseData?
    /// Encode `sense` in descriptor format (the LU's D_SENSE).
    public var descriptorSense: Bool
    /// Bytes actually moved: data-in placed in the buffer, or data-out consumed.
    public var dataLength: Int
    /// Bytes the command called for; above the expected transfer length this is a residual
    /// overflow, below it an underflow.
    public var intendedLength: Int
    /// The task was aborted by a task management function: the port provider sends no
    /// status for it (or TASK ABORTED when `status == .taskAborted`, the TAS case).
    public var aborted: Bool

    public init(status: SCSIStatus, sense: SenseData? = nil, descriptorSense: Bool = false,
                dataLength: Int = 0, intendedLength: Int = 0, aborted: Bool = false) {
        self.status = status
        self.sense = sense
        self.descriptorSense = descriptorSense
        self.dataLength = dataLength
        self.intendedLength = intendedLength
        self.aborted = aborted
    }

    public static let good = TaskResponse(status: .good)

    public init(error: SCSIError, descriptorSense: Bool) {
        self.init(status: error.status, sense: error.sense, descriptorSense: descriptorSense)
    }

    /// Sense exactly as a device returned it (a pass-through LU): sent instead of encoding
    /// `sense`, which holds what STMF could parse of it.
    public var deviceSense: [UInt8]?

    /// Encoded sense bytes (nil when there is none).
    public var senseBytes: [UInt8]? { deviceSense ?? sense?.bytes(descriptor: descriptorSense) }

    /// Residual for a transport whose expected length was `expected`: positive = underflow
    /// (fewer bytes than expected), negative = overflow (the command wanted more).
    public func residual(expected: Int) -> Int {
        if intendedLength > expected { return -(intendedLength - expected) }
        return expected - dataLength
    }

    public var description: String {
        var s = aborted ? "ABORTED" : status.description
        if let sense { s += " [\(sense)]" }
        return s
    }
}

/// What a port provider does with a command before its data phase (`Session.prepare`).
public enum Preparation: Sendable {
    /// Go on: move at most `dataLength` bytes (nil: what FCP_DL says, up to
    /// `Preparation.controlTransferLimit`).
    case proceed(dataLength: Int?)
    /// The command is over: send this response without a data phase.
    case respond(TaskResponse)

    /// The most data a command moves when its LU cannot say in advance how much (INQUIRY,
    /// MODE SENSE, PERSISTENT RESERVE OUT…): none of those in SPC-4/SBC-4 moves more.
    public static let controlTransferLimit = 1 << 20

    /// The buffer a port provider may allocate for a command with expected length `expected`.
    public func allocation(expected: Int) -> Int {
        switch self {
        case let .proceed(n?): min(max(0, n), expected)
        case .proceed(nil): min(Self.controlTransferLimit, expected)
        case .respond: 0
        }
    }
}
