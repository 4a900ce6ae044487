import CTCMU

/// The offsets and constants of the TCMU shared area, as the kernel's uapi header gives them
/// (`CModules/CTCMU` takes each one with `offsetof`/`sizeof`; none is counted by hand here).
enum Layout {
    // struct tcmu_mailbox, at offset 0 of the map
    static let mailboxSize = Int(CTCMU_MAILBOX_SIZE)
    static let version = Int(CTCMU_MB_VERSION)
    static let flags = Int(CTCMU_MB_FLAGS)
    static let cmdrOff = Int(CTCMU_MB_CMDR_OFF)
    static let cmdrSize = Int(CTCMU_MB_CMDR_SIZE)
    static let cmdHead = Int(CTCMU_MB_CMD_HEAD)
    static let cmdTail = Int(CTCMU_MB_CMD_TAIL)

    // struct tcmu_cmd_entry_hdr, relative to an entry
    static let headerSize = Int(CTCMU_HDR_SIZE)
    static let lenOp = Int(CTCMU_HDR_LEN_OP)
    static let cmdID = Int(CTCMU_HDR_CMD_ID)
    static let kflags = Int(CTCMU_HDR_KFLAGS)
    static let uflags = Int(CTCMU_HDR_UFLAGS)

    // struct tcmu_cmd_entry: req
    static let entrySize = Int(CTCMU_ENTRY_SIZE)
    static let iovCount = Int(CTCMU_REQ_IOV_CNT)
    static let iovBidiCount = Int(CTCMU_REQ_IOV_BIDI_CNT)
    static let iovDifCount = Int(CTCMU_REQ_IOV_DIF_CNT)
    static let cdbOff = Int(CTCMU_REQ_CDB_OFF)
    static let iov = Int(CTCMU_REQ_IOV)
    static let iovecSize = Int(CTCMU_IOVEC_SIZE)
    static let iovecBase = Int(CTCMU_IOVEC_BASE)
    static let iovecLength = Int(CTCMU_IOVEC_LEN)

    // struct tcmu_cmd_entry: rsp
    static let scsiStatus = Int(CTCMU_RSP_SCSI_STATUS)
    static let rspPad1 = Int(CTCMU_RSP_PAD1)
    static let rspPad2 = Int(CTCMU_RSP_PAD2)
    static let readLength = Int(CTCMU_RSP_READ_LEN)
    static let sense = Int(CTCMU_RSP_SENSE)
    static let senseSize = Int(CTCMU_SENSE_BUFFERSIZE)

    // struct tcmu_tmr_entry
    static let tmrSize = Int(CTCMU_TMR_SIZE)
    static let tmrType = Int(CTCMU_TMR_TYPE)
    static let tmrCount = Int(CTCMU_TMR_CMD_CNT)
    static let tmrIDs = Int(CTCMU_TMR_CMD_IDS)

    static let mailboxVersion = UInt16(CTCMU_MAILBOX_VERSION)
    static let opPad = UInt32(CTCMU_OP_PAD)
    static let opCmd = UInt32(CTCMU_OP_CMD)
    static let opTmr = UInt32(CTCMU_OP_TMR)
    static let opMask = UInt32(CTCMU_OP_MASK)
    static let alignment = Int(CTCMU_OP_ALIGN_SIZE)
    static let uflagUnknownOp = UInt8(CTCMU_UFLAG_UNKNOWN_OP)
    static let uflagReadLength = UInt8(CTCMU_UFLAG_READ_LEN)
    static let uflagKeepBuffer = UInt8(CTCMU_UFLAG_KEEP_BUF)
}
