import CTCMU
import STMF
import Testing
@testable import TCMU

private let cmdrOff = Int(CTCMU_MAILBOX_SIZE)

/// The uapi layout as gcc lays it out on this machine (x86-64/AArch64): checked against literal
/// numbers, so a header or import that shifted a field shows here and not only as a
/// self-consistent mistake.
@Test func headerLayoutIsTheKernels() {
    #expect(CTCMU_MAILBOX_SIZE == 128)
    #expect(CTCMU_MB_CMDR_OFF == 4 && CTCMU_MB_CMDR_SIZE == 8 && CTCMU_MB_CMD_HEAD == 12)
    #expect(CTCMU_MB_CMD_TAIL == 64)   // its own 64-byte line
    #expect(CTCMU_HDR_SIZE == 8 && CTCMU_HDR_CMD_ID == 4 && CTCMU_HDR_KFLAGS == 6 && CTCMU_HDR_UFLAGS == 7)
    #expect(CTCMU_ENTRY_SIZE == 112)
    #expect(CTCMU_REQ_IOV_CNT == 8 && CTCMU_REQ_IOV_BIDI_CNT == 12 && CTCMU_REQ_IOV_DIF_CNT == 16)
    #expect(CTCMU_REQ_CDB_OFF == 24 && CTCMU_REQ_IOV == 48 && CTCMU_IOVEC_SIZE == 16)
    #expect(CTCMU_RSP_SCSI_STATUS == 8 && CTCMU_RSP_READ_LEN == 12 && CTCMU_RSP_SENSE == 16 && CTCMU_SENSE_BUFFERSIZE == 96)
    #expect(CTCMU_TMR_SIZE == 32 && CTCMU_TMR_TYPE == 8 && CTCMU_TMR_CMD_CNT == 12 && CTCMU_TMR_CMD_IDS == 32)
    #expect(CTCMU_CAP_OOOC == 1 && CTCMU_CAP_READ_LEN == 2 && CTCMU_CAP_TMR == 4 && CTCMU_CAP_KEEP_BUF == 8)
    #expect(CTCMU_UFLAG_UNKNOWN_OP == 1 && CTCMU_UFLAG_READ_LEN == 2 && CTCMU_UFLAG_KEEP_BUF == 4)
    #expect(MemoryLayout<tcmu_cmd_entry_hdr>.size == 8)
}

@Test func attachReadsTheMailbox() throws {
    let k = FakeKernel(ringSize: 8192, dataSize: 4096, flags: 0b1111)
    let ring = try TCMURing(area: k.area)
    #expect(ring.capabilities == [.outOfOrderCompletion, .readLength, .taskManagement, .keepBuffer])
    #expect(ring.ringOffset == cmdrOff && ring.ringSize == 8192)
    #expect(ring.dataArea == DataRange(offset: cmdrOff + 8192, length: 4096))
    #expect(ring.readCursor == 0 && ring.tail == 0 && ring.inFlightCount == 0)
    #expect(TCMUCapabilities(rawValue: 0x15).description == "OOOC,TMR,0x10")
}

@Test func reattachStartsAtTheTail() throws {
    // After reset_ring head == tail; a handler that attaches reads from cmd_tail on.
    let k = FakeKernel()
    k.put(UInt32(256), at: Int(CTCMU_MB_CMD_TAIL))
    k.head = 256
    var ring = try TCMURing(area: k.area)
    #expect(ring.readCursor == 256 && ring.tail == 256 && !ring.hadEntriesAtAttach)
    let at = k.queueCommand(id: 9, cdb: CDBs.testUnitReady)
    #expect(at == 256)
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == [9])
    // Attaching again without a reset: the entry a previous handler left is reported.
    #expect(try TCMURing(area: k.area).hadEntriesAtAttach)
}

@Test func commandsInOrder() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 64 * 1024)
    var ring = try TCMURing(area: k.area)
    let d = k.dataOff
    // A read of 8 blocks in one buffer, a write of 4 blocks in two, a TEST UNIT READY.
    let a = try #require(k.queueCommand(id: 1, cdb: CDBs.read10(lba: 0x1234, blocks: 8), data: [(d, 4096)]))
    let b = try #require(k.queueCommand(id: 2, cdb: CDBs.write10(lba: 7, blocks: 4), data: [(d + 8192, 1024), (d + 16384, 1024)]))
    let c = try #require(k.queueCommand(id: 3, cdb: CDBs.testUnitReady))
    for i in 0..<2048 { k.memory[d + (i < 1024 ? 8192 + i : 16384 + i - 1024)] = UInt8(truncatingIfNeeded: i * 7) }

    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    let cmds = actions.compactMap(\.command)
    #expect(actions.count == 3 && cmds.count == 3)
    #expect(cmds.map(\.id) == [1, 2, 3])
    #expect(cmds.map(\.entryOffset) == [a, b, c])
    #expect(cmds[0].cdb.bytes == CDBs.read10(lba: 0x1234, blocks: 8))
    #expect(cmds[1].cdb.bytes == CDBs.write10(lba: 7, blocks: 4))
    #expect(cmds[2].cdb.bytes == CDBs.testUnitReady)
    // Entry length: max(offsetof(req.iov[n]), sizeof(entry)) + round_up(cdb, 8).
    #expect(cmds[0].entryLength == 112 + 16 && cmds[1].entryLength == 112 + 16 && cmds[2].entryLength == 112 + 8)
    #expect(cmds[0].iovecs == [DataRange(offset: d, length: 4096)] && cmds[0].dataCount == 1 && cmds[0].bidiCount == 0)
    #expect(cmds[1].iovecs == [DataRange(offset: d + 8192, length: 1024), DataRange(offset: d + 16384, length: 1024)])
    #expect(cmds[1].dataLength == 2048 && cmds[2].iovecs.isEmpty)
    #expect(ring.inFlightCount == 3 && ring.readCursor == k.head)

    // The write's data is in place; the read's buffer is filled in place.
    var out = [UInt8](repeating: 0, count: 2048)
    #expect(out.withUnsafeMutableBytes { ring.gatherData(of: cmds[1], into: $0) } == 2048)
    #expect(out == (0..<2048).map { UInt8(truncatingIfNeeded: $0 * 7) })
    let pattern = (0..<4096).map { UInt8(truncatingIfNeeded: $0 ^ 0x5A) }
    #expect(pattern.withUnsafeBytes { ring.scatterData($0, into: cmds[0]) } == 4096)
    #expect(Array(k.memory[d..<(d + 4096)]) == pattern)
    #expect(ring.buffer(cmds[0].iovecs[0]).baseAddress == k.memory.baseAddress! + d)

    // Nothing is visible before the batch ends.
    try ring.complete(id: 1, status: .good)
    try ring.complete(id: 2, status: .good)
    try ring.complete(id: 3, status: .good)
    #expect(k.tail == 0)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && actions[0].isNotify)
    #expect(k.tail == k.head && ring.publishedTail == k.head)
    let reaped = k.reap()
    #expect(reaped.map(\.id) == [1, 2, 3] && reaped.map(\.slot) == [a, b, c])
    #expect(reaped.allSatisfy { $0.status == 0 && $0.uflags == 0 && $0.readLength == 0 && $0.sense.allSatisfy { $0 == 0 } })
    #expect(!k.broken && k.outstanding.isEmpty)
    // A batch with nothing new asks for no notification.
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.isEmpty)
}

@Test func wrapWithPad() throws {
    // A 512-byte ring: three 128-byte entries fill 384 bytes; the fourth (144 bytes) does not
    // fit in the 128 left before the end once the others are reaped, so the kernel pads.
    let k = FakeKernel(ringSize: 512, dataSize: 4096, flags: UInt16(CTCMU_CAP_OOOC))
    var ring = try TCMURing(area: k.area)
    var actions: [TCMURing.Action] = []
    for id: UInt16 in 1...3 { try #require(k.queueCommand(id: id, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)]) != nil) }
    ring.poll(into: &actions)
    for id: UInt16 in 1...3 { try ring.complete(id: id, status: .good) }
    ring.publish(into: &actions)
    #expect(k.reap().map(\.id) == [1, 2, 3])
    #expect(k.head == 384 && k.tail == 384)

    // 144 bytes (READ(16) with five iovecs: 48 + 5 × 16 + 16) do not fit in the 128 left: PAD
    // of 128 at 384, the command at 0.
    let five = (0..<5).map { (offset: k.dataOff + $0 * 512, length: 512) }
    let at = k.queueCommand(id: 4, cdb: CDBs.read16(lba: 1 << 40, blocks: 2), data: five)
    #expect(at == 0)
    let lenOp: UInt32 = k.get(UInt32.self, at: cmdrOff + 384)
    #expect(tcmu_hdr_get_op(lenOp) == TCMU_OP_PAD && tcmu_hdr_get_len(lenOp) == 128)
    actions.removeAll()
    ring.poll(into: &actions)
    let cmd = try #require(actions.first?.command)
    #expect(actions.count == 1)
    #expect(cmd.id == 4 && cmd.entryOffset == 0 && cmd.entryLength == 144 && cmd.cdb.bytes == CDBs.read16(lba: 1 << 40, blocks: 2))
    #expect(cmd.iovecs.count == 5 && ring.readCursor == 144)

    try ring.complete(id: 4, status: .checkCondition, sense: [0x70, 0, 0x03])
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && k.tail == 144)
    let reaped = k.reap()
    #expect(reaped.count == 1 && reaped[0].slot == 0 && reaped[0].id == 4 && reaped[0].status == 2)
    #expect(Array(reaped[0].sense.prefix(4)) == [0x70, 0, 0x03, 0])
}

@Test func padAtTheTailIsPassedOverAtPublish() throws {
    // In order: when the commands before a PAD are done, the tail also passes the PAD.
    let k = FakeKernel(ringSize: 512, dataSize: 4096)
    var ring = try TCMURing(area: k.area)
    var actions: [TCMURing.Action] = []
    for id: UInt16 in 1...3 { k.queueCommand(id: id, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)]) }
    ring.poll(into: &actions)
    for id: UInt16 in 1...3 { try ring.complete(id: id, status: .good) }
    ring.publish(into: &actions)
    _ = k.reap()
    k.queueCommand(id: 4, cdb: CDBs.read16(lba: 0, blocks: 1), data: (0..<5).map { (offset: k.dataOff + $0 * 512, length: 512) })
    actions.removeAll()
    ring.poll(into: &actions)
    ring.publish(into: &actions)
    #expect(actions.count == 2 && actions[1].isNotify && k.tail == 0)   // past the PAD only
    try ring.complete(id: 4, status: .good)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(k.tail == 144 && k.reap().map(\.id) == [4])
}

@Test func inOrderCompletionsAcrossAPad() throws {
    // Without OOOC: [3 running, PAD, 4 done early]: when 3 ends the tail passes all three.
    let k = FakeKernel(ringSize: 512, dataSize: 4096)
    var ring = try TCMURing(area: k.area)
    var actions: [TCMURing.Action] = []
    for id: UInt16 in 1...3 { k.queueCommand(id: id, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)]) }
    ring.poll(into: &actions)
    try ring.complete(id: 1, status: .good)
    try ring.complete(id: 2, status: .good)
    ring.publish(into: &actions)
    #expect(k.reap().map(\.id) == [1, 2] && k.tail == 256)
    let at = k.queueCommand(id: 4, cdb: CDBs.read16(lba: 0, blocks: 1), data: (0..<5).map { (offset: k.dataOff + $0 * 512, length: 512) })
    #expect(at == 0)
    actions.removeAll()
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == [4])
    try ring.complete(id: 4, status: .good)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.isEmpty && k.tail == 256)
    try ring.complete(id: 3, status: .good)
    ring.publish(into: &actions)
    #expect(actions.count == 1 && k.tail == 144)
    let reaped = k.reap()
    #expect(reaped.map(\.id) == [3, 4] && reaped.map(\.slot) == [256, 0] && !k.broken)
}

@Test func outOfOrderCompletionFillsTheTailSlots() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 64 * 1024, flags: UInt16(CTCMU_CAP_OOOC | CTCMU_CAP_READ_LEN))
    var ring = try TCMURing(area: k.area)
    let d = k.dataOff
    let s1 = try #require(k.queueCommand(id: 10, cdb: CDBs.read10(lba: 0, blocks: 8), data: [(d, 4096)]))
    // Five iovecs: base size 48 + 5 × 16 = 128 > 112, CDB at 128.
    let five = (0..<5).map { (offset: d + 4096 + $0 * 512, length: 512) }
    let s2 = try #require(k.queueCommand(id: 11, cdb: CDBs.write10(lba: 8, blocks: 5), data: five))
    let s3 = try #require(k.queueCommand(id: 12, cdb: CDBs.read10(lba: 64, blocks: 2), data: [(d + 8192, 1024)]))
    #expect(s2 == s1 + 128 && s3 == s2 + 128 + 16)
    #expect(k.get(UInt64.self, at: cmdrOff + s2 + Int(CTCMU_REQ_CDB_OFF)) == UInt64(cmdrOff + s2 + 128))

    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    let cmds = actions.compactMap(\.command)
    #expect(cmds.map(\.id) == [10, 11, 12] && cmds[1].iovecs.count == 5 && cmds[1].cdb.bytes == CDBs.write10(lba: 8, blocks: 5))

    // 12 first (a short read), then 10 (CHECK CONDITION with sense), then 11.
    try ring.complete(id: 12, status: .good, readLength: 512)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && actions[0].isNotify)
    #expect(k.tail == s2)                       // one slot, the first one
    var reaped = k.reap()
    #expect(reaped == [FakeKernel.Reaped(slot: s1, id: 12, uflags: UInt8(CTCMU_UFLAG_READ_LEN), status: 0, readLength: 512,
                                         sense: [UInt8](repeating: 0, count: 96))])

    let sense = SenseData(.mediumError, .unrecoveredReadError, information: 3)
    try ring.complete(id: 10, status: .checkCondition, sense: sense, descriptor: false)
    try ring.complete(id: 11, status: .good)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && k.tail == k.head)
    reaped = k.reap()
    var fixed = [UInt8](repeating: 0, count: 96)
    _ = fixed.withUnsafeMutableBytes { sense.encode(descriptor: false, into: $0) }
    #expect(fixed[0] & 0x7F == 0x70 && fixed[2] & 0x0F == 0x03 && fixed[12] == 0x11)   // fixed, current; MEDIUM ERROR
    // Slot 2 held five iovecs (bytes 48...127): the response leaves no trace of them.
    #expect(reaped == [FakeKernel.Reaped(slot: s2, id: 10, uflags: 0, status: 2, readLength: 0, sense: fixed),
                       FakeKernel.Reaped(slot: s3, id: 11, uflags: 0, status: 0, readLength: 0, sense: [UInt8](repeating: 0, count: 96))])
    // The slots keep their kernel lengths: len_op is not touched.
    #expect(tcmu_hdr_get_len(k.get(UInt32.self, at: cmdrOff + s2)) == 144)
    #expect(!k.broken && k.outstanding.isEmpty && ring.inFlightCount == 0)
}

@Test func inOrderCompletionsWaitForTheirTurn() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 16 * 1024)   // no CAP_OOOC
    var ring = try TCMURing(area: k.area)
    let s = (1...3).map { k.queueCommand(id: UInt16($0), cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff + $0 * 512, 512)])! }
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    actions.removeAll()

    try ring.complete(id: 3, status: .busy)
    ring.publish(into: &actions)
    #expect(actions.isEmpty && k.tail == 0 && k.reap().isEmpty)
    try ring.complete(id: 2, status: .taskSetFull)
    ring.publish(into: &actions)
    #expect(actions.isEmpty && k.tail == 0)

    try ring.complete(id: 1, status: .good)
    ring.publish(into: &actions)
    #expect(actions.count == 1 && actions[0].isNotify && k.tail == k.head)
    let reaped = k.reap()
    // Each in its own slot: the kernel pairs slots and commands by position.
    #expect(reaped.map(\.slot) == s && reaped.map(\.id) == [1, 2, 3])
    #expect(reaped.map(\.status) == [0, 0x28, 0x08])
    #expect(!k.broken)

    // The tail stops at the first command not done.
    for id: UInt16 in 4...6 { k.queueCommand(id: id, cdb: CDBs.testUnitReady) }
    actions.removeAll()
    ring.poll(into: &actions)
    try ring.complete(id: 4, status: .good)
    try ring.complete(id: 6, status: .good)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && k.reap().map(\.id) == [4])
    try ring.complete(id: 5, status: .good)
    ring.publish(into: &actions)
    #expect(k.reap().map(\.id) == [5, 6] && k.tail == k.head)
}

@Test func taskManagementEntriesAreListedAndSkipped() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 16 * 1024, flags: UInt16(CTCMU_CAP_OOOC | CTCMU_CAP_TMR))
    var ring = try TCMURing(area: k.area)
    let s1 = k.queueCommand(id: 1, cdb: CDBs.testUnitReady)!
    let s2 = k.queueCommand(id: 2, cdb: CDBs.testUnitReady)!
    let t = k.queueTMR(type: 5, ids: [1, 2, 77])!        // LUN RESET; 32 + 6 → 40 bytes
    let s3 = k.queueCommand(id: 3, cdb: CDBs.testUnitReady)!
    #expect(s3 == t + 40)

    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.count == 4)
    #expect(actions[0].command?.id == 1 && actions[1].command?.id == 2 && actions[3].command?.id == 3)
    let tmr = try #require(actions[2].tmr)
    #expect(tmr.function == .lunReset && tmr.commandIDs == [1, 2, 77] && tmr.entryOffset == t && tmr.entryLength == 40)

    // Three completions, in any order, fill the three command slots; the TMR entry is skipped.
    try ring.complete(id: 3, status: .good)
    try ring.complete(id: 2, status: .taskAborted)
    try ring.complete(id: 1, status: .taskAborted)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(actions.count == 1 && k.tail == k.head)
    let reaped = k.reap()
    #expect(reaped.map(\.slot) == [s1, s2, s3] && reaped.map(\.id) == [3, 2, 1])
    // The TMR entry's bytes are untouched (its type is still there).
    #expect(k.get(UInt8.self, at: cmdrOff + t + Int(CTCMU_TMR_TYPE)) == 5)

    // A TMR alone: the tail passes it at the end of the batch.
    k.queueTMR(type: 1, ids: [])
    actions.removeAll()
    ring.poll(into: &actions)
    #expect(actions.first?.tmr == TaskManagement(function: .abortTask, commandIDs: [], entryOffset: k.head - 32, entryLength: 32))
    ring.publish(into: &actions)
    #expect(actions.last?.isNotify == true && k.tail == k.head)
}

@Test func unknownOpcodeIsCompletedWithUnknownOp() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 4096)
    var ring = try TCMURing(area: k.area)
    k.queueCommand(id: 1, cdb: CDBs.testUnitReady)
    let odd = k.head
    k.rawEntry(op: 5, length: 128, id: 40, advance: 128)
    k.outstanding.insert(40)      // the kernel would look the slot's id up
    k.queueCommand(id: 2, cdb: CDBs.testUnitReady)
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == [1, 2] && actions.count == 2)
    #expect(ring.inFlightCount == 2)
    try ring.complete(id: 1, status: .good)
    actions.removeAll()
    ring.publish(into: &actions)
    #expect(k.tail == odd + 128)      // past the unknown entry, answered already
    let reaped = k.reap()
    #expect(reaped.count == 2 && reaped[1].slot == odd && reaped[1].id == 40)
    #expect(reaped[1].uflags == UInt8(CTCMU_UFLAG_UNKNOWN_OP))
}

@Test func headMovingWhilePolling() throws {
    let k = FakeKernel(ringSize: 4096, dataSize: 4096)
    var ring = try TCMURing(area: k.area)
    var actions: [TCMURing.Action] = []
    k.queueCommand(id: 1, cdb: CDBs.testUnitReady)
    // The next entry is written but its head not yet published: not read.
    k.queueCommand(id: 2, cdb: CDBs.read10(lba: 1, blocks: 1), data: [(k.dataOff, 512)], publish: false)
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == [1])
    k.head += 128
    k.queueCommand(id: 3, cdb: CDBs.testUnitReady)
    actions.removeAll()
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == [2, 3])
    actions.removeAll()
    ring.poll(into: &actions)
    #expect(actions.isEmpty && ring.readCursor == k.head)
}

@Test func variableLengthCDB() throws {
    let k = FakeKernel()
    var ring = try TCMURing(area: k.area)
    var cdb = [UInt8](repeating: 0, count: 32)
    cdb[0] = 0x7F; cdb[7] = 24; cdb[9] = 0x09; cdb[31] = 0xEE    // READ(32): 24 + 8 bytes
    k.queueCommand(id: 5, cdb: cdb, data: [(k.dataOff, 512)])
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.first?.command?.cdb.bytes == cdb)
}

@Test func bidiIovecs() throws {
    let k = FakeKernel()
    var ring = try TCMURing(area: k.area)
    k.queueCommand(id: 5, cdb: [0x53, 0, 0, 0, 0, 0, 0, 0, 1, 0], data: [(k.dataOff, 512)], bidi: [(k.dataOff + 512, 512)])
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    let c = try #require(actions.first?.command)
    #expect(c.dataCount == 1 && c.bidiCount == 1 && c.difCount == 0)
    #expect(Array(c.bidiIovecs) == [DataRange(offset: k.dataOff + 512, length: 512)] && c.dataLength == 512)
}

// MARK: Malformed mailboxes

@Test func attachRefusesMalformedMailboxes() {
    func attach(_ k: FakeKernel) -> TCMURingError? {
        do { _ = try TCMURing(area: k.area); return nil } catch { return error }
    }
    #expect(attach(FakeKernel(version: 1)) == .unsupportedVersion(1))
    #expect(attach(FakeKernel(version: 3)) == .unsupportedVersion(3))

    var k = FakeKernel(ringSize: 4096, dataSize: 4096)
    k.put(UInt32(8200), at: Int(CTCMU_MB_CMDR_SIZE))
    #expect(attach(k) == .ringOutsideMap(offset: 128, size: 8200, mapSize: 128 + 8192))
    k = FakeKernel(ringSize: 4096, dataSize: 4096)
    k.put(UInt32(0xFFFF_FFF8), at: Int(CTCMU_MB_CMDR_OFF))      // offset + size overflows 32 bits
    #expect(attach(k) == .ringOutsideMap(offset: 0xFFFF_FFF8, size: 4096, mapSize: 128 + 8192))
    k = FakeKernel()
    k.put(UInt32(64), at: Int(CTCMU_MB_CMDR_OFF))
    #expect(attach(k) == .ringOverlapsMailbox(offset: 64))
    k = FakeKernel()
    k.put(UInt32(132), at: Int(CTCMU_MB_CMDR_OFF))
    #expect(attach(k) == .ringMisaligned(offset: 132, size: 4096))
    k = FakeKernel()
    k.put(UInt32(4092), at: Int(CTCMU_MB_CMDR_SIZE))
    #expect(attach(k) == .ringMisaligned(offset: 128, size: 4092))
    k = FakeKernel()
    k.put(UInt32(0), at: Int(CTCMU_MB_CMDR_SIZE))
    #expect(attach(k) == .ringMisaligned(offset: 128, size: 0))
    k = FakeKernel(ringSize: 4096)
    k.head = 4096
    #expect(attach(k) == .headOutOfRange(4096))
    k = FakeKernel()
    k.head = 12
    #expect(attach(k) == .headOutOfRange(12))
    k = FakeKernel()
    k.put(UInt32(5000), at: Int(CTCMU_MB_CMD_TAIL))
    #expect(attach(k) == .tailOutOfRange(5000))

    let small = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 64)
    defer { small.deallocate() }
    small.initializeMemory(as: UInt8.self, repeating: 0)
    #expect(throws: TCMURingError.mapTooSmall(size: 64)) { try TCMURing(area: SharedArea(small)) }
}

// MARK: Corrupt entries

/// Polls a ring the test corrupted; the machine must report `expected` once and then neither
/// read nor complete anything.
private func expectBroken(_ k: FakeKernel, _ expected: TCMURingError, before: [UInt16] = [],
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
    var ring = try TCMURing(area: k.area)
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.compactMap(\.command).map(\.id) == before, sourceLocation: sourceLocation)
    #expect(actions.last?.brokenError == expected, sourceLocation: sourceLocation)
    #expect(ring.brokenBy == expected, sourceLocation: sourceLocation)
    actions.removeAll()
    ring.poll(into: &actions)
    ring.publish(into: &actions)
    #expect(actions.isEmpty, sourceLocation: sourceLocation)
    if let id = before.first {
        #expect(throws: TCMUCompletionError.ringBroken, sourceLocation: sourceLocation) { try ring.complete(id: id, status: .good) }
    }
}

@Test func entryLengthZero() throws {
    let k = FakeKernel()
    k.queueCommand(id: 1, cdb: CDBs.testUnitReady)
    let at = k.head
    k.rawEntry(op: TCMU_OP_CMD.rawValue, length: 0, id: 2, zeroBytes: 8, advance: 128)
    try expectBroken(k, .entryLengthZero(at: at), before: [1])
}

@Test func entryPastRingEnd() throws {
    let k = FakeKernel(ringSize: 1024)
    k.head = 896
    k.put(UInt32(896), at: Int(CTCMU_MB_CMD_TAIL))
    k.rawEntry(op: TCMU_OP_PAD.rawValue, length: 256, zeroBytes: 8, advance: 128)    // ends at 1152
    try expectBroken(k, .entryPastRingEnd(at: 896, length: 256))
}

@Test func entryPastHead() throws {
    let k = FakeKernel()
    k.rawEntry(op: TCMU_OP_CMD.rawValue, length: 256, id: 1, zeroBytes: 256, advance: 128)
    try expectBroken(k, .entryPastHead(at: 0, length: 256, head: 128))
}

@Test func headNotAligned() throws {
    let k = FakeKernel()
    var ring = try TCMURing(area: k.area)
    k.head = 100
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(actions.count == 1 && actions[0].brokenError == .headOutOfRange(100))
}

@Test func commandEntryTooShort() throws {
    // A CMD entry shorter than struct tcmu_cmd_entry cannot take a response.
    let k = FakeKernel()
    k.rawEntry(op: TCMU_OP_CMD.rawValue, length: 104, id: 1, advance: 104)
    try expectBroken(k, .entryTooShort(at: 0, length: 104, needed: 112))

    // iov counts the entry cannot hold (4G iovecs).
    let k2 = FakeKernel()
    let at = k2.queueCommand(id: 1, cdb: CDBs.testUnitReady)!
    k2.put(UInt32.max, at: k2.cmdrOff + at + Int(CTCMU_REQ_IOV_BIDI_CNT))
    try expectBroken(k2, .entryTooShort(at: 0, length: 120, needed: 48 + Int(UInt32.max) * 16))
}

@Test func iovecOutsideTheDataArea() throws {
    // Into the command ring.
    var k = FakeKernel()
    k.queueCommand(id: 1, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.cmdrOff, 512)])
    try expectBroken(k, .iovecOutsideDataArea(id: 1, index: 0, offset: UInt64(k.cmdrOff), length: 512))
    // Past the end of the map (second iovec).
    k = FakeKernel(ringSize: 4096, dataSize: 4096)
    k.queueCommand(id: 2, cdb: CDBs.read10(lba: 0, blocks: 2), data: [(k.dataOff, 512), (k.dataOff + 3584, 1024)])
    try expectBroken(k, .iovecOutsideDataArea(id: 2, index: 1, offset: UInt64(k.dataOff + 3584), length: 1024))
    // A length that overflows offset + length.
    k = FakeKernel(ringSize: 4096, dataSize: 4096)
    let at = k.queueCommand(id: 3, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)])!
    k.put(UInt64.max, at: k.cmdrOff + at + Int(CTCMU_REQ_IOV) + Int(CTCMU_IOVEC_LEN))
    try expectBroken(k, .iovecOutsideDataArea(id: 3, index: 0, offset: UInt64(k.dataOff), length: .max))
    // An address, not an offset.
    k = FakeKernel(ringSize: 4096, dataSize: 4096)
    let at2 = k.queueCommand(id: 4, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)])!
    k.put(UInt64(0x7FFF_0000_1000), at: k.cmdrOff + at2 + Int(CTCMU_REQ_IOV) + Int(CTCMU_IOVEC_BASE))
    try expectBroken(k, .iovecOutsideDataArea(id: 4, index: 0, offset: 0x7FFF_0000_1000, length: 512))
}

@Test func cdbOutsideItsEntry() throws {
    func corrupt(_ cdbOff: (FakeKernel, Int) -> UInt64, _ expected: (FakeKernel, Int) -> TCMURingError) throws {
        let k = FakeKernel()
        let at = k.queueCommand(id: 1, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)])!
        k.put(cdbOff(k, at), at: k.cmdrOff + at + Int(CTCMU_REQ_CDB_OFF))
        try expectBroken(k, expected(k, at))
    }
    // In the data area.
    try corrupt({ k, _ in UInt64(k.dataOff) }, { k, _ in .cdbOutsideEntry(id: 1, offset: UInt64(k.dataOff), length: 0) })
    // Beyond the map.
    try corrupt({ _, _ in 1 << 40 }, { _, _ in .cdbOutsideEntry(id: 1, offset: 1 << 40, length: 0) })
    // Over the entry's own iovecs.
    try corrupt({ k, at in UInt64(k.cmdrOff + at + 48) }, { k, at in .cdbOutsideEntry(id: 1, offset: UInt64(k.cmdrOff + at + 48), length: 0) })
    // Starting 4 bytes before the entry's end, where the byte (a zero: TEST UNIT READY) opens a
    // 6-byte CDB.
    try corrupt({ k, at in UInt64(k.cmdrOff + at + 124) }, { k, at in .cdbOutsideEntry(id: 1, offset: UInt64(k.cmdrOff + at + 124), length: 6) })
}

@Test func commandIDsChecked() throws {
    var k = FakeKernel()
    k.queueCommand(id: 0, cdb: CDBs.testUnitReady)
    try expectBroken(k, .invalidCommandID(at: 0))
    k = FakeKernel()
    k.queueCommand(id: 9, cdb: CDBs.testUnitReady)
    let second = k.queueCommand(id: 9, cdb: CDBs.testUnitReady)!
    try expectBroken(k, .duplicateCommandID(9, at: second), before: [9])
}

@Test func taskManagementEntryTooShort() throws {
    let k = FakeKernel()
    let at = k.queueTMR(type: 1, ids: [1])!            // 40 bytes: room for 4 ids
    k.put(UInt32(5), at: k.cmdrOff + at + Int(CTCMU_TMR_CMD_CNT))
    try expectBroken(k, .entryTooShort(at: 0, length: 40, needed: 42))
}

// MARK: Completion misuse

@Test func completionsChecked() throws {
    let k = FakeKernel(flags: UInt16(CTCMU_CAP_OOOC))
    var ring = try TCMURing(area: k.area)
    k.queueCommand(id: 1, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)])
    var actions: [TCMURing.Action] = []
    ring.poll(into: &actions)
    #expect(throws: TCMUCompletionError.unknownCommand(2)) { try ring.complete(id: 2, status: .good) }
    let long = [UInt8](repeating: 1, count: 97)
    #expect(throws: TCMUCompletionError.senseTooLong(97)) {
        try long.withUnsafeBytes { try ring.complete(id: 1, status: .checkCondition, sense: $0) }
    }
    #expect(throws: TCMUCompletionError.readLengthUnsupported) { try ring.complete(id: 1, status: .good, readLength: 10) }
    #expect(throws: TCMUCompletionError.keepBufferUnsupported) { try ring.complete(id: 1, status: .good, keepBuffer: true) }
    #expect(k.tail == 0 && ring.inFlightCount == 1)
    // 96 bytes of sense is the limit, and is allowed.
    let full = [UInt8](repeating: 0xAB, count: 96)
    try ring.handle(.completed(.init(id: 1, status: .checkCondition, sense: full)), into: &actions)
    #expect(throws: TCMUCompletionError.unknownCommand(1)) { try ring.complete(id: 1, status: .good) }
    try ring.handle(.batchEnded, into: &actions)
    #expect(k.reap() == [FakeKernel.Reaped(slot: 0, id: 1, uflags: 0, status: 2, readLength: 0, sense: full)])
}

@Test func keepBufferWithTheCapability() throws {
    let k = FakeKernel(flags: UInt16(CTCMU_CAP_KEEP_BUF | CTCMU_CAP_READ_LEN))
    var ring = try TCMURing(area: k.area)
    k.queueCommand(id: 1, cdb: CDBs.read10(lba: 0, blocks: 1), data: [(k.dataOff, 512)])
    var actions: [TCMURing.Action] = []
    try ring.handle(.kernelPosted, into: &actions)
    try ring.complete(id: 1, status: .good, readLength: 100, keepBuffer: true)
    try ring.handle(.batchEnded, into: &actions)
    let r = k.reap()
    #expect(r.count == 1 && r[0].uflags == UInt8(CTCMU_UFLAG_KEEP_BUF | CTCMU_UFLAG_READ_LEN) && r[0].readLength == 100)
}

@Test func aLongRunWrapsManyTimes() throws {
    // Commands of varying sizes through a small ring, completed in a shuffled order with OOOC:
    // the kernel must reap every id exactly once and never find an unknown one.
    let k = FakeKernel(ringSize: 1024, dataSize: 64 * 1024, flags: UInt16(CTCMU_CAP_OOOC | CTCMU_CAP_TMR))
    var ring = try TCMURing(area: k.area)
    var rng = SplitMix(seed: 42)
    var nextID: UInt16 = 1
    var pending: [UInt16] = []
    var reapedIDs: [UInt16] = []
    var posted: [UInt16] = []
    var actions: [TCMURing.Action] = []
    var tmrs = 0, wraps = 0
    for _ in 0..<400 {
        // The kernel posts until the ring is full or it chose to stop.
        for _ in 0..<Int(rng.next() % 4) {
            let n = Int(rng.next() % 6)
            let iovs = (0..<n).map { (offset: k.dataOff + $0 * 4096, length: 4096) }
            let before = k.head
            defer { if k.head < before { wraps += 1 } }
            if rng.next() % 10 == 0 {
                guard k.queueTMR(type: 1, ids: Array(pending.prefix(3))) != nil else { break }
                tmrs += 1
            } else {
                guard k.queueCommand(id: nextID, cdb: rng.next() % 2 == 0 ? CDBs.read16(lba: 0, blocks: 1) : CDBs.testUnitReady, data: iovs) != nil else { break }
                posted.append(nextID)
                nextID = nextID == UInt16.max ? 1 : nextID + 1
            }
        }
        actions.removeAll()
        ring.poll(into: &actions)
        #expect(!actions.contains { $0.brokenError != nil })
        pending += actions.compactMap(\.command).map(\.id)
        // Userspace finishes some of them, in random order.
        for _ in 0..<Int(rng.next() % 4) where !pending.isEmpty {
            let id = pending.remove(at: Int(rng.next() % UInt64(pending.count)))
            try ring.complete(id: id, status: .good)
        }
        ring.publish(into: &actions)
        reapedIDs += k.reap().map(\.id)
        #expect(!k.broken)
    }
    for id in pending { try ring.complete(id: id, status: .good) }
    ring.publish(into: &actions)
    reapedIDs += k.reap().map(\.id)
    #expect(!k.broken && k.outstanding.isEmpty && ring.inFlightCount == 0 && k.tail == k.head)
    #expect(reapedIDs.sorted() == posted.sorted() && posted.count > 300)
    #expect(tmrs > 20 && wraps > 50)
}

@Test func garbageNeverTraps() throws {
    // Random entries (lengths, opcodes, counts, offsets mostly plausible, sometimes not) and
    // random heads: the machine may find the ring broken, but must never read out of bounds or
    // trap (a trap ends the test process). Whatever it hands out must lie inside the map.
    var rng = SplitMix(seed: 7)
    var brokenRings = 0, commands = 0
    for _ in 0..<3000 {
        let k = FakeKernel(ringSize: 1024, dataSize: 4096, flags: UInt16(truncatingIfNeeded: rng.next() % 16))
        for i in stride(from: 0, to: 1024, by: 8) {
            k.put(rng.next(), at: k.cmdrOff + i)
        }
        var at = 0
        while at < 1024 {
            let length = 8 * Int(1 + rng.next() % 24)
            let op = UInt32(rng.next() % 10 < 8 ? 1 : rng.next() % 8)
            k.put(UInt32(length) | op, at: k.cmdrOff + at)
            k.put(UInt16(truncatingIfNeeded: rng.next() % 8), at: k.cmdrOff + at + Int(CTCMU_HDR_CMD_ID))
            if at + 112 <= 1024 {
                k.put(UInt32(rng.next() % 4), at: k.cmdrOff + at + Int(CTCMU_REQ_IOV_CNT))
                k.put(UInt32(rng.next() % 8 == 0 ? rng.next() % 4 : 0), at: k.cmdrOff + at + Int(CTCMU_REQ_IOV_BIDI_CNT))
                k.put(UInt32(0), at: k.cmdrOff + at + Int(CTCMU_REQ_IOV_DIF_CNT))
                k.put(UInt64(k.cmdrOff + at + 48 + Int(rng.next() % UInt64(length))), at: k.cmdrOff + at + Int(CTCMU_REQ_CDB_OFF))
                for j in 0..<3 where at + 48 + 16 * (j + 1) <= 1024 {
                    k.put(UInt64(k.dataOff - 64 + Int(rng.next() % 4200)), at: k.cmdrOff + at + 48 + 16 * j)
                    k.put(UInt64(rng.next() % 5000), at: k.cmdrOff + at + 56 + 16 * j)
                }
            }
            at += length
        }
        k.head = 8 * Int(rng.next() % 128)
        if rng.next() % 20 == 0 { k.put(UInt32(truncatingIfNeeded: rng.next()), at: Int(CTCMU_MB_CMD_HEAD)) }
        guard var ring = try? TCMURing(area: k.area) else { continue }
        var actions: [TCMURing.Action] = []
        ring.poll(into: &actions)
        for a in actions {
            if let c = a.command {
                commands += 1
                for r in c.iovecs { #expect(r.offset >= k.dataOff && r.offset + r.length <= k.memory.count) }
                #expect(c.entryOffset + c.entryLength <= 1024)
                if ring.brokenBy == nil {
                    try ring.complete(id: c.id, status: .good)
                } else {
                    #expect(throws: TCMUCompletionError.ringBroken) { try ring.complete(id: c.id, status: .good) }
                }
            }
            if a.brokenError != nil { brokenRings += 1 }
        }
        ring.publish(into: &actions)
        ring.poll(into: &actions)
    }
    #expect(brokenRings > 100 && commands > 100)
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
