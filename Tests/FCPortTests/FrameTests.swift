import FCPort
import Testing

@Suite("FC-2 frames")
struct FrameTests {
    static let header = FrameHeader(routing: .elsRequest, destination: .fabricLogin, source: FCID(0x010200), type: .els,
                                    control: .request, sequenceID: 3, sequenceCount: 7, originatorExchangeID: 0x1234,
                                    responderExchangeID: 0xFFFF, parameter: 0xDEAD_BEEF)

    @Test func crcMatchesIEEE() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Same result whether fed at once or in pieces (slice-by-8 vs bytewise tails).
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32.checksum(data)
        let split = data.withUnsafeBytes { p in
            CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: p[0..<333])), UnsafeRawBufferPointer(rebasing: p[333...]))
        }
        #expect(whole == split)
    }

    /// The folding (PCLMULQDQ) path against a bit-at-a-time CRC and the table path: every
    /// length up to 300 and random lengths, offsets and split points beyond.
    @Test func foldedCRCMatchesBitwiseReference() {
        func bitwise(_ p: UnsafeRawBufferPointer) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for b in p { c ^= UInt32(b); for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 } }
            return ~c
        }
        var rng = UInt64(0x1234_5678)
        func next() -> Int { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return Int(rng & 0x7FFF_FFFF) }
        let data = (0..<9000).map { _ in UInt8(truncatingIfNeeded: next()) }
        data.withUnsafeBytes { all in
            var bad = 0
            for i in 0..<700 {
                let n = i < 300 ? i : next() % 8500
                let off = next() % 64
                let p = UnsafeRawBufferPointer(rebasing: all[off..<(off + n)])
                let want = bitwise(p)
                let cut = n == 0 ? 0 : next() % n
                let pieces = CRC32.update(CRC32.update(0, UnsafeRawBufferPointer(rebasing: p[0..<cut])),
                                          UnsafeRawBufferPointer(rebasing: p[cut...]))
                if CRC32.update(0, p) != want || CRC32.updateWithTables(0, p) != want || pieces != want { bad += 1 }
            }
            #expect(bad == 0)
        }
    }

    @Test func headerLayout() {
        var bytes = [UInt8](repeating: 0, count: 24)
        bytes.withUnsafeMutableBytes { Self.header.write(to: $0.baseAddress!) }
        #expect(bytes == [0x22, 0xFF, 0xFF, 0xFE, 0x00, 0x01, 0x02, 0x00, 0x01, 0x29, 0x00, 0x00,
                          0x03, 0x00, 0x00, 0x07, 0x12, 0x34, 0xFF, 0xFF, 0xDE, 0xAD, 0xBE, 0xEF])
        #expect(bytes.withUnsafeBytes { FrameHeader(reading: $0.baseAddress!) } == Self.header)
    }

    @Test func roundTripWithFillBytes() throws {
        for n in [0, 1, 2, 3, 4, 36, 2047, 2048, 2112] {
            let payload = (0..<n).map { UInt8(truncatingIfNeeded: $0) }
            let f = FCFrame(header: Self.header, payload: payload)
            let wire = f.encoded()
            #expect(wire.count == FCFrame.overhead + (n + 3) / 4 * 4)
            #expect(wire.count == f.encodedLength)
            let back = try FCFrame(decoding: wire)
            #expect(back.payload == payload)
            #expect(back.header.control.fillBytes == (4 - n % 4) % 4)
            #expect(back.start == .initiate3 && back.end == .terminate)
        }
    }

    @Test func malformedFramesAreRejected() throws {
        let good = FCFrame(header: Self.header, payload: [1, 2, 3, 4, 5, 6, 7, 8]).encoded()
        #expect(throws: FrameError.truncated(length: 35)) { try FCFrame(decoding: Array(good[0..<35])) }
        #expect(throws: FrameError.truncated(length: 0)) { try FCFrame(decoding: []) }
        var misaligned = good
        misaligned.insert(0, at: 30)
        #expect(throws: FrameError.misaligned(payloadLength: 9)) { try FCFrame(decoding: misaligned) }
        let big = [UInt8](repeating: 0, count: FCFrame.overhead + 2116)
        #expect(throws: FrameError.oversized(payloadLength: 2116)) { try FCFrame(decoding: big) }
        var badCRC = good
        badCRC[good.count - 8] ^= 1
        #expect { try FCFrame(decoding: badCRC) } throws: { e in
            if case FrameError.badCRC = e { return true } else { return false }
        }
        var badSOF = good
        badSOF[0] = 0
        #expect { try FCFrame(decoding: badSOF) } throws: { e in
            if case FrameError.unknownStartOfFrame = e { return true } else { return false }
        }
        var badEOF = good
        badEOF[good.count - 1] = 0
        #expect { try FCFrame(decoding: badEOF) } throws: { e in
            if case FrameError.unknownEndOfFrame = e { return true } else { return false }
        }
        // Random bytes never crash the decoder.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var b = good
            for _ in 0..<Int.random(in: 1...4, using: &rng) { b[Int.random(in: 0..<b.count, using: &rng)] = .random(in: 0...255, using: &rng) }
            if Bool.random(using: &rng) { b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng))) }
            _ = try? FCFrame(decoding: b)
        }
    }

    @Test func sequenceSplitting() throws {
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        var h = Self.header
        h.routing = .fcpData
        h.type = .fcp
        h.control = [.exchangeResponder, .endSequence, .sequenceInitiative]
        var out = [UInt8]()
        let n = data.withUnsafeBytes { SequenceSplitter(maximumPayload: 2048).encode(header: h, data: $0, relativeOffset: 100, into: &out, records: true) }
        #expect(n == 3)
        var frames: [FCFrame] = []
        let used = try out.withUnsafeBytes { p in
            try FrameStream.parse(p) { rec, _ in
                guard case .frame(let b) = rec else { Issue.record("primitive"); return }
                frames.append(try FCFrame(decoding: b))
            }
        }
        #expect(used == out.count)
        #expect(frames.map(\.payload.count) == [2048, 2048, 904])
        #expect(frames.map(\.header.parameter) == [100, 2148, 4196])
        #expect(frames.map(\.header.sequenceCount) == [7, 8, 9])
        #expect(frames.map(\.start) == [.initiate3, .normal3, .normal3])
        #expect(frames.map(\.end) == [.normal, .normal, .terminate])
        #expect(frames.map { $0.header.control.contains(.endSequence) } == [false, false, true])
        #expect(frames.map { $0.header.control.contains(.sequenceInitiative) } == [false, false, true])
        #expect(frames.allSatisfy { $0.header.control.contains(.relativeOffset) })
        #expect(frames.flatMap(\.payload) == data)

        // Encoded in pieces (as the target streams a long sequence), the bytes are the same.
        let splitter = SequenceSplitter(maximumPayload: 2048)
        #expect(splitter.frameCount(data.count) == 3 && splitter.frameCount(0) == 1)
        for cuts in [[0..<1, 1..<3], [0..<2, 2..<3], [0..<1, 1..<2, 2..<9]] {
            var pieces = [UInt8]()
            let counts = data.withUnsafeBytes { d in
                cuts.map { splitter.encode(header: h, data: d, relativeOffset: 100, frames: $0, into: &pieces, records: true) }
            }
            #expect(counts.reduce(0, +) == 3)
            #expect(pieces == out, "pieces \(cuts)")
        }
    }

    @Test func frameStreamViolations() {
        var out = [UInt8]()
        FrameStream.append(.idle, to: &out)
        out += [0, 0, 0, 9, 1, 2, 3]            // a 9-byte record: neither primitive nor frame
        var seen: [LinkPrimitive] = []
        #expect(throws: FrameStream.Violation.self) {
            _ = try out.withUnsafeBytes { p in
                try FrameStream.parse(p) { rec, _ in if case .primitive(let x) = rec { seen.append(x) } }
            }
        }
        #expect(seen == [.idle])
        let unknown: [UInt8] = [0, 0, 0, 4, 0xBC, 0, 0, 0]
        #expect(throws: FrameStream.Violation.self) {
            _ = try unknown.withUnsafeBytes { p in try FrameStream.parse(p) { _, _ in } }
        }
        // A partial record is left for the next read.
        let partial: [UInt8] = [0, 0, 0, 4, 0xBC, 0x95]
        let used = try? partial.withUnsafeBytes { p in try FrameStream.parse(p) { _, _ in } }
        #expect(used == 0)
    }
}
