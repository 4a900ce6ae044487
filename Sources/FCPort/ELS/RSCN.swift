/// RSCN affected-port address format (FC-LS-3): how much of the port ID is significant.
public enum RSCNAddressFormat: UInt8, Sendable, CaseIterable {
    /// The whole 24-bit N_Port ID.
    case port = 0
    /// Domain and area.
    case area = 1
    /// Domain only.
    case domain = 2
    /// Anything in the fabric may have changed.
    case fabric = 3
}

/// One affected N_Port ID page of an RSCN (4 bytes).
public struct RSCNPage: Sendable, Equatable {
    public var addressFormat: RSCNAddressFormat
    /// RSCN event qualifier (4 bits): 0 unspecified, 1 name server object changed, 2 port
    /// attribute, 3 service object, 4 switch configuration, 5 object removed.
    public var eventQualifier: UInt8
    public var portID: UInt32

    public init(_ addressFormat: RSCNAddressFormat = .port, portID: UInt32, eventQualifier: UInt8 = 0) {
        self.addressFormat = addressFormat
        self.eventQualifier = eventQualifier & 0x0F
        self.portID = portID & 0xFF_FFFF
    }
}

/// RSCN payload (FC-LS-3): page length 4, payload length, one or more affected port pages.
/// Its LS_ACC is a bare command word.
public struct RSCN: Sendable, Equatable {
    public var pages: [RSCNPage]

    public init(pages: [RSCNPage]) { self.pages = pages }

    /// The RSCN payload.
    public func encoded() -> [UInt8] {
        let length = 4 + 4 * pages.count
        var w = ByteWriter(capacity: length)
        w.u8(ELSCommandCode.rscn.rawValue)
        w.u8(4)
        w.u16(UInt16(truncatingIfNeeded: length))
        for p in pages {
            w.portIDWord(p.portID, flags: p.eventQualifier << 2 | p.addressFormat.rawValue)
        }
        return w.bytes
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(ELSDecodeError) -> RSCN {
        guard r.count >= 8 else { throw .invalidLength(.rscn, actual: r.count) }
        guard r[1] == 4 else { throw .invalidPageLength(.rscn, r[1]) }
        let length = Int(r.u16(at: 2))
        guard length == r.count, length % 4 == 0 else { throw .payloadLengthMismatch(.rscn, field: length, actual: r.count) }
        var pages: [RSCNPage] = []
        pages.reserveCapacity(length / 4 - 1)
        for o in stride(from: 4, to: length, by: 4) {
            let flags = r[o]   // bits 7-6 reserved: ignored
            pages.append(RSCNPage(RSCNAddressFormat(rawValue: flags & 0x03)!, portID: r.u24(at: o + 1),
                                  eventQualifier: (flags >> 2) & 0x0F))
        }
        return RSCN(pages: pages)
    }
}

/// SCR registration function (FC-LS-3).
public enum SCRFunction: UInt8, Sendable, CaseIterable {
    /// Fabric-detected registration.
    case fabricDetected = 1
    /// N_Port-detected registration.
    case nPortDetected = 2
    /// Full registration.
    case full = 3
    /// Clear all registrations.
    case clear = 255
}

/// SCR request payload (FC-LS-3): 8 bytes, the registration function in the last byte. Its
/// LS_ACC is a bare command word.
public struct SCR: Sendable, Equatable {
    public var function: SCRFunction

    /// Length of the payload.
    public static let size = 8

    public init(_ function: SCRFunction = .full) { self.function = function }

    /// The SCR payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.commandWord(ELSCommandCode.scr.rawValue)
        w.zeros(3)
        w.u8(function.rawValue)
        return w.bytes
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(ELSDecodeError) -> SCR {
        guard r.count == size else { throw .invalidLength(.scr, actual: r.count) }
        guard let f = SCRFunction(rawValue: r[7]) else { throw .invalidField(.scr, offset: 7) }
        return SCR(f)
    }
}
