import STMF

extension SBDLogicalUnit {
    /// WRITE SAME (10/16). NUMBER OF LOGICAL BLOCKS 0 is refused (WSNZ); UNMAP with zero
    /// data (or NDOB) deallocates when unmapped blocks read as zero, zero data is written as
    /// zeroes, other data is replicated from a buffer of whole blocks.
    struct WriteSameRequest { var lba: UInt64; var blocks: UInt64; var lengthByte: Int; var unmap: Bool; var ndob: Bool; var dataLength: Int }

    /// The CDB's checks: write protection, NUMBER OF LOGICAL BLOCKS within 1...MAXIMUM WRITE
    /// SAME LENGTH (WSNZ), range.
    func checkWriteSame(_ cdb: CDB, _ s: Snapshot) throws(SCSIError) -> WriteSameRequest {
        let sixteen = cdb.opcode == OperationCode.writeSame16
        let lba = sixteen ? cdb.u64(2) : UInt64(cdb.u32(2))
        let blocks = sixteen ? UInt64(cdb.u32(10)) : UInt64(cdb.u16(7))
        let lengthByte = sixteen ? 10 : 7
        let ndob = sixteen && cdb[1] & 0x01 != 0
        if s.writeProtect { throw .writeProtected }
        if blocks == 0 || blocks > limits.maxWriteSameBlocks { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        try checkRange(lba, blocks, s)
        return WriteSameRequest(lba: lba, blocks: blocks, lengthByte: lengthByte, unmap: cdb[1] & 0x08 != 0, ndob: ndob, dataLength: ndob ? 0 : blockSize)
    }

    func writeSame(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let r = try checkWriteSame(t.cdb, s)
        let lba = r.lba, blocks = r.blocks, ndob = r.ndob, unmapBit = r.unmap, lengthByte = r.lengthByte
        var zero = ndob
        if !ndob {
            guard let out = t.dataOut, out.count >= blockSize else { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
            let b = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[0..<blockSize])
            zero = !b.contains { $0 != 0 }
        }
        let token = await writeRanges.acquire(lba: lba, count: blocks, exclusive: false)
        defer { writeRanges.release(token) }
        let offset = lba << blockShift, bytes = blocks << blockShift
        if zero {
            if unmapBit && store.unmapReadsZero {
                try await store.unmap(offset: offset, length: bytes)
            } else {
                try await store.writeZeroes(offset: offset, length: bytes)
            }
        } else {
            let chunkBlocks = Int(min(blocks, UInt64(max(1, (1 << 20) / blockSize))))
            let chunk = IOBuffer(capacity: chunkBlocks * blockSize)
            for i in 0..<chunkBlocks {
                (chunk.bytes.baseAddress! + i * blockSize).copyMemory(from: t.dataOut!.bytes.baseAddress!, byteCount: blockSize)
            }
            var done: UInt64 = 0
            while done < blocks {
                let n = min(UInt64(chunkBlocks), blocks - done)
                try await store.write(from: chunk, bufferOffset: 0, count: Int(n) * blockSize, offset: offset + (done << blockShift))
                done += n
            }
        }
        if !s.wce { try await store.flush() }
        return TaskResponse(status: .good, dataLength: r.dataLength, intendedLength: r.dataLength)
    }
}
