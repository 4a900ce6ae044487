@testable import FCPort
import STMF

/// Bytes from a hex string (whitespace ignored).
func hex(_ s: String) -> [UInt8] {
    let digits = s.filter(\.isHexDigit)
    var out: [UInt8] = []
    var i = digits.startIndex
    while i < digits.endIndex {
        let j = digits.index(i, offsetBy: 2)
        out.append(UInt8(digits[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// SplitMix64: a seeded generator so a failing fuzz case can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `count` payloads: fully random ones (up to 300 bytes) and mutations of `seeds` (bytes
/// changed, truncated, extended, length fields disturbed), each handed to `body`.
func fuzzPayloads(seeds: [[UInt8]], count: Int = 20_000, seed: UInt64 = 0xFC, _ body: ([UInt8]) -> Void) {
    var rng = SeededGenerator(seed: seed)
    for _ in 0..<count {
        var p: [UInt8]
        if seeds.isEmpty || Int.random(in: 0..<4, using: &rng) == 0 {
            p = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        } else {
            p = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !p.isEmpty: p.removeLast(Int.random(in: 1...p.count, using: &rng))
            case 1: p += (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            default: break
            }
            for _ in 0..<Int.random(in: 0...4, using: &rng) where !p.isEmpty {
                p[Int.random(in: 0..<p.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        body(p)
    }
}

let initiatorPortName = WWN(0x2100_0024_FF3D_0001)
let initiatorNodeName = WWN(0x2000_0024_FF3D_0001)
let targetPortName = WWN(0x2100_0024_FF3D_0002)
let targetNodeName = WWN(0x2000_0024_FF3D_0002)
let fPortName = WWN(0x2001_0000_DEAD_BE01)
let fabricName = WWN(0x1000_0000_DEAD_BEEF)
let initiatorID: UInt32 = 0x010100
let targetID: UInt32 = 0x010200
