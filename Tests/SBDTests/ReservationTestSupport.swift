import Testing
@testable import STMF
@testable import SBD

// Target ports: two FC ports (relative ids 1, 2) and one iSCSI port (3).
let fcPort1 = PortIdentifier.wwn(WWN(0x2000_0000_0000_0001))
let fcPort2 = PortIdentifier.wwn(WWN(0x2000_0000_0000_0002))
let iscsiPort = PortIdentifier.iqn("iqn.2026-01.org.example:target")
let allTargetPorts: [TargetPortInfo] = [
    TargetPortInfo(name: fcPort1, relativeID: 1, groupID: 1, online: true),
    TargetPortInfo(name: fcPort2, relativeID: 2, groupID: 1, online: true),
    TargetPortInfo(name: iscsiPort, relativeID: 3, groupID: 2, online: true),
]

// Initiators.
let hostA = PortIdentifier.wwn(WWN(0x1000_0000_0000_000A))
let hostB = PortIdentifier.wwn(WWN(0x1000_0000_0000_000B))
let hostC = PortIdentifier.wwn(WWN(0x1000_0000_0000_000C))
let hostI = PortIdentifier.iqn("iqn.1994-05.com.redhat:host-i")

func nexus(_ initiator: PortIdentifier, port: UInt16 = 1) -> Nexus {
    let target = allTargetPorts.first { $0.relativeID == port }!
    // A deterministic session id per (initiator, port).
    let session = initiator.description.utf8.reduce(UInt64(port)) { $0 &* 31 &+ UInt64($1) }
    return Nexus(sessionID: session, initiator: initiator, targetPort: target.name,
                 relativeTargetPortID: port, targetPortGroupID: target.groupID)
}

enum SA {
    static let register: UInt8 = 0, reserve: UInt8 = 1, release: UInt8 = 2, clear: UInt8 = 3
    static let preempt: UInt8 = 4, preemptAndAbort: UInt8 = 5, registerAndIgnore: UInt8 = 6, registerAndMove: UInt8 = 7
}

enum PRType {
    static let we: UInt8 = 1, ea: UInt8 = 3, weRO: UInt8 = 5, eaRO: UInt8 = 6, weAR: UInt8 = 7, eaAR: UInt8 = 8
    static let all: [UInt8] = [we, ea, weRO, eaRO, weAR, eaAR]
}


/// PERSISTENT RESERVE OUT CDB.
func proutCDB(_ sa: UInt8, type: UInt8 = 0, scope: UInt8 = 0, length: Int) -> CDB {
    CDB([0x5F, sa, scope << 4 | type, 0, 0] + be(UInt64(length), 4) + [0])
}

/// The basic 24-byte PR OUT parameter list.
func basicList(key: UInt64 = 0, sak: UInt64 = 0, flags: UInt8 = 0) -> [UInt8] {
    var p = be(key, 8) + be(sak, 8) + [0, 0, 0, 0]
    p += [flags, 0, 0, 0]
    return p
}

let SPEC_I_PT: UInt8 = 0x08, ALL_TG_PT: UInt8 = 0x04, APTPL: UInt8 = 0x01

/// REGISTER with SPEC_I_PT: the basic list, TRANSPORTID PARAMETER DATA LENGTH, TransportIDs.
func specIPTList(key: UInt64 = 0, sak: UInt64, flags: UInt8 = SPEC_I_PT, tids: [[UInt8]]) -> [UInt8] {
    let t = tids.flatMap { $0 }
    return basicList(key: key, sak: sak, flags: flags) + be(UInt64(t.count), 4) + t
}

func moveList(key: UInt64, sak: UInt64, unreg: Bool = false, aptpl: Bool = false, rtpi: UInt16, tid: [UInt8]) -> [UInt8] {
    be(key, 8) + be(sak, 8) + [0, (unreg ? 2 : 0) | (aptpl ? 1 : 0)] + be(UInt64(rtpi), 2) + be(UInt64(tid.count), 4) + tid
}

func fcTID(_ wwn: UInt64) -> [UInt8] { [0, 0, 0, 0, 0, 0, 0, 0] + be(wwn, 8) + [UInt8](repeating: 0, count: 8) }

func iscsiTID(_ name: String, format: UInt8 = 0) -> [UInt8] {
    var n = Array(name.utf8) + [0]
    while n.count % 4 != 0 { n.append(0) }
    return [format << 6 | 0x05, 0] + be(UInt64(n.count), 2) + n
}

@discardableResult
func prout(_ s: inout ReservationState, _ n: Nexus, _ sa: UInt8, type: UInt8 = 0, scope: UInt8 = 0,
           list: [UInt8], length: Int? = nil, ports: [TargetPortInfo] = allTargetPorts) throws(SCSIError) -> ReservationEffects {
    let cdb = proutCDB(sa, type: type, scope: scope, length: length ?? list.count)
    var result: Swift.Result<ReservationEffects, SCSIError>!
    list.withUnsafeBytes { raw in
        do throws(SCSIError) { result = .success(try s.persistentReserveOut(cdb: cdb, nexus: n, parameters: raw, targetPorts: ports)) }
        catch { result = .failure(error) }
    }
    return try result.get()
}

@discardableResult
func register(_ s: inout ReservationState, _ n: Nexus, key: UInt64 = 0, sak: UInt64, flags: UInt8 = 0) throws(SCSIError) -> ReservationEffects {
    try prout(&s, n, SA.register, list: basicList(key: key, sak: sak, flags: flags))
}

@discardableResult
func reserve(_ s: inout ReservationState, _ n: Nexus, key: UInt64, type: UInt8) throws(SCSIError) -> ReservationEffects {
    try prout(&s, n, SA.reserve, type: type, list: basicList(key: key))
}

func prinCDB(_ sa: UInt8) -> CDB { CDB([0x5E, sa, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0]) }

func readKeys(_ s: ReservationState, _ n: Nexus) throws(SCSIError) -> [UInt8] { try s.persistentReserveIn(cdb: prinCDB(0), nexus: n) }
func readReservation(_ s: ReservationState, _ n: Nexus) throws(SCSIError) -> [UInt8] { try s.persistentReserveIn(cdb: prinCDB(1), nexus: n) }

/// Expects `body` to throw exactly `expected`.
func expectError(_ expected: SCSIError, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch {
        #expect(error as? SCSIError == expected, sourceLocation: sourceLocation)
    }
}

let conflict = SCSIError.reservationConflict
func fieldInCDB(_ byte: Int, _ bit: Int? = nil) -> SCSIError { .invalidFieldInCDB(byte: byte, bit: bit) }
func fieldInList(_ byte: Int, _ bit: Int? = nil) -> SCSIError { .invalidFieldInParameterList(byte: byte, bit: bit) }

func ua(_ sense: AdditionalSense, _ n: Nexus) -> UnitAttentionEffect {
    UnitAttentionEffect(sense, .nexus(initiator: n.initiator, relativeTargetPortID: n.relativeTargetPortID))
}

// Commands for the conflict matrix.
let read10 = CDB([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0])
let write10 = CDB([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0])
let inquiry = CDB([0x12, 0, 0, 0, 0xFF, 0])
let tur = CDB([0x00, 0, 0, 0, 0, 0])
let requestSense = CDB([0x03, 0, 0, 0, 18, 0])
let reportLUNs = CDB([0xA0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
let readCapacity10 = CDB([0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])
let readCapacity16 = CDB([0x9E, 0x10] + [UInt8](repeating: 0, count: 14))
let modeSense6 = CDB([0x1A, 0, 0x3F, 0, 0xFF, 0])
let modeSelect6 = CDB([0x15, 0x10, 0, 0, 12, 0])
let syncCache10 = CDB([0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0])
let rtpg = CDB([0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
let rsoc = CDB([0xA3, 0x0C, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
let reserve6 = CDB([0x16, 0, 0, 0, 0, 0])
let release6 = CDB([0x17, 0, 0, 0, 0, 0])
let reserve10 = CDB([0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0])
let release10 = CDB([0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0])
