/// Why an FCP IU could not be decoded. For an FCP_CMND, `rejection` is the FCP_RSP the target
/// sends (FCP_RSP_INFO with `responseCode`).
public enum FCPDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Shorter than the fixed part, or than the additional CDB length announces.
    case truncated(actual: Int)
    /// Longer than 32 + 4 × additional CDB length (FCP_CMND) or than the announced lengths (FCP_RSP).
    case lengthMismatch(expected: Int, actual: Int)
    /// RDDATA and WRDATA both set (bidirectional commands are not supported).
    case bidirectional
    /// A task management flag together with RDDATA or WRDATA.
    case taskManagementWithData
    /// More than one task management flag.
    case multipleTaskManagementFlags(UInt8)
    /// A task management flag this implementation does not know.
    case unsupportedTaskManagement(UInt8)
    /// A reserved task attribute value.
    case reservedTaskAttribute(UInt8)
    /// FCP_RSP with both FCP_RESID_OVER and FCP_RESID_UNDER.
    case conflictingResidualFlags
    /// FCP_RSP_LEN other than 0, 4 or 8.
    case invalidResponseInfoLength(Int)
    /// FCP_XFER_RDY whose length is not 12.
    case invalidTransferReadyLength(actual: Int)
    /// FCP_XFER_RDY with FCP_BURST_LEN 0.
    case zeroBurstLength

    /// The FCP_RSP_INFO response code that describes the error.
    public var responseCode: FCPResponseCode {
        switch self {
        case .unsupportedTaskManagement: .taskManagementFunctionNotSupported
        default: .commandFieldsInvalid
        }
    }

    /// The FCP_RSP a target sends for an FCP_CMND that failed to decode.
    public var rejection: FCPResponse { FCPResponse(responseCode: responseCode) }

    public var description: String {
        switch self {
        case let .truncated(n): "FCP IU truncated at \(n) bytes"
        case let .lengthMismatch(e, n): "FCP IU of \(n) bytes, expected \(e)"
        case .bidirectional: "FCP_CMND with RDDATA and WRDATA"
        case .taskManagementWithData: "FCP_CMND task management request with a data direction"
        case let .multipleTaskManagementFlags(f): "FCP_CMND task management flags 0x" + String(f, radix: 16)
        case let .unsupportedTaskManagement(f): "unsupported task management flag 0x" + String(f, radix: 16)
        case let .reservedTaskAttribute(a): "reserved task attribute \(a)"
        case .conflictingResidualFlags: "FCP_RSP with both residual over- and underflow"
        case let .invalidResponseInfoLength(n): "FCP_RSP_LEN \(n)"
        case let .invalidTransferReadyLength(n): "FCP_XFER_RDY of \(n) bytes"
        case .zeroBurstLength: "FCP_XFER_RDY with zero burst length"
        }
    }
}
