import STMF

extension SBDLogicalUnit {
    /// COMPARE AND WRITE: data-out holds the verify data then the write data (2 × N blocks).
    /// The range is held exclusively from the read to the end of the write, so no other write
    /// (nor UNMAP, WRITE SAME or another COMPARE AND WRITE) to it can interleave.
    /// Write protection, NUMBER OF LOGICAL BLOCKS against the Block Limits maximum, range.
    func checkCompareAndWrite(_ cdb: CDB, _ s: Snapshot) throws(SCSIError) -> Int {
        let blocks = Int(cdb[13])
        if s.writeProtect { throw .writeProtected }
        if blocks > Int(limits.maxCompareAndWriteBlocks) { throw .invalidFieldInCDB(byte: 13, bit: nil) }
        try checkRange(cdb.u64(2), UInt64(blocks), s)
        return blocks
    }

    func compareAndWrite(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let lba = cdb.u64(2)
        let blocks = try checkCompareAndWrite(cdb, s)
        if blocks == 0 { return .good }
        let half = blocks << Int(blockShift)
        guard let out = t.dataOut, out.count >= 2 * half else { throw .invalidFieldInCDB(byte: 13, bit: nil) }
        let medium = IOBuffer(capacity: half)
        let token = await writeRanges.acquire(lba: lba, count: UInt64(blocks), exclusive: true)
        defer { writeRanges.release(token) }
        try await store.read(into: medium, bufferOffset: 0, count: half, offset: lba << blockShift)
        let m = UnsafeRawBufferPointer(medium.bytes), o = UnsafeRawBufferPointer(out.bytes)
        for i in 0..<half where m[i] != o[i] { throw .miscompare(offset: UInt64(i)) }
        try await store.write(from: out, bufferOffset: half, count: half, offset: lba << blockShift)
        if cdb[1] & 0x08 != 0 || !s.wce { try await store.flush() }
        return TaskResponse(status: .good, dataLength: 2 * half, intendedLength: 2 * half)
    }
}
