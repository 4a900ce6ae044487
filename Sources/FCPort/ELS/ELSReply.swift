/// The LS_ACC payload of each request, typed by the request it answers.
public enum ELSAccept: Sendable, Equatable {
    /// FLOGI, PLOGI, FDISC: the responder's service parameters.
    case serviceParameters(ServiceParameters)
    case prli(ProcessLogin)
    case prlo(ProcessLogin)
    case adisc(ADISC)
    /// ECHO: the echoed bytes after the command word.
    case echo([UInt8])
    case rls(LinkErrorStatusBlock)
    case rtv(RTVAccept)
    /// LOGO, RSCN, SCR: the bare 4-byte command word.
    case plain

    /// Length of a bare LS_ACC.
    static let plainSize = 4

    /// The LS_ACC payload.
    public func encoded() -> [UInt8] {
        switch self {
        case let .serviceParameters(p): return p.encoded(command: .lsAccept)
        case let .prli(p), let .prlo(p): return p.encoded(command: .lsAccept)
        case let .adisc(a): return a.encoded(command: .lsAccept)
        case let .echo(data):
            var w = ByteWriter(capacity: 4 + data.count)
            w.commandWord(ELSCommandCode.lsAccept.rawValue)
            w.append(data)
            return w.bytes
        case let .rls(b): return b.encodedAccept()
        case let .rtv(t): return t.encoded()
        case .plain:
            var w = ByteWriter(capacity: Self.plainSize)
            w.commandWord(ELSCommandCode.lsAccept.rawValue)
            return w.bytes
        }
    }
}

/// An ELS reply (R_CTL 0x23): LS_ACC typed by the request it answers, or LS_RJT.
public enum ELSReply: Sendable, Equatable {
    case accept(ELSAccept)
    case reject(LSReject)

    /// Decodes the reply to a request whose command was `request`.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>, request: ELSCommandCode) throws(ELSDecodeError) -> ELSReply {
        let r = ByteReader(payload)
        guard r.count > 0 else { throw .empty }
        switch r[0] {
        case ELSCommandCode.lsReject.rawValue: return .reject(try LSReject.decode(payload))
        case ELSCommandCode.lsAccept.rawValue: break
        default: throw .unexpectedReplyCode(r[0])
        }
        switch request {
        case .flogi, .plogi, .fdisc: return .accept(.serviceParameters(try ServiceParameters.decode(r, command: request)))
        case .prli: return .accept(.prli(try ProcessLogin.decode(r, command: request)))
        case .prlo: return .accept(.prlo(try ProcessLogin.decode(r, command: request)))
        case .adisc: return .accept(.adisc(try ADISC.decode(r, command: request)))
        case .echo:
            guard r.count >= 4 else { throw .invalidLength(.echo, actual: r.count) }
            return .accept(.echo(r.bytes(from: 4)))
        case .rls: return .accept(.rls(try LinkErrorStatusBlock.decodeAccept(r)))
        case .rtv: return .accept(.rtv(try RTVAccept.decode(r)))
        case .logo, .rscn, .scr, .lsAccept, .lsReject:
            guard r.count == ELSAccept.plainSize else { throw .invalidLength(request, actual: r.count) }
            return .accept(.plain)
        }
    }

    /// The reply payload.
    public func encoded() -> [UInt8] {
        switch self {
        case let .accept(a): a.encoded()
        case let .reject(j): j.encoded()
        }
    }
}
