import Locking
import PassThrough
import Runtime
import STMF
import Testing

/// A device that answers from a script: records every command it is given (with the buffer it
/// was lent) and ends it with what `answer` says, filling data-in first.
final class ScriptedDevice: PassThroughDevice, @unchecked Sendable {
    struct Seen { var cdb: CDB; var direction: DataDirection; var buffer: UnsafeMutableRawBufferPointer; var tag: UInt64 }
    var answer: @Sendable (CDB, UnsafeMutableRawBufferPointer) -> DeviceResult = { _, _ in DeviceResult(status: .good) }
    private let log = Locked<[Seen]>([])
    private let resets = Locked(0)
    private let aborts = Locked<[UInt64]>([])
    var seen: [Seen] { log.withLock { $0 } }
    var resetCount: Int { resets.withLock { $0 } }
    var aborted: [UInt64] { aborts.withLock { $0 } }

    func submit(_ request: DeviceRequest, completion: @escaping @Sendable (DeviceResult) -> Void) {
        log.withLock { $0.append(Seen(cdb: request.cdb, direction: request.direction, buffer: request.buffer, tag: request.tag)) }
        completion(answer(request.cdb, request.buffer))
    }
    func abort(tag: UInt64) { aborts.withLock { $0.append(tag) } }
    func resetLogicalUnit() { resets.withLock { $0 += 1 } }
}

/// STMF's answers to an LU provider, as few as the rules need.
final class Services: LUServices, @unchecked Sendable {
    let ports: [TargetPortInfo]
    let uas = Locked<[(AdditionalSense, UnitAttentionScope)]>([])
    init(ports: [TargetPortInfo]) { self.ports = ports }
    func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID, scope: UnitAttentionScope) { uas.withLock { $0.append((sense, scope)) } }
    func targetPorts() -> [TargetPortInfo] { ports }
    func abortTasks(lu: LUGUID, scope: UnitAttentionScope) {}
}

/// The pass-through LU's forwarding rules, against a scripted device: what reaches the device
/// and how, and what STMF answers itself (issue 15).
@Suite(.serialized)
final class ForwardingRulesTests {
    let guid = LUGUID("600144F0000000000000000000005001")!
    let port1 = PortIdentifier.wwn(WWN(0x2100_001B_3200_0001)), port2 = PortIdentifier.wwn(WWN(0x2100_001B_3200_0002))
    let i1 = PortIdentifier.wwn(WWN(0x2100_001B_3200_00A1)), i2 = PortIdentifier.wwn(WWN(0x2100_001B_3200_00A2))
    let loop = EventLoop(name: "passthrough-tests")
    let device = ScriptedDevice()
    /// A disk's NAA-6 designator (association LU) and one of its HBA's target port (association 1).
    let deviceLU: [UInt8] = [0x01, 0x03, 0x00, 0x10] + [0x60, 0x01, 0x40, 0x50, 0xAA, 0xBB, 0xCC, 0xDD, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
    let devicePort: [UInt8] = [0x61, 0x93, 0x00, 0x08, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]
    var nexus1: Nexus { Nexus(sessionID: 1, initiator: i1, targetPort: port1, relativeTargetPortID: 1, targetPortGroupID: 0) }
    var nexus2: Nexus { Nexus(sessionID: 2, initiator: i2, targetPort: port2, relativeTargetPortID: 2, targetPortGroupID: 0) }
    let persisted = Recorder<ReservationState>()

    init() { loop.start() }
    deinit { loop.stop() }

    func lu() -> PassThroughLogicalUnit {
        let page: [UInt8] = [0x00, 0x83, 0x00, UInt8(deviceLU.count + devicePort.count)] + deviceLU + devicePort
        let identity = PassThroughLogicalUnit.Identity(peripheralDeviceType: 0,
                                                       designators: PassThroughLogicalUnit.Identity.logicalUnitDesignators(page: page)!,
                                                       blockSize: 512, maxTransferBytes: 1 << 20)
        let box = persisted
        let lu = PassThroughLogicalUnit(guid: guid, identity: identity, device: device, control: loop) { s in box.append(s) }
        lu.attach(Services(ports: [TargetPortInfo(name: port1, relativeID: 1, groupID: 0, online: true),
                                   TargetPortInfo(name: port2, relativeID: 2, groupID: 0, online: true)]))
        return lu
    }

    func task(_ cdb: [UInt8], _ nexus: Nexus, dataIn: Int = 0, dataOut: [UInt8]? = nil, tag: UInt64 = 7) -> LUTask {
        let inBuf = dataIn > 0 ? IOBuffer(capacity: dataIn) : nil
        let outBuf = dataOut.map { IOBuffer(copying: $0) }
        let direction: DataDirection = dataOut != nil ? .write : dataIn > 0 ? .read : .none
        return LUTask(cdb: CDB(cdb), lun: 0, nexus: nexus, attribute: .simple, tag: tag, dataOut: outBuf, dataIn: inBuf,
                      dataInLimit: dataIn, expectedTransferLength: dataOut?.count ?? dataIn, direction: direction)
    }

    @Test func aReadReachesTheDeviceWithThePortsBufferInPlace() async throws {
        let lu = lu()
        device.answer = { _, b in
            for i in 0..<b.count { b[i] = UInt8(truncatingIfNeeded: i) }
            return DeviceResult(status: .good, residual: 512)
        }
        let t = task([0x28, 0, 0, 0, 0, 8, 0, 0, 2, 0], nexus1, dataIn: 1024, tag: 42)
        let r = await lu.execute(t)
        #expect(r.status == .good && r.dataLength == 512, "residual 512 of 1024 leaves 512 moved: \(r)")
        #expect(device.seen.count == 1 && device.seen[0].tag == 42 && device.seen[0].direction == .read)
        #expect(device.seen.first?.buffer.baseAddress == t.dataIn?.bytes.baseAddress, "no copy: the device fills the port's buffer")
        #expect(t.dataIn?.array(4) == [0, 1, 2, 3])
        #expect(try lu.prepare(CDB([0x28, 0, 0, 0, 0, 8, 0, 0, 2, 0]), nexus: nexus1) == 1024, "READ(10) of 2 blocks of 512")
        #expect(throws: SCSIError.self) { try lu.prepare(CDB([0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]), nexus: nexus1) }
    }

    @Test func theDevicesSenseComesBackAsItGaveIt() async {
        let lu = lu()
        // Fixed-format MEDIUM ERROR with an INFORMATION field and vendor bytes past the 18.
        let sense: [UInt8] = [0xF0, 0, 0x03, 0, 0, 0x12, 0x34, 0x10, 0, 0, 0, 0, 0x11, 0x00, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF, 0, 0]
        device.answer = { _, _ in DeviceResult(status: .checkCondition, sense: sense, residual: 1024) }
        let r = await lu.execute(task([0x28, 0, 0, 0, 0x12, 0x34, 0, 0, 2, 0], nexus1, dataIn: 1024))
        #expect(r.status == .checkCondition && r.senseBytes == sense && r.sense?.key == .mediumError && r.dataLength == 0)
    }

    @Test func reservationsAreSTMFsAndNeverReachTheDevice() async throws {
        let lu = lu()
        func register(_ n: Nexus, key: UInt8) async -> TaskResponse {
            var params = [UInt8](repeating: 0, count: 24)
            params[15] = key                                  // SERVICE ACTION RESERVATION KEY
            return await lu.execute(task([0x5F, 0x00, 0, 0, 0, 0, 0, 0, 24, 0], n, dataOut: params))
        }
        #expect(await register(nexus1, key: 1).status == .good)
        #expect(await register(nexus2, key: 2).status == .good)
        var reserve = [UInt8](repeating: 0, count: 24)
        reserve[7] = 1                                        // RESERVATION KEY 1
        let held = await lu.execute(task([0x5F, 0x01, 0x01, 0, 0, 0, 0, 0, 24, 0], nexus1, dataOut: reserve))   // RESERVE, Write Exclusive
        #expect(held.status == .good)
        #expect(device.seen.isEmpty, "no PR command reaches the device")
        // Nexus 2 may read but not write; its write never reaches the device.
        let write = await lu.execute(task([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0], nexus2, dataOut: [UInt8](repeating: 0xAB, count: 512)))
        #expect(write.status == .reservationConflict && device.seen.isEmpty)
        let read = await lu.execute(task([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], nexus2, dataIn: 512))
        #expect(read.status == .good && device.seen.count == 1)
        // READ KEYS lists both, from STMF.
        let keys = task([0x5E, 0x00, 0, 0, 0, 0, 0, 0x01, 0x00, 0], nexus2, dataIn: 256)
        let k = await lu.execute(keys)
        #expect(k.status == .good && keys.dataIn?.array(8)[7] == 16, "two 8-byte keys: \(k)")
        // RESERVE(6) from another nexus conflicts with the persistent reservation, emulated too.
        let spc2 = await lu.execute(task([0x16, 0, 0, 0, 0, 0], nexus2))
        #expect(spc2.status == .reservationConflict && device.seen.count == 1)
    }

    @Test func aptplReservationsArePersistedBeforeGood() async {
        let lu = lu()
        var params = [UInt8](repeating: 0, count: 24)
        params[15] = 9
        params[20] = 0x01                                     // APTPL
        let r = await lu.execute(task([0x5F, 0x00, 0, 0, 0, 0, 0, 0, 24, 0], nexus1, dataOut: params))
        #expect(r.status == .good)
        #expect(persisted.all.last?.persistThroughPowerLoss == true && persisted.all.last?.registrations.count == 1)
    }

    @Test func vpd83HasTheDevicesLUDesignatorsAndSTMFsPortDesignators() async {
        let lu = lu()
        let t = task([0x12, 0x01, 0x83, 0x01, 0x00, 0], nexus2, dataIn: 256)
        let r = await lu.execute(t)
        #expect(r.status == .good && device.seen.isEmpty, "STMF answers VPD 0x83")
        let page = t.dataIn!.array(r.dataLength)
        let expected = deviceLU + SCSIIdentification.targetPortDesignators(nexus2)
        #expect(Array(page.dropFirst(4)) == expected, "LU designator kept, the device's own port designator dropped")
        #expect(!page.containsSubsequence(devicePort))
        // Truncated to the allocation length like any INQUIRY.
        let short = task([0x12, 0x01, 0x83, 0x00, 0x08, 0], nexus2, dataIn: 8)
        #expect(await lu.execute(short).dataLength == 8)
    }

    @Test func targetPortGroupsAreSTMFsAndStandardInquirySaysImplicitALUA() async {
        let lu = lu()
        let rtpg = task([0xA3, 0x0A, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], nexus1, dataIn: 256)
        let r = await lu.execute(rtpg)
        #expect(r.status == .good && device.seen.isEmpty)
        #expect(rtpg.dataIn!.array(r.dataLength) == (try? SCSIIdentification.reportTargetPortGroups(format: 0, ports: [
            TargetPortInfo(name: port1, relativeID: 1, groupID: 0, online: true), TargetPortInfo(name: port2, relativeID: 2, groupID: 0, online: true),
        ], nexus: nexus1)))
        let stpg = await lu.execute(task([0xA4, 0x0A, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0], nexus1, dataOut: [0, 0, 0, 0]))
        #expect(stpg.status == .checkCondition && stpg.sense?.key == .illegalRequest && device.seen.isEmpty)
        // Standard INQUIRY goes to the device; TPGS is set to implicit ALUA on the way back.
        device.answer = { _, b in
            let data: [UInt8] = [0x00, 0x00, 0x06, 0x12, 31, 0x00, 0x00, 0x02] + Array("LINUX   scsi_debug      0191".utf8)
            for (i, v) in data.prefix(b.count).enumerated() { b[i] = v }
            return DeviceResult(status: .good, residual: max(0, b.count - data.count))
        }
        let inq = task([0x12, 0, 0, 0, 36, 0], nexus1, dataIn: 36)
        let ir = await lu.execute(inq)
        #expect(ir.status == .good && device.seen.count == 1 && inq.dataIn!.array(36)[5] & 0x30 == 0x10)
        #expect(String(decoding: inq.dataIn!.array(36)[8..<16], as: UTF8.self) == "LINUX   ", "the rest is the device's")
    }

    @Test func aVanishedDeviceEndsTheCommandForARetryAndIsReportedOnce() async {
        let lu = lu()
        let reasons = Recorder<String>()
        lu.onDeviceLost = { why in reasons.append(why) }
        device.answer = { _, _ in DeviceResult(status: .good, failure: .gone) }
        let a = await lu.execute(task([0x00, 0, 0, 0, 0, 0], nexus1))
        let b = await lu.execute(task([0x00, 0, 0, 0, 0, 0], nexus2))
        #expect(a.status == .checkCondition && a.sense?.key == .abortedCommand && a.sense?.additional == .logicalUnitCommunicationFailure)
        #expect(b.sense?.key == .abortedCommand && reasons.all.count == 1)
        device.answer = { _, _ in DeviceResult(status: .good, failure: .timedOut) }
        let c = await lu.execute(task([0x00, 0, 0, 0, 0, 0], nexus1))
        #expect(c.sense?.additional == .logicalUnitCommunicationTimeout)
    }

    @Test func logicalUnitResetAndAbortReachTheDevice() async {
        let lu = lu()
        #expect(await lu.execute(task([0x16, 0, 0, 0, 0, 0], nexus1)).status == .good)           // RESERVE(6)
        #expect(await lu.execute(task([0x00, 0, 0, 0, 0, 0], nexus2)).status == .reservationConflict)
        lu.handle(.logicalUnitReset)
        #expect(device.resetCount == 1)
        #expect(await lu.execute(task([0x00, 0, 0, 0, 0, 0], nexus2)).status == .good, "the reset released RESERVE(6)")
        lu.abort(task([0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], nexus1, dataIn: 512, tag: 99))
        #expect(device.aborted == [99])
    }
}

/// A list several threads append to.
final class Recorder<T: Sendable>: @unchecked Sendable {
    private let items = Locked<[T]>([])
    func append(_ t: T) { items.withLock { $0.append(t) } }
    var all: [T] { items.withLock { $0 } }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ s: [UInt8]) -> Bool {
        guard s.count <= count else { return false }
        return (0...(count - s.count)).contains { Array(self[$0..<($0 + s.count)]) == s }
    }
}
