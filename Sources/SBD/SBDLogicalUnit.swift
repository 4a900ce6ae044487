#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import STMF
import Locking
import Runtime

/// Mode parameters the initiator can change (caching page WCE, control page D_SENSE).
struct ModeParameters: Sendable, Equatable {
    var wce: Bool
    var dSense: Bool
}

/// Limits advertised in the Block Limits VPD page and enforced by the commands.
struct BlockLimits: Sendable {
    var maxTransferBlocks: UInt32
    var optimalTransferBlocks: UInt32
    var maxUnmapLBACount: UInt32
    var maxUnmapDescriptors: UInt32
    var unmapGranularity: UInt32
    var maxWriteSameBlocks: UInt64
    var maxCompareAndWriteBlocks: UInt8

    init(blockSize: Int) {
        let bs = UInt32(blockSize)
        maxTransferBlocks = (8 << 20) / bs
        optimalTransferBlocks = max(1, (1 << 20) / bs)
        // 1 GiB, at most 2^20 blocks (libiscsi calls more than that "insanely big").
        maxUnmapLBACount = min((1 << 30) / bs, 1 << 20)
        maxUnmapDescriptors = 256
        unmapGranularity = max(1, 4096 / bs)
        // 64 MiB, at most 65535 blocks as LIO's file and block backends advertise: initiators
        // (libiscsi among them) take a larger figure to mean a WRITE of as many blocks works too.
        maxWriteSameBlocks = UInt64(min((64 << 20) / bs, 0xFFFF))
        maxCompareAndWriteBlocks = UInt8(min(255, max(1, (64 << 10) / bs)))
    }
}

/// Where a new logical unit keeps its blocks.
public enum SBDBacking: Sendable, Equatable {
    /// A regular file (created if missing) or a block device.
    case path(String)
    /// Memory; `size` is required and nothing survives the process.
    case ram
}

/// COMSTAR's stmf_sbd disk logical unit: SPC-4 / SBC-3 over a file, block device or RAM.
public final class SBDLogicalUnit: LogicalUnit {
    public let guid: LUGUID
    public let blockSize: Int
    let blockShift: UInt64
    let store: any BackingStore
    /// The store when its data is in memory: reads and writes then finish on the caller's thread.
    let memory: RAMBackingStore?
    /// The store when it is a file or block device: reads and writes on an event loop go through
    /// its io_uring ring.
    let file: FileBackingStore?
    /// Reusable file transfers (one per command in flight on the command path).
    let transfers = Locked<[FileTransfer]>([])
    let metadata: SBDMetadataArea
    let limits: BlockLimits
    /// Shared ranges for writes, exclusive for COMPARE AND WRITE.
    let writeRanges = RangeLock()
    /// Serialises metadata updates (and the reservation commands that cause them).
    let controlLock = RangeLock()

    struct State: Sendable {
        var properties: SBDProperties
        var blockCount: UInt64
        var current: ModeParameters
        var saved: ModeParameters
        var started = true
        var reservations = ReservationState()
        var services: (any LUServices)?
        var deleted = false
        var dataPath: String?
        var dataOffset: UInt64
    }
    let state: Locked<State>

    /// Per-command view of the state, taken with one lock acquisition.
    struct Snapshot {
        var blockCount: UInt64
        var wce: Bool
        var dSense: Bool
        var writeProtect: Bool
        var started: Bool
        var conflict: Bool
        var deleted: Bool
    }

    init(guid: LUGUID, properties: SBDProperties, store: any BackingStore, metadata: SBDMetadataArea,
         blockCount: UInt64, saved: ModeParameters, dataPath: String?, dataOffset: UInt64,
         reservations: ReservationState = ReservationState()) {
        self.guid = guid
        self.blockSize = Int(properties.blockSize)
        self.blockShift = UInt64(properties.blockSize.trailingZeroBitCount)
        self.store = store
        self.memory = store as? RAMBackingStore
        self.file = store as? FileBackingStore
        self.metadata = metadata
        self.limits = BlockLimits(blockSize: Int(properties.blockSize))
        var s = State(properties: properties, blockCount: blockCount, current: saved, saved: saved,
                      dataPath: dataPath, dataOffset: dataOffset)
        s.reservations = reservations
        state = Locked(s)
    }

    // MARK: LogicalUnit

    public var alias: String { state.withLock { $0.properties.alias ?? guid.description } }
    public var properties: SBDProperties { state.withLock { $0.properties } }
    public var blockCount: UInt64 { state.withLock { $0.blockCount } }
    public var descriptorSense: Bool { state.withLock { $0.current.dSense } }
    public var taskAbortedStatus: Bool { true }
    public var backingKind: BackingKind { store.kind }

    public func attach(_ services: any LUServices) {
        state.withLock { $0.services = services }
    }

    public func handle(_ event: LUEvent) {
        switch event {
        case .logicalUnitReset:
            state.withLock { s in
                s.reservations.logicalUnitReset()
                s.current = s.saved
            }
        case let .itNexusLoss(n):
            state.withLock { $0.reservations.nexusLost(n) }
        case .stateChanged:
            break
        }
    }

    /// Starts a command on the caller's thread. What needs no I/O, and reads and writes whose
    /// data is in memory (a RAM LU), finish here (`.done`); the rest goes on as the async command
    /// code and completes the task when it ends.
    public func start(_ task: LUTask) -> TaskStart {
        let snap = snapshot(task.cdb, nexus: task.nexus)
        do throws(SCSIError) {
            if let started = try startNow(task, snap) { return started }
        } catch {
            return .done(TaskResponse(error: error, descriptorSense: snap.dSense))
        }
        Task {
            let r: TaskResponse
            do throws(SCSIError) { r = try await dispatch(task, snap) } catch {
                r = TaskResponse(error: error, descriptorSense: snap.dSense)
            }
            task.complete(r)
        }
        return .pending
    }

    /// SBD's commands end promptly (a read, a write, a flush); an aborted one runs out and
    /// STMF reports it aborted.
    public func abort(_ task: LUTask) {}

    /// The commands started without the async path: in memory or needing no I/O (`.done`), or
    /// a file read or write queued on the calling event loop's io_uring ring (`.pending`). nil
    /// when `task` needs the async path.
    @inline(__always)
    func startNow(_ t: LUTask, _ s: Snapshot) throws(SCSIError) -> TaskStart? {
        let cdb = t.cdb
        switch cdb.opcode {
        case OperationCode.read10, OperationCode.read16, OperationCode.read6, OperationCode.read12:
            if let memory {
                try admit(cdb, s)
                return .done(try readNow(t, s, Transfer(cdb)!, memory))
            }
            guard let file, let loop = EventLoop.current else { return nil }
            try admit(cdb, s)
            return try startRead(t, s, Transfer(cdb)!, file, loop)
        case OperationCode.write10, OperationCode.write16, OperationCode.write6, OperationCode.write12:
            if let memory {
                try admit(cdb, s)
                return try writeNow(t, s, Transfer(cdb)!, memory).map { .done($0) }
            }
            guard let file, let loop = EventLoop.current else { return nil }
            try admit(cdb, s)
            return try startWrite(t, s, Transfer(cdb)!, file, loop)
        case OperationCode.testUnitReady:
            try admit(cdb, s)
            return .done(.good)
        case OperationCode.inquiry:
            try admit(cdb, s)
            return .done(try inquiry(t))
        case OperationCode.requestSense:
            try admit(cdb, s)
            return .done(requestSense(t, s))
        case OperationCode.readCapacity10:
            try admit(cdb, s)
            return .done(try readCapacity10(t, s))
        case OperationCode.serviceActionIn16 where cdb.serviceAction == OperationCode.saReadCapacity16:
            try admit(cdb, s)
            return .done(try readCapacity16(t, s))
        case OperationCode.modeSense6, OperationCode.modeSense10:
            try admit(cdb, s)
            return .done(try modeSense(t, s))
        default:
            return nil
        }
    }

    /// The state a command is checked and executed against, taken with one lock acquisition.
    func snapshot(_ cdb: CDB, nexus: Nexus) -> Snapshot {
        state.withLock { s in
            Snapshot(blockCount: s.blockCount, wce: s.current.wce, dSense: s.current.dSense,
                     writeProtect: s.properties.writeProtect, started: s.started,
                     conflict: s.reservations.conflicts(cdb, nexus: nexus), deleted: s.deleted)
        }
    }

    var services: (any LUServices)? { state.withLock { $0.services } }

    func establishUA(_ sense: AdditionalSense, _ scope: UnitAttentionScope) {
        services?.establishUnitAttention(sense, lu: guid, scope: scope)
    }

    // MARK: Dispatch

    /// The checks every command gets first: the LU exists, the opcode and service action are
    /// supported, no reserved bit is set, no reservation conflicts, the unit is started.
    @inline(__always)
    func admit(_ cdb: CDB, _ s: Snapshot) throws(SCSIError) {
        if s.deleted { throw .logicalUnitNotSupported }
        let info = try SBDCommandTable.lookup(cdb)
        try info.checkUsage(cdb)
        if s.conflict { throw .reservationConflict }
        if !s.started && info.requiresReady { throw .notReadyStartRequired }
    }

    func dispatch(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        let cdb = t.cdb
        try admit(cdb, s)

        switch cdb.opcode {
        case OperationCode.testUnitReady:
            return .good
        case OperationCode.requestSense:
            return requestSense(t, s)
        case OperationCode.inquiry:
            return try inquiry(t)
        case OperationCode.read6, OperationCode.read10, OperationCode.read12, OperationCode.read16:
            return try await read(t, s, Transfer(cdb)!)
        case OperationCode.write6, OperationCode.write10, OperationCode.write12, OperationCode.write16,
             OperationCode.writeAndVerify10, OperationCode.writeAndVerify12, OperationCode.writeAndVerify16:
            return try await write(t, s, Transfer(cdb)!)
        case OperationCode.orWrite16:
            return try await orWrite(t, s, Transfer(cdb)!)
        case OperationCode.verify10, OperationCode.verify12, OperationCode.verify16:
            return try await verify(t, s, Transfer(cdb)!)
        case OperationCode.preFetch10, OperationCode.preFetch16:
            return try await preFetch(t, s)
        case OperationCode.readDefectData10, OperationCode.readDefectData12:
            return try readDefectData(t)
        case OperationCode.synchronizeCache10:
            return try await synchronizeCache(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt64(cdb.u16(7)))
        case OperationCode.synchronizeCache16:
            return try await synchronizeCache(t, s, lba: cdb.u64(2), blocks: UInt64(cdb.u32(10)))
        case OperationCode.readCapacity10:
            return try readCapacity10(t, s)
        case OperationCode.serviceActionIn16:
            switch cdb.serviceAction {
            case OperationCode.saReadCapacity16: return try readCapacity16(t, s)
            case OperationCode.saGetLBAStatus: return try await getLBAStatus(t, s)
            default: throw .invalidFieldInCDB(byte: 1, bit: 4)
            }
        case OperationCode.modeSense6, OperationCode.modeSense10:
            return try modeSense(t, s)
        case OperationCode.modeSelect6, OperationCode.modeSelect10:
            return try await modeSelect(t, s)
        case OperationCode.startStopUnit:
            return try await startStopUnit(t, s)
        case OperationCode.unmap:
            return try await unmap(t, s)
        case OperationCode.writeSame10, OperationCode.writeSame16:
            return try await writeSame(t, s)
        case OperationCode.compareAndWrite:
            return try await compareAndWrite(t, s)
        case OperationCode.persistentReserveIn:
            return try persistentReserveIn(t)
        case OperationCode.persistentReserveOut:
            return try await persistentReserveOut(t)
        case OperationCode.reserve6, OperationCode.reserve10, OperationCode.release6, OperationCode.release10:
            return try await reserveRelease(t)
        case OperationCode.maintenanceIn:
            switch cdb.serviceAction {
            case OperationCode.saReportTargetPortGroups: return try reportTargetPortGroups(t)
            case OperationCode.saReportSupportedOperationCodes: return try reportSupportedOperationCodes(t)
            case OperationCode.saReportSupportedTMFs: return reportSupportedTMFs(t)
            default: throw .invalidFieldInCDB(byte: 1, bit: 4)
            }
        default:
            throw .invalidOperationCode
        }
    }

    /// LBA OUT OF RANGE unless [lba, lba+blocks) lies within the medium.
    @inline(__always)
    func checkRange(_ lba: UInt64, _ blocks: UInt64, _ s: Snapshot) throws(SCSIError) {
        let (end, o) = lba.addingReportingOverflow(blocks)
        if o || end > s.blockCount { throw .lbaOutOfRange }
    }

    // MARK: Metadata

    func record(_ s: State) -> SBDMetadataRecord {
        SBDMetadataRecord(properties: s.properties, guid: guid.description, kind: store.kind, dataPath: s.dataPath,
                          dataOffset: s.dataOffset, blockCount: s.blockCount,
                          savedWriteCacheEnabled: s.saved.wce, savedDescriptorSense: s.saved.dSense,
                          reservations: s.reservations.persistThroughPowerLoss ? s.reservations.encoded() : nil)
    }

    /// Writes the current state into the metadata area (serialised; the snapshot is taken
    /// inside the exclusion so the last writer always writes the newest state).
    func persist() async throws(SBDError) {
        let token = await controlLock.acquire(lba: 0, count: 1, exclusive: true)
        defer { controlLock.release(token) }
        let r = state.withLock { record($0) }
        try await metadata.write(r)
    }

    /// The metadata record as last built from the current state (tests and tools).
    public var metadataRecord: SBDMetadataRecord { state.withLock { record($0) } }
}
