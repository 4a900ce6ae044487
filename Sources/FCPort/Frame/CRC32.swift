import CCRC32

/// The FC frame CRC: IEEE 802.3 CRC-32 (reflected polynomial 0xEDB88320, initial and final
/// XOR 0xFFFFFFFF) over header and payload. Computed by `CModules/CCRC32`: folded 64 bytes per
/// step with PCLMULQDQ where the CPU has it (~16 GB/s on one core of the development machine),
/// else slice-by-8 tables (~1.5 GB/s).
public enum CRC32 {
    /// Continues a CRC over `bytes`; start with 0.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return crc }
        return fc_crc32_update(crc, p, bytes.count)
    }

    /// The same with the table code only: the reference the folding code is tested against.
    public static func updateWithTables(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return crc }
        return fc_crc32_update_tables(crc, p, bytes.count)
    }

    /// The CRC of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(0, $0) }
    }
}
