import Testing
@testable import STMF
@testable import SBD

extension ReservationTests {
    @Suite struct Codec {
        /// A state with ALL_TG_PT and iSCSI registrations, a RO reservation and APTPL.
        func sample() throws -> ReservationState {
            var s = ReservationState()
            try register(&s, nexus(hostA), sak: 0xA, flags: ALL_TG_PT | APTPL)
            try register(&s, nexus(hostI, port: 3), sak: 0x1234_5678_9ABC_DEF0, flags: APTPL)
            try register(&s, nexus(hostB, port: 2), sak: 0xB, flags: APTPL)
            try reserve(&s, nexus(hostB, port: 2), key: 0xB, type: PRType.eaRO)
            return s
        }

        @Test func crc32KnownAnswer() {
            #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
            #expect(CRC32.checksum([UInt8]()) == 0)
        }

        @Test func roundTrip() throws {
            let s = try sample()
            let blob = s.encoded()
            #expect(Array(blob.prefix(6)) == Array("SPRS".utf8) + [0, 1])
            let d = try ReservationState(decoding: blob)
            #expect(d == s)
            #expect(d.persistThroughPowerLoss)
            #expect(try readKeys(d, nexus(hostA)) == readKeys(s, nexus(hostA)))
            #expect(try d.persistentReserveIn(cdb: prinCDB(3), nexus: nexus(hostA))
                    == s.persistentReserveIn(cdb: prinCDB(3), nexus: nexus(hostA)))
            #expect(d.encoded() == blob)

            // Empty state, all registrants reservation, no reservation.
            #expect(try ReservationState(decoding: ReservationState().encoded()) == ReservationState())
            var ar = try sample()
            try prout(&ar, nexus(hostB, port: 2), SA.release, type: PRType.eaRO, list: basicList(key: 0xB))
            #expect(try ReservationState(decoding: ar.encoded()) == ar)
            try reserve(&ar, nexus(hostA), key: 0xA, type: PRType.weAR)
            #expect(try ReservationState(decoding: ar.encoded()) == ar)
        }

        @Test func powerOnResetsGenerationAndSPC2() throws {
            var s = try ReservationState(decoding: sample().encoded())
            #expect(s.generation == 3)
            s.powerOn()
            #expect(s.generation == 0)
            #expect(s.registrations.count == 4)
        }

        @Test func everySingleByteFlipIsRejected() throws {
            let blob = try sample().encoded()
            for i in blob.indices {
                for mask: UInt8 in [0x01, 0x80, 0xFF] {
                    var damaged = blob
                    damaged[i] ^= mask
                    #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: damaged) }
                }
            }
        }

        @Test func everyTruncationIsRejected() throws {
            let blob = try sample().encoded()
            for n in 0..<blob.count {
                #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: Array(blob.prefix(n))) }
            }
            #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: blob + [0]) }
        }

        /// Re-seals a modified body with a correct CRC, to reach the structural checks.
        func resealed(_ blob: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
            var body = Array(blob.dropLast(4))
            edit(&body)
            return body + be(UInt64(CRC32.checksum(body)), 4)
        }

        @Test func structuralErrors() throws {
            let blob = try sample().encoded()
            #expect(throws: ReservationDecodingError.truncated) { try ReservationState(decoding: [1, 2, 3]) }
            #expect(throws: ReservationDecodingError.badVersion(2)) {
                try ReservationState(decoding: resealed(blob) { $0[5] = 2 })
            }
            #expect(throws: ReservationDecodingError.malformed("bad magic")) {
                try ReservationState(decoding: resealed(blob) { $0[0] = 0x58 })
            }
            #expect(throws: ReservationDecodingError.malformed("checksum mismatch")) {
                var d = blob; d[d.count - 1] ^= 1; try ReservationState(decoding: d)
            }
            // Invalid reservation type, holder index out of range, registration count too large.
            #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: resealed(blob) { $0[12] = 2 }) }
            #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: resealed(blob) { $0[19] = 9 }) }
            #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: resealed(blob) { $0[23] = 5 }) }
            #expect(throws: ReservationDecodingError.self) { try ReservationState(decoding: resealed(blob) { $0[20] = 0xFF }) }
            // A registration name that is not a port name.
            #expect(throws: ReservationDecodingError.malformed("bad initiator name")) {
                try ReservationState(decoding: resealed(blob) { $0[24 + 13] = UInt8(ascii: "x") })
            }
            // A duplicate registration.
            #expect(throws: ReservationDecodingError.self) {
                try ReservationState(decoding: resealed(blob) { b in
                    // Second registration (hostA on port 2) → port 1, like the first.
                    let second = 24 + 13 + 20
                    b[second + 9] = 1
                })
            }
        }
    }
}
