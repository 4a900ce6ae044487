import STMF

/// LOGO request payload (FC-LS-3): the N_Port ID and port name of the port logging out.
/// 16 bytes; its LS_ACC is a bare command word.
public struct LOGO: Sendable, Equatable {
    public var portID: UInt32
    public var portName: WWN

    /// Length of the payload.
    public static let size = 16

    public init(portID: UInt32, portName: WWN) {
        self.portID = portID & 0xFF_FFFF
        self.portName = portName
    }

    /// The LOGO payload.
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.commandWord(ELSCommandCode.logo.rawValue)
        w.portIDWord(portID)
        w.wwn(portName)
        return w.bytes
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>) throws(ELSDecodeError) -> LOGO {
        guard r.count == size else { throw .invalidLength(.logo, actual: r.count) }
        return LOGO(portID: r.u24(at: 5), portName: r.wwn(at: 8))
    }
}

/// ADISC request and LS_ACC payload (FC-LS-3): hard address, port name, node name and N_Port
/// ID of the sender. 28 bytes, the same layout in both directions.
public struct ADISC: Sendable, Equatable {
    /// Hard (preferred) address, 0 when the port has none.
    public var hardAddress: UInt32
    public var portName: WWN
    public var nodeName: WWN
    public var portID: UInt32

    /// Length of the payload.
    public static let size = 28

    public init(hardAddress: UInt32 = 0, portName: WWN, nodeName: WWN, portID: UInt32) {
        self.hardAddress = hardAddress & 0xFF_FFFF
        self.portName = portName
        self.nodeName = nodeName
        self.portID = portID & 0xFF_FFFF
    }

    /// The payload with `command` (ADISC or LS_ACC) in its first byte.
    public func encoded(command: ELSCommandCode) -> [UInt8] {
        var w = ByteWriter(capacity: Self.size)
        w.commandWord(command.rawValue)
        w.portIDWord(hardAddress)
        w.wwn(portName)
        w.wwn(nodeName)
        w.portIDWord(portID)
        return w.bytes
    }

    static func decode(_ r: ByteReader<some RandomAccessCollection<UInt8>>, command: ELSCommandCode) throws(ELSDecodeError) -> ADISC {
        guard r.count == size else { throw .invalidLength(command, actual: r.count) }
        return ADISC(hardAddress: r.u24(at: 5), portName: r.wwn(at: 8), nodeName: r.wwn(at: 16), portID: r.u24(at: 25))
    }
}
