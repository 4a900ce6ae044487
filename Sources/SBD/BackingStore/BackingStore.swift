import STMF

/// What kind of medium holds the LU's blocks.
public enum BackingKind: String, Codable, Sendable {
    case file
    case blockDevice
    case ram
}

/// Block storage behind an SBD logical unit. Offsets are in bytes relative to the start of
/// the LU's data (a store hides any metadata area in front of it). Implementations must not
/// block the calling (cooperative) thread.
public protocol BackingStore: Sendable {
    var kind: BackingKind { get }
    /// Bytes of LU data the store currently holds.
    var dataBytes: UInt64 { get }
    /// Reads `count` bytes at `offset` into `buffer` starting at `bufferOffset`.
    func read(into buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError)
    /// Writes `count` bytes from `buffer` (starting at `bufferOffset`) at `offset`.
    func write(from buffer: IOBuffer, bufferOffset: Int, count: Int, offset: UInt64) async throws(SCSIError)
    /// Makes every completed write durable.
    func flush() async throws(SCSIError)
    /// Deallocates a range (file: punch hole; block device: discard; RAM: zero).
    func unmap(offset: UInt64, length: UInt64) async throws(SCSIError)
    /// Writes zeroes over a range, keeping it mapped.
    func writeZeroes(offset: UInt64, length: UInt64) async throws(SCSIError)
    /// Changes the data size (grow only for block devices: within the device).
    func resize(to bytes: UInt64) throws(SBDError)
    /// Unmapped blocks read back as zero (LBPRZ).
    var unmapReadsZero: Bool { get }
    /// Space is allocated on write (thin provisioning type).
    var thinProvisioned: Bool { get }
    func close()
}

@inline(__always)
func ioError(_ rc: Int32, reading: Bool) -> SCSIError {
    reading ? .unrecoveredReadError : .writeError
}
