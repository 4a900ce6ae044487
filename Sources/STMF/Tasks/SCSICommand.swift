import Synchronization

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

    /// Where `complete` reports to (STMF's session for the task), and the task it reports.
    let sink: (any TaskCompletionSink)?
    /// STMF's task behind this one (nil when the LU is driven directly, as in its own tests).
    public let task: SCSITask?

    public init(cdb: CDB, lun: UInt16, nexus: Nexus, attribute: TaskAttribute, tag: UInt64,
                dataOut: IOBuffer?, dataIn: IOBuffer?, dataInLimit: Int,
                expectedTransferLength: Int, direction: DataDirection) {
        self.init(cdb: cdb, lun: lun, nexus: nexus, attribute: attribute, tag: tag, dataOut: dataOut, dataIn: dataIn,
                  dataInLimit: dataInLimit, expectedTransferLength: expectedTransferLength, direction: direction,
                  task: nil, sink: nil)
    }

    init(cdb: CDB, lun: UInt16, nexus: Nexus, attribute: TaskAttribute, tag: UInt64,
         dataOut: IOBuffer?, dataIn: IOBuffer?, dataInLimit: Int,
         expectedTransferLength: Int, direction: DataDirection, task: SCSITask?, sink: (any TaskCompletionSink)?) {
        self.cdb = cdb; self.lun = lun; self.nexus = nexus; self.attribute = attribute; self.tag = tag
        self.dataOut = dataOut; self.dataIn = dataIn; self.dataInLimit = dataInLimit
        self.expectedTransferLength = expectedTransferLength; self.direction = direction
        self.task = task; self.sink = sink
    }

    /// The same task reporting its completion to `sink`.
    func completing(into sink: any TaskCompletionSink) -> LUTask {
        LUTask(cdb: cdb, lun: lun, nexus: nexus, attribute: attribute, tag: tag, dataOut: dataOut, dataIn: dataIn,
               dataInLimit: dataInLimit, expectedTransferLength: expectedTransferLength, direction: direction,
               task: task, sink: sink)
    }

    /// Reports the end of a task the LU's `start` answered `.pending` for: exactly once, from
    /// any thread, after the LU is done with the task's buffers.
    public func complete(_ response: TaskResponse) {
        guard let sink else { preconditionFailure("LUTask.complete on a task with nowhere to report to") }
        sink.taskCompleted(self, response)
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

/// Where an LU's completion of a pending task goes (STMF's session; the async wrapper's box).
public protocol TaskCompletionSink: AnyObject, Sendable {
    func taskCompleted(_ task: LUTask, _ response: TaskResponse)
}

/// The sink `LogicalUnit.execute` waits on.
final class AsyncCompletion: TaskCompletionSink, @unchecked Sendable {
    var continuation: CheckedContinuation<TaskResponse, Never>?
    private let done = Atomic<Bool>(false)

    func resumeOnce(_ r: TaskResponse) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        continuation?.resume(returning: r)
    }

    func taskCompleted(_ task: LUTask, _ response: TaskResponse) { resumeOnce(response) }
}
