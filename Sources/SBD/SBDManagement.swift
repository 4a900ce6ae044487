#if canImport(Glibc)
import Glibc
#endif
import CSystemShims
import STMF

/// create-lu, import-lu, modify-lu and delete-lu. Creation and import run on the caller's
/// thread and may block on the file system (management path); modify writes metadata through
/// the I/O threads.
extension SBDLogicalUnit {
    /// Opens an existing LU's file or device (import-lu); create-lu goes through `BackingPath`.
    static func openFile(_ path: String) throws(SBDError) -> (Int32, stat) {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { throw .io(operation: "open", path: path, errno: errno) }
        var st = stat()
        if fstat(fd, &st) != 0 { let e = errno; close(fd); throw .io(operation: "fstat", path: path, errno: e) }
        let type = st.st_mode & S_IFMT
        if type != S_IFREG && type != S_IFBLK { close(fd); throw .unsupportedBacking(path: path) }
        return (fd, st)
    }

    static func byteSize(fd: Int32, st: stat, path: String) throws(SBDError) -> UInt64 {
        if st.st_mode & S_IFMT == S_IFBLK {
            var v: UInt64 = 0
            let rc = stmf_blockdev_size(fd, &v)
            if rc != 0 { throw .io(operation: "BLKGETSIZE64", path: path, errno: -rc) }
            return v
        }
        return UInt64(st.st_size)
    }

    /// create-lu: validates the properties, sizes the backing store, writes the metadata.
    /// Never writes over data it was not given: the path is resolved (symlinks) and must end at
    /// a regular file or block device outside /proc and /sys, and the metadata goes only into a
    /// new file, an empty one, or one whose metadata region is all zeros. One that holds SBD
    /// metadata is refused (import-lu takes it), anything else too unless `overwrite`.
    public static func create(properties: SBDProperties, backing: SBDBacking, overwrite: Bool = false) throws(SBDError) -> SBDLogicalUnit {
        var p = properties
        try p.validate()
        let guid = p.guid.flatMap { LUGUID($0) } ?? LUGUIDGenerator.shared.next(oui: p.ouiValue)
        p.guid = guid.description
        let bs = UInt64(p.blockSize)
        let saved = ModeParameters(wce: !p.writeCacheDisabled, dSense: false)

        guard case let .path(givenPath) = backing else {
            guard let size = p.size else { throw .sizeRequired }
            let lu = SBDLogicalUnit(guid: guid, properties: p, store: RAMBackingStore(bytes: size),
                                    metadata: SBDMetadataArea(location: .memory), blockCount: size / bs,
                                    saved: saved, dataPath: nil, dataOffset: 0)
            try lu.metadata.writeSync(lu.state.withLock { lu.record($0) })
            return lu
        }

        let target = try BackingPath.resolve(givenPath)
        let metaTarget = try p.metaFile.map { (m: String) throws(SBDError) in try BackingPath.resolve(m) }
        if let metaTarget, metaTarget.path == target.path {
            throw .invalidPath(path: p.metaFile!, reason: "the meta file is the data file")
        }
        let path = target.path
        let (fd, st, created) = try BackingPath.open(target)
        var metaFD: Int32 = -1
        var metaCreated = false
        var ok = false
        defer {
            if !ok {
                close(fd); if metaFD >= 0 { close(metaFD) }
                // Leave nothing behind that this call created.
                if created { unlink(path) }
                if metaCreated, let m = metaTarget { unlink(m.path) }
            }
        }
        let kind: BackingKind = st.st_mode & S_IFMT == S_IFBLK ? .blockDevice : .file
        let inBand = metaTarget == nil
        if let mt = metaTarget {
            let (m, mst, mc) = try BackingPath.open(mt)
            metaFD = m; metaCreated = mc
            p.metaFile = mt.path
            if mst.st_mode & S_IFMT == S_IFREG, mst.st_size < off_t(SBDMetadataLayout.areaSize) {
                try checkArea(fd: m, path: mt.path, overwrite: overwrite)
                if ftruncate(m, off_t(SBDMetadataLayout.areaSize)) != 0 { throw .io(operation: "ftruncate", path: mt.path, errno: errno) }
            }
        }
        let areaFD = inBand ? fd : metaFD
        let areaPath = metaTarget?.path ?? path
        try checkArea(fd: areaFD, path: areaPath, overwrite: overwrite)
        let dataOffset: UInt64 = inBand ? UInt64(SBDMetadataLayout.areaSize) : 0
        let total = try byteSize(fd: fd, st: st, path: path)
        let available = total > dataOffset ? total - dataOffset : 0
        let size: UInt64
        if let s = p.size {
            size = s
            if kind == .blockDevice {
                if s > available { throw .sizeExceedsDevice(requested: s, available: available) }
            } else if s > available, ftruncate(fd, off_t(dataOffset + s)) != 0 {
                throw .io(operation: "ftruncate", path: path, errno: errno)
            }
        } else {
            size = available / bs * bs
            guard size >= bs else { throw .sizeRequired }
        }
        if kind == .blockDevice {
            var sector: UInt32 = 512
            _ = stmf_blockdev_logical_block_size(fd, &sector)
            if UInt64(sector) > bs || (inBand && UInt64(SBDMetadataLayout.areaSize) % UInt64(sector) != 0) {
                throw .invalidProperty(name: "blk", value: "\(bs)", reason: "smaller than the device's \(sector)-byte sectors")
            }
        }
        p.size = size
        let store = FileBackingStore(path: path, fd: fd, kind: kind, dataOffset: dataOffset, dataBytes: size)
        let meta = SBDMetadataArea(location: .descriptor(areaFD, path: areaPath, owned: !inBand))
        let lu = SBDLogicalUnit(guid: guid, properties: p, store: store, metadata: meta, blockCount: size / bs,
                                saved: saved, dataPath: path, dataOffset: dataOffset)
        ok = true
        do {
            try meta.writeSync(lu.state.withLock { lu.record($0) })
        } catch {
            lu.store.close(); meta.close()
            throw error
        }
        return lu
    }

    /// Refuses to put metadata where it would destroy something: SBD metadata (import-lu), or
    /// any non-zero byte in the metadata region unless the administrator said to overwrite.
    static func checkArea(fd: Int32, path: String, overwrite: Bool) throws(SBDError) {
        switch try BackingPath.contents(fd: fd, path: path, length: SBDMetadataLayout.areaSize) {
        case .empty: return
        case .sbdMetadata: throw .alreadyInitialized(path: path)
        case let .data(offset): if !overwrite { throw .holdsData(path: path, offset: offset) }
        }
    }

    /// import-lu: brings a logical unit back from its backing file/device (in-band metadata)
    /// or from its separate meta file, which names the data file.
    public static func importLU(path: String) throws(SBDError) -> SBDLogicalUnit {
        let (fd, _) = try openFile(path)
        var dataFD: Int32 = -1
        var ok = false
        defer { if !ok { close(fd); if dataFD >= 0 && dataFD != fd { close(dataFD) } } }
        let area = try SBDMetadataArea.readArea(fd: fd, path: path)
        let m = try ImportedMetadata(area: area)
        let rec = m.record, gen = m.generation, slot = m.slot
        var p = m.properties
        let guid = m.guid, reservations = m.reservations, saved = m.saved, dataBytes = m.dataBytes
        let inBand = m.inBand
        let dataPath: String
        let dst: stat
        if inBand {
            dataPath = path; dataFD = fd
            var st = stat(); fstat(fd, &st); dst = st
        } else {
            dataPath = rec.dataPath!    // ImportedMetadata checked it
            (dataFD, dst) = try openFile(dataPath)
        }
        let have = try byteSize(fd: dataFD, st: dst, path: dataPath)
        let need = m.requiredBytes
        if have < need { throw .metadata(.truncated(expected: need, actual: have)) }
        let kind: BackingKind = dst.st_mode & S_IFMT == S_IFBLK ? .blockDevice : .file
        let store = FileBackingStore(path: dataPath, fd: dataFD, kind: kind, dataOffset: rec.dataOffset, dataBytes: dataBytes)
        let meta = SBDMetadataArea(location: .descriptor(fd, path: path, owned: !inBand), generation: gen, slot: slot)
        if !inBand { p.metaFile = path }
        ok = true
        return SBDLogicalUnit(guid: guid, properties: p, store: store, metadata: meta, blockCount: rec.blockCount,
                              saved: saved, dataPath: dataPath, dataOffset: rec.dataOffset, reservations: reservations)
    }

    /// modify-lu: grow the size (CAPACITY DATA HAS CHANGED on every nexus), change the
    /// alias, management URL, write cache (MODE PARAMETERS CHANGED) or write protection.
    /// The new properties are in the metadata when this returns.
    public func modify(_ m: SBDModification) async throws(SBDError) {
        let bs = UInt64(blockSize)
        let (deleted, current) = state.withLock { ($0.deleted, $0.blockCount * bs) }
        if deleted { throw .deleted }
        var capacityChanged = false
        if let size = m.size, size != current {
            guard size % bs == 0 else {
                throw .invalidProperty(name: "size", value: "\(size)", reason: "must be a multiple of the block size \(bs)")
            }
            guard size > current else { throw .shrinkNotSupported(current: current, requested: size) }
            guard size <= SBDProperties.maximumSize else {
                throw .invalidProperty(name: "size", value: "\(size)", reason: "larger than the \(SBDProperties.maximumSize) bytes a logical unit can hold")
            }
            try store.resize(to: size)
            capacityChanged = true
        }
        let modeChanged = state.withLock { s -> Bool in
            if capacityChanged, let size = m.size { s.blockCount = size / bs; s.properties.size = size }
            if let a = m.alias { s.properties.alias = a }
            if let u = m.managementURL { s.properties.managementURL = u }
            if let wp = m.writeProtect { s.properties.writeProtect = wp }
            if let wcd = m.writeCacheDisabled, wcd != s.properties.writeCacheDisabled || s.current.wce == wcd {
                s.properties.writeCacheDisabled = wcd
                let changed = s.current.wce == wcd
                s.current.wce = !wcd; s.saved.wce = !wcd
                return changed
            }
            return false
        }
        if m.writeCacheDisabled == true { try? await store.flush() }
        try await persist()
        if capacityChanged { establishUA(.capacityDataHasChanged, .all) }
        if modeChanged { establishUA(.modeParametersChanged, .all) }
    }

    /// Service shutdown: syncs the backing store, then releases it as `delete` does (the
    /// metadata stays, so the LU is imported again at the next start).
    public func shutdown() async {
        try? await store.flush()
        delete()
    }

    /// delete-lu: the LU answers no more commands and releases its descriptors.
    /// `eraseMetadata` also wipes the metadata signature so the file no longer imports.
    public func delete(eraseMetadata: Bool = false) {
        let already = state.withLock { s -> Bool in let d = s.deleted; s.deleted = true; return d }
        if already { return }
        if eraseMetadata { metadata.erase() }
        metadata.close()
        store.close()
    }
}

/// What import-lu takes from a metadata area before it opens any data file: the newest valid
/// copy, with its GUID, properties, reservation state, data offset and size checked. Kept
/// apart from the file handling so the fuzz targets run exactly these checks on any bytes.
struct ImportedMetadata {
    let record: SBDMetadataRecord
    let generation: UInt64
    let slot: Int
    let guid: LUGUID
    /// The properties, validated, with the GUID in its canonical form.
    let properties: SBDProperties
    let reservations: ReservationState
    let saved: ModeParameters
    /// Whether the data follows the metadata in the same file or device.
    let inBand: Bool
    /// Bytes of LU data (block count × block size).
    let dataBytes: UInt64
    /// Bytes the data file or device must hold: the data offset plus the data.
    let requiredBytes: UInt64

    init(area: [UInt8]) throws(SBDError) {
        let (rec, gen, slot): (SBDMetadataRecord, UInt64, Int)
        do { (rec, gen, slot) = try SBDMetadataLayout.decodeArea(area) } catch { throw .metadata(error) }
        var p = rec.properties
        guard let guid = LUGUID(rec.guid) else { throw .metadata(.malformed("GUID '\(rec.guid)'")) }
        do { try p.validate() } catch { throw .metadata(.malformed(error.description)) }
        p.guid = guid.description
        let bs = UInt64(p.blockSize)
        var reservations = ReservationState()
        if let r = rec.reservations {
            do { reservations = try ReservationState(decoding: r) } catch { throw .metadata(.malformed(error.description)) }
            reservations.powerOn()   // SPC-4: PRgeneration restarts at power on
        }
        // No LU is larger than a file offset can address (nor than create-lu makes one): a
        // block count beyond that would overflow the data offset added to it below.
        let (dataBytes, ovf) = rec.blockCount.multipliedReportingOverflow(by: bs)
        if ovf || dataBytes > SBDProperties.maximumSize { throw .metadata(.malformed("block count \(rec.blockCount)")) }

        if rec.kind == .ram { throw .metadata(.malformed("a RAM logical unit cannot be imported")) }
        let inBand = rec.dataOffset > 0
        if inBand {
            guard rec.dataOffset == UInt64(SBDMetadataLayout.areaSize) else { throw .metadata(.malformed("data offset \(rec.dataOffset)")) }
        } else {
            guard rec.dataPath != nil else { throw .metadata(.malformed("meta file names no data file")) }
        }
        record = rec; generation = gen; self.slot = slot; self.guid = guid; properties = p
        self.reservations = reservations
        saved = ModeParameters(wce: rec.savedWriteCacheEnabled, dSense: rec.savedDescriptorSense)
        self.inBand = inBand; self.dataBytes = dataBytes
        requiredBytes = rec.dataOffset + dataBytes
    }
}

/// The metadata-area codec as import-lu uses it, for the fuzz targets and their seed corpus.
@_spi(Fuzzing) public enum SBDMetadataCodec {
    /// Length of a metadata area (two slots).
    public static let areaSize = SBDMetadataLayout.areaSize
    public static let slotSize = SBDMetadataLayout.slotSize
    public static let headerLength = SBDMetadataLayout.headerLength

    /// Decodes `area` and runs every check import-lu makes before it opens a data file;
    /// returns the newest valid record, its generation and slot.
    public static func decode(area: [UInt8]) throws(SBDError) -> (record: SBDMetadataRecord, generation: UInt64, slot: Int) {
        let m = try ImportedMetadata(area: area)
        return (m.record, m.generation, m.slot)
    }

    /// One encoded slot (header and payload) holding `record` at `generation`.
    public static func encodeSlot(_ record: SBDMetadataRecord, generation: UInt64) throws(SBDError) -> [UInt8] {
        do { return try SBDMetadataLayout.encodeSlot(record, generation: generation) } catch { throw .metadata(error) }
    }
}
