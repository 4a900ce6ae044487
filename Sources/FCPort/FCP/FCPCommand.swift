import STMF

/// FCP_CMND task attribute (FCP-4, byte 9 bits 2-0).
public enum FCPTaskAttribute: UInt8, Sendable, CaseIterable {
    case simple = 0
    case headOfQueue = 1
    case ordered = 2
    case aca = 4
    /// FCP-2's untagged; treated as SIMPLE.
    case untagged = 5

    /// The SAM-5 attribute STMF queues the task with.
    public var taskAttribute: TaskAttribute {
        switch self {
        case .simple, .untagged: .simple
        case .headOfQueue: .headOfQueue
        case .ordered: .ordered
        case .aca: .aca
        }
    }

    /// The FCP attribute for a SAM-5 attribute.
    public init(_ attribute: TaskAttribute) {
        switch attribute {
        case .simple: self = .simple
        case .headOfQueue: self = .headOfQueue
        case .ordered: self = .ordered
        case .aca: self = .aca
        }
    }
}

/// FCP_CMND task management flags (FCP-4, byte 10); at most one is set.
public enum FCPTaskManagementFlag: UInt8, Sendable, CaseIterable {
    case abortTaskSet = 0x02
    case clearTaskSet = 0x04
    case logicalUnitReset = 0x10
    case targetReset = 0x20
    case clearACA = 0x40

    /// The SAM-5 task management function for the FCP_LUN `lun`.
    public func function(lun: UInt64) -> TaskManagementFunction {
        switch self {
        case .abortTaskSet: .abortTaskSet(lun: lun)
        case .clearTaskSet: .clearTaskSet(lun: lun)
        case .logicalUnitReset: .logicalUnitReset(lun: lun)
        case .targetReset: .targetReset
        case .clearACA: .clearACA(lun: lun)
        }
    }
}

/// The FCP_CMND IU (FCP-4): FCP_LUN, CRN, task attribute, task management flags, data
/// direction, CDB (16 bytes plus additional CDB words) and FCP_DL. 32 + 4 × additional bytes.
public struct FCPCommand: Sendable, Equatable {
    /// Data direction as RDDATA/WRDATA announce it (bidirectional commands are not supported).
    public enum Direction: Sendable, Equatable {
        case none, read, write

        /// STMF's view of the direction.
        public var dataDirection: DataDirection {
            switch self {
            case .none: .none
            case .read: .read
            case .write: .write
            }
        }
    }

    /// FCP_LUN: the 8-byte SAM LUN field as a big-endian integer (see `LUNAddress`).
    public var lun: UInt64
    /// Command reference number (0 when not used).
    public var commandReferenceNumber: UInt8
    public var taskAttribute: FCPTaskAttribute
    /// Command priority (4 bits).
    public var priority: UInt8
    /// Set for a task management request; the CDB is then unused.
    public var taskManagement: FCPTaskManagementFlag?
    public var direction: Direction
    /// The CDB: at least 16 bytes, a multiple of 4, at most 268 (shorter ones are zero-padded).
    public var cdb: [UInt8] {
        didSet { cdb = Self.normalized(cdb) }
    }
    /// FCP_DL: bytes the initiator expects to move.
    public var dataLength: UInt32

    /// Length of an FCP_CMND with a 16-byte CDB.
    public static let minimumSize = 32
    /// Largest CDB: 16 bytes plus 63 additional words.
    public static let maximumCDBLength = 16 + 4 * 63

    public init(lun: UInt64, cdb: [UInt8], direction: Direction = .none, dataLength: UInt32 = 0,
                taskAttribute: FCPTaskAttribute = .simple, priority: UInt8 = 0, commandReferenceNumber: UInt8 = 0) {
        self.lun = lun
        self.commandReferenceNumber = commandReferenceNumber
        self.taskAttribute = taskAttribute
        self.priority = priority & 0x0F
        self.taskManagement = nil
        self.direction = direction
        self.cdb = Self.normalized(cdb)
        self.dataLength = dataLength
    }

    /// A task management request for `lun`.
    public init(lun: UInt64, taskManagement: FCPTaskManagementFlag) {
        self.init(lun: lun, cdb: [])
        self.taskManagement = taskManagement
    }

    /// Additional FCP_CDB length in words.
    public var additionalCDBLength: Int { (cdb.count - 16) / 4 }

    /// The SAM-5 function of a task management request.
    public var taskManagementFunction: TaskManagementFunction? { taskManagement?.function(lun: lun) }

    /// The FCP_CMND payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + cdb.count + 4)
        w.u64(lun)
        w.u8(commandReferenceNumber)
        w.u8((priority & 0x0F) << 3 | taskAttribute.rawValue)
        w.u8(taskManagement?.rawValue ?? 0)
        let rw: UInt8 = switch direction {
        case .none: 0
        case .read: 0x02
        case .write: 0x01
        }
        w.u8(UInt8(additionalCDBLength) << 2 | rw)
        w.append(cdb)
        w.u32(dataLength)
        return w.bytes
    }

    /// Decodes an FCP_CMND payload. On failure the error's `rejection` is the FCP_RSP to send.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(FCPDecodeError) -> FCPCommand {
        let r = ByteReader(payload)
        guard r.count >= minimumSize else { throw .truncated(actual: r.count) }
        let control = r[11]
        let expected = minimumSize + 4 * Int(control >> 2)
        guard r.count >= expected else { throw .truncated(actual: r.count) }
        guard r.count == expected else { throw .lengthMismatch(expected: expected, actual: r.count) }
        guard let attribute = FCPTaskAttribute(rawValue: r[9] & 0x07) else { throw .reservedTaskAttribute(r[9] & 0x07) }
        let direction: Direction
        switch control & 0x03 {
        case 0: direction = .none
        case 1: direction = .write
        case 2: direction = .read
        default: throw .bidirectional
        }
        var tmf: FCPTaskManagementFlag?
        let flags = r[10]
        if flags != 0 {
            guard flags.nonzeroBitCount == 1 else { throw .multipleTaskManagementFlags(flags) }
            guard let f = FCPTaskManagementFlag(rawValue: flags) else { throw .unsupportedTaskManagement(flags) }
            guard direction == .none else { throw .taskManagementWithData }
            tmf = f
        }
        var c = FCPCommand(lun: r.u64(at: 0), cdb: r.bytes(at: 12, count: expected - 16), direction: direction,
                           dataLength: r.u32(at: expected - 4), taskAttribute: attribute,
                           priority: (r[9] >> 3) & 0x0F, commandReferenceNumber: r[8])
        c.taskManagement = tmf
        return c
    }

    private static func normalized(_ cdb: [UInt8]) -> [UInt8] {
        cdb.zeroPadded(to: min(maximumCDBLength, max(16, (cdb.count + 3) / 4 * 4)))
    }
}
