import STMF

/// The direction of a command's data, from its CDB. TCMU hands userspace the CDB and the data
/// area's iovecs but not the direction the fabric gave (the kernel copies write data in before
/// queueing and read data out at completion, whatever the buffer holds): a command that moves
/// data towards the target is one of the data-out operations of SPC-4/SBC-4 below, every other
/// command with data is data-in.
extension DataDirection {
    public static func of(_ cdb: CDB, dataLength: Int) -> DataDirection {
        guard dataLength > 0, cdb.count > 0 else { return .none }
        let op = cdb[0]
        switch op {
        case 0x0A, 0x2A, 0xAA, 0x8A,          // WRITE (6/10/12/16)
             0x2E, 0xAE, 0x8E,                // WRITE AND VERIFY (10/12/16)
             0x41, 0x93,                      // WRITE SAME (10/16)
             0x42,                            // UNMAP
             0x89,                            // COMPARE AND WRITE
             0x15, 0x55,                      // MODE SELECT (6/10)
             0x5F,                            // PERSISTENT RESERVE OUT
             0x3B,                            // WRITE BUFFER
             0x1D,                            // SEND DIAGNOSTIC
             0x4C,                            // LOG SELECT
             0x83,                            // EXTENDED COPY (third-party copy out)
             0xB5,                            // SECURITY PROTOCOL OUT
             0x3F, 0x9F,                      // WRITE LONG (10/16)
             0x56, 0x57,                      // RESERVE(10)/RELEASE(10) with a third-party id
             0xA4,                            // MAINTENANCE OUT (SET TARGET PORT GROUPS …)
             0x8B,                            // ORWRITE(16)
             0x9C,                            // WRITE ATOMIC(16)
             0x50, 0x51, 0x53, 0x80,          // XDWRITE(10), XPWRITE(10), XDWRITEREAD(10), XDWRITE EXTENDED
             0x3D,                            // UPDATE BLOCK
             0x07,                            // REASSIGN BLOCKS (the defect list)
             0x04,                            // FORMAT UNIT (the parameter list, with FMTDATA)
             0x8D:                            // WRITE ATTRIBUTE
            return .write
        case 0x2F, 0xAF, 0x8F:                // VERIFY: data-out only when BYTCHK is set
            return cdb.count > 1 && (cdb[1] & 0x06) != 0 ? .write : .none
        case 0x7F:                            // variable length: WRITE(32), WRITE SAME(32), …
            guard cdb.count > 9 else { return .read }
            let sa = UInt16(cdb[8]) << 8 | UInt16(cdb[9])
            return [0x000B, 0x000C, 0x000D, 0x000E].contains(sa) ? .write : .read
        default:
            return .read
        }
    }
}
