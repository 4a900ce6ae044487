
/// What `effects.persist` compares: everything `encoded()` writes.
struct PersistentSnapshot: Equatable {
    var registrations: [PRRegistration]
    var reservation: PersistentReservation?
    var generation: UInt32
    var aptpl: Bool
}

extension ReservationState {
    var snapshot: PersistentSnapshot {
        PersistentSnapshot(registrations: registrations, reservation: reservation, generation: generation, aptpl: aptpl)
    }

    func registrationIndex(_ id: ITNexusID) -> Int? {
        registrations.firstIndex { $0.nexus == id }
    }

    /// SPC-4 5.13.10: all registrants for the all registrants types, else the one I_T nexus.
    func isHolder(_ id: ITNexusID) -> Bool {
        guard let r = reservation else { return false }
        if r.type.isAllRegistrants { return registrationIndex(id) != nil }
        return r.holder == id
    }

    /// PERSISTENT RESERVE OUT (SPC-4 6.16).
    mutating func prOut(cdb: CDB, nexus: Nexus, parameters: UnsafeRawBufferPointer,
                        targetPorts: [TargetPortInfo]) throws(SCSIError) -> ReservationEffects {
        // SPC-4 5.13.3 (CRH=0): PR commands conflict while an SPC-2 reservation exists.
        if spc2Holder != nil { throw .reservationConflict }
        guard let sa = PROutServiceAction(rawValue: cdb.serviceAction) else {
            throw .invalidFieldInCDB(byte: 1, bit: 4)
        }
        // Scope and type are checked for the service actions that use them (SPC-4 table 170).
        var type = PersistentReservationType.writeExclusive
        switch sa {
        case .reserve, .release, .preempt, .preemptAndAbort:
            guard cdb[2] >> 4 == 0 else { throw .invalidFieldInCDB(byte: 2, bit: 7) }
            guard let t = PersistentReservationType(rawValue: cdb[2] & 0x0F) else {
                throw .invalidFieldInCDB(byte: 2, bit: 3)
            }
            type = t
        case .register, .registerAndIgnoreExistingKey, .clear, .registerAndMove:
            break // REGISTER AND MOVE keeps the scope and type of the moved reservation

        }
        let listLength = Int(cdb.u32(5))
        guard listLength >= 24, parameters.count >= listLength else { throw .parameterListLengthError }
        let p = UnsafeRawBufferPointer(rebasing: parameters[0..<listLength])
        if sa != .registerAndMove {
            let specIPT = p[20] & 0x08 != 0
            if !specIPT, listLength != 24 { throw .parameterListLengthError }
            if specIPT, sa != .register { throw .invalidFieldInParameterList(byte: 20, bit: 3) }
        }

        let before = snapshot
        let wasAPTPL = aptpl
        var effects = ReservationEffects()
        let id = ITNexusID(nexus)
        switch sa {
        case .register, .registerAndIgnoreExistingKey:
            try register(p, nexus: nexus, id: id, ignoreKey: sa == .registerAndIgnoreExistingKey,
                         targetPorts: targetPorts, effects: &effects)
        case .reserve:
            try reserve(p, id: id, type: type)
        case .release:
            try release(p, id: id, type: type, effects: &effects)
        case .clear:
            try clear(p, id: id, effects: &effects)
        case .preempt, .preemptAndAbort:
            try preempt(p, id: id, type: type, abort: sa == .preemptAndAbort, effects: &effects)
        case .registerAndMove:
            try registerAndMove(p, nexus: nexus, id: id, targetPorts: targetPorts)
        }
        if (wasAPTPL || aptpl), snapshot != before { effects.persist = true }
        return effects
    }

    /// Checks that `id` is registered with the RESERVATION KEY of the parameter list.
    private func requireRegistration(_ p: UnsafeRawBufferPointer, _ id: ITNexusID) throws(SCSIError) -> Int {
        guard let i = registrationIndex(id), registrations[i].key == be64(p, 0) else { throw .reservationConflict }
        return i
    }

    // MARK: REGISTER / REGISTER AND IGNORE EXISTING KEY (SPC-4 5.13.7)

    private mutating func register(_ p: UnsafeRawBufferPointer, nexus: Nexus, id: ITNexusID, ignoreKey: Bool,
                                   targetPorts: [TargetPortInfo], effects: inout ReservationEffects) throws(SCSIError) {
        let reservationKey = be64(p, 0)
        let serviceActionKey = be64(p, 8)
        let specIPT = p[20] & 0x08 != 0
        let allTgPt = p[20] & 0x04 != 0
        let newAPTPL = p[20] & 0x01 != 0

        if let i = registrationIndex(id) {
            // SPC-4 table 35: registered I_T nexus.
            if !ignoreKey, registrations[i].key != reservationKey { throw .reservationConflict }
            if specIPT { throw .invalidFieldInCDBNoPointer }
            if serviceActionKey == 0 {
                unregister(at: i, effects: &effects)
            } else {
                registrations[i].key = serviceActionKey
            }
            generation &+= 1
            aptpl = newAPTPL
            return
        }

        // SPC-4 table 34: unregistered I_T nexus.
        if !ignoreKey, reservationKey != 0 { throw .reservationConflict }
        if serviceActionKey == 0 { return } // do nothing except return GOOD
        let ownPorts = ports(for: nexus.initiator, allTgPt: allTgPt, nexus: nexus, targetPorts: targetPorts)
        var added: [PRRegistration] = []
        for port in ownPorts {
            let n = ITNexusID(initiator: nexus.initiator, relativeTargetPortID: port)
            // With ALL_TG_PT, I_T nexuses of this initiator already registered keep their key.
            if registrationIndex(n) == nil, !added.contains(where: { $0.nexus == n }) {
                added.append(PRRegistration(nexus: n, key: serviceActionKey, allTargetPorts: allTgPt))
            }
        }
        if specIPT {
            guard p.count >= 28 else { throw .parameterListLengthError }
            let end = 28 + Int(be32(p, 24))
            guard end <= p.count else { throw .parameterListLengthError }
            var off = 28
            while off < end {
                let (initiator, used) = try Self.parseTransportID(p, at: off, end: end)
                let receiving = nexus.targetPort.protocolIdentifier
                if !allTgPt, initiator.protocolIdentifier != receiving {
                    throw .invalidFieldInParameterList(byte: off, bit: 3)
                }
                let tidPorts = ports(for: initiator, allTgPt: allTgPt, nexus: nexus, targetPorts: targetPorts)
                if tidPorts.isEmpty { throw .invalidFieldInParameterList(byte: off, bit: 3) }
                for port in tidPorts {
                    let n = ITNexusID(initiator: initiator, relativeTargetPortID: port)
                    if added.contains(where: { $0.nexus == n }) { continue } // the issuer itself, or a repeat
                    // SPC-4 5.13.7: a TransportID naming an already registered I_T nexus.
                    if registrationIndex(n) != nil { throw .invalidFieldInParameterList(byte: off) }
                    added.append(PRRegistration(nexus: n, key: serviceActionKey, allTargetPorts: allTgPt))
                }
                off += used
            }
        }
        // All or nothing (SPC-4 5.13.7).
        guard registrations.count + added.count <= Self.maximumRegistrations else {
            throw .insufficientRegistrationResources
        }
        registrations += added
        generation &+= 1
        aptpl = newAPTPL
    }

    /// Relative target port identifiers an initiator registers through: the receiving port,
    /// or with ALL_TG_PT every target port of the initiator's protocol.
    private func ports(for initiator: PortIdentifier, allTgPt: Bool, nexus: Nexus,
                       targetPorts: [TargetPortInfo]) -> [UInt16] {
        if !allTgPt { return [nexus.relativeTargetPortID] }
        var result: [UInt16] = []
        if initiator.protocolIdentifier == nexus.targetPort.protocolIdentifier {
            result.append(nexus.relativeTargetPortID)
        }
        for port in targetPorts.sorted(by: { $0.relativeID < $1.relativeID })
        where port.name.protocolIdentifier == initiator.protocolIdentifier && !result.contains(port.relativeID) {
            result.append(port.relativeID)
        }
        return result
    }

    /// Removes a registration and releases the reservation it held (SPC-4 5.13.11.3).
    mutating func unregister(at i: Int, effects: inout ReservationEffects) {
        let gone = registrations.remove(at: i)
        guard let r = reservation else { return }
        if r.type.isAllRegistrants {
            if registrations.isEmpty { reservation = nil }
        } else if r.holder == gone.nexus {
            reservation = nil
            if r.type.admitsRegistrants {
                for reg in registrations { effects.addUA(.reservationsReleased, reg.nexus.scope) }
            }
        }
    }

    // MARK: RESERVE (SPC-4 5.13.9)

    private mutating func reserve(_ p: UnsafeRawBufferPointer, id: ITNexusID,
                                  type: PersistentReservationType) throws(SCSIError) {
        _ = try requireRegistration(p, id)
        if let r = reservation {
            // The holder may repeat its own RESERVE; anything else conflicts.
            if isHolder(id), r.type == type { return }
            throw .reservationConflict
        }
        reservation = PersistentReservation(type: type, holder: type.isAllRegistrants ? nil : id)
    }

    // MARK: RELEASE (SPC-4 5.13.11.2)

    private mutating func release(_ p: UnsafeRawBufferPointer, id: ITNexusID, type: PersistentReservationType,
                                  effects: inout ReservationEffects) throws(SCSIError) {
        _ = try requireRegistration(p, id)
        guard let r = reservation, isHolder(id) else { return } // GOOD, nothing changes
        guard r.type == type else { throw .invalidReleaseOfPR }
        reservation = nil
        if r.type.admitsRegistrants {
            for reg in registrations where reg.nexus != id { effects.addUA(.reservationsReleased, reg.nexus.scope) }
        }
    }

    // MARK: CLEAR (SPC-4 5.13.11.6)

    private mutating func clear(_ p: UnsafeRawBufferPointer, id: ITNexusID,
                                effects: inout ReservationEffects) throws(SCSIError) {
        _ = try requireRegistration(p, id)
        for reg in registrations where reg.nexus != id { effects.addUA(.reservationsPreempted, reg.nexus.scope) }
        registrations.removeAll()
        reservation = nil
        generation &+= 1
    }

    // MARK: PREEMPT / PREEMPT AND ABORT (SPC-4 5.13.11.4, 5.13.11.5)

    private mutating func preempt(_ p: UnsafeRawBufferPointer, id: ITNexusID, type: PersistentReservationType,
                                  abort: Bool, effects: inout ReservationEffects) throws(SCSIError) {
        _ = try requireRegistration(p, id)
        let sak = be64(p, 8)
        var removed: [ITNexusID] = []

        /// Removes the registrations with key `sak` except the issuer's; conflict if none has it.
        func removeMatching(_ state: inout ReservationState) throws(SCSIError) {
            guard state.registrations.contains(where: { $0.key == sak }) else { throw .reservationConflict }
            removed = state.registrations.filter { $0.key == sak && $0.nexus != id }.map(\.nexus)
            state.registrations.removeAll { $0.key == sak && $0.nexus != id }
        }
        let newReservation = PersistentReservation(type: type, holder: type.isAllRegistrants ? nil : id)

        if let r = reservation {
            if r.type.isAllRegistrants {
                if sak == 0 {
                    // Every other registration goes; the issuer holds the new reservation.
                    removed = registrations.filter { $0.nexus != id }.map(\.nexus)
                    registrations.removeAll { $0.nexus != id }
                    reservation = newReservation
                } else {
                    try removeMatching(&self)
                }
            } else {
                let holderKey = r.holder.flatMap { h in registrations.first { $0.nexus == h }?.key }
                if sak == 0 { throw .invalidFieldInParameterList(byte: 8) }
                if sak == holderKey {
                    try removeMatching(&self)
                    reservation = newReservation
                    if r.type != type {
                        for reg in registrations where reg.nexus != id {
                            effects.addUA(.reservationsReleased, reg.nexus.scope)
                        }
                    }
                } else {
                    try removeMatching(&self)
                }
            }
        } else {
            if sak == 0 { throw .invalidFieldInParameterList(byte: 8) }
            try removeMatching(&self)
        }
        for n in removed { effects.addUA(.registrationsPreempted, n.scope) }
        if abort { effects.abortTasksOf = removed.map(\.scope) }
        generation &+= 1
    }

    // MARK: REGISTER AND MOVE (SPC-4 5.13.8)

    private mutating func registerAndMove(_ p: UnsafeRawBufferPointer, nexus: Nexus, id: ITNexusID,
                                          targetPorts: [TargetPortInfo]) throws(SCSIError) {
        let sak = be64(p, 8)
        let unreg = p[17] & 0x02 != 0
        let newAPTPL = p[17] & 0x01 != 0
        let rtpi = be16(p, 18)
        let end = 24 + Int(be32(p, 20))
        guard end <= p.count else { throw .parameterListLengthError }
        _ = try requireRegistration(p, id)
        guard sak != 0 else { throw .invalidFieldInParameterList(byte: 8) }
        let (initiator, _) = try Self.parseTransportID(p, at: 24, end: end)
        let portProtocol: ProtocolIdentifier
        if let port = targetPorts.first(where: { $0.relativeID == rtpi }) {
            portProtocol = port.name.protocolIdentifier
        } else if rtpi == nexus.relativeTargetPortID {
            portProtocol = nexus.targetPort.protocolIdentifier
        } else {
            throw .invalidFieldInParameterList(byte: 18)
        }
        guard initiator.protocolIdentifier == portProtocol else { throw .invalidFieldInParameterList(byte: 24, bit: 3) }
        // The destination must be another initiator port (SPC-4 5.13.8).
        guard initiator != nexus.initiator else { throw .invalidFieldInParameterList(byte: 24) }
        // There must be a reservation, held by this I_T nexus, not of an all registrants type.
        guard let r = reservation else { throw .invalidFieldInCDBNoPointer }
        guard !r.type.isAllRegistrants, r.holder == id else { throw .reservationConflict }
        let dest = ITNexusID(initiator: initiator, relativeTargetPortID: rtpi)
        // Registering an already registered destination is not an error; its key is kept.
        if registrationIndex(dest) == nil {
            guard registrations.count < Self.maximumRegistrations else { throw .insufficientRegistrationResources }
            registrations.append(PRRegistration(nexus: dest, key: sak))
        }
        reservation = PersistentReservation(type: r.type, holder: dest)
        if unreg { registrations.removeAll { $0.nexus == id } }
        generation &+= 1
        aptpl = newAPTPL
    }

    // MARK: TransportIDs (SPC-4 7.6.4)

    /// Parses the TransportID at `off` (ending no later than `end`), reporting malformed ones
    /// with INVALID FIELD IN PARAMETER LIST pointing at the offending field.
    static func parseTransportID(_ p: UnsafeRawBufferPointer, at off: Int,
                                 end: Int) throws(SCSIError) -> (PortIdentifier, Int) {
        guard end - off >= 24 else { throw .invalidFieldInParameterList(byte: off) }
        let format = p[off] >> 6
        switch ProtocolIdentifier(rawValue: p[off] & 0x0F) {
        case .fibreChannel:
            guard format == 0 else { throw .invalidFieldInParameterList(byte: off, bit: 7) }
            guard be64(p, off + 8) != 0 else { throw .invalidFieldInParameterList(byte: off + 8) }
        case .iscsi:
            guard format <= 1 else { throw .invalidFieldInParameterList(byte: off, bit: 7) }
            let len = Int(be16(p, off + 2))
            guard len >= 20, len % 4 == 0, off + 4 + len <= end else {
                throw .invalidFieldInParameterList(byte: off + 2)
            }
        default:
            throw .invalidFieldInParameterList(byte: off, bit: 3)
        }
        guard let parsed = PortIdentifier.parseTransportID(UnsafeRawBufferPointer(rebasing: p[off..<end])) else {
            throw .invalidFieldInParameterList(byte: off + 4)
        }
        return parsed
    }
}

extension ReservationEffects {
    mutating func addUA(_ sense: AdditionalSense, _ scope: UnitAttentionScope) {
        let e = UnitAttentionEffect(sense, scope)
        if !unitAttentions.contains(e) { unitAttentions.append(e) }
    }
}
