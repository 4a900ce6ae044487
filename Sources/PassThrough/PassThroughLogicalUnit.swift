import Locking
import Runtime
import STMF

/// A logical unit that is an existing SCSI device (a disk, a tape drive, a media changer behind
/// a local HBA), its commands forwarded as they come, with what STMF must own answered here
/// instead (issue 15):
/// - persistent reservations and RESERVE/RELEASE: forwarded, every initiator would be this one
///   host to the device, so STMF's reservation engine emulates them, checks every other
///   command against them (RESERVATION CONFLICT before the device sees it), and persists them
///   for APTPL through `persistReservations`;
/// - VPD page 0x83: the device's own logical-unit designators, then STMF's target-port
///   designators (relative port, port group, port name) — never the device's HBA port's;
/// - REPORT TARGET PORT GROUPS from STMF's port registry (SET TARGET PORT GROUPS refused:
///   implicit ALUA only), and standard INQUIRY's TPGS field saying so;
/// - REPORT LUNS (STMF answers it before any LU).
/// Everything else reaches the device with the port provider's buffer used in place, and its
/// status and sense come back as the device gave them.
public final class PassThroughLogicalUnit: LogicalUnit, @unchecked Sendable {
    /// What the LU knows of its device from when it was created.
    public struct Identity: Sendable, Equatable {
        public var peripheralDeviceType: UInt8
        /// The device's VPD 0x83 designators of association "logical unit", each whole as the
        /// device gave it (empty: the device has none; STMF's GUID designators are used).
        public var designators: [UInt8]
        /// Logical block size of a direct-access device (READ CAPACITY), for the transfer
        /// lengths of its READ and WRITE commands; nil for other device types.
        public var blockSize: Int?
        /// The largest transfer the device (and its host adapter) takes in one command.
        public var maxTransferBytes: Int

        public init(peripheralDeviceType: UInt8, designators: [UInt8], blockSize: Int?, maxTransferBytes: Int) {
            self.peripheralDeviceType = peripheralDeviceType; self.designators = designators
            self.blockSize = blockSize; self.maxTransferBytes = maxTransferBytes
        }

        /// The designators of association "logical unit" in a VPD 0x83 page (page header
        /// included); nil when the page is malformed (a designator runs past the page).
        public static func logicalUnitDesignators(page: [UInt8]) -> [UInt8]? {
            guard page.count >= 4, page[1] == 0x83 else { return nil }
            let end = min(page.count, 4 + Int(page[2]) << 8 | Int(page[3]))
            var at = 4, out: [UInt8] = []
            while at + 4 <= end {
                let length = 4 + Int(page[at + 3])
                guard at + length <= end else { return nil }
                if (page[at + 1] >> 4) & 0x03 == 0 { out += page[at..<(at + length)] }
                at += length
            }
            return at == end ? out : nil
        }
    }

    public let guid: LUGUID
    public let alias: String
    public let identity: Identity
    public var peripheralDeviceType: UInt8 { identity.peripheralDeviceType }
    let device: any PassThroughDevice
    /// Reservation commands run here (they may persist: never on the port's thread).
    let control: EventLoop
    let vendorID: String
    let commandTimeoutMilliseconds: UInt32
    let persistReservations: @Sendable (ReservationState) throws -> Void
    private let reservations: Locked<ReservationState>
    private let servicesBox = Locked<(any LUServices)?>(nil)
    private let lost = Locked<Bool>(false)
    /// Called once when the device is found gone (the service takes the LU offline).
    public var onDeviceLost: (@Sendable (String) -> Void)?

    public init(guid: LUGUID, alias: String = "", identity: Identity, device: any PassThroughDevice, control: EventLoop,
                vendorID: String = "STMF", reservations: ReservationState = ReservationState(),
                commandTimeoutMilliseconds: UInt32 = 30_000,
                persistReservations: @escaping @Sendable (ReservationState) throws -> Void = { _ in }) {
        self.guid = guid; self.alias = alias; self.identity = identity; self.device = device; self.control = control
        self.vendorID = vendorID; self.commandTimeoutMilliseconds = commandTimeoutMilliseconds
        self.reservations = Locked(reservations)
        self.persistReservations = persistReservations
    }

    /// The reservation state (for the store and `list-lu -v`).
    public var reservationState: ReservationState { reservations.withLock { $0 } }

    public func attach(_ services: any LUServices) { servicesBox.withLock { $0 = services } }
    var services: (any LUServices)? { servicesBox.withLock { $0 } }

    // MARK: Commands

    public func prepare(_ cdb: CDB, nexus: Nexus) throws(SCSIError) -> Int? {
        guard let n = try transferLength(cdb) else { return nil }
        if n > identity.maxTransferBytes { throw .invalidFieldInCDB(byte: transferLengthByte(cdb), bit: nil) }
        return n
    }

    public func start(_ t: LUTask) -> TaskStart {
        do throws(SCSIError) {
            let cdb = t.cdb
            switch cdb.opcode {
            case OperationCode.persistentReserveIn:
                let data = try reservations.withLock { s throws(SCSIError) -> [UInt8] in try s.persistentReserveIn(cdb: cdb, nexus: t.nexus) }
                return .done(t.respond(with: data, allocationLength: Int(cdb.u16(7))))
            case OperationCode.persistentReserveOut, OperationCode.reserve6, OperationCode.reserve10,
                 OperationCode.release6, OperationCode.release10:
                control.execute { [self] in t.complete(reservationCommand(t)) }
                return .pending
            case OperationCode.inquiry where cdb[1] & 0x01 != 0 && cdb[2] == 0x83:
                return .done(t.respond(with: deviceIdentification(t.nexus), allocationLength: Int(cdb.u16(3))))
            case OperationCode.maintenanceIn where cdb.serviceAction == OperationCode.saReportTargetPortGroups:
                let data = try SCSIIdentification.reportTargetPortGroups(format: cdb[1] >> 5, ports: services?.targetPorts() ?? [],
                                                                        nexus: t.nexus)
                return .done(t.respond(with: data, allocationLength: Int(cdb.u32(6))))
            case OperationCode.maintenanceOut where cdb.serviceAction == 0x0A:
                // SET TARGET PORT GROUPS: STMF's port groups are implicit ALUA.
                throw .invalidFieldInCDB(byte: 1, bit: 4)
            default:
                if reservations.withLock({ $0.conflicts(cdb, nexus: t.nexus) }) { return .done(TaskResponse(status: .reservationConflict)) }
                return try forward(t)
            }
        } catch {
            return .done(TaskResponse(error: error, descriptorSense: false))
        }
    }

    public func abort(_ task: LUTask) { device.abort(tag: task.tag) }

    public func handle(_ event: LUEvent) {
        switch event {
        case .logicalUnitReset:
            device.resetLogicalUnit()
            reservations.withLock { $0.logicalUnitReset() }
        case let .itNexusLoss(n):
            reservations.withLock { $0.nexusLost(n) }
        case .stateChanged:
            break
        }
    }

    /// The command to the device, the task's buffer lent to it.
    private func forward(_ t: LUTask) throws(SCSIError) -> TaskStart {
        let buffer: UnsafeMutableRawBufferPointer
        switch t.direction {
        case .none:
            buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        case .read:
            guard let b = t.dataIn, t.dataInLimit > 0 else { buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0); break }
            buffer = UnsafeMutableRawBufferPointer(rebasing: b.bytes[0..<t.dataInLimit])
        case .write:
            guard let b = t.dataOut, b.count > 0 else { buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0); break }
            buffer = UnsafeMutableRawBufferPointer(rebasing: b.bytes[0..<b.count])
        case .bidirectional:
            // The sg driver moves data one way per command.
            throw SCSIError(.illegalRequest, .invalidCommandOperationCode)
        }
        let direction = buffer.count == 0 ? DataDirection.none : t.direction
        let request = DeviceRequest(cdb: t.cdb, direction: direction, buffer: buffer,
                                    timeoutMilliseconds: commandTimeoutMilliseconds, tag: t.tag)
        let standardInquiry = t.cdb.opcode == OperationCode.inquiry && t.cdb[1] & 0x01 == 0
        let length = buffer.count
        device.submit(request) { [self] r in
            let out = response(r, direction: direction, length: length)
            // TPGS = 01b (implicit ALUA): STMF answers REPORT TARGET PORT GROUPS for the device.
            if standardInquiry, out.status == .good, out.dataLength > 5, let b = t.dataIn {
                b.bytes[5] = (b.bytes[5] & ~0x30) | 0x10
            }
            t.complete(out)
        }
        return .pending
    }

    /// The task's response from the device's result.
    func response(_ r: DeviceResult, direction: DataDirection, length: Int) -> TaskResponse {
        if let failure = r.failure {
            let additional: AdditionalSense
            switch failure {
            case .gone:
                additional = .logicalUnitCommunicationFailure
                if !lost.withLock({ l in defer { l = true }; return l }) { onDeviceLost?("\(failure)") }
            case .timedOut: additional = .logicalUnitCommunicationTimeout
            case .reset: additional = .commandsClearedByDeviceServer
            case .transport: additional = .logicalUnitCommunicationFailure
            }
            // ABORTED COMMAND: the initiator retries (and meets the LU offline if the device is gone).
            return TaskResponse(error: SCSIError(.abortedCommand, additional), descriptorSense: false)
        }
        let moved = direction == .none ? 0 : max(0, length - max(0, r.residual))
        var out = TaskResponse(status: r.status, dataLength: moved, intendedLength: moved)
        if !r.sense.isEmpty {
            out.deviceSense = Array(r.sense.prefix(252))
            out.sense = SenseData(parsing: r.sense)
        }
        return out
    }

    /// PERSISTENT RESERVE OUT, RESERVE and RELEASE through STMF's engine (control loop).
    func reservationCommand(_ t: LUTask) -> TaskResponse {
        let cdb = t.cdb
        do throws(SCSIError) {
            let ports = services?.targetPorts() ?? []
            let effects: ReservationEffects
            var length = 0
            switch cdb.opcode {
            case OperationCode.persistentReserveOut:
                length = Int(cdb.u32(5))
                guard t.dataOutCount >= length else { throw .invalidFieldInCDB(byte: 5, bit: nil) }
                effects = try reservations.withLock { s throws(SCSIError) -> ReservationEffects in
                    guard let out = t.dataOut, length > 0 else {
                        return try s.persistentReserveOut(cdb: cdb, nexus: t.nexus, parameters: UnsafeRawBufferPointer(start: nil, count: 0),
                                                          targetPorts: ports)
                    }
                    return try s.persistentReserveOut(cdb: cdb, nexus: t.nexus,
                                                      parameters: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[0..<length]),
                                                      targetPorts: ports)
                }
            case OperationCode.reserve6, OperationCode.reserve10:
                effects = try reservations.withLock { s throws(SCSIError) -> ReservationEffects in try s.reserve(cdb: cdb, nexus: t.nexus) }
            default:
                effects = try reservations.withLock { s throws(SCSIError) -> ReservationEffects in try s.release(cdb: cdb, nexus: t.nexus) }
            }
            if effects.persist {
                do { try persistReservations(reservationState) } catch { throw .internalTargetFailure }
            }
            let svc = services
            for ua in effects.unitAttentions { svc?.establishUnitAttention(ua.sense, lu: guid, scope: ua.scope) }
            for scope in effects.abortTasksOf { svc?.abortTasks(lu: guid, scope: scope) }
            return TaskResponse(status: .good, dataLength: length, intendedLength: length)
        } catch {
            return TaskResponse(error: error, descriptorSense: false)
        }
    }

    /// VPD page 0x83: the device's logical-unit designators (or STMF's from the GUID when it has
    /// none), then the target port's from STMF.
    func deviceIdentification(_ nexus: Nexus) -> [UInt8] {
        let lu = identity.designators.isEmpty
            ? SCSIIdentification.logicalUnitDesignators(guid: guid, vendorID: vendorID) : identity.designators
        let body = lu + SCSIIdentification.targetPortDesignators(nexus)
        var d: [UInt8] = [identity.peripheralDeviceType & 0x1F, 0x83]
        d.be16(UInt16(body.count))
        return d + body
    }

    // MARK: Transfer lengths of a direct-access device's data commands

    /// Bytes a READ or WRITE of a disk moves, from the CDB and the block size; nil for other
    /// commands and devices (the port then moves what FCP_DL says, up to STMF's limit).
    func transferLength(_ cdb: CDB) throws(SCSIError) -> Int? {
        guard identity.peripheralDeviceType == 0, let size = identity.blockSize, cdb.count >= 6 else { return nil }
        let blocks: Int
        switch cdb.opcode {
        case OperationCode.read6, OperationCode.write6:
            let n = Int(cdb[4]); blocks = n == 0 ? 256 : n
        case OperationCode.read10, OperationCode.write10, OperationCode.writeAndVerify10:
            guard cdb.count >= 10 else { return nil }
            blocks = Int(cdb.u16(7))
        case OperationCode.read12, OperationCode.write12, OperationCode.writeAndVerify12:
            guard cdb.count >= 12 else { return nil }
            blocks = Int(cdb.u32(6))
        case OperationCode.read16, OperationCode.write16, OperationCode.writeAndVerify16:
            guard cdb.count >= 16 else { return nil }
            blocks = Int(cdb.u32(10))
        default:
            return nil
        }
        let (bytes, overflow) = blocks.multipliedReportingOverflow(by: size)
        if overflow { throw .invalidFieldInCDB(byte: transferLengthByte(cdb), bit: nil) }
        return bytes
    }

    /// Where the TRANSFER LENGTH field of a READ/WRITE CDB starts (for the sense key specific).
    func transferLengthByte(_ cdb: CDB) -> Int {
        switch cdb.opcode {
        case OperationCode.read6, OperationCode.write6: 4
        case OperationCode.read10, OperationCode.write10, OperationCode.writeAndVerify10: 7
        case OperationCode.read12, OperationCode.write12, OperationCode.writeAndVerify12: 6
        default: 10
        }
    }
}
