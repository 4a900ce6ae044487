/// The byte ranges of a sequence's data that have arrived, so that a frame delivered twice is
/// counted once (FC-FS-4 9.3: a recipient discards duplicate frames) and a lost frame is not
/// hidden by a duplicate of another. In-order delivery appends to the last range in O(1).
public struct ReceivedRanges: Sendable, Equatable {
    /// Sorted, disjoint and non-adjacent.
    private var ranges: [Range<Int>] = []
    /// Distinct bytes received.
    public private(set) var count = 0

    public init() {}

    /// Records [start, start + length); returns how many of those bytes were new.
    @discardableResult
    public mutating func insert(_ start: Int, length: Int) -> Int {
        guard length > 0 else { return 0 }
        let r = start..<(start + length)
        guard let last = ranges.last else {
            ranges.append(r)
            count = length
            return length
        }
        if r.lowerBound >= last.upperBound {
            if r.lowerBound == last.upperBound { ranges[ranges.count - 1] = last.lowerBound..<r.upperBound } else { ranges.append(r) }
            count += length
            return length
        }
        var lo = r.lowerBound, hi = r.upperBound, covered = 0, inserted = false
        var merged: [Range<Int>] = []
        merged.reserveCapacity(ranges.count + 1)
        for x in ranges {
            if x.upperBound < r.lowerBound {
                merged.append(x)
            } else if x.lowerBound > r.upperBound {
                if !inserted { merged.append(lo..<hi); inserted = true }
                merged.append(x)
            } else {
                covered += max(0, min(x.upperBound, r.upperBound) - max(x.lowerBound, r.lowerBound))
                lo = min(lo, x.lowerBound)
                hi = max(hi, x.upperBound)
            }
        }
        if !inserted { merged.append(lo..<hi) }
        ranges = merged
        count += length - covered
        return length - covered
    }

    /// Whether every byte of [0, length) has arrived.
    public func covers(_ length: Int) -> Bool {
        length == 0 || ranges.count == 1 && ranges[0].lowerBound <= 0 && ranges[0].upperBound >= length
    }
}
