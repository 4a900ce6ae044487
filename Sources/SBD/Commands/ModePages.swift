import STMF

/// MODE SENSE / MODE SELECT (6/10) with the caching (0x08), control (0x0A) and
/// informational exceptions (0x1C) pages.
extension SBDLogicalUnit {
    enum PageControl: UInt8 { case current = 0, changeable = 1, defaults = 2, saved = 3 }

    static let modePageCodes: [UInt8] = [0x08, 0x0A, 0x1C]

    var defaultModeParameters: ModeParameters {
        ModeParameters(wce: !properties.writeCacheDisabled, dSense: false)
    }

    /// One mode page as MODE SENSE returns it (PS set on the savable ones).
    func modePage(_ code: UInt8, _ pc: PageControl, current: ModeParameters, saved: ModeParameters) -> [UInt8]? {
        let changeable = pc == .changeable
        let m: ModeParameters
        switch pc {
        case .current, .changeable: m = current
        case .defaults: m = defaultModeParameters
        case .saved: m = saved
        }
        switch code {
        case 0x08:  // Caching: WCE changeable and savable.
            var d = [UInt8](repeating: 0, count: 20)
            d[0] = 0x88; d[1] = 0x12
            d[2] = changeable ? 0x04 : (m.wce ? 0x04 : 0x00)
            return d
        case 0x0A:  // Control: D_SENSE changeable and savable; TAS=1; QERR=0.
            var d = [UInt8](repeating: 0, count: 12)
            d[0] = 0x8A; d[1] = 0x0A
            if changeable { d[2] = 0x04; return d }
            d[2] = m.dSense ? 0x04 : 0x00
            d[5] = 0x40     // TAS
            return d
        case 0x1C:  // Informational exceptions: DEXCPT, nothing changeable.
            var d = [UInt8](repeating: 0, count: 12)
            d[0] = 0x1C; d[1] = 0x0A
            if !changeable { d[2] = 0x08 }
            return d
        default:
            return nil
        }
    }

    func modeSense(_ t: LUTask, _ s: Snapshot) throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let six = cdb.opcode == OperationCode.modeSense6
        let dbd = cdb[1] & 0x08 != 0
        let llbaa = !six && cdb[1] & 0x10 != 0
        let pc = PageControl(rawValue: cdb[2] >> 6)!
        let page = cdb[2] & 0x3F
        let subpage = cdb[3]
        let alloc = six ? Int(cdb[4]) : Int(cdb.u16(7))
        if subpage != 0x00 && subpage != 0xFF { throw .invalidFieldInCDB(byte: 3, bit: 7) }
        let (current, saved) = state.withLock { ($0.current, $0.saved) }
        var pages: [UInt8] = []
        if page == 0x3F {
            for code in Self.modePageCodes { pages += modePage(code, pc, current: current, saved: saved)! }
        } else if let p = modePage(page, pc, current: current, saved: saved) {
            pages = p
        } else {
            throw .invalidFieldInCDB(byte: 2, bit: 5)
        }
        var bd: [UInt8] = []
        if !dbd {
            if llbaa {
                bd.be64(s.blockCount); bd.be32(0); bd.be32(UInt32(blockSize))
            } else {
                bd.be32(s.blockCount > UInt64(UInt32.max) ? UInt32.max : UInt32(s.blockCount))
                bd.append(0); bd.be24(UInt32(blockSize))
            }
        }
        let deviceSpecific: UInt8 = (s.writeProtect ? 0x80 : 0x00) | 0x10   // WP, DPOFUA
        var d: [UInt8]
        if six {
            d = [0, 0x00, deviceSpecific, UInt8(bd.count)]
            d += bd + pages
            d[0] = UInt8(min(255, d.count - 1))
        } else {
            d = [0, 0, 0x00, deviceSpecific, llbaa && !dbd ? 0x01 : 0x00, 0]
            d.be16(UInt16(bd.count))
            d += bd + pages
            d.put16(UInt16(d.count - 2), at: 0)
        }
        return t.respond(with: d, allocationLength: alloc)
    }

    func modeSelect(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        let six = cdb.opcode == OperationCode.modeSelect6
        let sp = cdb[1] & 0x01 != 0
        if cdb[1] & 0x10 == 0 { throw .invalidFieldInCDB(byte: 1, bit: 4) }   // PF=0: vendor format
        let length = six ? Int(cdb[4]) : Int(cdb.u16(7))
        let lengthByte = six ? 4 : 7
        if length == 0 { return .good }
        guard let out = t.dataOut, out.count >= length else { throw .invalidFieldInCDB(byte: lengthByte, bit: nil) }
        let header = six ? 4 : 8
        if length < header { throw .parameterListLengthError }
        let (current, saved) = state.withLock { ($0.current, $0.saved) }
        let p = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out.bytes)[0..<length])

        // Header: MODE DATA LENGTH and MEDIUM TYPE are reserved in MODE SELECT.
        if six {
            if p[0] != 0 { throw .invalidFieldInParameterList(byte: 0, bit: highestBit(p[0])) }
        } else if p[0] != 0 || p[1] != 0 {
            throw .invalidFieldInParameterList(byte: p[0] != 0 ? 0 : 1, bit: highestBit(p[0] != 0 ? p[0] : p[1]))
        }
        let mediumType = six ? 1 : 2
        if p[mediumType] != 0 { throw .invalidFieldInParameterList(byte: mediumType, bit: highestBit(p[mediumType])) }
        let longLBA = !six && p[4] & 0x01 != 0
        let bdLenOffset = six ? 3 : 6
        let bdLen = six ? Int(p[3]) : Int(rd16(p, 6))
        let bdSize = longLBA ? 16 : 8
        if bdLen != 0 && bdLen != bdSize { throw .invalidFieldInParameterList(byte: bdLenOffset, bit: nil) }
        if header + bdLen > length { throw .parameterListLengthError }
        if bdLen > 0 {
            let lenOffset = header + (longLBA ? 12 : 5)
            let bl = longLBA ? rd32(p, lenOffset) : UInt32(p[lenOffset]) << 16 | UInt32(rd16(p, lenOffset + 1))
            if bl != UInt32(blockSize) { throw .invalidFieldInParameterList(byte: lenOffset, bit: nil) }
        }

        var new = current
        var off = header + bdLen
        while off < length {
            if length - off < 2 { throw .parameterListLengthError }
            if p[off] & 0x40 != 0 { throw .invalidFieldInParameterList(byte: off, bit: 6) }   // SPF: no subpages
            let code = p[off] & 0x3F
            let plen = Int(p[off + 1])
            guard let template = modePage(code, .current, current: current, saved: saved),
                  let mask = modePage(code, .changeable, current: current, saved: saved) else {
                throw .invalidFieldInParameterList(byte: off, bit: 5)
            }
            if plen != Int(template[1]) { throw .invalidFieldInParameterList(byte: off + 1, bit: nil) }
            if off + 2 + plen > length { throw .parameterListLengthError }
            for i in 2..<(2 + plen) {
                let diff = (p[off + i] ^ template[i]) & ~mask[i]
                if diff != 0 { throw .invalidFieldInParameterList(byte: off + i, bit: highestBit(diff)) }
            }
            switch code {
            case 0x08: new.wce = p[off + 2] & 0x04 != 0
            case 0x0A: new.dSense = p[off + 2] & 0x04 != 0
            default: break
            }
            off += 2 + plen
        }

        if current.wce && !new.wce { try await store.flush() }
        let changed = state.withLock { st -> Bool in
            let changed = st.current != new
            st.current = new
            if sp { st.saved = new }
            return changed
        }
        if sp && saved != new {
            do { try await persist() } catch { throw .internalTargetFailure }
        }
        if changed { establishUA(.modeParametersChanged, .allExcept(sessionID: t.nexus.sessionID)) }
        return TaskResponse(status: .good, dataLength: length, intendedLength: length)
    }

    /// START STOP UNIT: START=0 stops (flushing unless NO_FLUSH) until a START=1; LOEJ
    /// (eject) is refused on this non-removable medium; power conditions are not supported.
    func startStopUnit(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        if cdb[4] & 0xF0 != 0 { throw .invalidFieldInCDB(byte: 4, bit: 7) }
        if cdb[3] & 0x0F != 0 { throw .invalidFieldInCDB(byte: 3, bit: 3) }
        let start = cdb[4] & 0x01 != 0
        if !start && cdb[4] & 0x02 != 0 { throw .invalidFieldInCDB(byte: 4, bit: 1) }
        if !start && cdb[4] & 0x04 == 0 { try await store.flush() }
        state.withLock { $0.started = start }
        return .good
    }

    /// REQUEST SENSE: NO SENSE (or the NOT READY condition while stopped), fixed or
    /// descriptor format as DESC asks.
    func requestSense(_ t: LUTask, _ s: Snapshot) -> TaskResponse {
        let sense = s.started ? SenseData(.noSense, .noAdditionalSense)
                              : SenseData(.notReady, .logicalUnitNotReadyInitializingCommandRequired)
        return t.respond(with: sense.bytes(descriptor: t.cdb[1] & 0x01 != 0), allocationLength: Int(t.cdb[4]))
    }
}
