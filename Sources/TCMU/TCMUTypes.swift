import STMF
import CTCMU

/// The capability bits of the mailbox's `flags` (`TCMU_MAILBOX_FLAG_CAP_*`): what the running
/// kernel supports. Each feature is used only when its bit is set.
public struct TCMUCapabilities: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Completions may be written in any order (into the next command slot at the tail).
    public static let outOfOrderCompletion = TCMUCapabilities(rawValue: UInt16(CTCMUConstants.capOOOC))
    /// A response may carry how many bytes a read really returned (`rsp.read_len`).
    public static let readLength = TCMUCapabilities(rawValue: UInt16(CTCMUConstants.capReadLength))
    /// Task management functions are announced in the ring (`tmr_notification=1`).
    public static let taskManagement = TCMUCapabilities(rawValue: UInt16(CTCMUConstants.capTMR))
    /// A completed command's data buffer may be kept (freed later through `action/free_kept_buf`).
    public static let keepBuffer = TCMUCapabilities(rawValue: UInt16(CTCMUConstants.capKeepBuffer))

    public var description: String {
        var names: [String] = []
        if contains(.outOfOrderCompletion) { names.append("OOOC") }
        if contains(.readLength) { names.append("READ_LEN") }
        if contains(.taskManagement) { names.append("TMR") }
        if contains(.keepBuffer) { names.append("KEEP_BUF") }
        let unknown = rawValue & ~(TCMUCapabilities.outOfOrderCompletion.rawValue | TCMUCapabilities.readLength.rawValue
                                   | TCMUCapabilities.taskManagement.rawValue | TCMUCapabilities.keepBuffer.rawValue)
        if unknown != 0 { names.append("0x" + String(unknown, radix: 16)) }
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
}

/// A SCSI command the kernel put in the ring. Everything the command needs is copied out of its
/// entry when the ring is read: the entry's bytes are overwritten by a response (possibly another
/// command's, with out-of-order completion) and the kernel reuses them once the tail passes.
/// The data stays in the data area until the command is completed.
public struct Command: Sendable, CustomStringConvertible {
    /// `hdr.cmd_id` (1...65535): unique among the commands not yet completed.
    public let id: UInt16
    /// The CDB, `scsi_command_size` bytes (the group code's length, or byte 7 + 8 for a
    /// variable-length CDB), as the kernel copied it after the iovecs.
    public let cdb: CDB
    /// The data-out (write: already in place) or data-in (read: to fill) buffers, then the BIDI
    /// read buffers, then the protection-information buffers: offsets into the shared area,
    /// each checked to lie in the data area.
    public let iovecs: [DataRange]
    /// `req.iov_cnt`, `req.iov_bidi_cnt`, `req.iov_dif_cnt`.
    public let dataCount: Int
    public let bidiCount: Int
    public let difCount: Int
    /// `hdr.kflags`, as the kernel set them (none are defined today).
    public let kernelFlags: UInt8
    /// Where the entry is: offset from the start of the command ring, and length.
    public let entryOffset: Int
    public let entryLength: Int

    init(id: UInt16, cdb: CDB, iovecs: [DataRange], dataCount: Int, bidiCount: Int, difCount: Int,
         kernelFlags: UInt8, entryOffset: Int, entryLength: Int) {
        self.id = id; self.cdb = cdb; self.iovecs = iovecs
        self.dataCount = dataCount; self.bidiCount = bidiCount; self.difCount = difCount
        self.kernelFlags = kernelFlags; self.entryOffset = entryOffset; self.entryLength = entryLength
    }

    /// The data buffers (`iov_cnt` of them).
    public var dataIovecs: ArraySlice<DataRange> { iovecs[0..<dataCount] }
    /// The BIDI buffers (data-in of a bidirectional command).
    public var bidiIovecs: ArraySlice<DataRange> { iovecs[dataCount..<(dataCount + bidiCount)] }
    /// The protection-information buffers.
    public var difIovecs: ArraySlice<DataRange> { iovecs[(dataCount + bidiCount)...] }
    /// Bytes in the data buffers.
    public var dataLength: Int { dataIovecs.reduce(0) { $0 + $1.length } }

    public var description: String { "cmd \(id) \(cdb) iov \(dataCount)/\(bidiCount)/\(difCount) at \(entryOffset)+\(entryLength)" }
}

/// A task management function the kernel announced (`TCMU_OP_TMR`, with CAP_TMR and
/// `tmr_notification=1`). Advisory: the kernel runs it itself and waits for the listed
/// commands, which should be completed promptly; nothing is answered for the entry.
public struct TaskManagement: Sendable, Hashable, CustomStringConvertible {
    /// `tmr_type`.
    public struct Function: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let unknown = Function(rawValue: 0)
        public static let abortTask = Function(rawValue: 1)
        public static let abortTaskSet = Function(rawValue: 2)
        public static let clearACA = Function(rawValue: 3)
        public static let clearTaskSet = Function(rawValue: 4)
        public static let lunReset = Function(rawValue: 5)
        public static let targetWarmReset = Function(rawValue: 6)
        public static let targetColdReset = Function(rawValue: 7)
        /// The LUN reset a PERSISTENT RESERVE OUT preempt-and-abort causes.
        public static let lunResetByPreempt = Function(rawValue: 128)
        public var description: String {
            switch self {
            case .abortTask: "ABORT TASK"
            case .abortTaskSet: "ABORT TASK SET"
            case .clearACA: "CLEAR ACA"
            case .clearTaskSet: "CLEAR TASK SET"
            case .lunReset: "LUN RESET"
            case .targetWarmReset: "TARGET WARM RESET"
            case .targetColdReset: "TARGET COLD RESET"
            case .lunResetByPreempt: "LUN RESET (PR preempt and abort)"
            default: "TMR \(rawValue)"
            }
        }
    }

    public let function: Function
    /// The commands still in the ring the function affects (some may be completed already).
    public let commandIDs: [UInt16]
    public let entryOffset: Int
    public let entryLength: Int

    public var description: String { "\(function) of \(commandIDs) at \(entryOffset)+\(entryLength)" }
}

/// A ring the kernel wrote wrongly (or a map that is not a TCMU map). Once one is found the ring
/// is broken: nothing more is read or completed until it is reset and attached again.
/// Offsets `at` are from the start of the command ring.
public enum TCMURingError: Error, Hashable, Sendable {
    /// The map cannot hold a mailbox.
    case mapTooSmall(size: Int)
    /// `version` is not `TCMU_MAILBOX_VERSION` (2).
    case unsupportedVersion(UInt16)
    /// `cmdr_off` + `cmdr_size` runs past the map.
    case ringOutsideMap(offset: UInt32, size: UInt32, mapSize: Int)
    /// `cmdr_off` is inside the mailbox.
    case ringOverlapsMailbox(offset: UInt32)
    /// `cmdr_off` or `cmdr_size` is not a multiple of 8, or the ring is empty.
    case ringMisaligned(offset: UInt32, size: UInt32)
    /// `cmd_head` is not an 8-aligned offset inside the ring.
    case headOutOfRange(UInt32)
    /// `cmd_tail` (at attach) is not an 8-aligned offset inside the ring.
    case tailOutOfRange(UInt32)
    /// An entry of length 0 (the walk would never advance).
    case entryLengthZero(at: Int)
    /// An entry running past the end of the ring (entries never wrap: the kernel pads).
    case entryPastRingEnd(at: Int, length: Int)
    /// An entry running past `cmd_head` (the kernel publishes the head after whole entries).
    case entryPastHead(at: Int, length: Int, head: Int)
    /// An entry too short for its fields, its iovecs or TMR ids, or for a response.
    case entryTooShort(at: Int, length: Int, needed: Int)
    /// A command with `cmd_id` 0 (the kernel allocates 1...65535).
    case invalidCommandID(at: Int)
    /// A command whose id is still in flight.
    case duplicateCommandID(UInt16, at: Int)
    /// An iovec outside the data area (after the ring, inside the map).
    case iovecOutsideDataArea(id: UInt16, index: Int, offset: UInt64, length: UInt64)
    /// The CDB is not inside its entry, after the iovecs.
    case cdbOutsideEntry(id: UInt16, offset: UInt64, length: Int)
}

/// A completion the machine refused; the ring is unchanged.
public enum TCMUCompletionError: Error, Hashable, Sendable {
    /// The ring is broken (`TCMURingError`); it must be reset and attached again.
    case ringBroken
    /// No command with this id is in flight (never posted, or completed already).
    case unknownCommand(UInt16)
    /// More sense than `TCMU_SENSE_BUFFERSIZE` (96) bytes.
    case senseTooLong(Int)
    /// A read length without CAP_READ_LEN: the kernel would report the whole buffer as read.
    case readLengthUnsupported
    /// KEEP_BUF without CAP_KEEP_BUF.
    case keepBufferUnsupported
}

enum CTCMUConstants {
    static let capOOOC = Int(CTCMU_CAP_OOOC)
    static let capReadLength = Int(CTCMU_CAP_READ_LEN)
    static let capTMR = Int(CTCMU_CAP_TMR)
    static let capKeepBuffer = Int(CTCMU_CAP_KEEP_BUF)
}
