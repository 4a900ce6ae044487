import Foundation
import Testing
import Checksum

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func agreesWithCoreutilsAcrossBlockBoundariesAndSplits() throws {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 65_537] {
            let data = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(n)").path
            try Data(data).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (_, out, _) = try run("/usr/bin/sha256sum", [path])
            let expected = String(out.prefix(64))
            #expect(SHA256.hex(data) == expected, "length \(n)")
            // Fed in uneven pieces.
            var s = SHA256()
            var i = 0
            while i < n { let j = min(n, i + Int.random(in: 1...70)); s.update(data[i..<j]); i = j }
            #expect(s.finalize().map { String(format: "%02x", $0) }.joined() == expected)
        }
    }
}
