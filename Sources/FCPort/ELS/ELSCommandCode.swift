/// ELS command codes (FC-LS-3): the first byte of an ELS payload. Only the link
/// services this port provider implements are listed; any other code is answered with
/// LS_RJT "command not supported".
public enum ELSCommandCode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case lsReject = 0x01
    case lsAccept = 0x02
    case plogi = 0x03
    case flogi = 0x04
    case logo = 0x05
    case rtv = 0x0E
    case rls = 0x0F
    case echo = 0x10
    case prli = 0x20
    case prlo = 0x21
    case fdisc = 0x51
    case adisc = 0x52
    case rscn = 0x61
    case scr = 0x62

    public var description: String {
        switch self {
        case .lsReject: "LS_RJT"
        case .lsAccept: "LS_ACC"
        case .plogi: "PLOGI"
        case .flogi: "FLOGI"
        case .logo: "LOGO"
        case .rtv: "RTV"
        case .rls: "RLS"
        case .echo: "ECHO"
        case .prli: "PRLI"
        case .prlo: "PRLO"
        case .fdisc: "FDISC"
        case .adisc: "ADISC"
        case .rscn: "RSCN"
        case .scr: "SCR"
        }
    }
}
