import STMF

/// Fault injection settings of the emulated fabric: frame loss, added delay, corrupted CRCs
/// and duplicated frames, fabric-wide or for frames a given port sends or receives.
public struct Faults: Sendable, Equatable, Codable {
    /// Probability (0…1) that a frame is discarded.
    public var lossRate: Double = 0
    /// Probability (0…1) that a frame is delivered with a bad CRC.
    public var corruptionRate: Double = 0
    /// Delay added to each frame, in milliseconds.
    public var delayMilliseconds: Double = 0
    /// Probability (0…1) that a frame is delivered twice (a receiver must not act on it twice).
    public var duplicateRate: Double = 0

    public init(lossRate: Double = 0, corruptionRate: Double = 0, delayMilliseconds: Double = 0, duplicateRate: Double = 0) {
        self.lossRate = lossRate
        self.corruptionRate = corruptionRate
        self.delayMilliseconds = delayMilliseconds
        self.duplicateRate = duplicateRate
    }

    enum CodingKeys: String, CodingKey { case lossRate, corruptionRate, delayMilliseconds, duplicateRate }

    /// Absent fields are zero (a control client that predates one still works).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lossRate = try c.decodeIfPresent(Double.self, forKey: .lossRate) ?? 0
        corruptionRate = try c.decodeIfPresent(Double.self, forKey: .corruptionRate) ?? 0
        delayMilliseconds = try c.decodeIfPresent(Double.self, forKey: .delayMilliseconds) ?? 0
        duplicateRate = try c.decodeIfPresent(Double.self, forKey: .duplicateRate) ?? 0
    }

    public var isNone: Bool { lossRate == 0 && corruptionRate == 0 && delayMilliseconds == 0 && duplicateRate == 0 }

    /// Checks ranges; nil when valid, else the reason.
    public var problem: String? {
        if !(0...1).contains(lossRate) { return "loss rate must be between 0 and 1" }
        if !(0...1).contains(corruptionRate) { return "corruption rate must be between 0 and 1" }
        if !(0...60_000).contains(delayMilliseconds) { return "delay must be between 0 and 60000 ms" }
        if !(0...1).contains(duplicateRate) { return "duplicate rate must be between 0 and 1" }
        return nil
    }

    /// The stronger of two settings (a port's and the fabric's).
    func combined(with other: Faults) -> Faults {
        Faults(lossRate: max(lossRate, other.lossRate), corruptionRate: max(corruptionRate, other.corruptionRate),
               delayMilliseconds: max(delayMilliseconds, other.delayMilliseconds),
               duplicateRate: max(duplicateRate, other.duplicateRate))
    }
}

/// What the fabric does with one frame after fault injection.
enum FaultDecision: Equatable {
    case deliver
    case drop
    case corrupt
    case duplicate
}

/// A small fast PRNG (xorshift64*) so fault decisions are cheap and reproducible from a seed.
struct FaultRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func nextUnit() -> Double {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return Double((state &* 0x2545_F491_4F6C_DD1D) >> 11) / Double(1 << 53)
    }
    mutating func decide(_ f: Faults) -> FaultDecision {
        if f.lossRate > 0 && nextUnit() < f.lossRate { return .drop }
        if f.corruptionRate > 0 && nextUnit() < f.corruptionRate { return .corrupt }
        if f.duplicateRate > 0 && nextUnit() < f.duplicateRate { return .duplicate }
        return .deliver
    }
}
