/// An ELS request as its receiver sees it (R_CTL 0x22, TYPE 0x01), decoded from the payload.
public enum ELSRequest: Sendable, Equatable {
    case flogi(ServiceParameters)
    case plogi(ServiceParameters)
    case fdisc(ServiceParameters)
    case logo(LOGO)
    case prli(ProcessLogin)
    case prlo(ProcessLogin)
    case adisc(ADISC)
    case rscn(RSCN)
    case scr(SCR)
    /// ECHO: the bytes after the command word, which the LS_ACC returns.
    case echo([UInt8])
    /// RLS for the port with this N_Port ID.
    case rls(portID: UInt32)
    case rtv

    /// The command code of this request.
    public var command: ELSCommandCode {
        switch self {
        case .flogi: .flogi
        case .plogi: .plogi
        case .fdisc: .fdisc
        case .logo: .logo
        case .prli: .prli
        case .prlo: .prlo
        case .adisc: .adisc
        case .rscn: .rscn
        case .scr: .scr
        case .echo: .echo
        case .rls: .rls
        case .rtv: .rtv
        }
    }

    /// Length of RLS and RTV request payloads.
    static let rlsSize = 8, rtvSize = 4

    /// Decodes a request payload. On failure the error's `rejection` is the LS_RJT to send.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(ELSDecodeError) -> ELSRequest {
        let r = ByteReader(payload)
        guard r.count > 0 else { throw .empty }
        guard let command = ELSCommandCode(rawValue: r[0]) else { throw .unsupportedCommand(r[0]) }
        switch command {
        case .lsAccept, .lsReject: throw .notARequest(command)
        case .flogi: return .flogi(try ServiceParameters.decode(r, command: command))
        case .plogi: return .plogi(try ServiceParameters.decode(r, command: command))
        case .fdisc: return .fdisc(try ServiceParameters.decode(r, command: command))
        case .logo: return .logo(try LOGO.decode(r))
        case .prli: return .prli(try ProcessLogin.decode(r, command: command))
        case .prlo: return .prlo(try ProcessLogin.decode(r, command: command))
        case .adisc: return .adisc(try ADISC.decode(r, command: command))
        case .rscn: return .rscn(try RSCN.decode(r))
        case .scr: return .scr(try SCR.decode(r))
        case .echo:
            guard r.count >= 4 else { throw .invalidLength(.echo, actual: r.count) }
            return .echo(r.bytes(from: 4))
        case .rls:
            guard r.count == rlsSize else { throw .invalidLength(.rls, actual: r.count) }
            return .rls(portID: r.u24(at: 5))
        case .rtv:
            guard r.count == rtvSize else { throw .invalidLength(.rtv, actual: r.count) }
            return .rtv
        }
    }

    /// The request payload.
    public func encoded() -> [UInt8] {
        switch self {
        case let .flogi(p), let .plogi(p), let .fdisc(p): return p.encoded(command: command)
        case let .logo(l): return l.encoded()
        case let .prli(p), let .prlo(p): return p.encoded(command: command)
        case let .adisc(a): return a.encoded(command: .adisc)
        case let .rscn(r): return r.encoded()
        case let .scr(s): return s.encoded()
        case let .echo(data):
            var w = ByteWriter(capacity: 4 + data.count)
            w.commandWord(ELSCommandCode.echo.rawValue)
            w.append(data)
            return w.bytes
        case let .rls(portID):
            var w = ByteWriter(capacity: Self.rlsSize)
            w.commandWord(ELSCommandCode.rls.rawValue)
            w.portIDWord(portID)
            return w.bytes
        case .rtv:
            var w = ByteWriter(capacity: Self.rtvSize)
            w.commandWord(ELSCommandCode.rtv.rawValue)
            return w.bytes
        }
    }
}
