/// Why an ELS payload could not be decoded, and which LS_RJT its receiver sends back
/// (`rejection`). Length errors follow Linux libfc: protocol error, invalid payload length.
public enum ELSDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The payload has no command byte.
    case empty
    /// The command code is not one this implementation supports (or not an ELS at all).
    case unsupportedCommand(UInt8)
    /// LS_ACC or LS_RJT arrived where a request was expected.
    case notARequest(ELSCommandCode)
    /// A reply whose first byte is neither LS_ACC nor LS_RJT.
    case unexpectedReplyCode(UInt8)
    /// The payload is shorter or longer than the command's layout allows.
    case invalidLength(ELSCommandCode, actual: Int)
    /// A page-length byte (PRLI, PRLO, RSCN) is not the one the command defines.
    case invalidPageLength(ELSCommandCode, UInt8)
    /// The payload-length field disagrees with the payload's size or page structure.
    case payloadLengthMismatch(ELSCommandCode, field: Int, actual: Int)
    /// A field holds a value the command does not define (byte offset in the payload).
    case invalidField(ELSCommandCode, offset: Int)

    /// The LS_RJT the receiver of the malformed request sends.
    public var rejection: LSReject {
        switch self {
        case .empty, .invalidLength, .invalidPageLength, .payloadLengthMismatch:
            LSReject(.protocolError, .invalidPayloadLength)
        case .unsupportedCommand:
            LSReject(.commandNotSupported)
        case .notARequest:
            LSReject(.invalidCommandCode)
        case .unexpectedReplyCode:
            LSReject(.protocolError)
        case .invalidField:
            LSReject(.logicalError)
        }
    }

    public var description: String {
        switch self {
        case .empty: "empty ELS payload"
        case let .unsupportedCommand(c): "unsupported ELS command 0x" + String(c, radix: 16)
        case let .notARequest(c): "\(c) is not an ELS request"
        case let .unexpectedReplyCode(c): "ELS reply code 0x" + String(c, radix: 16) + " is neither LS_ACC nor LS_RJT"
        case let .invalidLength(c, n): "\(c) payload of invalid length \(n)"
        case let .invalidPageLength(c, n): "\(c) page length \(n)"
        case let .payloadLengthMismatch(c, f, n): "\(c) payload length field \(f) for \(n) bytes"
        case let .invalidField(c, o): "\(c) invalid field at byte \(o)"
        }
    }
}
