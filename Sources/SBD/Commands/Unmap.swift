import STMF

extension SBDLogicalUnit {
    /// UNMAP: the parameter list is validated as a whole (descriptor count and LBA total
    /// against the Block Limits page, every range within capacity) before anything is
    /// deallocated. ANCHOR is unsupported (INVALID FIELD IN CDB, byte 1 bit 0).
    func unmap(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        if s.writeProtect { throw .writeProtected }
        let length = Int(t.cdb.u16(7))
        if length == 0 { return .good }
        if length < 8 { throw .parameterListLengthError }
        guard let out = t.dataOut, out.count >= length else { throw .invalidFieldInCDB(byte: 7, bit: nil) }
        let p = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[0..<length])
        let dataLength = Int(rd16(p, 0))
        let bdLength = Int(rd16(p, 2))
        if dataLength + 2 > length { throw .invalidFieldInParameterList(byte: 0, bit: nil) }
        if bdLength + 8 > length { throw .invalidFieldInParameterList(byte: 2, bit: nil) }
        let count = bdLength / 16
        if count > Int(limits.maxUnmapDescriptors) { throw .invalidFieldInParameterList(byte: 2, bit: nil) }
        var total: UInt64 = 0
        for i in 0..<count {
            let o = 8 + 16 * i
            let lba = rd64(p, o), n = UInt64(rd32(p, o + 8))
            try checkRange(lba, n, s)
            total += n
            if total > UInt64(limits.maxUnmapLBACount) { throw .invalidFieldInParameterList(byte: o + 8, bit: nil) }
        }
        for i in 0..<count {
            let o = 8 + 16 * i
            let lba = rd64(p, o), n = UInt64(rd32(p, o + 8))
            if n == 0 { continue }
            let token = await writeRanges.acquire(lba: lba, count: n, exclusive: false)
            do { try await store.unmap(offset: lba << blockShift, length: n << blockShift) }
            catch { writeRanges.release(token); throw error }
            writeRanges.release(token)
        }
        if !s.wce { try await store.flush() }
        return TaskResponse(status: .good, dataLength: length, intendedLength: length)
    }
}
