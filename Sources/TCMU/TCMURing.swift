import STMF

/// The TCMU command ring of one device (`target_core_user`), as a pure state machine over the
/// shared area: the kernel's entries are read from the machine's read cursor to `cmd_head`,
/// commands and task management functions come out as actions, and completions are written back
/// as the kernel reaps them (`tcmu_handle_completions`: from its last cleaned position to
/// `cmd_tail`, PAD and TMR entries skipped, every other entry read as the response of the command
/// whose id it carries, the position advanced by that entry's length).
///
/// Nothing here opens the uio device, maps it, reads or writes its descriptor, or keeps time: the
/// runtime maps `/dev/uioN`, reads 4 bytes when the kernel signals, gives `.kernelPosted`, runs
/// the commands, gives their completions, ends the batch with `.batchEnded`, and writes 4 bytes
/// to the descriptor when the machine asks (`.notifyKernel`, at most once per batch).
///
/// Completion order:
/// - with CAP_OOOC, each completion goes into the next command slot at the tail (PAD and TMR
///   entries before it are passed over), whatever command that slot was posted for: the kernel
///   takes the id from the slot;
/// - without it, the kernel pairs slots and commands by position, so a command completed before
///   those posted ahead of it is written into its own slot and the tail waits for the earlier
///   ones: nothing of it is visible to the kernel, which reads only up to `cmd_tail`, before its
///   turn.
///
/// Every offset and length read from the shared area is checked before it is used; a ring the
/// kernel (or anything else) wrote wrongly gives `.ringBroken` once and stops the machine, never
/// an out-of-bounds access or a trap. Recovery is the kernel's `action/reset_ring` and a new
/// attach, as after a restart (kernel-path.md §5.6).
public struct TCMURing: Sendable {
    /// An event for the machine.
    public enum Event: Sendable {
        /// The kernel signalled (the uio descriptor was readable), or the runtime looks anyway:
        /// read the entries up to `cmd_head`.
        case kernelPosted
        /// A command finished.
        case completed(Completion)
        /// No more completions for now: publish `cmd_tail`.
        case batchEnded
    }

    /// What the runtime does, in order.
    public enum Action: Sendable {
        /// Run a command and complete it (`.completed` / `complete`), exactly once.
        case execute(Command)
        /// The kernel announced a task management function; finish the commands it lists soon.
        case taskManagement(TaskManagement)
        /// Write 4 bytes to the uio descriptor: the kernel reaps the completions up to the tail.
        case notifyKernel
        /// The ring is corrupt: stop using it (reset the ring, attach again).
        case ringBroken(TCMURingError)
    }

    /// How a command ended.
    public struct Completion: Sendable {
        public var id: UInt16
        public var status: SCSIStatus
        /// Sense bytes for CHECK CONDITION (at most 96; the rest of the kernel's buffer is zeroed).
        public var sense: [UInt8]
        /// How many bytes a read really returned (needs CAP_READ_LEN); nil: the whole buffer.
        public var readLength: UInt32?
        /// Keep the data buffer after completion (needs CAP_KEEP_BUF).
        public var keepBuffer: Bool

        public init(id: UInt16, status: SCSIStatus, sense: [UInt8] = [], readLength: UInt32? = nil, keepBuffer: Bool = false) {
            self.id = id; self.status = status; self.sense = sense; self.readLength = readLength; self.keepBuffer = keepBuffer
        }
    }

    /// An entry read and not yet passed by the tail.
    struct Slot {
        enum Kind: UInt8 {
            /// PAD or TMR: the kernel skips it when reaping.
            case skip
            /// CMD (or an unknown opcode, which the kernel reaps as a CMD slot).
            case command
        }
        var offset: Int      // from the ring start
        var length: Int
        var kind: Kind
        var id: UInt16
        /// In-order mode: the slot holds its command's response.
        var done: Bool
    }

    public let area: SharedArea
    public let capabilities: TCMUCapabilities
    /// The command ring: `cmdr_off` and `cmdr_size`.
    public let ringOffset: Int
    public let ringSize: Int
    /// Everything after the ring, to the end of the map: where iovecs point.
    public let dataArea: DataRange

    /// The next entry to read (offset from the ring start).
    public private(set) var readCursor: Int
    /// The tail as the machine has advanced it (offset from the ring start).
    public private(set) var tail: Int
    /// The tail the kernel can see (`cmd_tail`).
    public private(set) var publishedTail: Int
    /// Whether `cmd_head` was not at `cmd_tail` when the machine attached: entries a previous
    /// handler left. They are read like new ones, so a runtime that reattaches must reset the
    /// ring first (`action/block_dev`, `action/reset_ring`: the kernel bounces them as BUSY)
    /// and never execute them: newer writes may have reached the LU by other paths since
    /// (kernel-path.md §5.6). A runtime that finds this set after a reset should refuse the ring.
    public let hadEntriesAtAttach: Bool
    /// Set once the ring is found corrupt.
    public private(set) var brokenBy: TCMURingError?

    var slots = SlotQueue()
    var inFlight = IDSet()
    /// Commands read and not yet completed.
    public var inFlightCount: Int { inFlight.count }

    /// Attaches to a mapped TCMU area: checks the mailbox (version 2, the ring inside the map
    /// and after the mailbox, 8-aligned, head and tail inside the ring) and starts reading at
    /// `cmd_tail` (after a `reset_ring` head and tail are both 0).
    public init(area: SharedArea) throws(TCMURingError) {
        guard area.count >= Layout.mailboxSize else { throw .mapTooSmall(size: area.count) }
        let version: UInt16 = area.load(UInt16.self, at: Layout.version)
        guard version == Layout.mailboxVersion else { throw .unsupportedVersion(version) }
        let flags: UInt16 = area.load(UInt16.self, at: Layout.flags)
        let off: UInt32 = area.load(UInt32.self, at: Layout.cmdrOff)
        let size: UInt32 = area.load(UInt32.self, at: Layout.cmdrSize)
        guard Int(off) >= Layout.mailboxSize else { throw .ringOverlapsMailbox(offset: off) }
        guard size > 0, Int(off) % Layout.alignment == 0, Int(size) % Layout.alignment == 0 else {
            throw .ringMisaligned(offset: off, size: size)
        }
        guard area.contains(offset: Int(off), length: Int(size)) else {
            throw .ringOutsideMap(offset: off, size: size, mapSize: area.count)
        }
        let head = area.loadAcquire(at: Layout.cmdHead)
        guard TCMURing.inRing(head, size: Int(size)) else { throw .headOutOfRange(head) }
        let tail = area.loadAcquire(at: Layout.cmdTail)
        guard TCMURing.inRing(tail, size: Int(size)) else { throw .tailOutOfRange(tail) }

        self.area = area
        capabilities = TCMUCapabilities(rawValue: flags)
        ringOffset = Int(off)
        ringSize = Int(size)
        dataArea = DataRange(offset: Int(off) + Int(size), length: area.count - Int(off) - Int(size))
        readCursor = Int(tail)
        hadEntriesAtAttach = head != tail
        self.tail = Int(tail)
        publishedTail = Int(tail)
    }

    static func inRing(_ v: UInt32, size: Int) -> Bool { Int(v) < size && Int(v) % Layout.alignment == 0 }

    /// Applies `event`, appending what to do to `actions`.
    public mutating func handle(_ event: Event, into actions: inout [Action]) throws(TCMUCompletionError) {
        switch event {
        case .kernelPosted: poll(into: &actions)
        case let .completed(c):
            try complete(id: c.id, status: c.status, sense: c.sense, readLength: c.readLength, keepBuffer: c.keepBuffer)
        case .batchEnded: publish(into: &actions)
        }
    }

    // MARK: Reading the ring

    /// Reads the entries from the read cursor to `cmd_head` (read once, with acquire): PAD
    /// entries are passed over, commands become `.execute`, TMR entries `.taskManagement`,
    /// entries of an unknown opcode are completed at once with TCMU_UFLAG_UNKNOWN_OP. A corrupt
    /// entry ends the walk with `.ringBroken` (the entries before it stand).
    public mutating func poll(into actions: inout [Action]) {
        guard brokenBy == nil else { return }
        let headWord = area.loadAcquire(at: Layout.cmdHead)
        guard TCMURing.inRing(headWord, size: ringSize) else { return broken(.headOutOfRange(headWord), into: &actions) }
        let head = Int(headWord)
        while readCursor != head {
            let at = readCursor
            let base = ringOffset + at
            // The cursor is 8-aligned and inside the ring, whose size is a multiple of 8: the
            // 8-byte header is inside the ring.
            let lenOp: UInt32 = area.load(UInt32.self, at: base + Layout.lenOp)
            let op = lenOp & Layout.opMask
            let length = Int(lenOp & ~Layout.opMask)   // a multiple of 8 by construction
            guard length > 0 else { return broken(.entryLengthZero(at: at), into: &actions) }
            guard length <= ringSize - at else { return broken(.entryPastRingEnd(at: at, length: length), into: &actions) }
            if head > at, length > head - at {
                return broken(.entryPastHead(at: at, length: length, head: head), into: &actions)
            }
            let id: UInt16 = area.load(UInt16.self, at: base + Layout.cmdID)
            switch op {
            case Layout.opPad:
                slots.append(Slot(offset: at, length: length, kind: .skip, id: 0, done: false))
            case Layout.opCmd:
                let command: Command
                do throws(TCMURingError) { command = try readCommand(at: at, length: length, id: id) } catch {
                    return broken(error, into: &actions)
                }
                inFlight.insert(id)
                slots.append(Slot(offset: at, length: length, kind: .command, id: id, done: false))
                actions.append(.execute(command))
            case Layout.opTmr:
                let tmr: TaskManagement
                do throws(TCMURingError) { tmr = try readTaskManagement(at: at, length: length) } catch {
                    return broken(error, into: &actions)
                }
                slots.append(Slot(offset: at, length: length, kind: .skip, id: 0, done: false))
                actions.append(.taskManagement(tmr))
            default:
                // libtcmu's answer to an opcode it does not know: the slot is reaped as a CMD
                // (the kernel looks the id up), flagged UNKNOWN_OP.
                guard length >= Layout.entrySize else {
                    return broken(.entryTooShort(at: at, length: length, needed: Layout.entrySize), into: &actions)
                }
                slots.append(Slot(offset: at, length: length, kind: .command, id: id, done: false))
                respond(id: id, uflags: Layout.uflagUnknownOp, status: .checkCondition, sense: UnsafeRawBufferPointer(start: nil, count: 0),
                        readLength: 0, slotIndex: slots.count - 1)
            }
            readCursor = (at + length) % ringSize
        }
    }

    private mutating func broken(_ error: TCMURingError, into actions: inout [Action]) {
        brokenBy = error
        actions.append(.ringBroken(error))
    }

    private func readCommand(at: Int, length: Int, id: UInt16) throws(TCMURingError) -> Command {
        let base = ringOffset + at
        guard length >= Layout.entrySize else { throw .entryTooShort(at: at, length: length, needed: Layout.entrySize) }
        guard id != 0 else { throw .invalidCommandID(at: at) }
        guard !inFlight.contains(id) else { throw .duplicateCommandID(id, at: at) }
        let dataCount = Int(area.load(UInt32.self, at: base + Layout.iovCount))
        let bidiCount = Int(area.load(UInt32.self, at: base + Layout.iovBidiCount))
        let difCount = Int(area.load(UInt32.self, at: base + Layout.iovDifCount))
        let total = dataCount + bidiCount + difCount            // < 2^34: no overflow in Int
        let iovEnd = Layout.iov + total * Layout.iovecSize
        guard iovEnd <= length else { throw .entryTooShort(at: at, length: length, needed: iovEnd) }

        var iovecs: [DataRange] = []
        iovecs.reserveCapacity(total)
        let dataStart = UInt64(dataArea.offset), mapEnd = UInt64(area.count)
        for i in 0..<total {
            let p = base + Layout.iov + i * Layout.iovecSize
            let start: UInt64 = area.load(UInt64.self, at: p + Layout.iovecBase)
            let count: UInt64 = area.load(UInt64.self, at: p + Layout.iovecLength)
            guard start >= dataStart, start <= mapEnd, count <= mapEnd - start else {
                throw .iovecOutsideDataArea(id: id, index: i, offset: start, length: count)
            }
            iovecs.append(DataRange(offset: Int(start), length: Int(count)))
        }

        // The kernel copies the CDB right after the iovecs (or after the response area when
        // there are few), inside the entry; its length comes from the opcode.
        let cdbOff: UInt64 = area.load(UInt64.self, at: base + Layout.cdbOff)
        let cdbFloor = UInt64(base + iovEnd), entryEnd = UInt64(base + length)
        guard cdbOff >= cdbFloor, cdbOff < entryEnd else { throw .cdbOutsideEntry(id: id, offset: cdbOff, length: 0) }
        let cdbStart = Int(cdbOff)
        let room = Int(entryEnd) - cdbStart
        let opcode: UInt8 = area.load(UInt8.self, at: cdbStart)
        let cdbLength: Int
        if let fixed = TCMURing.fixedCDBLength(opcode: opcode) {
            cdbLength = fixed
        } else {
            guard room >= 8 else { throw .cdbOutsideEntry(id: id, offset: cdbOff, length: 8) }
            cdbLength = Int(area.load(UInt8.self, at: cdbStart + 7)) + 8
        }
        guard cdbLength <= room else { throw .cdbOutsideEntry(id: id, offset: cdbOff, length: cdbLength) }
        let cdb = CDB(UnsafeRawBufferPointer(area.buffer(DataRange(offset: cdbStart, length: cdbLength))))

        return Command(id: id, cdb: cdb, iovecs: iovecs, dataCount: dataCount, bidiCount: bidiCount, difCount: difCount,
                       kernelFlags: area.load(UInt8.self, at: base + Layout.kflags), entryOffset: at, entryLength: length)
    }

    /// The kernel's `scsi_command_size`: the length the group code gives, nil for a
    /// variable-length CDB (0x7F: additional length in byte 7, plus 8).
    static func fixedCDBLength(opcode: UInt8) -> Int? {
        if opcode == 0x7F { return nil }
        switch opcode >> 5 {
        case 0: return 6
        case 1, 2: return 10
        case 3: return 12
        case 4: return 16
        case 5: return 12
        default: return 10
        }
    }

    private func readTaskManagement(at: Int, length: Int) throws(TCMURingError) -> TaskManagement {
        let base = ringOffset + at
        guard length >= Layout.tmrSize else { throw .entryTooShort(at: at, length: length, needed: Layout.tmrSize) }
        let count = Int(area.load(UInt32.self, at: base + Layout.tmrCount))
        let needed = Layout.tmrIDs + count * 2
        guard needed <= length else { throw .entryTooShort(at: at, length: length, needed: needed) }
        var ids: [UInt16] = []
        ids.reserveCapacity(count)
        for i in 0..<count { ids.append(area.load(UInt16.self, at: base + Layout.tmrIDs + 2 * i)) }
        return TaskManagement(function: .init(rawValue: area.load(UInt8.self, at: base + Layout.tmrType)),
                              commandIDs: ids, entryOffset: at, entryLength: length)
    }

    // MARK: Completing

    /// Writes the response of command `id` where the kernel will read it (see the type's
    /// comment for the order), with `sense` (at most 96 bytes) and, for a short read,
    /// `readLength` (CAP_READ_LEN). Nothing is visible to the kernel until `publish`. The
    /// command's data buffers must not be touched after this.
    public mutating func complete(id: UInt16, status: SCSIStatus, sense: UnsafeRawBufferPointer = .init(start: nil, count: 0),
                                  readLength: UInt32? = nil, keepBuffer: Bool = false) throws(TCMUCompletionError) {
        guard brokenBy == nil else { throw .ringBroken }
        guard inFlight.contains(id) else { throw .unknownCommand(id) }
        guard sense.count <= Layout.senseSize else { throw .senseTooLong(sense.count) }
        var uflags: UInt8 = 0
        if readLength != nil {
            guard capabilities.contains(.readLength) else { throw .readLengthUnsupported }
            uflags |= Layout.uflagReadLength
        }
        if keepBuffer {
            guard capabilities.contains(.keepBuffer) else { throw .keepBufferUnsupported }
            uflags |= Layout.uflagKeepBuffer
        }
        inFlight.remove(id)
        respond(id: id, uflags: uflags, status: status, sense: sense, readLength: readLength ?? 0)
    }

    /// Completes with sense bytes from an array.
    public mutating func complete(id: UInt16, status: SCSIStatus, sense: [UInt8], readLength: UInt32? = nil,
                                  keepBuffer: Bool = false) throws(TCMUCompletionError) {
        var failure: TCMUCompletionError?
        sense.withUnsafeBytes { raw in
            do throws(TCMUCompletionError) {
                try complete(id: id, status: status, sense: raw, readLength: readLength, keepBuffer: keepBuffer)
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Completes with sense data encoded (fixed or descriptor format) straight into the slot.
    public mutating func complete(id: UInt16, status: SCSIStatus, sense: SenseData, descriptor: Bool,
                                  readLength: UInt32? = nil, keepBuffer: Bool = false) throws(TCMUCompletionError) {
        var bytes: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)   // 96 bytes
        var failure: TCMUCompletionError?
        withUnsafeMutableBytes(of: &bytes) { raw in
            let n = sense.encode(descriptor: descriptor, into: raw)
            do throws(TCMUCompletionError) {
                try complete(id: id, status: status, sense: UnsafeRawBufferPointer(rebasing: raw[0..<n]),
                             readLength: readLength, keepBuffer: keepBuffer)
            } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes a response into its slot and moves the machine's tail.
    /// `slotIndex`: the slot of the entry being answered, when the caller knows it (an unknown
    /// opcode's entry, whose id need not be unique).
    private mutating func respond(id: UInt16, uflags: UInt8, status: SCSIStatus, sense: UnsafeRawBufferPointer, readLength: UInt32,
                                  slotIndex: Int? = nil) {
        if capabilities.contains(.outOfOrderCompletion) {
            skipPassedOver()
            // Every command in flight has its slot between the tail and the read cursor, and each
            // completion takes one: the front slot is a command slot.
            guard let front = slots.first, front.kind == .command else {
                preconditionFailure("TCMURing: no command slot at the tail for command \(id)")
            }
            write(slot: front, id: id, uflags: uflags, status: status, sense: sense, readLength: readLength)
            slots.removeFirst()
            tail = (front.offset + front.length) % ringSize
        } else {
            guard let i = slotIndex ?? slots.firstIndex(where: { $0.kind == .command && !$0.done && $0.id == id }) else {
                preconditionFailure("TCMURing: command \(id) in flight without a slot")
            }
            write(slot: slots[i], id: id, uflags: uflags, status: status, sense: sense, readLength: readLength)
            slots[i].done = true
            advanceTail()
        }
    }

    /// The fields `tcmu_handle_completion` reads: `hdr.cmd_id`, `hdr.uflags`,
    /// `rsp.scsi_status`, `rsp.read_len`, `rsp.sense_buffer` (zeroed past the sense: the slot
    /// may hold another command's iovecs). The entry's `len_op` stays: the kernel advances by it.
    private func write(slot: Slot, id: UInt16, uflags: UInt8, status: SCSIStatus, sense: UnsafeRawBufferPointer, readLength: UInt32) {
        let base = ringOffset + slot.offset
        area.store(id, at: base + Layout.cmdID)
        area.store(uflags, at: base + Layout.uflags)
        area.store(status.rawValue, at: base + Layout.scsiStatus)
        area.store(UInt8(0), at: base + Layout.rspPad1)
        area.store(UInt16(0), at: base + Layout.rspPad2)
        area.store(readLength, at: base + Layout.readLength)
        let senseBuffer = area.buffer(DataRange(offset: base + Layout.sense, length: Layout.senseSize))
        if sense.count > 0 { senseBuffer.baseAddress!.copyMemory(from: sense.baseAddress!, byteCount: sense.count) }
        if sense.count < Layout.senseSize {
            (senseBuffer.baseAddress! + sense.count).initializeMemory(as: UInt8.self, repeating: 0, count: Layout.senseSize - sense.count)
        }
    }

    /// Passes the tail over PAD and TMR entries at its front.
    private mutating func skipPassedOver() {
        while let s = slots.first, s.kind == .skip {
            slots.removeFirst()
            tail = (s.offset + s.length) % ringSize
        }
    }

    /// Passes the tail over PAD and TMR entries and over commands whose response is in their
    /// own slot (in-order mode), up to the first command still running.
    private mutating func advanceTail() {
        while let s = slots.first, s.kind == .skip || s.done {
            slots.removeFirst()
            tail = (s.offset + s.length) % ringSize
        }
    }

    /// Ends a batch of completions: passes over PAD and TMR entries at the tail, stores
    /// `cmd_tail` (release) and asks for one notification if the tail moved.
    public mutating func publish(into actions: inout [Action]) {
        guard brokenBy == nil else { return }
        advanceTail()
        guard tail != publishedTail else { return }
        area.storeRelease(UInt32(tail), at: Layout.cmdTail)
        publishedTail = tail
        actions.append(.notifyKernel)
    }

    // MARK: Data

    /// The bytes of one of a command's iovecs, in place in the shared area.
    public func buffer(_ range: DataRange) -> UnsafeMutableRawBufferPointer { area.buffer(range) }

    /// Copies a command's data-out (its data iovecs, in order) into `destination`; returns the
    /// number of bytes copied (at most `destination.count`).
    @discardableResult
    public func gatherData(of command: Command, into destination: UnsafeMutableRawBufferPointer) -> Int {
        var done = 0
        for r in command.dataIovecs where done < destination.count {
            let n = min(r.length, destination.count - done)
            if n > 0 { (destination.baseAddress! + done).copyMemory(from: area.buffer(r).baseAddress!, byteCount: n) }
            done += n
        }
        return done
    }

    /// Copies `source` into a command's data-in buffers (its data iovecs, in order); returns the
    /// number of bytes copied (at most the buffers' total).
    @discardableResult
    public func scatterData(_ source: UnsafeRawBufferPointer, into command: Command) -> Int {
        var done = 0
        for r in command.dataIovecs where done < source.count {
            let n = min(r.length, source.count - done)
            if n > 0 { area.buffer(r).baseAddress!.copyMemory(from: source.baseAddress! + done, byteCount: n) }
            done += n
        }
        return done
    }
}

/// The ids of the commands in flight: a 65,536-bit set (8 KiB, allocated once).
struct IDSet: Sendable {
    private var words = [UInt64](repeating: 0, count: 1024)
    private(set) var count = 0
    func contains(_ id: UInt16) -> Bool { words[Int(id >> 6)] & (1 << UInt64(id & 63)) != 0 }
    mutating func insert(_ id: UInt16) {
        guard !contains(id) else { return }
        words[Int(id >> 6)] |= 1 << UInt64(id & 63); count += 1
    }
    mutating func remove(_ id: UInt16) {
        guard contains(id) else { return }
        words[Int(id >> 6)] &= ~(1 << UInt64(id & 63)); count -= 1
    }
}

/// A FIFO of the entries between the tail and the read cursor (a growable circular buffer).
struct SlotQueue: Sendable {
    private var storage: [TCMURing.Slot?] = Array(repeating: nil, count: 64)
    private var start = 0
    private(set) var count = 0

    var first: TCMURing.Slot? { count == 0 ? nil : storage[start] }
    var isEmpty: Bool { count == 0 }

    mutating func append(_ s: TCMURing.Slot) {
        if count == storage.count {
            var bigger: [TCMURing.Slot?] = Array(repeating: nil, count: storage.count * 2)
            for i in 0..<count { bigger[i] = storage[(start + i) % storage.count] }
            storage = bigger; start = 0
        }
        storage[(start + count) % storage.count] = s
        count += 1
    }

    mutating func removeFirst() {
        precondition(count > 0)
        storage[start] = nil
        start = (start + 1) % storage.count
        count -= 1
    }

    func firstIndex(where match: (TCMURing.Slot) -> Bool) -> Int? {
        for i in 0..<count where match(storage[(start + i) % storage.count]!) { return i }
        return nil
    }

    subscript(i: Int) -> TCMURing.Slot {
        get { storage[(start + i) % storage.count]! }
        set { storage[(start + i) % storage.count] = newValue }
    }
}
