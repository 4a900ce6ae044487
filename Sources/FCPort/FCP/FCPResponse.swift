import STMF

/// FCP_RSP_INFO response codes (FCP-4).
public struct FCPResponseCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Task management function complete (or no failure).
    public static let taskManagementFunctionComplete = Self(rawValue: 0)
    /// FCP_DATA length differs from FCP_BURST_LEN.
    public static let dataLengthMismatch = Self(rawValue: 1)
    /// FCP_CMND fields invalid.
    public static let commandFieldsInvalid = Self(rawValue: 2)
    /// FCP_DATA parameter mismatch with FCP_DATA_RO.
    public static let dataRelativeOffsetMismatch = Self(rawValue: 3)
    /// Task management function not supported.
    public static let taskManagementFunctionNotSupported = Self(rawValue: 4)
    /// Task management function failed.
    public static let taskManagementFunctionFailed = Self(rawValue: 5)
    /// Task management function succeeded.
    public static let taskManagementFunctionSucceeded = Self(rawValue: 8)
    /// Task management function incorrect logical unit number.
    public static let incorrectLogicalUnitNumber = Self(rawValue: 9)

    /// The code for STMF's task management service response.
    public init(_ response: TaskManagementResponse) { self.init(rawValue: response.fcpResponseCode) }
}

/// FCP_RESID together with the flag that says which way it goes.
public enum FCPResidual: Sendable, Equatable {
    case none
    /// FCP_RESID_UNDER: fewer bytes moved than FCP_DL.
    case underflow(UInt32)
    /// FCP_RESID_OVER: the command wanted more than FCP_DL.
    case overflow(UInt32)
}

/// The FCP_RSP IU (FCP-4): status, residual, optional FCP_RSP_INFO and sense data.
public struct FCPResponse: Sendable, Equatable {
    /// Retry delay timer / status qualifier (bytes 8-9).
    public var statusQualifier: UInt16
    public var status: SCSIStatus
    public var residual: FCPResidual
    /// FCP_CONF_REQ: the target asks for an FCP_CONF.
    public var confirmationRequested: Bool
    /// FCP_RSP_INFO's response code; nil when FCP_RSP_LEN_VALID is clear.
    public var responseCode: FCPResponseCode?
    /// Sense data (FCP_SNS_LEN_VALID when non-empty).
    public var sense: [UInt8]

    /// Length of an FCP_RSP without response info or sense.
    public static let minimumSize = 24
    /// Length of the FCP_RSP_INFO this implementation sends (FCP-2 and FCP-4 initiators both take 8).
    public static let responseInfoSize = 8

    public init(status: SCSIStatus = .good, residual: FCPResidual = .none, sense: [UInt8] = [],
                responseCode: FCPResponseCode? = nil, statusQualifier: UInt16 = 0, confirmationRequested: Bool = false) {
        self.statusQualifier = statusQualifier
        self.status = status
        self.residual = residual
        self.confirmationRequested = confirmationRequested
        self.responseCode = responseCode
        self.sense = sense
    }

    /// The FCP_RSP for a completed task whose FCP_DL was `expectedLength`.
    public init(_ task: TaskResponse, expectedLength: Int) {
        let r = task.residual(expected: expectedLength)
        let residual: FCPResidual = r > 0 ? .underflow(UInt32(clamping: r)) : r < 0 ? .overflow(UInt32(clamping: -r)) : .none
        self.init(status: task.status, residual: residual, sense: task.senseBytes ?? [])
    }

    /// The FCP_RSP answering a task management request.
    public init(taskManagement response: TaskManagementResponse) {
        self.init(responseCode: FCPResponseCode(response))
    }

    /// The FCP_RSP payload.
    public func encoded() -> [UInt8] {
        let infoLength = responseCode == nil ? 0 : Self.responseInfoSize
        var w = ByteWriter(capacity: Self.minimumSize + infoLength + sense.count)
        w.zeros(8)
        w.u16(statusQualifier)
        var flags: UInt8 = confirmationRequested ? 0x10 : 0
        if responseCode != nil { flags |= 0x01 }
        if !sense.isEmpty { flags |= 0x02 }
        let resid: UInt32
        switch residual {
        case .none: resid = 0
        case let .underflow(n): resid = n; flags |= 0x08
        case let .overflow(n): resid = n; flags |= 0x04
        }
        w.u8(flags)
        w.u8(status.rawValue)
        w.u32(resid)
        w.u32(UInt32(sense.count))
        w.u32(UInt32(infoLength))
        if let responseCode {
            w.zeros(3)
            w.u8(responseCode.rawValue)
            w.zeros(4)
        }
        w.append(sense)
        return w.bytes
    }

    /// Decodes an FCP_RSP payload: FCP_RSP_LEN 0, 4 or 8, and exactly the lengths announced.
    public static func decode(_ payload: some RandomAccessCollection<UInt8>) throws(FCPDecodeError) -> FCPResponse {
        let r = ByteReader(payload)
        guard r.count >= minimumSize else { throw .truncated(actual: r.count) }
        let flags = r[10]
        let residual: FCPResidual
        switch flags & 0x0C {
        case 0x00: residual = .none
        case 0x04: residual = .overflow(r.u32(at: 12))
        case 0x08: residual = .underflow(r.u32(at: 12))
        default: throw .conflictingResidualFlags
        }
        let senseLength = flags & 0x02 != 0 ? Int(r.u32(at: 16)) : 0
        let infoLength = flags & 0x01 != 0 ? Int(r.u32(at: 20)) : 0
        guard infoLength == 0 || infoLength == 4 || infoLength == 8 else { throw .invalidResponseInfoLength(infoLength) }
        let expected = minimumSize + infoLength + senseLength
        guard r.count == expected else { throw .lengthMismatch(expected: expected, actual: r.count) }
        return FCPResponse(status: SCSIStatus(rawValue: r[11]), residual: residual,
                           sense: r.bytes(at: minimumSize + infoLength, count: senseLength),
                           responseCode: infoLength == 0 ? nil : FCPResponseCode(rawValue: r[minimumSize + 3]),
                           statusQualifier: r.u16(at: 8), confirmationRequested: flags & 0x10 != 0)
    }
}

extension FCPResponse {
    /// The payload, encoded in temporary storage (no heap allocation for what fits the stack),
    /// for the duration of `body`; the same bytes as `encoded()`.
    public func withEncoded<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let infoLength = responseCode == nil ? 0 : Self.responseInfoSize
        let size = Self.minimumSize + infoLength + sense.count
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: 4) { p in
            p.initializeMemory(as: UInt8.self, repeating: 0)
            var flags: UInt8 = confirmationRequested ? 0x10 : 0
            if responseCode != nil { flags |= 0x01 }
            if !sense.isEmpty { flags |= 0x02 }
            let resid: UInt32
            switch residual {
            case .none: resid = 0
            case let .underflow(n): resid = n; flags |= 0x08
            case let .overflow(n): resid = n; flags |= 0x04
            }
            p.storeBytes(of: statusQualifier.bigEndian, toByteOffset: 8, as: UInt16.self)
            p[10] = flags
            p[11] = status.rawValue
            p.storeBytes(of: resid.bigEndian, toByteOffset: 12, as: UInt32.self)
            p.storeBytes(of: UInt32(sense.count).bigEndian, toByteOffset: 16, as: UInt32.self)
            p.storeBytes(of: UInt32(infoLength).bigEndian, toByteOffset: 20, as: UInt32.self)
            var o = Self.minimumSize
            if let responseCode { p[o + 3] = responseCode.rawValue; o += infoLength }
            if !sense.isEmpty { sense.withUnsafeBytes { (p.baseAddress! + o).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            return body(UnsafeRawBufferPointer(p))
        }
    }
}
