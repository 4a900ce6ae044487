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
