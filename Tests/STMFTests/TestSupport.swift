import Foundation
import Locking
@testable import STMF

/// A logical unit for framework tests: answers GOOD (TEST UNIT READY, INQUIRY with a
/// recognisable byte) and holds commands whose opcode is "blocking" until released.
final class ProbeLU: LogicalUnit, @unchecked Sendable {
    let guid: LUGUID
    let alias: String
    var descriptorSense: Bool { flags.withLock { $0.descriptor } }
    var taskAbortedStatus: Bool { flags.withLock { $0.tas } }
    struct Flags { var descriptor = false; var tas = false }
    let flags = Locked(Flags())

    struct Log { var executed: [(UInt8, UInt64)] = []; var events: [String] = []; var aborted: [UInt64] = []; var services: (any LUServices)? }
    let log = Locked(Log())
    /// Tasks of the blocking opcode, held (pending) until released.
    private let gates = Locked<[LUTask]>([])
    static let blockingOpcode: UInt8 = 0xC0   // vendor specific: held until released

    init(_ n: UInt64) {
        guid = LUGUID(high: 0x6001_44F0_0000_0000, low: n)
        alias = "probe\(n)"
    }

    func attach(_ services: any LUServices) { log.withLock { $0.services = services } }
    var services: (any LUServices)? { log.withLock { $0.services } }

    func start(_ task: LUTask) -> TaskStart {
        log.withLock { $0.executed.append((task.cdb.opcode, task.tag)) }
        if task.cdb.opcode == Self.blockingOpcode {
            gates.withLock { $0.append(task) }
            return .pending
        }
        if task.cdb.opcode == OperationCode.inquiry {
            return .done(task.respond(with: [0x00, 0x00, 0x06, 0x02, 0x00] + [UInt8](repeating: 0x41, count: 31), allocationLength: Int(task.cdb.u16(3))))
        }
        return .done(.good)
    }

    /// Tags of the tasks STMF asked this LU to abort.
    func abort(_ task: LUTask) { log.withLock { $0.aborted.append(task.tag) } }
    var abortedTags: [UInt64] { log.withLock { $0.aborted } }

    func handle(_ event: LUEvent) {
        let s: String = switch event {
        case .logicalUnitReset: "reset"
        case let .itNexusLoss(n): "nexusLoss \(n.initiator)"
        case let .stateChanged(online): online ? "online" : "offline"
        }
        log.withLock { $0.events.append(s) }
    }

    var blockedCount: Int { gates.withLock { $0.count } }

    /// Releases every blocked command (each completes GOOD).
    func releaseAll() {
        let ts = gates.withLock { g in defer { g = [] }; return g }
        for t in ts { t.complete(.good) }
    }

    var events: [String] { log.withLock { $0.events } }
    var executedTags: [UInt64] { log.withLock { $0.executed.map(\.1) } }
}

final class NullPort: PortProvider {
    func online() async throws {}
    func offline() async {}
}

struct Fixture {
    let stmf = STMF()
    let port: TargetPortHandle
    static let targetName = try! PortIdentifier(parsing: "wwn.5000000000000001")
    static let hostA = try! PortIdentifier(parsing: "wwn.2100000000000001")
    static let hostB = try! PortIdentifier(parsing: "wwn.2100000000000002")

    init() async throws {
        port = try stmf.registerTargetPort(Self.targetName, provider: NullPort())
        try await stmf.setTargetPortState(Self.targetName, online: true)
    }

    @discardableResult
    func addLU(_ n: UInt64, lun: Int? = nil) async throws -> ProbeLU {
        let lu = ProbeLU(n)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: lu.guid, lun: lun)
        }
        return lu
    }
}

let tagLock = Locked<UInt64>(1000)
func nextTag() -> UInt64 { tagLock.withLock { $0 += 1; return $0 } }

extension Session {
    /// Sends a CDB to `lun` and returns the response and data-in bytes.
    func send(_ cdb: [UInt8], lun: UInt16 = 0, lunField: UInt64? = nil, attribute: TaskAttribute = .simple,
              tag: UInt64? = nil, dataIn: Int = 4096) async -> (TaskResponse, [UInt8]) {
        let buf = IOBuffer(capacity: dataIn)
        let cmd = SCSICommand(lun: lunField ?? LUNAddress.field(for: lun), cdb: CDB(cdb), attribute: attribute,
                              tag: tag ?? nextTag(), direction: dataIn > 0 ? .read : .none,
                              expectedTransferLength: dataIn, dataIn: buf)
        let r = await execute(cmd)
        return (r, buf.array(r.dataLength))
    }

    func tur(lun: UInt16 = 0) async -> TaskResponse { await send([0, 0, 0, 0, 0, 0], lun: lun, dataIn: 0).0 }
}

let reportLUNsCDB: [UInt8] = [0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]

func luns(fromReport d: [UInt8]) -> [UInt64] {
    guard d.count >= 8 else { return [] }
    let n = Int(UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])) / 8
    return (0..<n).compactMap { i in
        guard 8 + 8 * i + 8 <= d.count else { return nil }
        return d[(8 + 8 * i)..<(16 + 8 * i)].reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Runs a program and returns (status, stdout, stderr).
func run(_ path: String, _ args: [String]) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}
