import Foundation
import Synchronization
import Testing
@testable import SBD
@testable import STMF

// Shared plumbing for the end-to-end suites (fuzz, model, reservation integration): a real
// STMF dispatcher, target ports whose provider does nothing, SBD LUs registered, onlined and
// viewed, and sessions created through the port handle. Names carry an `e2e` prefix so they
// do not clash with the LU-level helpers of the other SBD test files.

/// A port provider with nothing behind it.
final class E2ENullPort: PortProvider {
    func online() async throws {}
    func offline() async {}
}

/// SplitMix64: small, fast and reproducible from a printed seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    /// `n` random bytes, eight per draw (debug builds are slow at byte-by-byte loops).
    mutating func bytes(_ n: Int) -> [UInt8] {
        var a = [UInt8](repeating: 0, count: n)
        a.withUnsafeMutableBytes { p in
            var i = 0
            while i < n {
                var v = next()
                let k = min(8, n - i)
                withUnsafeBytes(of: &v) { p.baseAddress!.advanced(by: i).copyMemory(from: $0.baseAddress!, byteCount: k) }
                i += k
            }
        }
        return a
    }
}

let e2eTags = Atomic<UInt64>(1)
func e2eTag() -> UInt64 { e2eTags.add(1, ordering: .relaxed).newValue }

let e2eTarget1 = PortIdentifier.wwn(WWN(0x5000_0000_0000_00A1))
let e2eTarget2 = PortIdentifier.wwn(WWN(0x5000_0000_0000_00A2))
let e2eHostA = PortIdentifier.wwn(WWN(0x2100_0000_0000_00A1))
let e2eHostB = PortIdentifier.wwn(WWN(0x2100_0000_0000_00B2))
let e2eHostC = PortIdentifier.wwn(WWN(0x2100_0000_0000_00C3))

/// STMF with one or two online target ports.
struct E2EFabric {
    let stmf = STMF()
    let ports: [TargetPortHandle]

    init(portCount: Int = 1) async throws {
        var ps: [TargetPortHandle] = []
        for name in [e2eTarget1, e2eTarget2].prefix(portCount) {
            let p = try stmf.registerTargetPort(name, provider: E2ENullPort())
            try await stmf.setTargetPortState(name, online: true)
            ps.append(p)
        }
        ports = ps
    }

    /// Registers, onlines and views `lu` to everyone at `lun`.
    func add(_ lu: SBDLogicalUnit, lun: Int = 0) async throws {
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: lu.guid, lun: lun)
        }
    }

    func session(_ initiator: PortIdentifier, port: Int = 0) throws -> Session {
        try ports[port].createSession(initiator: initiator)
    }
}

func e2eProperties(size: UInt64, blockSize: UInt32 = 512, guid: String) -> SBDProperties {
    var p = SBDProperties()
    p.size = size
    p.blockSize = blockSize
    p.guid = guid
    p.serial = "E2E-" + guid.suffix(6)
    return p
}

struct E2EReply {
    var response: TaskResponse
    var data: [UInt8]
    var status: SCSIStatus { response.status }
    var sense: SenseData? { response.sense }
}

extension Session {
    /// Sends one command: `out` as data-out (direction write), otherwise a data-in buffer of
    /// `inLength` bytes (direction read; none when 0).
    func e2e(_ cdb: [UInt8], out: [UInt8]? = nil, inLength: Int = 0, lun: UInt16 = 0,
             attribute: TaskAttribute = .simple, tag: UInt64? = nil) async -> E2EReply {
        let outBuf = out.map { IOBuffer(copying: $0) }
        let inBuf = inLength > 0 ? IOBuffer(capacity: inLength) : nil
        let cmd = SCSICommand(lun: LUNAddress.field(for: lun), cdb: CDB(cdb), attribute: attribute, tag: tag ?? e2eTag(),
                              direction: out != nil ? .write : (inLength > 0 ? .read : .none),
                              expectedTransferLength: out?.count ?? inLength, dataOut: outBuf, dataIn: inBuf)
        let r = await execute(cmd)
        return E2EReply(response: r, data: inBuf.map { $0.array(r.dataLength) } ?? [])
    }

    /// TEST UNIT READY until it stops reporting unit attentions; returns the UAs seen.
    @discardableResult
    func e2eClearUAs(lun: UInt16 = 0) async -> [AdditionalSense] {
        var seen: [AdditionalSense] = []
        for _ in 0..<64 {
            let r = await e2e(e2eTUR, lun: lun)
            guard r.status == .checkCondition, let s = r.sense, s.key == .unitAttention else { break }
            seen.append(s.additional)
        }
        return seen
    }
}

// MARK: CDB builders

func e2eBE(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) } }

let e2eTUR: [UInt8] = [0, 0, 0, 0, 0, 0]
func e2eRead10(_ lba: UInt64, _ n: Int) -> [UInt8] { [0x28, 0] + e2eBE(lba, 4) + [0] + e2eBE(UInt64(n), 2) + [0] }
func e2eRead16(_ lba: UInt64, _ n: Int) -> [UInt8] { [0x88, 0] + e2eBE(lba, 8) + e2eBE(UInt64(n), 4) + [0, 0] }
func e2eWrite10(_ lba: UInt64, _ n: Int, fua: Bool = false) -> [UInt8] {
    [0x2A, fua ? 0x08 : 0] + e2eBE(lba, 4) + [0] + e2eBE(UInt64(n), 2) + [0]
}
func e2eWrite16(_ lba: UInt64, _ n: Int, fua: Bool = false) -> [UInt8] {
    [0x8A, fua ? 0x08 : 0] + e2eBE(lba, 8) + e2eBE(UInt64(n), 4) + [0, 0]
}
func e2eWriteSame10(_ lba: UInt64, _ n: Int, unmap: Bool = false) -> [UInt8] {
    [0x41, unmap ? 0x08 : 0] + e2eBE(lba, 4) + [0] + e2eBE(UInt64(n), 2) + [0]
}
func e2eWriteSame16(_ lba: UInt64, _ n: Int, unmap: Bool = false) -> [UInt8] {
    [0x93, unmap ? 0x08 : 0] + e2eBE(lba, 8) + e2eBE(UInt64(n), 4) + [0, 0]
}
func e2eUnmap(paramLength: Int) -> [UInt8] { [0x42, 0, 0, 0, 0, 0, 0] + e2eBE(UInt64(paramLength), 2) + [0] }
func e2eUnmapList(_ ranges: [(UInt64, UInt32)]) -> [UInt8] {
    var bd: [UInt8] = []
    for (lba, n) in ranges { bd += e2eBE(lba, 8); bd += e2eBE(UInt64(n), 4); bd += [0, 0, 0, 0] }
    return e2eBE(UInt64(6 + bd.count), 2) + e2eBE(UInt64(bd.count), 2) + [0, 0, 0, 0] + bd
}
func e2eCompareAndWrite(_ lba: UInt64, _ n: Int, fua: Bool = false) -> [UInt8] {
    [0x89, fua ? 0x08 : 0] + e2eBE(lba, 8) + [0, 0, 0, UInt8(n), 0, 0]
}
func e2eSyncCache10(_ lba: UInt64 = 0, _ n: Int = 0) -> [UInt8] { [0x35, 0] + e2eBE(lba, 4) + [0] + e2eBE(UInt64(n), 2) + [0] }
func e2eSyncCache16(_ lba: UInt64 = 0, _ n: Int = 0) -> [UInt8] { [0x91, 0] + e2eBE(lba, 8) + e2eBE(UInt64(n), 4) + [0, 0] }
func e2eInquiry(evpd: Bool = false, page: UInt8 = 0, alloc: Int = 255) -> [UInt8] {
    [0x12, evpd ? 1 : 0, page] + e2eBE(UInt64(alloc), 2) + [0]
}
func e2eReadCapacity16(alloc: Int = 32) -> [UInt8] { [0x9E, 0x10] + [UInt8](repeating: 0, count: 8) + e2eBE(UInt64(alloc), 4) + [0, 0] }
/// MODE SELECT(6) of the control mode page with D_SENSE as given.
func e2eModeSelectControl(dSense: Bool) -> (cdb: [UInt8], data: [UInt8]) {
    var page = [UInt8](repeating: 0, count: 12)
    page[0] = 0x0A; page[1] = 0x0A; page[2] = dSense ? 0x04 : 0; page[5] = 0x40
    let data: [UInt8] = [0, 0, 0, 0] + page
    return ([0x15, 0x10, 0, 0, UInt8(data.count), 0], data)
}

// PERSISTENT RESERVE IN / OUT
func e2ePRIn(_ sa: UInt8, alloc: Int = 1024) -> [UInt8] { [0x5E, sa, 0, 0, 0, 0, 0] + e2eBE(UInt64(alloc), 2) + [0] }
func e2ePROut(_ sa: UInt8, type: UInt8 = 0, length: Int = 24) -> [UInt8] { [0x5F, sa, type, 0, 0] + e2eBE(UInt64(length), 4) + [0] }
func e2ePRList(key: UInt64 = 0, sak: UInt64 = 0, aptpl: Bool = false, allTgPt: Bool = false) -> [UInt8] {
    e2eBE(key, 8) + e2eBE(sak, 8) + [0, 0, 0, 0] + [(aptpl ? 0x01 : 0) | (allTgPt ? 0x04 : 0), 0, 0, 0]
}

func e2eBlockPattern(_ n: Int, seed: UInt64) -> [UInt8] {
    var r = SplitMix64(seed: seed)
    return r.bytes(n)
}

/// A scratch directory removed on release.
final class E2ETempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sbd-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
