import CTCMU
import TCMU

/// The kernel's side of a TCMU ring, in a heap buffer, written the way `target_core_user.c`
/// writes it (`tcmu_configure_device`, `queue_cmd_ring`, `queue_tmr_ring`,
/// `tcmu_handle_completions`). Every offset comes from the uapi header through CTCMU's
/// `offsetof` constants, never from the module under test.
final class FakeKernel {
    /// What `tcmu_handle_completion` reads from one reaped slot.
    struct Reaped: Equatable, CustomStringConvertible {
        var slot: Int          // offset of the entry in the ring
        var id: UInt16
        var uflags: UInt8
        var status: UInt8
        var readLength: UInt32
        var sense: [UInt8]     // all 96 bytes
        var description: String { "slot \(slot): id \(id) status \(status) uflags \(uflags) read_len \(readLength)" }
    }

    static let mailboxSize = Int(CTCMU_MAILBOX_SIZE)
    static let entrySize = Int(CTCMU_ENTRY_SIZE)

    let memory: UnsafeMutableRawBufferPointer
    let cmdrOff: Int
    let cmdrSize: Int
    var dataOff: Int { cmdrOff + cmdrSize }
    /// The kernel's `cmdr_last_cleaned`.
    var lastCleaned = 0
    /// Ids the kernel has handed out and not reaped (its `commands` xarray).
    var outstanding: Set<UInt16> = []
    /// Set when a reaped slot names an id the kernel does not know (TCMU_DEV_BIT_BROKEN).
    var broken = false

    /// A map as `tcmu_configure_device` sets it up: mailbox, the ring at `CMDR_OFF`
    /// (`sizeof(struct tcmu_mailbox)`), the data area after it.
    init(ringSize: Int = 4096, dataSize: Int = 64 * 1024, flags: UInt16 = 0, version: UInt16 = UInt16(CTCMU_MAILBOX_VERSION)) {
        cmdrOff = FakeKernel.mailboxSize
        cmdrSize = ringSize
        memory = .allocate(byteCount: cmdrOff + ringSize + dataSize, alignment: 4096)
        memory.initializeMemory(as: UInt8.self, repeating: 0)
        put(version, at: Int(CTCMU_MB_VERSION))
        put(flags, at: Int(CTCMU_MB_FLAGS))
        put(UInt32(cmdrOff), at: Int(CTCMU_MB_CMDR_OFF))
        put(UInt32(ringSize), at: Int(CTCMU_MB_CMDR_SIZE))
    }

    deinit { memory.deallocate() }

    var area: SharedArea { SharedArea(memory) }

    func put<T: FixedWidthInteger>(_ v: T, at offset: Int) { memory.storeBytes(of: v, toByteOffset: offset, as: T.self) }
    func get<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T { memory.loadUnaligned(fromByteOffset: offset, as: T.self) }

    var head: Int {
        get { Int(get(UInt32.self, at: Int(CTCMU_MB_CMD_HEAD))) }
        set { put(UInt32(newValue), at: Int(CTCMU_MB_CMD_HEAD)) }
    }
    var tail: Int { Int(get(UInt32.self, at: Int(CTCMU_MB_CMD_TAIL))) }

    static func roundUp(_ n: Int, _ a: Int) -> Int { (n + a - 1) / a * a }

    /// `spc_free(cmd_head, cmdr_last_cleaned, cmdr_size)`.
    var free: Int { cmdrSize - (head - lastCleaned + cmdrSize) % cmdrSize - 1 }

    /// The PAD `queue_cmd_ring` inserts when the entry does not fit before the ring's end; then
    /// the entry's offset. Nil when `is_ring_space_avail` would refuse (queue-full).
    private func place(size: Int) -> Int? {
        let toEnd = cmdrSize - head
        let needed = toEnd >= size ? size : size + toEnd
        guard free >= needed else { return nil }
        if toEnd < size {
            let at = cmdrOff + head
            var lenOp: UInt32 = 0
            tcmu_hdr_set_op(&lenOp, TCMU_OP_PAD)
            tcmu_hdr_set_len(&lenOp, UInt32(toEnd))
            put(lenOp, at: at + Int(CTCMU_HDR_LEN_OP))
            put(UInt16(0), at: at + Int(CTCMU_HDR_CMD_ID))
            put(UInt8(0), at: at + Int(CTCMU_HDR_KFLAGS))
            put(UInt8(0), at: at + Int(CTCMU_HDR_UFLAGS))
            head = (head + toEnd) % cmdrSize
        }
        return head
    }

    /// `queue_cmd_ring`: the entry (zeroed), its iovecs (offsets into the map), the CDB after
    /// `max(offsetof(req.iov[n]), sizeof(entry))`, the length rounded up to 8, then the head.
    /// Returns the entry's offset in the ring, nil when the ring is full.
    @discardableResult
    func queueCommand(id: UInt16, cdb: [UInt8], data: [(offset: Int, length: Int)] = [],
                      bidi: [(offset: Int, length: Int)] = [], publish: Bool = true) -> Int? {
        let iovs = data + bidi
        let baseSize = max(Int(CTCMU_REQ_IOV) + iovs.count * Int(CTCMU_IOVEC_SIZE), FakeKernel.entrySize)
        let size = baseSize + FakeKernel.roundUp(cdb.count, Int(CTCMU_OP_ALIGN_SIZE))
        guard let at = place(size: size) else { return nil }
        let e = cmdrOff + at
        memory.baseAddress!.advanced(by: e).initializeMemory(as: UInt8.self, repeating: 0, count: size)
        var lenOp: UInt32 = 0
        tcmu_hdr_set_op(&lenOp, TCMU_OP_CMD)
        tcmu_hdr_set_len(&lenOp, UInt32(size))
        put(lenOp, at: e + Int(CTCMU_HDR_LEN_OP))
        put(id, at: e + Int(CTCMU_HDR_CMD_ID))
        for (i, v) in iovs.enumerated() {
            let p = e + Int(CTCMU_REQ_IOV) + i * Int(CTCMU_IOVEC_SIZE)
            put(UInt64(v.offset), at: p + Int(CTCMU_IOVEC_BASE))
            put(UInt64(v.length), at: p + Int(CTCMU_IOVEC_LEN))
        }
        put(UInt32(data.count), at: e + Int(CTCMU_REQ_IOV_CNT))
        put(UInt32(bidi.count), at: e + Int(CTCMU_REQ_IOV_BIDI_CNT))
        let cdbOff = cmdrOff + at + baseSize
        for (i, b) in cdb.enumerated() { memory[cdbOff + i] = b }
        put(UInt64(cdbOff), at: e + Int(CTCMU_REQ_CDB_OFF))
        outstanding.insert(id)
        if publish { head = (at + size) % cmdrSize }
        return at
    }

    /// `queue_tmr_ring`: type, count and ids, length rounded up to 8.
    @discardableResult
    func queueTMR(type: UInt8, ids: [UInt16]) -> Int? {
        let size = FakeKernel.roundUp(Int(CTCMU_TMR_SIZE) + 2 * ids.count, Int(CTCMU_OP_ALIGN_SIZE))
        guard let at = place(size: size) else { return nil }
        let e = cmdrOff + at
        memory.baseAddress!.advanced(by: e).initializeMemory(as: UInt8.self, repeating: 0, count: size)
        var lenOp: UInt32 = 0
        tcmu_hdr_set_op(&lenOp, TCMU_OP_TMR)
        tcmu_hdr_set_len(&lenOp, UInt32(size))
        put(lenOp, at: e + Int(CTCMU_HDR_LEN_OP))
        put(type, at: e + Int(CTCMU_TMR_TYPE))
        put(UInt32(ids.count), at: e + Int(CTCMU_TMR_CMD_CNT))
        for (i, id) in ids.enumerated() { put(id, at: e + Int(CTCMU_TMR_CMD_IDS) + 2 * i) }
        head = (at + size) % cmdrSize
        return at
    }

    /// An entry with an arbitrary header (for corrupt rings and unknown opcodes); the rest is
    /// zeroed. Publishes the head past it when `advance` is given.
    func rawEntry(op: UInt32, length: Int, id: UInt16 = 0, zeroBytes: Int? = nil, advance: Int? = nil) {
        let e = cmdrOff + head
        memory.baseAddress!.advanced(by: e).initializeMemory(as: UInt8.self, repeating: 0, count: zeroBytes ?? min(length, cmdrSize - head))
        put(UInt32(length) | op, at: e + Int(CTCMU_HDR_LEN_OP))
        put(id, at: e + Int(CTCMU_HDR_CMD_ID))
        if let advance { head = (head + advance) % cmdrSize }
    }

    /// `tcmu_handle_completions`: from `cmdr_last_cleaned` to `cmd_tail`, PAD and TMR skipped,
    /// every other slot read as a response (`hdr.cmd_id`, `hdr.uflags`, `rsp.*`) and its id
    /// looked up; advances by each slot's own `len_op` length.
    func reap() -> [Reaped] {
        var out: [Reaped] = []
        let end = tail
        while lastCleaned != end, !broken {
            let e = cmdrOff + lastCleaned
            let lenOp: UInt32 = get(UInt32.self, at: e + Int(CTCMU_HDR_LEN_OP))
            let op = tcmu_hdr_get_op(lenOp)
            let len = Int(tcmu_hdr_get_len(lenOp))
            if op == TCMU_OP_PAD || op == TCMU_OP_TMR {
                lastCleaned = (lastCleaned + len) % cmdrSize
                continue
            }
            let id: UInt16 = get(UInt16.self, at: e + Int(CTCMU_HDR_CMD_ID))
            guard outstanding.remove(id) != nil else { broken = true; break }
            let sense = Array(memory[(e + Int(CTCMU_RSP_SENSE))..<(e + Int(CTCMU_RSP_SENSE) + Int(CTCMU_SENSE_BUFFERSIZE))])
            out.append(Reaped(slot: lastCleaned, id: id, uflags: get(UInt8.self, at: e + Int(CTCMU_HDR_UFLAGS)),
                              status: get(UInt8.self, at: e + Int(CTCMU_RSP_SCSI_STATUS)),
                              readLength: get(UInt32.self, at: e + Int(CTCMU_RSP_READ_LEN)), sense: sense))
            lastCleaned = (lastCleaned + len) % cmdrSize
        }
        return out
    }
}

// CDBs of the lengths `scsi_command_size` gives.
enum CDBs {
    static func read10(lba: UInt32, blocks: UInt16) -> [UInt8] {
        [0x28, 0, UInt8(lba >> 24), UInt8(lba >> 16 & 0xFF), UInt8(lba >> 8 & 0xFF), UInt8(lba & 0xFF), 0, UInt8(blocks >> 8), UInt8(blocks & 0xFF), 0]
    }
    static func write10(lba: UInt32, blocks: UInt16) -> [UInt8] {
        var c = read10(lba: lba, blocks: blocks); c[0] = 0x2A; return c
    }
    static let testUnitReady: [UInt8] = [0, 0, 0, 0, 0, 0]
    static func read16(lba: UInt64, blocks: UInt32) -> [UInt8] {
        var c = [UInt8](repeating: 0, count: 16)
        c[0] = 0x88
        for i in 0..<8 { c[2 + i] = UInt8(lba >> (56 - 8 * UInt64(i)) & 0xFF) }
        for i in 0..<4 { c[10 + i] = UInt8(blocks >> (24 - 8 * UInt32(i)) & 0xFF) }
        return c
    }
}

extension TCMURing.Action {
    var command: Command? { if case let .execute(c) = self { c } else { nil } }
    var tmr: TaskManagement? { if case let .taskManagement(t) = self { t } else { nil } }
    var isNotify: Bool { if case .notifyKernel = self { true } else { false } }
    var brokenError: TCMURingError? { if case let .ringBroken(e) = self { e } else { nil } }
}
