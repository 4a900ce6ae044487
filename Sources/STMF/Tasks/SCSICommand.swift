/// A command as a port provider posts it to a session (the transport's view of a task).
public struct SCSICommand: Sendable {
    /// The 8-byte LUN field as the initiator sent it (SAM-5 4.6).
    public var lun: UInt64
    public var cdb: CDB
    public var attribute: TaskAttribute
    /// Task tag, unique per I_T nexus while the task exists (FC: OX_ID based).
    public var tag: UInt64
    public var direction: DataDirection
    /// Expected data transfer length (FCP_DL).
    public var expectedTransferLength: Int
    /// Data-out bytes received from the initiator (count = bytes received).
    public var dataOut: IOBuffer?
    /// Where data-in goes; its capacity must be at least `expectedTransferLength`.
    public var dataIn: IOBuffer?
    /// Command reference number (FCP CRN), 0 when unused.
    public var crn: UInt8

    public init(lun: UInt64, cdb: CDB, attribute: TaskAttribute = .simple, tag: UInt64,
                direction: DataDirection = .none, expectedTransferLength: Int = 0,
                dataOut: IOBuffer? = nil, dataIn: IOBuffer? = nil, crn: UInt8 = 0) {
        self.lun = lun
        self.cdb = cdb
        self.attribute = attribute
        self.tag = tag
        self.direction = direction
        self.expectedTransferLength = expectedTransferLength
        self.dataOut = dataOut
        self.dataIn = dataIn
        self.crn = crn
    }
}

/// A task as the LU provider receives it.
public struct LUTask: Sendable {
    public let cdb: CDB
    /// The LUN this LU is known by on this nexus.
    public let lun: UInt16
    public let nexus: Nexus
    public let attribute: TaskAttribute
    public let tag: UInt64
    /// Data-out bytes (nil when the initiator sent none).
    public let dataOut: IOBuffer?
    /// Destination of data-in (nil when the transport expects none).
    public let dataIn: IOBuffer?
    /// Most data-in bytes the transport can take: min(FCP_DL, buffer capacity) for reads.
    public let dataInLimit: Int
    public let expectedTransferLength: Int
    public let direction: DataDirection

    public init(cdb: CDB, lun: UInt16, nexus: Nexus, attribute: TaskAttribute, tag: UInt64,
                dataOut: IOBuffer?, dataIn: IOBuffer?, dataInLimit: Int,
                expectedTransferLength: Int, direction: DataDirection) {
        self.cdb = cdb; self.lun = lun; self.nexus = nexus; self.attribute = attribute; self.tag = tag
        self.dataOut = dataOut; self.dataIn = dataIn; self.dataInLimit = dataInLimit
        self.expectedTransferLength = expectedTransferLength; self.direction = direction
    }

    /// Number of data-out bytes the initiator supplied.
    public var dataOutCount: Int { dataOut?.count ?? 0 }

    /// Copies `bytes` into the data-in buffer up to `allocationLength` and the transport's
    /// limit; returns the response to complete with (intended = min(allocation, available)).
    public func respond(with bytes: UnsafeRawBufferPointer, allocationLength: Int) -> TaskResponse {
        let intended = min(allocationLength, bytes.count)
        let n = min(intended, dataInLimit)
        if n > 0, let dataIn {
            dataIn.bytes.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: n)
        }
        return TaskResponse(status: .good, dataLength: dataIn == nil ? 0 : n, intendedLength: intended)
    }

    public func respond(with bytes: [UInt8], allocationLength: Int) -> TaskResponse {
        bytes.withUnsafeBytes { respond(with: $0, allocationLength: allocationLength) }
    }
}
