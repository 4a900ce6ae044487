import STMF

extension SBDLogicalUnit {
    /// The checks of `execute` that need no data (STMF's `LogicalUnit.prepare`): run before the
    /// port provider asks for data-out or allocates a buffer, so a command that is going to fail
    /// ends with its status and sense at once, and an FCP_DL larger than the CDB calls for never
    /// becomes an allocation. Returns the bytes the command moves, nil when that depends on data
    /// the LU has not seen (parameter lists, allocation-length answers).
    public func prepare(_ cdb: CDB, nexus: Nexus) throws(SCSIError) -> Int? {
        let s = snapshot(cdb, nexus: nexus)
        try admit(cdb, s)
        switch cdb.opcode {
        case OperationCode.read6, OperationCode.read10, OperationCode.read12, OperationCode.read16:
            let x = Transfer(cdb)!
            try checkTransfer(x, s, writing: false)
            return Int(x.blocks) << Int(blockShift)
        case OperationCode.write6, OperationCode.write10, OperationCode.write12, OperationCode.write16,
             OperationCode.writeAndVerify10, OperationCode.writeAndVerify12, OperationCode.writeAndVerify16,
             OperationCode.orWrite16:
            let x = Transfer(cdb)!
            try checkTransfer(x, s, writing: true)
            return Int(x.blocks) << Int(blockShift)
        case OperationCode.verify10, OperationCode.verify12, OperationCode.verify16:
            let x = Transfer(cdb)!
            let n = try Self.verifyDataLength(cdb, blocks: x.blocks, blockShift: blockShift)
            try checkTransfer(x, s, writing: false)
            return n
        case OperationCode.writeSame10, OperationCode.writeSame16:
            return try checkWriteSame(cdb, s).dataLength
        case OperationCode.compareAndWrite:
            let blocks = try checkCompareAndWrite(cdb, s)
            return 2 * (blocks << Int(blockShift))
        case OperationCode.unmap:
            if s.writeProtect { throw .writeProtected }
            return Int(cdb.u16(7))
        case OperationCode.preFetch10, OperationCode.preFetch16:
            _ = try checkPreFetch(cdb, s)
            return 0
        case OperationCode.testUnitReady, OperationCode.synchronizeCache10, OperationCode.synchronizeCache16,
             OperationCode.startStopUnit, OperationCode.reserve6, OperationCode.release6:
            return 0
        default:
            return nil
        }
    }
}
