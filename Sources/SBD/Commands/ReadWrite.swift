import STMF

/// READ / WRITE / WRITE AND VERIFY / VERIFY / SYNCHRONIZE CACHE. The read and write paths
/// decode straight from the CDB, move data directly between the task's buffer and the store,
/// allocate nothing themselves and hold no lock across I/O (writes hold a shared range of the
/// COMPARE AND WRITE exclusion, which is not a lock other writes wait on).
extension SBDLogicalUnit {
    func read(_ t: LUTask, _ s: Snapshot, lba: UInt64, blocks: UInt32, lengthByte: Int) async throws(SCSIError) -> TaskResponse {
        try checkRange(lba, UInt64(blocks), s)
        if blocks == 0 { return .good }
        if blocks > limits.maxTransferBlocks { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        let intended = Int(blocks) << Int(blockShift)
        guard let buf = t.dataIn else { return TaskResponse(status: .good, intendedLength: intended) }
        let n = min(intended, t.dataInLimit, buf.capacity)
        if n > 0 { try await store.read(into: buf, bufferOffset: 0, count: n, offset: lba << blockShift) }
        return TaskResponse(status: .good, dataLength: n, intendedLength: intended)
    }

    func write(_ t: LUTask, _ s: Snapshot, lba: UInt64, blocks: UInt32, lengthByte: Int, fua: Bool) async throws(SCSIError) -> TaskResponse {
        if s.writeProtect { throw .writeProtected }
        try checkRange(lba, UInt64(blocks), s)
        if blocks == 0 { return .good }
        if blocks > limits.maxTransferBlocks { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        let need = Int(blocks) << Int(blockShift)
        // Data-out shorter than the command calls for (FCP_DL too small): refuse, never read past it.
        guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        let token = await writeRanges.acquire(lba: lba, count: UInt64(blocks), exclusive: false)
        do {
            try await store.write(from: out, bufferOffset: 0, count: need, offset: lba << blockShift)
            if fua || !s.wce { try await store.flush() }
        } catch {
            writeRanges.release(token)
            throw error
        }
        writeRanges.release(token)
        return TaskResponse(status: .good, dataLength: need, intendedLength: need)
    }

    /// VERIFY: BYTCHK 00 checks the range is readable; 01 compares with data-out (MISCOMPARE
    /// with the offset of the first differing byte); 11 compares every block with one block.
    func verify(_ t: LUTask, _ s: Snapshot, lba: UInt64, blocks: UInt32, lengthByte: Int) async throws(SCSIError) -> TaskResponse {
        let bytchk = (t.cdb[1] >> 1) & 0x03
        if bytchk == 2 { throw .invalidFieldInCDB(byte: 1, bit: 2) }
        try checkRange(lba, UInt64(blocks), s)
        if blocks == 0 { return .good }
        if blocks > limits.maxTransferBlocks { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        let total = Int(blocks) << Int(blockShift)
        let need = bytchk == 0 ? 0 : (bytchk == 1 ? total : blockSize)
        if need > 0 {
            guard let out = t.dataOut, out.count >= need else { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        }
        let medium = IOBuffer(capacity: total)
        do { try await store.read(into: medium, bufferOffset: 0, count: total, offset: lba << blockShift) }
        catch { throw .unrecoveredReadError }
        if let out = t.dataOut, need > 0 {
            let m = UnsafeRawBufferPointer(medium.bytes)
            let o = UnsafeRawBufferPointer(out.bytes)
            for i in 0..<total {
                let expected = bytchk == 1 ? o[i] : o[i & (blockSize - 1)]
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
