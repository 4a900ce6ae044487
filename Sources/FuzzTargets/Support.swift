// Shared plumbing of the fuzz targets. Every target takes the raw input bytes, feeds them to
// the product's own decoder, and, where a decode succeeds, re-encodes with the product's
// encoder and decodes again. A target traps (precondition) only on a real inconsistency; a
// trap anywhere inside the product code is a product bug.

/// A fuzz target: one function of this module.
public typealias FuzzTarget = @Sendable (UnsafeRawBufferPointer) -> Void

/// Every target by the name its corpus directory (`Fuzz/corpus/<name>`) and its fuzzer
/// executable (`fuzz-<name>`) carry.
public let fuzzTargets: [(name: String, run: FuzzTarget)] = [
    ("frame", fuzzFrame),
    ("els", fuzzELS),
    ("ct", fuzzCT),
    ("bls", fuzzBLS),
    ("fcp", fuzzFCP),
    ("cdb", fuzzCDB),
    ("sgbridge", fuzzSGBridge),
    ("api", fuzzAPIRequest),
    ("export", fuzzExportDocument),
    ("metadata", fuzzSBDMetadata),
    ("tcmu", fuzzTCMURing),
]

/// Runs `target` over a byte array (tests, seed generation).
public func runFuzzTarget(_ target: FuzzTarget, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { target($0) }
}

/// A check of the fuzz harness: on failure the input is a reproducer.
@inline(__always)
func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { preconditionFailure(message(), file: file, line: line) }
}

/// The input split into a leading selector byte and the rest.
func split(_ data: UnsafeRawBufferPointer) -> (UInt8, UnsafeRawBufferPointer)? {
    guard let first = data.first else { return nil }
    return (first, UnsafeRawBufferPointer(rebasing: data[1...]))
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
}

/// CRC-32C (Castagnoli, reflected 0x82F63B78), as SBD's metadata slots carry it: the fuzz
/// targets recompute it so mutated metadata gets past the checksum to the decoder behind it.
enum FuzzCRC32C {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func update(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var c = ~crc
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return ~c
    }
}

/// CRC-32 (IEEE, zlib's), as SBD's reservation state carries it.
enum FuzzCRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
