/// Splits one sequence's data into frames of at most `maximumPayload` bytes: SOFi3 then
/// SOFn3, consecutive SEQ_CNTs, relative offsets in the parameter field, End_Sequence (and the
/// template's sequence-initiative bit) only on the last frame (FC-FS-4 §9, FCP-4 §9.4).
public struct SequenceSplitter {
    public var maximumPayload: Int

    public init(maximumPayload: Int) {
        precondition(maximumPayload >= 256 && maximumPayload <= FCFrame.maximumPayload)
        self.maximumPayload = maximumPayload & ~3
    }

    /// The number of frames `encode` makes of `byteCount` bytes (at least one).
    public func frameCount(_ byteCount: Int) -> Int { max(1, (byteCount + maximumPayload - 1) / maximumPayload) }

    /// Appends the encoded frames for `data`, starting at `relativeOffset` and SEQ_CNT
    /// `header.sequenceCount`, to `out`; returns the number of frames. With `frames`, only
    /// those frames of the sequence are appended (a sender streaming a long sequence in
    /// pieces); each keeps the delimiters, SEQ_CNT and offset it has in the whole sequence.
    @discardableResult
    public func encode(header: FrameHeader, data: UnsafeRawBufferPointer, relativeOffset: UInt32 = 0,
                       frames: Range<Int>? = nil, into out: inout [UInt8], records: Bool = false) -> Int {
        let count = frameCount(data.count)
        let range = frames.map { $0.clamped(to: 0..<count) } ?? 0..<count
        let bytes = min(data.count, range.count * maximumPayload)
        out.reserveCapacity(out.count + bytes + range.count * (FCFrame.overhead + FrameStream.prefixLength) + 3)
        var h = header
        let lastOnly = header.control.intersection([.endSequence, .sequenceInitiative, .lastSequence])
        for i in range {
            let offset = i * maximumPayload
            let len = min(maximumPayload, data.count - offset)
            h.control = header.control.subtracting(lastOnly).union(.relativeOffset)
            if i == count - 1 { h.control.formUnion(lastOnly) }
            h.sequenceCount = header.sequenceCount &+ UInt16(truncatingIfNeeded: i)
            h.parameter = relativeOffset &+ UInt32(offset)
            let slice = len > 0 ? UnsafeRawBufferPointer(rebasing: data[offset..<(offset + len)])
                                : UnsafeRawBufferPointer(start: nil, count: 0)
            FCFrame.encode(start: i == 0 ? .initiate3 : .normal3, header: h, payload: slice,
                           end: i == count - 1 && lastOnly.contains(.endSequence) ? .terminate : .normal,
                           into: &out, record: records)
        }
        return range.count
    }
}
