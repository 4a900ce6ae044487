/// A 64-bit Fibre Channel world-wide name (port or node name).
public struct WWN: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Parses 16 hex digits, optionally with colons every two ("21:00:00:e0:8b:05:05:04"),
    /// optionally prefixed by `wwn.` or `0x`; case-insensitive.
    public init?(_ text: String) {
        var s = Substring(text)
        if s.lowercased().hasPrefix("wwn.") { s = s.dropFirst(4) } else if s.lowercased().hasPrefix("0x") { s = s.dropFirst(2) }
        var hex = String(s)
        if hex.contains(":") {
            let parts = hex.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 8, parts.allSatisfy({ $0.count == 2 }) else { return nil }
            hex = parts.joined()
        }
        guard hex.count == 16, hex.allSatisfy(\.isHexDigit), let v = UInt64(hex, radix: 16) else { return nil }
        rawValue = v
    }

    /// 16 uppercase hex digits, as COMSTAR prints port names.
    public var hex: String {
        let s = String(rawValue, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// Colon-separated lowercase form as Linux sysfs and LIO configfs use ("21:00:...").
    public var colonSeparated: String {
        (0..<8).map { i in
            let b = UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * UInt64(i)))
            return (b < 16 ? "0" : "") + String(b, radix: 16)
        }.joined(separator: ":")
    }

    public var description: String { hex }
    public static func < (a: WWN, b: WWN) -> Bool { a.rawValue < b.rawValue }

    public var bytes: [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: rawValue >> (56 - 8 * UInt64($0))) } }
}

/// SCSI protocol identifiers (SPC-4 table 362), used in TransportIDs and VPD designators.
public enum ProtocolIdentifier: UInt8, Sendable {
    case fibreChannel = 0x0
    case iscsi = 0x5
    case sas = 0x6
}

/// The name of an initiator or target port as STMF and its administrators see it:
/// `wwn.` + 16 hex digits for FC, `iqn.…` / `eui.` + 16 hex for iSCSI.
public enum PortIdentifier: Hashable, Comparable, Sendable, CustomStringConvertible {
    case wwn(WWN)
    case iqn(String)
    case eui(UInt64)

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case let .invalid(s): "invalid port name '\(s)': expected wwn.<16 hex digits>, iqn.<yyyy-mm>.<domain>[:<name>] or eui.<16 hex digits>"
            }
        }
    }

    /// Parses a port name case-insensitively. IQNs are normalised to lowercase (RFC 3720
    /// names are case-insensitive and conventionally lowercase).
    public init(parsing text: String) throws(ParseError) {
        let lower = text.lowercased()
        if lower.hasPrefix("wwn.") {
            guard let w = WWN(String(text.dropFirst(4))), !text.dropFirst(4).contains(":") else { throw .invalid(text) }
            self = .wwn(w)
        } else if lower.hasPrefix("eui.") {
            let hex = lower.dropFirst(4)
            guard hex.count == 16, hex.allSatisfy(\.isHexDigit), let v = UInt64(hex, radix: 16) else { throw .invalid(text) }
            self = .eui(v)
        } else if lower.hasPrefix("iqn.") {
            // iqn.yyyy-mm.reversed.domain[:anything]
            let rest = lower.dropFirst(4)
            let date = rest.prefix(7)
            guard date.count == 7, date.dropFirst(4).first == "-",
                  date.prefix(4).allSatisfy(\.isNumber), date.suffix(2).allSatisfy(\.isNumber),
                  rest.count > 8, rest.dropFirst(7).first == ".",
                  lower.count <= 223,
                  lower.allSatisfy({ $0.isLetter || $0.isNumber || "-.:".contains($0) }),
                  lower.unicodeScalars.allSatisfy(\.isASCII)
            else { throw .invalid(text) }
            self = .iqn(lower)
        } else {
            throw .invalid(text)
        }
    }

    public var description: String {
        switch self {
        case let .wwn(w): "wwn." + w.hex
        case let .iqn(s): s
        case let .eui(v):
            "eui." + String(repeating: "0", count: 16 - String(v, radix: 16).count) + String(v, radix: 16, uppercase: true)
        }
    }

    public static func < (a: PortIdentifier, b: PortIdentifier) -> Bool { a.description < b.description }

    public var protocolIdentifier: ProtocolIdentifier {
        switch self {
        case .wwn: .fibreChannel
        case .iqn, .eui: .iscsi
        }
    }

    /// The SPC-4 TransportID for this port (7.6.4): FC format 0 (24 bytes with the
    /// N_Port_Name), iSCSI format 0 (name, NUL-terminated, padded to a multiple of 4).
    public var transportID: [UInt8] {
        switch self {
        case let .wwn(w):
            var t = [UInt8](repeating: 0, count: 24)
            t[0] = ProtocolIdentifier.fibreChannel.rawValue
            t.replaceSubrange(8..<16, with: w.bytes)
            return t
        case .iqn, .eui:
            var name = Array(description.utf8) + [0]
            while name.count % 4 != 0 { name.append(0) }
            var t: [UInt8] = [ProtocolIdentifier.iscsi.rawValue, 0, UInt8(name.count >> 8), UInt8(name.count & 0xFF)]
            t += name
            return t
        }
    }

    /// Parses a TransportID from a PR parameter list; returns the identifier and the bytes
    /// consumed, or nil if malformed or of an unsupported protocol.
    public static func parseTransportID(_ b: UnsafeRawBufferPointer) -> (PortIdentifier, Int)? {
        guard b.count >= 24 else { return nil }
        let format = b[0] >> 6
        switch ProtocolIdentifier(rawValue: b[0] & 0x0F) {
        case .fibreChannel:
            guard format == 0 else { return nil }
            var v: UInt64 = 0
            for i in 8..<16 { v = v << 8 | UInt64(b[i]) }
            return (.wwn(WWN(v)), 24)
        case .iscsi:
            guard format == 0 || format == 1 else { return nil }
            let len = Int(b[2]) << 8 | Int(b[3])
            guard len >= 20, len % 4 == 0, 4 + len <= b.count else { return nil }
            let nameBytes = b[4..<(4 + len)].prefix { $0 != 0 }
            // Format 1 carries ",i,0x<ISID>" after the name: the initiator port is the name+ISID;
            // we key on the name only, as STMF sessions do.
            let s = String(decoding: nameBytes, as: UTF8.self)
            let name = s.split(separator: ",", maxSplits: 1).first.map(String.init) ?? s
            guard let id = try? PortIdentifier(parsing: name) else { return nil }
            return (id, 4 + len)
        default:
            return nil
        }
    }
}
