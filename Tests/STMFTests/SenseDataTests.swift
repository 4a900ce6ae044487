import Foundation
import Testing
@testable import STMF

@Suite struct SenseDataTests {
    static let samples: [SenseData] = [
        SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 2, bit: 5)),
        SenseData(.illegalRequest, .invalidFieldInParameterList, senseKeySpecific: .fieldPointer(inCDB: false, byte: 18, bit: nil)),
        SenseData(.miscompare, .miscompareDuringVerify, information: 0x1234),
        SenseData(.unitAttention, .reportedLUNsDataHasChanged),
        SenseData(.mediumError, .unrecoveredReadError, information: 0x1_0000_0000),
    ]

    @Test(arguments: samples)
    func roundTripsInBothFormats(_ s: SenseData) {
        let d = SenseData(parsing: s.bytes(descriptor: true))
        #expect(d == s)
        let f = SenseData(parsing: s.bytes(descriptor: false))
        // Fixed format cannot carry a 64-bit INFORMATION value.
        var expected = s
        if let i = s.information, i > UInt64(UInt32.max) { expected.information = nil }
        #expect(f == expected)
    }

    @Test func fixedLayout() {
        let b = Self.samples[0].bytes(descriptor: false)
        #expect(b == [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0, 0, 0xCD, 0, 2])
    }

    @Test func truncatesIntoSmallBuffers() {
        var small = [UInt8](repeating: 0xEE, count: 8)
        let n = small.withUnsafeMutableBytes { Self.samples[2].encode(descriptor: true, into: $0) }
        #expect(n == 8 && small[0] == 0x72)
    }

    static let sgDecodeSense = "/usr/bin/sg_decode_sense"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: sgDecodeSense)), arguments: [false, true])
    func sg3UtilsDecodesOurSense(descriptor: Bool) throws {
        let expectations: [[String]] = [
            ["Illegal Request", "Invalid field in cdb", "Field replaceable unit code: 0", "byte 2 bit 5"],
            ["Illegal Request", "Invalid field in parameter list", "byte 18"],
            ["Miscompare", "Miscompare during verify operation", "1234"],
            ["Unit Attention", "Reported luns data has changed"],
            ["Medium Error", "Unrecovered read error"],
        ]
        for (s, expect) in zip(Self.samples, expectations) {
            let hex = s.bytes(descriptor: descriptor).map { String(format: "%02x", $0) }
            let (status, out, err) = try run(Self.sgDecodeSense, hex)
            #expect(status == 0)
            #expect(err.isEmpty, "stderr: \(err)")
            for e in expect where !(e.hasPrefix("Field replaceable")) {
                #expect(out.lowercased().contains(e.lowercased()), "missing \(e) in: \(out)")
            }
        }
    }
}
