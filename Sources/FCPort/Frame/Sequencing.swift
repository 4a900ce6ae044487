/// Splits one sequence's data into frames of at most `maximumPayload` bytes: SOFi3 then
/// SOFn3, consecutive SEQ_CNTs, relative offsets in the parameter field, End_Sequence (and the
/// template's sequence-initiative bit) only on the last frame (FC-FS-4 §9, FCP-4 §9.4).
public struct SequenceSplitter {
    public var maximumPayload: Int

    public init(maximumPayload: Int) {
        precondition(maximumPayload >= 256 && maximumPayload <= FCFrame.maximumPayload)
        self.maximumPayload = maximumPayload & ~3
    }

    /// Appends the encoded frames for `data`, starting at `relativeOffset` and SEQ_CNT
    /// `header.sequenceCount`, to `out`; returns the number of frames.
    @discardableResult
    public func encode(header: FrameHeader, data: UnsafeRawBufferPointer, relativeOffset: UInt32 = 0,
                       into out: inout [UInt8], records: Bool = false) -> Int {
        let count = max(1, (data.count + maximumPayload - 1) / maximumPayload)
        out.reserveCapacity(out.count + data.count + count * (FCFrame.overhead + FrameStream.prefixLength) + 3)
        var h = header
        let lastOnly = header.control.intersection([.endSequence, .sequenceInitiative, .lastSequence])
        var offset = 0
        for i in 0..<count {
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
            offset += len
        }
        return count
    }
}
