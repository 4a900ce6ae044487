import STMF

extension SBDLogicalUnit {
    /// PRE-FETCH (10/16), SBC-4 5.11/5.12: the range (PREFETCH LENGTH 0 = to the last block)
    /// is checked and the store asked to read it ahead. The page cache keeps no promise that
    /// the blocks stay resident, so the answer is GOOD ("not all of it fits in the cache"),
    /// never CONDITION MET; with IMMED the hint is given and the command ends at once.
    func checkPreFetch(_ cdb: CDB, _ s: Snapshot) throws(SCSIError) -> (lba: UInt64, blocks: UInt64) {
        let sixteen = cdb.opcode == OperationCode.preFetch16
        let lba = sixteen ? cdb.u64(2) : UInt64(cdb.u32(2))
        var blocks = sixteen ? UInt64(cdb.u32(10)) : UInt64(cdb.u16(7))
        if lba >= s.blockCount { throw .lbaOutOfRange }
        if blocks == 0 { blocks = s.blockCount - lba }
        try checkRange(lba, blocks, s)
        return (lba, blocks)
    }

    func preFetch(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let (lba, blocks) = try checkPreFetch(t.cdb, s)
        if blocks > 0 { store.readAhead(offset: lba << blockShift, length: blocks << blockShift) }
        return .good
    }

    /// READ DEFECT DATA (10/12), SBC-4 5.13/5.14: the medium has no defects, so the answer is
    /// the header alone with the lists requested marked valid and the format requested
    /// (format 111b is reserved).
    func readDefectData(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let ten = cdb.opcode == OperationCode.readDefectData10
        let flags = ten ? cdb[2] : cdb[1]
        if flags & 0x07 == 0x07 { throw .invalidFieldInCDB(byte: ten ? 2 : 1, bit: 2) }
        if ten {
            return t.respond(with: [0x00, flags & 0x1F, 0x00, 0x00], allocationLength: Int(cdb.u16(7)))
        }
        return t.respond(with: [0x00, flags & 0x1F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], allocationLength: Int(cdb.u32(6)))
    }

    /// GET LBA STATUS (SERVICE ACTION IN 16 / 12h), SBC-4 5.7: descriptors from the starting
    /// LBA on, each a run of mapped or deallocated blocks as the store knows them (a file's
    /// data and holes from SEEK_DATA / SEEK_HOLE), as many as the allocation length holds.
    func getLBAStatus(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let lba = cdb.u64(2)
        let allocation = Int(cdb.u32(10))
        if lba >= s.blockCount { throw .lbaOutOfRange }
        let room = max(1, min((allocation - 8) / 16, 1024))
        let runs = await store.provisioning(offset: lba << blockShift, length: (s.blockCount - lba) << blockShift,
                                            granularity: UInt64(blockSize), maximumRuns: room)
        var d: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
        var at = lba
        for r in runs {
            var blocks = r.length >> blockShift
            while blocks > 0 && (d.count - 8) / 16 < room {
                let n = min(blocks, UInt64(UInt32.max))
                d.be64(at)
                d.be32(UInt32(n))
                d += [r.mapped ? 0x00 : 0x01, 0x00, 0x00, 0x00]
                at += n
                blocks -= n
            }
        }
        d.put32(UInt32(d.count - 4), at: 0)
        return t.respond(with: d, allocationLength: allocation)
    }
}
