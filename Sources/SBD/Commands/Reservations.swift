import STMF

/// PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE through the `ReservationState` contract.
/// The state is only touched under the LU's state lock; the commands that change it are
/// serialised by `controlLock` so their effects (and metadata writes) apply in order.
extension SBDLogicalUnit {
    func persistentReserveIn(_ t: LUTask) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let data = try state.withLock { s throws(SCSIError) -> [UInt8] in
            try s.reservations.persistentReserveIn(cdb: cdb, nexus: t.nexus)
        }
        return t.respond(with: data, allocationLength: Int(cdb.u16(7)))
    }

    func persistentReserveOut(_ t: LUTask) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let length = Int(cdb.u32(5))
        guard t.dataOutCount >= length else { throw .invalidFieldInCDB(byte: 5, bit: nil) }
        let ports = services?.targetPorts() ?? []
        let token = await controlLock.acquire(lba: 1, count: 1, exclusive: true)
        defer { controlLock.release(token) }
        let effects = try state.withLock { s throws(SCSIError) -> ReservationEffects in
            if let out = t.dataOut {
                return try s.reservations.persistentReserveOut(
                    cdb: cdb, nexus: t.nexus, parameters: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[0..<length]),
                    targetPorts: ports)
            }
            return try s.reservations.persistentReserveOut(cdb: cdb, nexus: t.nexus, parameters: UnsafeRawBufferPointer(start: nil, count: 0),
                                                           targetPorts: ports)
        }
        try await apply(effects)
        return TaskResponse(status: .good, dataLength: length, intendedLength: length)
    }

    func reserveRelease(_ t: LUTask) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let token = await controlLock.acquire(lba: 1, count: 1, exclusive: true)
        defer { controlLock.release(token) }
        let reserve = cdb.opcode == OperationCode.reserve6 || cdb.opcode == OperationCode.reserve10
        let effects = try state.withLock { s throws(SCSIError) -> ReservationEffects in
            reserve ? try s.reservations.reserve(cdb: cdb, nexus: t.nexus) : try s.reservations.release(cdb: cdb, nexus: t.nexus)
        }
        try await apply(effects)
        return .good
    }

    /// Persists first (APTPL: the state is on disk before GOOD), then raises the unit
    /// attentions and aborts.
    func apply(_ e: ReservationEffects) async throws(SCSIError) {
        if e.persist {
            do { try await persist() } catch { throw .internalTargetFailure }
        }
        let svc = services
        for ua in e.unitAttentions { svc?.establishUnitAttention(ua.sense, lu: guid, scope: ua.scope) }
        for scope in e.abortTasksOf { svc?.abortTasks(lu: guid, scope: scope) }
    }
}
