import Dispatch
import FCPort
import SBD
import STMF

/// One SCSI command through STMF to a fresh 1 MiB RAM LU of SBD, the way the FC port
/// provider dispatches it (`Session.prepare`, a buffer sized by what the CDB calls for and
/// FCP_DL, then `Session.execute`), and the FCP_RSP the port would send built from the result.
///
/// Input: `[length selector][flags][FCP_DL: 3 bytes BE][CDB…][data-out…]`.
/// - length selector `% 8`: 0 → 6-byte CDB, 1 → 10, 2 → 12, 3 → 16, 4 → 32, otherwise the
///   next byte gives the length (0…255);
/// - flags: bits 0-1 data direction (none, read, write, bidirectional), bits 2-3 the LUN field
///   (LUN 0, LUN 0, unmapped LUN 7, REPORT LUNS well-known LUN), bits 4-5 task attribute
///   (simple, ordered, head of queue, ACA), bit 6 keep the power-on unit attention, bit 7 a
///   4096-byte block size instead of 512;
/// - FCP_DL is capped at 1 MiB + 4 KiB; data-out is the rest, zero-filled (or cut) to the size
///   of the buffer the port provider allocates.
///
/// Every environment is new, so an input replays the same way on its own.
public func fuzzCDB(_ data: UnsafeRawBufferPointer) {
    var bytes = Array(data)
    guard bytes.count >= 5 else { return }
    let selector = bytes[0], flags = bytes[1]
    let fcpDL = min(Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4]), (1 << 20) + 4096)
    var at = 5
    let cdbLength: Int
    switch selector % 8 {
    case 0: cdbLength = 6
    case 1: cdbLength = 10
    case 2: cdbLength = 12
    case 3: cdbLength = 16
    case 4: cdbLength = 32
    default:
        guard at < bytes.count else { return }
        cdbLength = Int(bytes[at]); at += 1
    }
    if bytes.count < at + cdbLength { bytes += [UInt8](repeating: 0, count: at + cdbLength - bytes.count) }
    let cdb = Array(bytes[at..<(at + cdbLength)])
    let dataOut = Array(bytes[(at + cdbLength)...])
    let input = CDBInput(cdb: cdb, dataOut: dataOut, fcpDL: fcpDL, flags: flags)
    blocking { await input.run() }
}

struct CDBInput: Sendable {
    let cdb: [UInt8]
    let dataOut: [UInt8]
    let fcpDL: Int
    let flags: UInt8

    var direction: DataDirection { DataDirection(rawValue: flags & 3)! }
    var lunField: UInt64 {
        switch (flags >> 2) & 3 {
        case 2: LUNAddress.field(for: 7)
        case 3: LUNAddress.reportLUNsWellKnownField
        default: LUNAddress.field(for: 0)
        }
    }
    var attribute: TaskAttribute { [TaskAttribute.simple, .ordered, .headOfQueue, .aca][Int((flags >> 4) & 3)] }
    var keepUnitAttention: Bool { flags & 0x40 != 0 }
    var blockSize: UInt32 { flags & 0x80 != 0 ? 4096 : 512 }

    func run() async {
        let env: FuzzEnvironment
        do { env = try await FuzzEnvironment(blockSize: blockSize) } catch {
            preconditionFailure("cannot set up STMF with a RAM LU: \(error)")
        }
        if !keepUnitAttention { await env.clearUnitAttentions() }

        let cdb = CDB(self.cdb)
        let preparation = env.session.prepare(lun: lunField, cdb: cdb, attribute: attribute)
        let size = preparation.allocation(expected: fcpDL)
        fuzzCheck(size >= 0 && size <= fcpDL, "allocation \(size) for FCP_DL \(fcpDL)")
        let response: TaskResponse
        var inBuffer: IOBuffer?
        var outBuffer: IOBuffer?
        switch preparation {
        case let .respond(r):
            fuzzCheck(r.dataLength == 0, "a response without a data phase moved \(r.dataLength) bytes")
            response = r
        case let .proceed(n):
            if let n { fuzzCheck(n >= 0, "prepare asks for \(n) bytes") }
            // As the FC port: data-out only for a write with something to move, data-in for a read.
            if (direction == .write || direction == .bidirectional) && size > 0 {
                let buf = IOBuffer(capacity: size)
                let k = min(size, dataOut.count)
                if k > 0 { dataOut.withUnsafeBytes { buf.bytes.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: k) } }
                if size > k { (buf.bytes.baseAddress! + k).initializeMemory(as: UInt8.self, repeating: 0, count: size - k) }
                buf.count = size
                outBuffer = buf
            }
            if (direction == .read || direction == .bidirectional) && size > 0 { inBuffer = IOBuffer(capacity: size) }
            let cmd = SCSICommand(lun: lunField, cdb: cdb, attribute: attribute, tag: 0x1000, direction: direction,
                                  expectedTransferLength: fcpDL, dataOut: outBuffer, dataIn: inBuffer)
            response = await env.session.execute(cmd)
        }
        check(response, inBuffer: inBuffer, outBuffer: outBuffer)
        fuzzCheck(env.session.tasksInFlight == 0, "a task is still in flight after its response")
        await env.tearDown()
    }

    func check(_ r: TaskResponse, inBuffer: IOBuffer?, outBuffer: IOBuffer?) {
        let context = "cdb \(hex(cdb)) dir \(direction) FCP_DL \(fcpDL): \(r)"
        let statuses: Set<SCSIStatus> = [.good, .checkCondition, .conditionMet, .busy, .reservationConflict,
                                          .taskSetFull, .acaActive, .taskAborted]
        fuzzCheck(statuses.contains(r.status), "status \(r.status) is not a SAM status; \(context)")
        fuzzCheck(r.dataLength >= 0 && r.intendedLength >= 0, "negative lengths \(r.dataLength)/\(r.intendedLength); \(context)")
        let limit = direction == .read || direction == .bidirectional ? min(fcpDL, inBuffer?.capacity ?? 0) : 0
        let outCount = outBuffer?.count ?? 0
        fuzzCheck(r.dataLength <= max(limit, outCount), "dataLength \(r.dataLength) > limit \(limit) / data-out \(outCount); \(context)")
        fuzzCheck(r.dataLength <= fcpDL, "dataLength \(r.dataLength) > FCP_DL \(fcpDL); \(context)")
        if let alloc = allocationLength(cdb), r.status == .good {
            fuzzCheck(r.intendedLength <= alloc, "intended \(r.intendedLength) > allocation length \(alloc); \(context)")
            fuzzCheck(r.dataLength <= alloc, "dataLength \(r.dataLength) > allocation length \(alloc); \(context)")
        }
        if r.status == .checkCondition && !r.aborted {
            guard let sense = r.sense, let bytes = r.senseBytes else { preconditionFailure("CHECK CONDITION without sense; \(context)") }
            fuzzCheck(bytes.count == sense.encodedLength(descriptor: r.descriptorSense), "sense length \(bytes.count); \(context)")
            fuzzCheck(bytes.count <= 252, "sense of \(bytes.count) bytes; \(context)")
            let code = bytes[0] & 0x7F
            fuzzCheck(code == (r.descriptorSense ? 0x72 : 0x70), "sense response code \(code); \(context)")
            if r.descriptorSense {
                fuzzCheck(Int(bytes[7]) + 8 == bytes.count, "ADDITIONAL SENSE LENGTH \(bytes[7]) for \(bytes.count) bytes; \(context)")
            } else {
                fuzzCheck(bytes.count >= 18 && bytes[7] == 10, "fixed sense of \(bytes.count) bytes, ADDITIONAL SENSE LENGTH \(bytes[7]); \(context)")
            }
            guard let parsed = SenseData(parsing: bytes) else { preconditionFailure("sense \(hex(bytes)) does not parse; \(context)") }
            fuzzCheck(parsed.key == sense.key && parsed.additional == sense.additional && parsed.senseKeySpecific == sense.senseKeySpecific,
                      "sense round trip \(parsed) != \(sense); \(context)")
        } else if !r.aborted {
            fuzzCheck(r.sense == nil, "status \(r.status) with sense; \(context)")
        }
        // The FCP_RSP the port sends for it.
        if !r.aborted {
            let rsp = FCPResponse(r, expectedLength: fcpDL)
            let wire = rsp.encoded()
            fuzzCheck((try? FCPResponse.decode(wire)) == rsp, "FCP_RSP for \(r) does not round trip; \(context)")
        }
    }
}

/// ALLOCATION LENGTH of the data-in commands whose CDB carries one (nil: none or not known).
func allocationLength(_ c: [UInt8]) -> Int? {
    func u16(_ o: Int) -> Int { Int(c[o]) << 8 | Int(c[o + 1]) }
    func u32(_ o: Int) -> Int { u16(o) << 16 | u16(o + 2) }
    guard let op = c.first, let need = CDB.expectedLength(opcode: op), c.count >= need else { return nil }
    switch op {
    case 0x03, 0x1A: return Int(c[4])                 // REQUEST SENSE, MODE SENSE (6)
    case 0x12: return u16(3)                          // INQUIRY
    case 0x4D, 0x5A, 0x5E: return u16(7)              // LOG SENSE, MODE SENSE (10), PERSISTENT RESERVE IN
    case 0xA0, 0xA3: return u32(6)                    // REPORT LUNS, MAINTENANCE IN
    case 0x9E: return u32(10)                         // SERVICE ACTION IN (16)
    case 0x25: return 8                               // READ CAPACITY (10)
    default: return nil
    }
}

/// A port provider with nothing behind it.
final class NullPort: PortProvider {
    func online() async throws {}
    func offline() async {}
}

/// STMF with one online target port and a RAM LU viewed to everyone at LUN 0, and a session.
struct FuzzEnvironment {
    static let target = PortIdentifier.wwn(WWN(0x5000_0000_0000_F001))
    static let initiator = PortIdentifier.wwn(WWN(0x2100_0000_0000_F002))
    let stmf = STMF()
    let lu: SBDLogicalUnit
    let session: Session

    init(blockSize: UInt32) async throws {
        let port = try stmf.registerTargetPort(Self.target, provider: NullPort())
        try await stmf.setTargetPortState(Self.target, online: true)
        var p = SBDProperties()
        p.size = 1 << 20
        p.blockSize = blockSize
        p.guid = "600144F0F0220000000000000000F001"
        p.serial = "FUZZ-0001"
        lu = try SBDLogicalUnit.create(properties: p, backing: .ram)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        let guid = lu.guid
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: guid, lun: 0)
        }
        session = try port.createSession(initiator: Self.initiator)
    }

    /// Logout, port and LU removal, as stmfd does them: afterwards nothing of this
    /// environment may be left allocated (libFuzzer's leak check runs over every input).
    func tearDown() async {
        await stmf.removeSession(session)
        do {
            try await stmf.deregisterTargetPort(Self.target)
            try await stmf.deregisterLogicalUnit(lu.guid)
        } catch {
            preconditionFailure("cannot tear down the fuzz environment: \(error)")
        }
        lu.delete()
    }

    /// TEST UNIT READY until no unit attention is reported.
    func clearUnitAttentions() async {
        for tag in 1...16 {
            let r = await session.execute(SCSICommand(lun: 0, cdb: CDB([0, 0, 0, 0, 0, 0]), tag: UInt64(tag)))
            guard r.status == .checkCondition, r.sense?.key == .unitAttention else { return }
        }
    }
}

final class ResultBox<T>: @unchecked Sendable { var value: T? }

/// Signals when the last reference goes: captured by the task's closure, it is released only
/// as the task itself is torn down.
final class DoneSignal: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
    deinit { semaphore.signal() }
}

/// Runs `body` on the cooperative pool and waits for it (libFuzzer calls in synchronously; never
/// call this from a pool thread, which it would block while `body` needs one).
/// It returns once the task's closure is released, not merely when `body` returns, so what the
/// task allocated is freed before libFuzzer compares this input's mallocs and frees (otherwise
/// every input would look like a possible leak and pay for a full leak scan).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let semaphore: DispatchSemaphore
    do {
        let signal = DoneSignal()
        semaphore = signal.semaphore
        Task { [signal] in
            box.value = await body()
            withExtendedLifetime(signal) {}
        }
    }
    semaphore.wait()
    return box.value!
}
