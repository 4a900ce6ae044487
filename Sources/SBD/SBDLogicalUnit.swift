#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import STMF
import Synchronization

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
        maxUnmapLBACount = UInt32(min(UInt64(1) << 30 / UInt64(bs), UInt64(UInt32.max)))
        maxUnmapDescriptors = 256
        unmapGranularity = max(1, 4096 / bs)
        maxWriteSameBlocks = UInt64((64 << 20) / bs)
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
    let state: Mutex<State>

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
        self.metadata = metadata
        self.limits = BlockLimits(blockSize: Int(properties.blockSize))
        var s = State(properties: properties, blockCount: blockCount, current: saved, saved: saved,
                      dataPath: dataPath, dataOffset: dataOffset)
        s.reservations = reservations
        state = Mutex(s)
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

    public func execute(_ task: LUTask) async -> TaskResponse {
        let cdb = task.cdb
        let snap = state.withLock { s in
            Snapshot(blockCount: s.blockCount, wce: s.current.wce, dSense: s.current.dSense,
                     writeProtect: s.properties.writeProtect, started: s.started,
                     conflict: s.reservations.conflicts(cdb, nexus: task.nexus), deleted: s.deleted)
        }
        do throws(SCSIError) {
            return try await dispatch(task, snap)
        } catch {
            return TaskResponse(error: error, descriptorSense: snap.dSense)
        }
    }

    var services: (any LUServices)? { state.withLock { $0.services } }

    func establishUA(_ sense: AdditionalSense, _ scope: UnitAttentionScope) {
        services?.establishUnitAttention(sense, lu: guid, scope: scope)
    }

    // MARK: Dispatch

    func dispatch(_ t: LUTask, _ s: Snapshot) async throws(SCSIError) -> TaskResponse {
        if s.deleted { throw .logicalUnitNotSupported }
        let cdb = t.cdb
        let info = try SBDCommandTable.lookup(cdb)
        try info.checkUsage(cdb)
        if s.conflict { throw .reservationConflict }
        if !s.started && info.requiresReady { throw .notReadyStartRequired }

        switch cdb.opcode {
        case OperationCode.testUnitReady:
            return .good
        case OperationCode.requestSense:
            return requestSense(t, s)
        case OperationCode.inquiry:
            return try inquiry(t)
        case OperationCode.read6:
            return try await read(t, s, lba: UInt64(cdb.u24(1) & 0x1F_FFFF), blocks: cdb[4] == 0 ? 256 : UInt32(cdb[4]), lengthByte: 4)
        case OperationCode.read10:
            return try await read(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt32(cdb.u16(7)), lengthByte: 7)
        case OperationCode.read12:
            return try await read(t, s, lba: UInt64(cdb.u32(2)), blocks: cdb.u32(6), lengthByte: 6)
        case OperationCode.read16:
            return try await read(t, s, lba: cdb.u64(2), blocks: cdb.u32(10), lengthByte: 10)
        case OperationCode.write6:
            return try await write(t, s, lba: UInt64(cdb.u24(1) & 0x1F_FFFF), blocks: cdb[4] == 0 ? 256 : UInt32(cdb[4]),
                                   lengthByte: 4, fua: false)
        case OperationCode.write10:
            return try await write(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt32(cdb.u16(7)), lengthByte: 7, fua: cdb[1] & 0x08 != 0)
        case OperationCode.write12:
            return try await write(t, s, lba: UInt64(cdb.u32(2)), blocks: cdb.u32(6), lengthByte: 6, fua: cdb[1] & 0x08 != 0)
        case OperationCode.write16:
            return try await write(t, s, lba: cdb.u64(2), blocks: cdb.u32(10), lengthByte: 10, fua: cdb[1] & 0x08 != 0)
        case OperationCode.writeAndVerify10:
            return try await write(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt32(cdb.u16(7)), lengthByte: 7, fua: true)
        case OperationCode.writeAndVerify12:
            return try await write(t, s, lba: UInt64(cdb.u32(2)), blocks: cdb.u32(6), lengthByte: 6, fua: true)
        case OperationCode.writeAndVerify16:
            return try await write(t, s, lba: cdb.u64(2), blocks: cdb.u32(10), lengthByte: 10, fua: true)
        case OperationCode.verify10:
            return try await verify(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt32(cdb.u16(7)), lengthByte: 7)
        case OperationCode.verify12:
            return try await verify(t, s, lba: UInt64(cdb.u32(2)), blocks: cdb.u32(6), lengthByte: 6)
        case OperationCode.verify16:
            return try await verify(t, s, lba: cdb.u64(2), blocks: cdb.u32(10), lengthByte: 10)
        case OperationCode.synchronizeCache10:
            return try await synchronizeCache(t, s, lba: UInt64(cdb.u32(2)), blocks: UInt64(cdb.u16(7)))
        case OperationCode.synchronizeCache16:
            return try await synchronizeCache(t, s, lba: cdb.u64(2), blocks: UInt64(cdb.u32(10)))
        case OperationCode.readCapacity10:
            return try readCapacity10(t, s)
        case OperationCode.serviceActionIn16:
            return try readCapacity16(t, s)
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
