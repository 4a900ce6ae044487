import Foundation
import Testing
@testable import SBD
@testable import STMF

/// The LU's side of the reservation commands (what it checks before handing over to
/// `ReservationState`), independent of the reservation rules themselves.
@Suite struct PersistentReserveGlueTests {
    @Test func shortParameterListIsRefusedBeforeTheStateSeesIt() async throws {
        let h = try Harness.ram()
        let cdb: [UInt8] = [0x5F, 0x00, 0x00, 0, 0] + be(24, 4) + [0]
        let r = await h.run(cdb, out: [UInt8](repeating: 0, count: 24), dataOutCount: 12)
        #expect(r.sense == SenseData(.illegalRequest, .invalidFieldInCDB, senseKeySpecific: .fieldPointer(inCDB: true, byte: 5, bit: nil)))
    }

    @Test func reservedBitsOfReservationCDBsAreChecked() async throws {
        let h = try Harness.ram()
        #expect(await h.run([0x5E, 0x00, 0x01, 0, 0, 0, 0, 0, 8, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 2, bit: 0))
        #expect(await h.run([0x16, 0x10, 0, 0, 0, 0]).sense?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 1, bit: 4))
    }
}
