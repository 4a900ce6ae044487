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
    /// Starts reading [offset, offset+length) into the cache (PRE-FETCH); a hint, never blocks.
    func readAhead(offset: UInt64, length: UInt64)
    /// How [offset, offset+length) is provisioned, as consecutive runs from `offset` (at most
    /// `maximumRuns`, the last one may end short of the range), each a multiple of
    /// `granularity` bytes except where the range ends.
    func provisioning(offset: UInt64, length: UInt64, granularity: UInt64, maximumRuns: Int) async -> [ProvisioningRun]
}

/// A run of blocks that are all mapped, or all deallocated.
public struct ProvisioningRun: Sendable, Equatable {
    public var length: UInt64
    public var mapped: Bool
    public init(length: UInt64, mapped: Bool) { self.length = length; self.mapped = mapped }
}

public extension BackingStore {
    func readAhead(offset: UInt64, length: UInt64) {}
    /// Everything mapped (fully provisioned stores).
    func provisioning(offset: UInt64, length: UInt64, granularity: UInt64, maximumRuns: Int) async -> [ProvisioningRun] {
        [ProvisioningRun(length: length, mapped: true)]
    }
}

/// Appends a run to `runs`, merging it with the previous one of the same kind.
func appendRun(_ runs: inout [ProvisioningRun], _ length: UInt64, mapped: Bool) {
    guard length > 0 else { return }
    if let last = runs.last, last.mapped == mapped {
        runs[runs.count - 1].length += length
    } else {
        runs.append(ProvisioningRun(length: length, mapped: mapped))
    }
}

@inline(__always)
func ioError(_ rc: Int32, reading: Bool) -> SCSIError {
    reading ? .unrecoveredReadError : .writeError
}
