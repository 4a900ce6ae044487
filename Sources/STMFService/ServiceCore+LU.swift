import Foundation
import SBD
import STMF
import STMFAPI

/// Logical units: create-lu, import-lu, modify-lu, delete-lu, online-lu, offline-lu, list-lu.
extension ServiceCore {
    static let ramPrefix = "ram:"

    static func backing(for file: String) throws(ServiceError) -> SBDBacking {
        if file.hasPrefix(ramPrefix) { return .ram }
        guard file.hasPrefix("/") else {
            throw .badRequest("\(file): the backing file must be an absolute path (or ram:NAME)", code: "INVALID_PATH")
        }
        return .path(file)
    }

    static func map(_ e: SBDError) -> ServiceError {
        switch e {
        case .invalidProperty, .unknownProperty, .sizeRequired, .shrinkNotSupported:
            return .badRequest(e.description, code: "INVALID_PROPERTY")
        case .alreadyInitialized:
            return .conflict(e.description, code: "ALREADY_INITIALIZED")
        case .invalidPath:
            return .badRequest(e.description, code: "INVALID_PATH")
        case .holdsData:
            return .conflict(e.description, code: "HOLDS_DATA")
        case let .io(_, _, errno) where errno == ENOENT || errno == ENOTDIR || errno == ELOOP || errno == ENAMETOOLONG:
            return .badRequest(e.description, code: "PATH_NOT_FOUND")
        case let .io(_, _, errno) where errno == EACCES || errno == EPERM || errno == EROFS:
            return ServiceError(403, "PERMISSION_DENIED", e.description)
        case let .io(_, _, errno) where errno == ENOSPC || errno == EDQUOT || errno == EFBIG:
            return ServiceError(507, "NO_SPACE", e.description)
        case .metadata:
            return ServiceError(422, "METADATA_INVALID", e.description)
        default:
            return ServiceError(500, "LU_IO_FAILED", e.description)
        }
    }

    func requireRuntime(_ guidText: String) throws(ServiceError) -> (LUGUID, LURuntime) {
        let guid = try Self.parseGUID(guidText)
        guard let rt = luRuntimes[guid] else { throw .notFound("\(guidText): logical unit not found", code: "LU_NOT_FOUND") }
        return (guid, rt)
    }

    /// Refuses a backing file (or meta file) another LU already uses.
    func checkNotInUse(_ paths: [String]) throws(ServiceError) {
        for rt in luRuntimes.values {
            let used = [rt.record.file, rt.record.meta].compactMap { $0 }
            if let p = paths.first(where: { used.contains($0) && !$0.hasPrefix(Self.ramPrefix) }) {
                throw .conflict("\(p): file in use by logical unit \(rt.record.guid)", code: "FILE_IN_USE")
            }
        }
    }

    static func record(of lu: SBDLogicalUnit, file: String, online: Bool) -> StoredConfiguration.LU {
        let p = lu.properties
        return StoredConfiguration.LU(guid: lu.guid.description, file: file, meta: p.metaFile,
                                      size: lu.blockCount * UInt64(lu.blockSize), properties: p, online: online,
                                      reservations: lu.metadataRecord.reservations)
    }

    func info(_ rt: LURuntime) -> LUInfo {
        let guid = LUGUID(rt.record.guid)
        let p = rt.lu?.properties ?? rt.record.properties
        let state = guid.flatMap { stmf.logicalUnitState($0) }?.rawValue ?? "Offline"
        return LUInfo(guid: rt.record.guid, operationalStatus: state, providerName: "sbd",
                      alias: p.alias ?? rt.record.file, viewEntryCount: guid.map { stmf.views.views(of: $0).count } ?? 0,
                      dataFile: rt.record.file, metaFile: p.metaFile,
                      size: rt.lu.map { $0.blockCount * UInt64($0.blockSize) } ?? rt.record.size,
                      blockSize: p.blockSize, managementURL: p.managementURL, vendorID: p.vendorID, productID: p.productID,
                      serialNumber: p.serial, writeProtect: p.writeProtect, writebackCache: !p.writeCacheDisabled,
                      reason: rt.reason)
    }

    public func listLUs() -> [LUInfo] {
        luRuntimes.values.sorted { $0.record.guid < $1.record.guid }.map(info)
    }

    public func getLU(_ guid: String) throws(ServiceError) -> LUInfo {
        try info(requireRuntime(guid).1)
    }

    /// Registers a live LU with STMF and brings it online when asked.
    func activate(_ lu: SBDLogicalUnit, online: Bool) async throws(ServiceError) {
        do {
            try stmf.registerLogicalUnit(lu)
            if online { try await stmf.setLogicalUnitState(lu.guid, online: true) }
        } catch {
            throw ServiceError(error)
        }
    }

    /// Where a path really leads (symlinks resolved); refused when that is inside the state
    /// directory (the store's own files).
    func resolvedBackingPath(_ path: String) throws(ServiceError) -> String {
        let resolved: String
        do { resolved = try BackingPath.resolve(path).path } catch { throw Self.map(error) }
        if let state = store.directory, let dir = try? BackingPath.resolve(state).path,
           resolved == dir || resolved.hasPrefix(dir + "/") {
            throw .badRequest("\(path): cannot hold a logical unit: it is inside stmfd's state directory \(dir)", code: "INVALID_PATH")
        }
        return resolved
    }

    /// 403 unless the peer could open each path, symlinks resolved, read-write itself (`PeerAccess`).
    func checkPeerAccess(_ paths: [String], _ peer: PeerCredentials?) throws(ServiceError) {
        for p in paths {
            if let why = PeerAccess.refusal(for: (try? BackingPath.resolve(p).path) ?? p, peer: peer) {
                throw ServiceError(403, "PERMISSION_DENIED", why)
            }
        }
    }

    public func createLU(_ r: CreateLURequest, peer: PeerCredentials? = nil) async throws(ServiceError) -> LUInfo {
        let backing = try Self.backing(for: r.file)
        do { try r.properties.validate() } catch { throw Self.map(error) }
        var r = r
        if case .path = backing { r.file = try resolvedBackingPath(r.file) }
        if let m = r.properties.metaFile { r.properties.metaFile = try resolvedBackingPath(m) }
        try checkNotInUse([r.file] + (r.properties.metaFile.map { [$0] } ?? []))
        try checkPeerAccess([r.file] + (r.properties.metaFile.map { [$0] } ?? []), peer)
        if let g = r.properties.guid.flatMap(LUGUID.init), luRuntimes[g] != nil {
            throw .conflict("\(g): a logical unit with this GUID exists", code: "LU_EXISTS")
        }
        if case .path = backing, let why = DescriptorBudget.refusal() { throw ServiceError(507, "TOO_MANY_OPEN_FILES", why) }
        let lu: SBDLogicalUnit
        let resolvedBacking: SBDBacking = if case .path = backing { .path(r.file) } else { backing }
        do {
            lu = try SBDLogicalUnit.create(properties: r.properties, backing: resolvedBacking, overwrite: r.overwrite ?? false)
        } catch { throw Self.map(error) }
        let rec = Self.record(of: lu, file: r.file, online: true)
        do {
            try store.write { db in try StoredConfiguration.insertLU(db, rec) }
        } catch {
            lu.delete(eraseMetadata: true)
            throw .storeFailed(error)
        }
        luRuntimes[lu.guid] = LURuntime(record: rec, lu: lu)
        try await activate(lu, online: true)
        logger.info("created logical unit", metadata: ["guid": "\(lu.guid)", "file": "\(r.file)"])
        return info(luRuntimes[lu.guid]!)
    }

    public func importLU(_ r: ImportLURequest, peer: PeerCredentials? = nil) async throws(ServiceError) -> LUInfo {
        let path = r.meta ?? r.file
        _ = try Self.backing(for: path)
        try checkNotInUse([r.file] + (r.meta.map { [$0] } ?? []))
        try checkPeerAccess([r.file] + (r.meta.map { [$0] } ?? []), peer)
        if let why = DescriptorBudget.refusal() { throw ServiceError(507, "TOO_MANY_OPEN_FILES", why) }
        let lu: SBDLogicalUnit
        do { lu = try SBDLogicalUnit.importLU(path: path) } catch {
            var e = Self.map(error)
            if !e.api.message.contains(path) { e.api.message = "\(path): " + e.api.message }
            throw e
        }
        if luRuntimes[lu.guid] != nil {
            lu.delete()
            throw .conflict("\(lu.guid): a logical unit with this GUID exists", code: "LU_EXISTS")
        }
        let rec = Self.record(of: lu, file: r.file, online: true)
        do { try store.write { db in try StoredConfiguration.insertLU(db, rec) } } catch {
            lu.delete()
            throw .storeFailed(error)
        }
        luRuntimes[lu.guid] = LURuntime(record: rec, lu: lu)
        try await activate(lu, online: true)
        return info(luRuntimes[lu.guid]!)
    }

    public func modifyLU(_ guidText: String, _ r: ModifyLURequest) async throws(ServiceError) -> LUInfo {
        let (guid, rt) = try requireRuntime(guidText)
        guard let lu = rt.lu else {
            throw .conflict("\(guid): logical unit is not available: \(rt.reason ?? "backing store not open")", code: "LU_UNAVAILABLE")
        }
        let m = SBDModification(size: r.size, alias: r.alias.map { .some($0) }, writeCacheDisabled: r.writeCacheDisabled,
                                writeProtect: r.writeProtect, managementURL: r.managementURL.map { .some($0) })
        do { try await lu.modify(m) } catch { throw Self.map(error) }
        let rec = Self.record(of: lu, file: rt.record.file, online: rt.record.online)
        do { try store.write { db in try StoredConfiguration.insertLU(db, rec) } } catch { throw .storeFailed(error) }
        luRuntimes[guid]?.record = rec
        return info(luRuntimes[guid]!)
    }

    /// delete-lu [-k]: views go too unless `keepViews`; the data and its metadata stay, so
    /// import-lu can bring the LU back.
    public func deleteLU(_ guidText: String, keepViews: Bool) async throws(ServiceError) {
        let (guid, rt) = try requireRuntime(guidText)
        let views = keepViews ? [] : stmf.views.views(of: guid)
        do {
            try store.write { db in
                try db.execute(sql: "DELETE FROM lu WHERE guid = ?", arguments: [guid.description])
                if !keepViews { try db.execute(sql: "DELETE FROM view_entry WHERE lu = ?", arguments: [guid.description]) }
            }
        } catch { throw .storeFailed(error) }
        if !views.isEmpty {
            var v = stmf.views
            v.removeAllViewEntries(lu: guid)
            stmf.replaceViews(v)
        }
        if rt.lu != nil { try? await stmf.deregisterLogicalUnit(guid) }
        if let lu = rt.lu { await lu.shutdown() }
        luRuntimes[guid] = nil
        logger.info("deleted logical unit", metadata: ["guid": "\(guid)", "keepViews": "\(keepViews)"])
    }

    public func setLUState(_ guidText: String, online: Bool) async throws(ServiceError) {
        let (guid, rt) = try requireRuntime(guidText)
        guard rt.lu != nil else {
            throw .conflict("\(guid): cannot change state: \(rt.reason ?? "backing store not open")", code: "LU_UNAVAILABLE")
        }
        var rec = rt.record
        rec.online = online
        let r = rec
        do { try store.write { db in try StoredConfiguration.insertLU(db, r) } } catch { throw .storeFailed(error) }
        luRuntimes[guid]?.record = rec
        do { try await stmf.setLogicalUnitState(guid, online: online) } catch { throw ServiceError(error) }
    }

    /// Opens one stored LU: RAM LUs are re-created empty; file LUs are imported from their
    /// metadata, which must carry the stored GUID.
    func open(_ rec: StoredConfiguration.LU) -> LURuntime {
        do {
            let lu: SBDLogicalUnit
            if rec.file.hasPrefix(Self.ramPrefix) {
                var p = rec.properties
                p.guid = rec.guid
                p.size = rec.size
                lu = try SBDLogicalUnit.create(properties: p, backing: .ram)
            } else {
                lu = try SBDLogicalUnit.importLU(path: rec.meta ?? rec.file)
                guard lu.guid.description == rec.guid else {
                    let found = lu.guid
                    lu.delete()
                    return LURuntime(record: rec, lu: nil, reason: "backing store holds a different logical unit (\(found))")
                }
            }
            return LURuntime(record: rec, lu: lu)
        } catch {
            return LURuntime(record: rec, lu: nil, reason: error.description)
        }
    }

    func loadLogicalUnits(_ records: [StoredConfiguration.LU]) async {
        for rec in records {
            let rt = open(rec)
            luRuntimes[LUGUID(rec.guid) ?? LUGUID(high: 0, low: 0)] = rt
            if let lu = rt.lu {
                do { try await activate(lu, online: rec.online) } catch {
                    luRuntimes[lu.guid]?.reason = error.description
                }
            } else {
                logger.warning("logical unit stays offline", metadata: ["guid": "\(rec.guid)", "reason": "\(rt.reason ?? "")"])
            }
        }
    }

    func closeLogicalUnits() async {
        for (guid, rt) in luRuntimes {
            try? await stmf.deregisterLogicalUnit(guid)
            if let lu = rt.lu { await lu.shutdown() }
        }
    }
}
