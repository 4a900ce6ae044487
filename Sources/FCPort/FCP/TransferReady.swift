/// The FCP_XFER_RDY IU (FCP-4): where the next data-out burst starts and how long it is.
public struct TransferReady: Sendable, Equatable {
    /// FCP_DATA_RO: relative offset of the burst.
    public var relativeOffset: UInt32
    /// FCP_BURST_LEN: bytes the target is ready to receive.
    public var burstLength: UInt32

    /// Length of the payload.
    public static let size = 12

    public init(relativeOffset: UInt32, burstLength: UInt32) {
        self.relativeOffset = relativeOffset
        self.burstLength = burstLength
    }

    /// The XFER_RDY payload (the third word is reserved).
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.u32(relativeOffset)
        w.u32(burstLength)
        w.u32(0)
        return w.bytes
    }

    /// Decodes an XFER_RDY payload (exactly 12 bytes; a zero burst is invalid).
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(FCPDecodeError) -> TransferReady {
        let r = ByteReader(payload)
        guard r.count == size else { throw .invalidTransferReadyLength(actual: r.count) }
        let t = TransferReady(relativeOffset: r.u32(at: 0), burstLength: r.u32(at: 4))
        guard t.burstLength > 0 else { throw .zeroBurstLength }
        return t
    }
}

extension TransferReady {
    /// The payload, encoded on the stack (no allocation), for the duration of `body`.
    public func withEncoded<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var words = (relativeOffset.bigEndian, burstLength.bigEndian, UInt32(0))
        return withUnsafeBytes(of: &words) { body($0) }
    }
}
