import CTCMU
import STMF
import TCMU

// MARK: TCMU command ring

/// The TCMU shared area as the kernel leaves it, whatever it holds: the input after its selector
/// byte is the map (mailbox at offset 0, the ring where its `cmdr_off` says, the data area after
/// it). The ring machine attaches (a malformed mailbox is a typed error), then in three rounds
/// reads what the kernel posted, touches every command's data where its iovecs say, and completes
/// the commands in the order the selector picks (ring order, reversed, or interleaved), with
/// statuses, sense, READ_LEN and KEEP_BUF as the capabilities allow, and publishes the tail.
/// Checked: nothing outside the map is read or written (AddressSanitizer sees the heap buffer's
/// bounds), every completion of a command the machine handed out is accepted, a ring that was not
/// broken has nothing in flight after its commands complete, the tail stays an aligned offset
/// inside the ring, and the machine stops at the first corrupt entry.
public func fuzzTCMURing(_ data: UnsafeRawBufferPointer) {
    guard let (selector, map) = split(data) else { return }
    let size = (map.count + 7) & ~7
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 8), alignment: 64)
    defer { raw.deallocate() }
    raw.initializeMemory(as: UInt8.self, repeating: 0)
    if let base = map.baseAddress { raw.baseAddress!.copyMemory(from: base, byteCount: map.count) }
    let area = SharedArea(UnsafeMutableRawBufferPointer(rebasing: raw[0..<size]))
    guard var ring = try? TCMURing(area: area) else { return }
    fuzzCheck(ring.ringOffset >= Int(CTCMU_MAILBOX_SIZE) && ring.ringOffset + ring.ringSize <= area.count,
              "ring outside the map after attach")
    var actions: [TCMURing.Action] = []
    for round in 0..<3 {
        actions.removeAll(keepingCapacity: true)
        ring.poll(into: &actions)
        var commands: [Command] = []
        var sawBroken = false
        for action in actions {
            switch action {
            case let .execute(c):
                fuzzCheck(!sawBroken, "a command after the ring broke")
                commands.append(c)
                for range in c.iovecs {
                    let b = ring.buffer(range)     // must lie inside the map
                    if let first = b.first { b[b.count - 1] = first &+ UInt8(truncatingIfNeeded: round) }
                }
            case let .taskManagement(t):
                fuzzCheck(!sawBroken, "a TMR after the ring broke")
                _ = t.commandIDs.count
            case .ringBroken:
                fuzzCheck(!sawBroken, "the ring broke twice")
                sawBroken = true
            case .notifyKernel:
                break
            }
        }
        if sawBroken { fuzzCheck(ring.brokenBy != nil, "said broken, not broken") }
        let order: [Command] = switch selector % 3 {
        case 0: commands
        case 1: commands.reversed()
        default: commands.enumerated().sorted { ($0.offset % 2, $0.offset) < ($1.offset % 2, $1.offset) }.map(\.element)
        }
        for (i, c) in order.enumerated() {
            let check = (Int(selector >> 2) + i) % 4 == 0
            let sense: [UInt8] = check ? [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0, 0, 0] : []
            let readLength: UInt32? = ring.capabilities.contains(.readLength) && selector & 0x40 != 0
                ? UInt32(c.dataLength / 2) : nil
            let keep = ring.capabilities.contains(.keepBuffer) && selector & 0x80 != 0
            do {
                try ring.complete(id: c.id, status: check ? .checkCondition : .good, sense: sense,
                                  readLength: readLength, keepBuffer: keep)
            } catch {
                // Only a ring that broke may refuse the completion of a command it handed out.
                fuzzCheck(ring.brokenBy != nil, "completion of command \(c.id) refused: \(error)")
            }
        }
        actions.removeAll(keepingCapacity: true)
        ring.publish(into: &actions)
        if ring.brokenBy == nil {
            fuzzCheck(ring.inFlightCount == 0, "\(ring.inFlightCount) commands in flight after all completed")
        }
        fuzzCheck(ring.tail >= 0 && ring.tail < ring.ringSize && ring.tail % 8 == 0, "tail \(ring.tail) outside the ring")
    }
}

/// Ring images for the seed corpus, laid out as the kernel's `queue_cmd_ring` writes them (offsets
/// from the uapi header through CTCMU): a CMD entry is its header and request, `iov_cnt` iovecs,
/// then the CDB, padded to 8 bytes; an entry that would pass the ring's end is preceded by a PAD
/// to the end.
enum TCMURingImage {
    enum Entry {
        case command(id: UInt16, cdb: [UInt8], iovecs: [(offset: Int, length: Int)])
        case tmr(function: UInt8, ids: [UInt16])
        case pad(length: Int)
    }

    static func image(flags: UInt16, ringOffset: Int = 128, ringSize: Int = 1024, dataSize: Int = 4096,
                      startingAt start: Int = 0, entries: [Entry]) -> [UInt8] {
        var map = [UInt8](repeating: 0, count: ringOffset + ringSize + dataSize)
        func put<T: FixedWidthInteger>(_ v: T, _ at: Int) {
            withUnsafeBytes(of: v.littleEndian) { for (i, b) in $0.enumerated() { map[at + i] = b } }
        }
        put(UInt16(CTCMU_MAILBOX_VERSION), Int(CTCMU_MB_VERSION))
        put(flags, Int(CTCMU_MB_FLAGS))
        put(UInt32(ringOffset), Int(CTCMU_MB_CMDR_OFF))
        put(UInt32(ringSize), Int(CTCMU_MB_CMDR_SIZE))
        put(UInt32(start), Int(CTCMU_MB_CMD_TAIL))
        var head = start
        func header(_ op: Int, _ length: Int, id: UInt16) {
            put(UInt32(length) | UInt32(op), ringOffset + head + Int(CTCMU_HDR_LEN_OP))
            put(id, ringOffset + head + Int(CTCMU_HDR_CMD_ID))
        }
        for entry in entries {
            switch entry {
            case let .command(id, cdb, iovecs):
                let cdbAt = Int(CTCMU_REQ_IOV) + iovecs.count * Int(CTCMU_IOVEC_SIZE)
                let length = (cdbAt + cdb.count + 7) & ~7
                if head + length > ringSize {
                    header(Int(CTCMU_OP_PAD), ringSize - head, id: 0)
                    head = 0
                }
                header(Int(CTCMU_OP_CMD), length, id: id)
                let base = ringOffset + head
                put(UInt32(iovecs.count), base + Int(CTCMU_REQ_IOV_CNT))
                put(UInt64(head + cdbAt + ringOffset), base + Int(CTCMU_REQ_CDB_OFF))
                for (i, v) in iovecs.enumerated() {
                    let at = base + Int(CTCMU_REQ_IOV) + i * Int(CTCMU_IOVEC_SIZE)
                    put(UInt64(ringOffset + ringSize + v.offset), at + Int(CTCMU_IOVEC_BASE))
                    put(UInt64(v.length), at + Int(CTCMU_IOVEC_LEN))
                }
                for (i, b) in cdb.enumerated() { map[base + cdbAt + i] = b }
                head = (head + length) % ringSize
            case let .tmr(function, ids):
                let length = (Int(CTCMU_TMR_CMD_IDS) + ids.count * 2 + 7) & ~7
                if head + length > ringSize {
                    header(Int(CTCMU_OP_PAD), ringSize - head, id: 0)
                    head = 0
                }
                header(Int(CTCMU_OP_TMR), length, id: 0)
                map[ringOffset + head + Int(CTCMU_TMR_TYPE)] = function
                put(UInt32(ids.count), ringOffset + head + Int(CTCMU_TMR_CMD_CNT))
                for (i, v) in ids.enumerated() { put(v, ringOffset + head + Int(CTCMU_TMR_CMD_IDS) + 2 * i) }
                head = (head + length) % ringSize
            case let .pad(length):
                header(Int(CTCMU_OP_PAD), length, id: 0)
                head = (head + length) % ringSize
            }
        }
        put(UInt32(head), Int(CTCMU_MB_CMD_HEAD))
        return map
    }
}

extension FuzzSeeds {
    /// TCMU ring images: commands in order and out of order, a wrap with PAD, TMRs, every
    /// capability, an unknown opcode; the selector byte first.
    static func tcmu() -> [(name: String, bytes: [UInt8])] {
        let ooo = UInt16(CTCMU_CAP_OOOC), readLen = UInt16(CTCMU_CAP_READ_LEN)
        let tmr = UInt16(CTCMU_CAP_TMR), keep = UInt16(CTCMU_CAP_KEEP_BUF)
        let read10: [UInt8] = [0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0]
        let write16: [UInt8] = [0x8A, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 2, 0, 0]
        let tur: [UInt8] = [0, 0, 0, 0, 0, 0]
        let inquiry: [UInt8] = [0x12, 1, 0x83, 0, 0xFF, 0]
        let three: [TCMURingImage.Entry] = [
            .command(id: 1, cdb: read10, iovecs: [(0, 2048), (2048, 2048)]),
            .command(id: 2, cdb: tur, iovecs: []),
            .command(id: 3, cdb: write16, iovecs: [(0, 1024)]),
        ]
        var unknown = TCMURingImage.image(flags: ooo, entries: [.command(id: 9, cdb: inquiry, iovecs: [(0, 255)])])
        // The same entry with opcode 3 (none the header defines): completed with UNKNOWN_OP.
        unknown[128 + Int(CTCMU_HDR_LEN_OP)] = (unknown[128 + Int(CTCMU_HDR_LEN_OP)] & ~UInt8(CTCMU_OP_MASK)) | 3
        return [
            ("in-order-ooo", [0] + TCMURingImage.image(flags: ooo, entries: three)),
            ("reversed-ooo", [1] + TCMURingImage.image(flags: ooo, entries: three)),
            ("in-order-only", [2] + TCMURingImage.image(flags: 0, entries: three)),
            ("wrap-with-pad", [1] + TCMURingImage.image(flags: ooo | readLen, startingAt: 960, entries: three)),
            ("tmr-and-capabilities", [0xC6] + TCMURingImage.image(flags: ooo | readLen | tmr | keep, entries: [
                .command(id: 4, cdb: read10, iovecs: [(0, 4096)]),
                .tmr(function: 5, ids: [4, 5]),
                .command(id: 5, cdb: inquiry, iovecs: [(100, 255)]),
                .pad(length: 64),
                .command(id: 6, cdb: tur, iovecs: []),
            ])),
            ("unknown-opcode", [0] + unknown),
        ]
    }
}
