/// The Link Error Status Block returned by RLS (FC-LS-3): six 32-bit counters.
public struct LinkErrorStatusBlock: Sendable, Equatable {
    public var linkFailures: UInt32
    public var lossOfSynchronization: UInt32
    public var lossOfSignal: UInt32
    public var primitiveSequenceErrors: UInt32
    public var invalidTransmissionWords: UInt32
    public var invalidCRCs: UInt32

    /// Length of the RLS LS_ACC payload (command word + block).
    public static let acceptSize = 28

    public init(linkFailures: UInt32 = 0, lossOfSynchronization: UInt32 = 0, lossOfSignal: UInt32 = 0,
                primitiveSequenceErrors: UInt32 = 0, invalidTransmissionWords: UInt32 = 0, invalidCRCs: UInt32 = 0) {
        self.linkFailures = linkFailures
        self.lossOfSynchronization = lossOfSynchronization
        self.lossOfSignal = lossOfSignal
        self.primitiveSequenceErrors = primitiveSequenceErrors
        self.invalidTransmissionWords = invalidTransmissionWords
        self.invalidCRCs = invalidCRCs
    }

    /// The RLS LS_ACC payload.
    public func encodedAccept() -> [UInt8] {
        var w = ByteWriter(capacity: Self.acceptSize)
        w.commandWord(ELSCommandCode.lsAccept.rawValue)
        for v in [linkFailures, lossOfSynchronization, lossOfSignal, primitiveSequenceErrors, invalidTransmissionWords, invalidCRCs] {
            w.u32(v)
        }
        return w.bytes
    }

    static func decodeAccept(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(ELSDecodeError) -> LinkErrorStatusBlock {
        guard r.count == acceptSize else { throw .invalidLength(.rls, actual: r.count) }
        return LinkErrorStatusBlock(linkFailures: r.u32(at: 4), lossOfSynchronization: r.u32(at: 8),
                                    lossOfSignal: r.u32(at: 12), primitiveSequenceErrors: r.u32(at: 16),
                                    invalidTransmissionWords: r.u32(at: 20), invalidCRCs: r.u32(at: 24))
    }
}

/// The RTV LS_ACC payload (FC-LS-3): R_A_TOV, E_D_TOV and the timeout qualifier.
public struct RTVAccept: Sendable, Equatable {
    /// R_A_TOV in ms.
    public var resourceAllocationTimeout: UInt32
    /// E_D_TOV in ms, or ns when `errorDetectResolutionNanoseconds`.
    public var errorDetectTimeout: UInt32
    /// Timeout qualifier word: bit 26 E_D_TOV resolution, bit 19 R_T_TOV resolution.
    public var timeoutQualifier: UInt32

    /// Length of the payload.
    public static let size = 16

    public init(resourceAllocationTimeout: UInt32 = 10_000, errorDetectTimeout: UInt32 = 2_000, timeoutQualifier: UInt32 = 0) {
        self.resourceAllocationTimeout = resourceAllocationTimeout
        self.errorDetectTimeout = errorDetectTimeout
        self.timeoutQualifier = timeoutQualifier
    }

    /// E_D_TOV is in nanoseconds.
    public var errorDetectResolutionNanoseconds: Bool { timeoutQualifier & (1 << 26) != 0 }
    /// R_T_TOV is in 100 µs units rather than 100 ms.
    public var rtTOVMicroseconds: Bool { timeoutQualifier & (1 << 19) != 0 }

    /// The RTV LS_ACC payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.commandWord(ELSCommandCode.lsAccept.rawValue)
        w.u32(resourceAllocationTimeout)
        w.u32(errorDetectTimeout)
        w.u32(timeoutQualifier)
        return w.bytes
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(ELSDecodeError) -> RTVAccept {
        guard r.count == size else { throw .invalidLength(.rtv, actual: r.count) }
        return RTVAccept(resourceAllocationTimeout: r.u32(at: 4), errorDetectTimeout: r.u32(at: 8), timeoutQualifier: r.u32(at: 12))
    }
}
