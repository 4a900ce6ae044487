import STMF

/// A SCSI device a pass-through LU forwards commands to: a Linux SCSI generic node (`SGDevice`)
/// or, in the tests, a scripted device. Models: LIO's pscsi backend, SCST's pass-through.
public protocol PassThroughDevice: AnyObject, Sendable {
    /// Starts one command at the device. `completion` runs exactly once, from any thread, after
    /// the device is done with `request.buffer`. Never blocks.
    func submit(_ request: DeviceRequest, completion: @escaping @Sendable (DeviceResult) -> Void)
    /// Stops the command of `tag` if the device still holds it (best effort: the Linux sg driver
    /// has no per-command abort; its completion still arrives, perhaps as `.reset`).
    func abort(tag: UInt64)
    /// LOGICAL UNIT RESET at the device (the sg driver's SG_SCSI_RESET_DEVICE).
    func resetLogicalUnit()
}

/// One command for the device, with the port provider's buffer used in place.
public struct DeviceRequest: @unchecked Sendable {
    public var cdb: CDB
    /// `.none`, `.read` or `.write` (a bidirectional command is refused before it gets here).
    public var direction: DataDirection
    /// The data-out bytes to send or the place for data-in: exactly the transfer's length.
    public var buffer: UnsafeMutableRawBufferPointer
    /// How long the device may take before the command is given up.
    public var timeoutMilliseconds: UInt32
    /// STMF's tag of the task (for `abort`).
    public var tag: UInt64

    public init(cdb: CDB, direction: DataDirection, buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: UInt32, tag: UInt64) {
        self.cdb = cdb; self.direction = direction; self.buffer = buffer
        self.timeoutMilliseconds = timeoutMilliseconds; self.tag = tag
    }
}

/// How the device ended a command.
public struct DeviceResult: Sendable, Equatable {
    /// A command the device did not end itself (the host adapter's or the driver's status).
    public enum Failure: Sendable, Equatable, CustomStringConvertible {
        /// The device is no longer there (hot-unplug, removed, no connection).
        case gone
        /// It did not answer in time.
        case timedOut
        /// A reset (of the device, target, bus or host) ended it.
        case reset
        /// Any other transport failure, as the driver described it.
        case transport(String)

        public var description: String {
            switch self {
            case .gone: "the device is gone"
            case .timedOut: "the device did not answer in time"
            case .reset: "a reset ended the command"
            case let .transport(why): why
            }
        }
    }

    /// The status byte the device returned (GOOD when it returned none).
    public var status: SCSIStatus
    /// Sense data as the device returned it (empty when none).
    public var sense: [UInt8]
    /// Bytes of the transfer that did not move.
    public var residual: Int
    public var failure: Failure?

    public init(status: SCSIStatus, sense: [UInt8] = [], residual: Int = 0, failure: Failure? = nil) {
        self.status = status; self.sense = sense; self.residual = residual; self.failure = failure
    }
}
