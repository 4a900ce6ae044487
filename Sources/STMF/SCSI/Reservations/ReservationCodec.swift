
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib computes it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

/// The metadata form of the persistent reservation state (all big-endian):
///
///     0   4  magic "SPRS"
///     4   2  version (1)
///     6   2  flags: bit 0 APTPL
///     8   4  PRgeneration
///    12   1  reservation type (0 = none)
///    13   3  reserved (0)
///    16   4  holder: index into the registrations, 0xFFFFFFFF for none / all registrants
///    20   4  registration count n
///    24      n × { key u64, relative target port id u16, flags u8 (bit 0 ALL_TG_PT),
///                  name length u16, initiator port name (UTF-8, its string form) }
///     …   4  CRC-32 of every preceding byte
///
/// SPC-2 reservations are not part of it (they do not survive power loss).
extension ReservationState {
    static let magic: [UInt8] = Array("SPRS".utf8)
    static let formatVersion: UInt16 = 1
    static let noHolder: UInt32 = 0xFFFF_FFFF

    func encode() -> [UInt8] {
        var d: [UInt8] = Self.magic
        d.appendBE16(Self.formatVersion)
        d.appendBE16(aptpl ? 1 : 0)
        d.appendBE32(generation)
        d.append(reservation?.type.rawValue ?? 0)
        d += [0, 0, 0]
        var holderIndex = Self.noHolder
        if let h = reservation?.holder, let i = registrationIndex(h) { holderIndex = UInt32(i) }
        d.appendBE32(holderIndex)
        d.appendBE32(UInt32(registrations.count))
        for r in registrations {
            let name = Array(r.nexus.initiator.description.utf8)
            d.appendBE64(r.key)
            d.appendBE16(r.nexus.relativeTargetPortID)
            d.append(r.allTargetPorts ? 1 : 0)
            d.appendBE16(UInt16(name.count))
            d += name
        }
        d.appendBE32(CRC32.checksum(d))
        return d
    }

    static func decode(_ bytes: [UInt8]) throws(ReservationDecodingError) -> ReservationState {
        guard bytes.count >= 28 else { throw .truncated }
        guard Array(bytes[0..<4]) == magic else { throw .malformed("bad magic") }
        var r = Reader(bytes: bytes, offset: 4)
        let version = try r.u16()
        guard version == formatVersion else { throw .badVersion(version) }
        let body = bytes.count - 4
        let stored = UInt32(bytes[body]) << 24 | UInt32(bytes[body + 1]) << 16
            | UInt32(bytes[body + 2]) << 8 | UInt32(bytes[body + 3])
        guard CRC32.checksum(bytes[0..<body]) == stored else { throw .malformed("checksum mismatch") }
        r.end = body

        var s = ReservationState()
        let flags = try r.u16()
        guard flags & ~1 == 0 else { throw .malformed("unknown flags \(flags)") }
        s.aptpl = flags & 1 != 0
        s.generation = try r.u32()
        let typeRaw = try r.u8()
        guard try r.u8() == 0, try r.u8() == 0, try r.u8() == 0 else { throw .malformed("reserved bytes set") }
        let holderIndex = try r.u32()
        let count = try r.u32()
        guard count <= maximumRegistrations else { throw .malformed("\(count) registrations") }
        var seen = Set<ITNexusID>()
        for _ in 0..<count {
            let key = try r.u64()
            let rtpi = try r.u16()
            let regFlags = try r.u8()
            guard regFlags & ~1 == 0 else { throw .malformed("unknown registration flags") }
            let name = String(decoding: try r.take(Int(try r.u16())), as: UTF8.self)
            guard key != 0 else { throw .malformed("zero reservation key") }
            // Parsing normalises (IQNs to lowercase); the checksum already vouches for the bytes.
            guard let initiator = try? PortIdentifier(parsing: name) else { throw .malformed("bad initiator name") }
            let id = ITNexusID(initiator: initiator, relativeTargetPortID: rtpi)
            guard seen.insert(id).inserted else { throw .malformed("duplicate registration \(id)") }
            s.registrations.append(PRRegistration(nexus: id, key: key, allTargetPorts: regFlags & 1 != 0))
        }
        guard r.offset == r.end else { throw .malformed("trailing bytes") }

        if typeRaw == 0 {
            guard holderIndex == noHolder else { throw .malformed("holder without reservation") }
        } else {
            guard let type = PersistentReservationType(rawValue: typeRaw) else { throw .malformed("reservation type \(typeRaw)") }
            guard !s.registrations.isEmpty else { throw .malformed("reservation without registrations") }
            if type.isAllRegistrants {
                guard holderIndex == noHolder else { throw .malformed("holder for an all registrants reservation") }
                s.reservation = PersistentReservation(type: type, holder: nil)
            } else {
                guard holderIndex < count else { throw .malformed("holder index \(holderIndex)") }
                s.reservation = PersistentReservation(type: type, holder: s.registrations[Int(holderIndex)].nexus)
            }
        }
        return s
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int
        var end: Int

        init(bytes: [UInt8], offset: Int) {
            self.bytes = bytes
            self.offset = offset
            self.end = bytes.count
        }

        mutating func take(_ n: Int) throws(ReservationDecodingError) -> ArraySlice<UInt8> {
            guard n >= 0, end - offset >= n else { throw .truncated }
            defer { offset += n }
            return bytes[offset..<(offset + n)]
        }
        mutating func u8() throws(ReservationDecodingError) -> UInt8 { try take(1).first! }
        mutating func u16() throws(ReservationDecodingError) -> UInt16 {
            let s = try take(2)
            return UInt16(s[s.startIndex]) << 8 | UInt16(s[s.startIndex + 1])
        }
        mutating func u32() throws(ReservationDecodingError) -> UInt32 {
            UInt32(try u16()) << 16 | UInt32(try u16())
        }
        mutating func u64() throws(ReservationDecodingError) -> UInt64 {
            UInt64(try u32()) << 32 | UInt64(try u32())
        }
    }
}
