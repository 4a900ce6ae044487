/// One SCSI command a program issued on the fake sg device (SG_IO, or an asynchronous sg v3
/// write), as the bridge received it.
public struct SGRequest: Sendable, Equatable {
    /// The sg data direction, reduced to what the command moves.
    public enum Direction: UInt8, Sendable {
        case none = 0
        /// Data-out: `dataOut` holds what the program sent.
        case toDevice = 1
        /// Data-in: at most `transferLength` bytes go back in `SGReply.dataIn`.
        case fromDevice = 2
    }

    /// The shim's id for this request on its connection (replies are matched by it).
    public var id: UInt64
    public var cdb: [UInt8]
    public var direction: Direction
    /// Data-out bytes (empty unless `direction == .toDevice`).
    public var dataOut: [UInt8]
    /// The sg `dxfer_len`: data-out length, or the most data-in the program accepts.
    public var transferLength: Int
    /// The program's timeout (sg_io_hdr.timeout); 0 when it gave none.
    public var timeoutMilliseconds: UInt32

    public init(id: UInt64 = 0, cdb: [UInt8], direction: Direction = .none, dataOut: [UInt8] = [],
                transferLength: Int? = nil, timeoutMilliseconds: UInt32 = 0) {
        self.id = id
        self.cdb = cdb
        self.direction = direction
        self.dataOut = dataOut
        self.transferLength = transferLength ?? (direction == .toDevice ? dataOut.count : 0)
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// Linux host_status codes (`DID_*`, include/scsi/scsi_status.h) for `SGReply.hostStatus`.
public enum SGHostStatus {
    public static let ok: UInt16 = 0x00
    /// The target could not be reached (no login, link down, bridge gone).
    public static let noConnect: UInt16 = 0x01
    public static let busBusy: UInt16 = 0x02
    public static let timeOut: UInt16 = 0x03
    public static let badTarget: UInt16 = 0x04
    public static let abort: UInt16 = 0x05
    public static let error: UInt16 = 0x07
    public static let transportDisrupted: UInt16 = 0x0E
}

/// The outcome of an `SGRequest`, as the shim will report it in the sg_io_hdr.
public struct SGReply: Sendable, Equatable {
    /// SCSI status byte (GOOD 0x00, CHECK CONDITION 0x02, ...).
    public var status: UInt8
    /// `SGHostStatus`: anything but `ok` means the command did not (provably) reach the LU.
    public var hostStatus: UInt16
    /// Linux driver_status; the shim adds DRIVER_SENSE itself when `sense` is not empty.
    public var driverStatus: UInt16
    /// Data-in (only for `.fromDevice`; bytes beyond the transfer length are dropped).
    public var dataIn: [UInt8]
    /// Transfer length minus the bytes moved (underflow > 0; overflow < 0 is reported as 0).
    /// For data-in the shim never reports less than `transferLength - dataIn.count`.
    public var residual: Int
    /// Sense data (at most 252 bytes are sent).
    public var sense: [UInt8]

    public init(status: UInt8 = 0, hostStatus: UInt16 = SGHostStatus.ok, driverStatus: UInt16 = 0,
                dataIn: [UInt8] = [], residual: Int = 0, sense: [UInt8] = []) {
        self.status = status
        self.hostStatus = hostStatus
        self.driverStatus = driverStatus
        self.dataIn = dataIn
        self.residual = residual
        self.sense = sense
    }

    /// GOOD status with `dataIn`.
    public static func good(dataIn: [UInt8] = []) -> SGReply { SGReply(dataIn: dataIn) }

    /// A command that failed in transport (e.g. `SGHostStatus.noConnect`, `.timeOut`).
    public static func transportFailure(_ hostStatus: UInt16) -> SGReply { SGReply(hostStatus: hostStatus) }
}
