import STMF

/// The LBA and block count of a READ / WRITE / WRITE AND VERIFY / VERIFY / ORWRITE CDB, and
/// which CDB byte holds the count (the field pointer of INVALID FIELD IN CDB).
struct Transfer {
    var lba: UInt64
    var blocks: UInt32
    var lengthByte: Int
    var fua: Bool

    /// nil for any other opcode.
    init?(_ cdb: CDB) {
        switch cdb.opcode {
        case OperationCode.read6, OperationCode.write6:
            lba = UInt64(cdb.u24(1) & 0x1F_FFFF); blocks = cdb[4] == 0 ? 256 : UInt32(cdb[4]); lengthByte = 4; fua = false
        case OperationCode.read10, OperationCode.write10, OperationCode.verify10:
            lba = UInt64(cdb.u32(2)); blocks = UInt32(cdb.u16(7)); lengthByte = 7; fua = cdb[1] & 0x08 != 0
        case OperationCode.writeAndVerify10:
            lba = UInt64(cdb.u32(2)); blocks = UInt32(cdb.u16(7)); lengthByte = 7; fua = true
        case OperationCode.read12, OperationCode.write12, OperationCode.verify12:
            lba = UInt64(cdb.u32(2)); blocks = cdb.u32(6); lengthByte = 6; fua = cdb[1] & 0x08 != 0
        case OperationCode.writeAndVerify12:
            lba = UInt64(cdb.u32(2)); blocks = cdb.u32(6); lengthByte = 6; fua = true
        case OperationCode.read16, OperationCode.write16, OperationCode.verify16, OperationCode.orWrite16:
            lba = cdb.u64(2); blocks = cdb.u32(10); lengthByte = 10; fua = cdb[1] & 0x08 != 0
        case OperationCode.writeAndVerify16:
            lba = cdb.u64(2); blocks = cdb.u32(10); lengthByte = 10; fua = true
        default:
            return nil
        }
    }
}

/// READ / WRITE / WRITE AND VERIFY / VERIFY / ORWRITE / SYNCHRONIZE CACHE. The read and write
/// paths decode straight from the CDB, move data directly between the task's buffer and the
/// store, allocate nothing themselves and hold no lock across I/O (writes hold a shared range
/// of the COMPARE AND WRITE exclusion, which is not a lock other writes wait on).
extension SBDLogicalUnit {
    /// What every transfer is checked for, in this order (the order LIO and SCST report in):
    /// write protection, LBA range, the Block Limits maximum transfer length.
    @inline(__always)
    func checkTransfer(_ x: Transfer, _ s: Snapshot, writing: Bool) throws(SCSIError) {
        if writing && s.writeProtect { throw .writeProtected }
        try checkRange(x.lba, UInt64(x.blocks), s)
        if x.blocks > limits.maxTransferBlocks { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
    }

    func read(_ t: LUTask, _ s: Snapshot, _ x: Transfer) async throws(SCSIError) -> TaskResponse {
        try checkTransfer(x, s, writing: false)
        if x.blocks == 0 { return .good }
        let intended = Int(x.blocks) << Int(blockShift)
        guard let buf = t.dataIn else { return TaskResponse(status: .good, intendedLength: intended) }
        let n = min(intended, t.dataInLimit, buf.capacity)
        if n > 0 { try await store.read(into: buf, bufferOffset: 0, count: n, offset: x.lba << blockShift) }
        return TaskResponse(status: .good, dataLength: n, intendedLength: intended)
    }

    /// READ from memory, on the caller's thread.
    @inline(__always)
    func readNow(_ t: LUTask, _ s: Snapshot, _ x: Transfer, _ memory: RAMBackingStore) throws(SCSIError) -> TaskResponse {
        try checkTransfer(x, s, writing: false)
        if x.blocks == 0 { return .good }
        let intended = Int(x.blocks) << Int(blockShift)
        guard let buf = t.dataIn else { return TaskResponse(status: .good, intendedLength: intended) }
        let n = min(intended, t.dataInLimit, buf.capacity)
        if n > 0 { memory.readNow(into: buf, bufferOffset: 0, count: n, offset: x.lba << blockShift) }
        return TaskResponse(status: .good, dataLength: n, intendedLength: intended)
    }

    /// WRITE to memory, on the caller's thread; nil when the range is held by a COMPARE AND
    /// WRITE or ORWRITE (the async path then waits for it).
    @inline(__always)
    func writeNow(_ t: LUTask, _ s: Snapshot, _ x: Transfer, _ memory: RAMBackingStore) throws(SCSIError) -> TaskResponse? {
        try checkTransfer(x, s, writing: true)
        if x.blocks == 0 { return .good }
        let need = Int(x.blocks) << Int(blockShift)
        guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
        guard let token = writeRanges.tryAcquire(lba: x.lba, count: UInt64(x.blocks), exclusive: false) else { return nil }
        defer { writeRanges.release(token) }
        try memory.writeNow(from: out, bufferOffset: 0, count: need, offset: x.lba << blockShift)
        return TaskResponse(status: .good, dataLength: need, intendedLength: need)
    }

    func write(_ t: LUTask, _ s: Snapshot, _ x: Transfer) async throws(SCSIError) -> TaskResponse {
        try checkTransfer(x, s, writing: true)
        if x.blocks == 0 { return .good }
        let need = Int(x.blocks) << Int(blockShift)
        // Data-out shorter than the command calls for (FCP_DL too small): refuse, never read past it.
        guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
        let token = await writeRanges.acquire(lba: x.lba, count: UInt64(x.blocks), exclusive: false)
        do {
            try await store.write(from: out, bufferOffset: 0, count: need, offset: x.lba << blockShift)
            if x.fua || !s.wce { try await store.flush() }
        } catch {
            writeRanges.release(token)
            throw error
        }
        writeRanges.release(token)
        return TaskResponse(status: .good, dataLength: need, intendedLength: need)
    }

    /// ORWRITE (16), SBC-4 5.9: each block becomes the bitwise OR of the medium and data-out.
    /// The range is held exclusively from the read to the end of the write, as COMPARE AND
    /// WRITE's is, so no other write interleaves. No protection information (ORPROTECT 0).
    func orWrite(_ t: LUTask, _ s: Snapshot, _ x: Transfer) async throws(SCSIError) -> TaskResponse {
        try checkTransfer(x, s, writing: true)
        if x.blocks == 0 { return .good }
        let need = Int(x.blocks) << Int(blockShift)
        guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
        let medium = IOBuffer(capacity: need)
        let token = await writeRanges.acquire(lba: x.lba, count: UInt64(x.blocks), exclusive: true)
        defer { writeRanges.release(token) }
        try await store.read(into: medium, bufferOffset: 0, count: need, offset: x.lba << blockShift)
        let m = medium.bytes, o = UnsafeRawBufferPointer(out.bytes)
        for i in 0..<need { m[i] |= o[i] }
        medium.count = need
        try await store.write(from: medium, bufferOffset: 0, count: need, offset: x.lba << blockShift)
        if x.fua || !s.wce { try await store.flush() }
        return TaskResponse(status: .good, dataLength: need, intendedLength: need)
    }

    /// VERIFY's BYTCHK: 00 checks the range is readable, 01 compares with data-out, 11 compares
    /// every block with one block of data-out; 10 is reserved.
    static func verifyDataLength(_ cdb: CDB, blocks: UInt32, blockShift: UInt64) throws(SCSIError) -> Int {
        switch (cdb[1] >> 1) & 0x03 {
        case 0: 0
        case 1: Int(blocks) << Int(blockShift)
        case 2: throw .invalidFieldInCDB(byte: 1, bit: 2)
        default: blocks == 0 ? 0 : 1 << Int(blockShift)
        }
    }

    /// VERIFY: MISCOMPARE with the offset of the first differing byte.
    func verify(_ t: LUTask, _ s: Snapshot, _ x: Transfer) async throws(SCSIError) -> TaskResponse {
        let need = try Self.verifyDataLength(t.cdb, blocks: x.blocks, blockShift: blockShift)
        try checkTransfer(x, s, writing: false)
        if x.blocks == 0 { return .good }
        let total = Int(x.blocks) << Int(blockShift)
        let perBlock = (t.cdb[1] >> 1) & 0x03 == 3
        if need > 0 {
            guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: x.lengthByte, bit: nil) }
        }
        let medium = IOBuffer(capacity: total)
        do { try await store.read(into: medium, bufferOffset: 0, count: total, offset: x.lba << blockShift) }
        catch { throw .unrecoveredReadError }
        if let out = t.dataOut, need > 0 {
            let m = UnsafeRawBufferPointer(medium.bytes)
            let o = UnsafeRawBufferPointer(out.bytes)
            for i in 0..<total {
                let expected = perBlock ? o[i & (blockSize - 1)] : o[i]
                if m[i] != expected { throw .miscompare(offset: UInt64(i)) }
            }
        }
        return TaskResponse(status: .good, dataLength: need, intendedLength: need)
    }

    /// SYNCHRONIZE CACHE (10/16): range checked (0 blocks = to the end); IMMED returns once
    /// the command is validated and flushes in the background.
    func synchronizeCache(_ t: LUTask, _ s: Snapshot, lba: UInt64, blocks: UInt64) async throws(SCSIError) -> TaskResponse {
        if lba > s.blockCount || (blocks > 0 && (lba.addingReportingOverflow(blocks).overflow || lba + blocks > s.blockCount)) {
            throw .lbaOutOfRange
        }
        if t.cdb[1] & 0x02 != 0 {
            let store = self.store
            Task.detached { try? await store.flush() }
            return .good
        }
        try await store.flush()
        return .good
    }

    /// READ CAPACITY (10): last LBA (0xFFFFFFFF when it does not fit) and block length.
    func readCapacity10(_ t: LUTask, _ s: Snapshot) throws(SCSIError) -> TaskResponse {
        if t.cdb[8] & 0x01 == 0 && t.cdb.u32(2) != 0 { throw .invalidFieldInCDB(byte: 2, bit: nil) }
        var d: [UInt8] = []
        let last = s.blockCount - 1
        d.be32(last > UInt64(UInt32.max) ? UInt32.max : UInt32(last))
        d.be32(UInt32(blockSize))
        return t.respond(with: d, allocationLength: 8)
    }

    /// READ CAPACITY (16): last LBA, block length, LBPME / LBPRZ.
    func readCapacity16(_ t: LUTask, _ s: Snapshot) throws(SCSIError) -> TaskResponse {
        if t.cdb[14] & 0x01 == 0 && t.cdb.u64(2) != 0 { throw .invalidFieldInCDB(byte: 2, bit: nil) }
        var d: [UInt8] = []
        d.be64(s.blockCount - 1)
        d.be32(UInt32(blockSize))
        d.append(0x00)                               // no protection
        d.append(0x00)                               // one logical block per physical block
        d.append(0x80 | (store.unmapReadsZero ? 0x40 : 0x00))  // LBPME, LBPRZ; lowest aligned LBA 0
        d.append(0x00)
        d += [UInt8](repeating: 0, count: 16)
        return t.respond(with: d, allocationLength: Int(t.cdb.u32(10)))
    }
}
