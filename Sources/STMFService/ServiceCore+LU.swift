#if canImport(Glibc)
import Glibc
#endif
import Foundation
import STMF
import STMFAPI

/// Logical units: create-lu, import-lu, modify-lu, delete-lu, online-lu, offline-lu, list-lu,
/// each through the LU provider the request or the stored LU names.
extension ServiceCore {
    /// The registered LU provider of that name; 400 UNKNOWN_PROVIDER when there is none.
    func luProvider(_ name: String) throws(ServiceError) -> any LUProvider {
        guard let p = providers.logicalUnitProvider(named: name) else {
            throw ServiceError(400, APIError.unknownProvider(name, known: providers.logicalUnitProviderNames))
        }
        return p
    }

    func requireRuntime(_ guidText: String) throws(ServiceError) -> (LUGUID, LURuntime) {
        let guid = try Self.parseGUID(guidText)
        guard let rt = luRuntimes[guid] else { throw .notFound("\(guidText): logical unit not found", code: "LU_NOT_FOUND") }
        return (guid, rt)
    }

    /// The files a stored LU uses, as its provider names them (none when the provider is gone).
    func files(of record: StoredConfiguration.LU) -> [String] {
        providers.logicalUnitProvider(named: record.provider)?.files(source: record.file, properties: record.properties) ?? []
    }

    /// Refuses a backing file (or meta file) another LU already uses.
    func checkNotInUse(_ paths: [String]) throws(ServiceError) {
        for rt in luRuntimes.values {
            let used = files(of: rt.record)
            if let p = paths.first(where: { used.contains($0) }) {
                throw .conflict("\(p): file in use by logical unit \(rt.record.guid)", code: "FILE_IN_USE")
            }
        }
    }

    static func record(of lu: any ManagedLogicalUnit, provider: String, file: String, online: Bool) -> StoredConfiguration.LU {
        StoredConfiguration.LU(guid: lu.guid.description, provider: provider, file: file, size: lu.size,
                               properties: lu.properties, online: online, reservations: lu.reservations)
    }

    /// list-lu's fields, from the LU's property bag (COMSTAR's property names) and its state.
    func info(_ rt: LURuntime) -> LUInfo {
        let guid = LUGUID(rt.record.guid)
        let p = rt.lu?.properties ?? rt.record.properties
        let state = guid.flatMap { stmf.logicalUnitState($0) }?.rawValue ?? "Offline"
        func flag(_ name: String) -> Bool { p[name].flatMap(LUPropertyName.parseBool) ?? false }
        return LUInfo(guid: rt.record.guid, operationalStatus: state, provider: rt.record.provider, properties: p,
                      alias: p[LUPropertyName.alias] ?? rt.record.file,
                      viewEntryCount: guid.map { stmf.views.views(of: $0).count } ?? 0,
                      dataFile: rt.record.file, metaFile: p[LUPropertyName.metaFile], size: rt.lu?.size ?? rt.record.size,
                      blockSize: p[LUPropertyName.blockSize].flatMap { UInt32($0) } ?? 512,
                      managementURL: p[LUPropertyName.managementURL], vendorID: p[LUPropertyName.vendorID] ?? "",
                      productID: p[LUPropertyName.productID] ?? "", serialNumber: p[LUPropertyName.serial],
                      writeProtect: flag(LUPropertyName.writeProtect), writebackCache: !flag(LUPropertyName.writeCacheDisabled),
                      reason: rt.reason)
    }

    public func listLUs() -> [LUInfo] {
        luRuntimes.values.sorted { $0.record.guid < $1.record.guid }.map(info)
    }

    public func getLU(_ guid: String) throws(ServiceError) -> LUInfo {
        try info(requireRuntime(guid).1)
    }

    /// Registers a live LU with STMF and brings it online when asked.
    func activate(_ lu: any ManagedLogicalUnit, online: Bool) async throws(ServiceError) {
        noteGeometry(lu)
        let guid = lu.guid
        lu.watchAvailability { [weak self] reason in
            Task { await self?.logicalUnitLost(guid, reason) }
        }
        do {
            try stmf.registerLogicalUnit(lu.logicalUnit)
            if online { try await stmf.setLogicalUnitState(lu.guid, online: true) }
        } catch {
            throw ServiceError(error)
        }
    }

    /// `path` with symlinks resolved when it exists, else as given.
    static func canonicalPath(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return path }
        defer { free(r) }
        return String(cString: r)
    }

    /// Refuses a (resolved) path inside the state directory: the store's own files.
    func checkOutsideStateDirectory(_ resolved: [String], given: [String]) throws(ServiceError) {
        guard let state = store.directory else { return }
        let dir = Self.canonicalPath(state)
        for (r, g) in zip(resolved, given) where r == dir || r.hasPrefix(dir + "/") {
            throw .badRequest("\(g): cannot hold a logical unit: it is inside stmfd's state directory \(dir)", code: "INVALID_PATH")
        }
    }

    /// 403 unless the peer could open each path, symlinks resolved, read-write itself (`PeerAccess`).
    func checkPeerAccess(_ paths: [String], _ peer: PeerCredentials?) throws(ServiceError) {
        for p in paths {
            if let why = PeerAccess.refusal(for: Self.canonicalPath(p), peer: peer) {
                throw ServiceError(403, "PERMISSION_DENIED", why)
            }
        }
    }

    public func createLU(_ r: CreateLURequest, peer: PeerCredentials? = nil) async throws(ServiceError) -> LUInfo {
        let provider = try luProvider(r.provider)
        let given: [String: String], source: String, properties: [String: String]
        do {
            given = try provider.normalize(r.properties, for: .create)
            (source, properties) = try provider.resolve(source: r.file, properties: given)
        } catch { throw ServiceError(error) }
        let files = provider.files(source: source, properties: properties)
        try checkOutsideStateDirectory(files, given: provider.files(source: r.file, properties: given))
        try checkNotInUse(files)
        try checkPeerAccess(files, peer)
        if let g = properties[LUPropertyName.guid].flatMap(LUGUID.init), luRuntimes[g] != nil {
            throw .conflict("\(g): a logical unit with this GUID exists", code: "LU_EXISTS")
        }
        if !files.isEmpty, let why = DescriptorBudget.refusal() { throw ServiceError(507, "TOO_MANY_OPEN_FILES", why) }
        let lu: any ManagedLogicalUnit
        do { lu = try provider.create(source: source, properties: properties, overwrite: r.overwrite ?? false) } catch {
            throw ServiceError(error)
        }
        let rec = Self.record(of: lu, provider: provider.name, file: source, online: true)
        do {
            try store.write { db in try StoredConfiguration.insertLU(db, rec) }
        } catch {
            lu.delete(eraseMetadata: true)
            throw .storeFailed(error)
        }
        luRuntimes[lu.guid] = LURuntime(record: rec, lu: lu)
        try await activate(lu, online: true)
        logger.info("created logical unit", metadata: ["guid": "\(lu.guid)", "provider": "\(provider.name)", "file": "\(source)"])
        return info(luRuntimes[lu.guid]!)
    }

    public func importLU(_ r: ImportLURequest, peer: PeerCredentials? = nil) async throws(ServiceError) -> LUInfo {
        let provider = try luProvider(r.provider)
        let properties: [String: String]
        do { properties = try provider.normalize(r.properties, for: .import) } catch { throw ServiceError(error) }
        let files = provider.files(source: r.file, properties: properties)
        try checkNotInUse(files)
        try checkPeerAccess(files, peer)
        if !files.isEmpty, let why = DescriptorBudget.refusal() { throw ServiceError(507, "TOO_MANY_OPEN_FILES", why) }
        let lu: any ManagedLogicalUnit
        do { lu = try provider.importLU(source: r.file, properties: properties) } catch { throw ServiceError(error) }
        if luRuntimes[lu.guid] != nil {
            lu.delete(eraseMetadata: false)
            throw .conflict("\(lu.guid): a logical unit with this GUID exists", code: "LU_EXISTS")
        }
        let rec = Self.record(of: lu, provider: provider.name, file: r.file, online: true)
        do { try store.write { db in try StoredConfiguration.insertLU(db, rec) } } catch {
            lu.delete(eraseMetadata: false)
            throw .storeFailed(error)
        }
        luRuntimes[lu.guid] = LURuntime(record: rec, lu: lu)
        try await activate(lu, online: true)
        return info(luRuntimes[lu.guid]!)
    }

    public func modifyLU(_ guidText: String, _ r: ModifyLURequest) async throws(ServiceError) -> LUInfo {
        let (guid, rt) = try requireRuntime(guidText)
        if let name = r.provider {
            _ = try luProvider(name)
            guard name == rt.record.provider else {
                throw .badRequest("\(guid): the logical unit's provider is \(rt.record.provider), not \(name)", code: "PROVIDER_MISMATCH")
            }
        }
        let provider = try luProvider(rt.record.provider)
        let change: [String: String]
        do { change = try provider.normalize(r.properties, for: .modify) } catch { throw ServiceError(error) }
        guard let lu = rt.lu else {
            throw .conflict("\(guid): logical unit is not available: \(rt.reason ?? "backing store not open")", code: "LU_UNAVAILABLE")
        }
        do { try await lu.modify(change) } catch { throw ServiceError(error) }
        noteGeometry(lu)
        let rec = Self.record(of: lu, provider: rt.record.provider, file: rt.record.file, online: rt.record.online)
        do { try store.write { db in try StoredConfiguration.insertLU(db, rec) } } catch { throw .storeFailed(error) }
        luRuntimes[guid]?.record = rec
        return info(luRuntimes[guid]!)
    }

    /// modify-lu -f FILE (COMSTAR's stmfModifyLuByFname): the LU whose backing or meta file
    /// `file` is. An LU stmfd has is modified as `modifyLU` does; one it does not have (not
    /// imported) is opened from its metadata, changed there and closed again, and stays out of
    /// the configuration.
    public func modifyLU(file: String, _ r: ModifyLUFileRequest, peer: PeerCredentials? = nil) async throws(ServiceError) -> LUInfo {
        let path = Self.canonicalPath(file)
        if let rt = luRuntimes.values.first(where: { files(of: $0.record).map(Self.canonicalPath).contains(path) }) {
            return try await modifyLU(rt.record.guid, ModifyLURequest(provider: r.provider, properties: r.properties))
        }
        let provider = try luProvider(r.provider)
        let change: [String: String]
        do { change = try provider.normalize(r.properties, for: .modify) } catch { throw ServiceError(error) }
        try checkOutsideStateDirectory([path], given: [file])
        try checkPeerAccess([file], peer)
        let lu: any ManagedLogicalUnit
        do { lu = try provider.importLU(source: file, properties: [:]) } catch { throw ServiceError(error) }
        if luRuntimes[lu.guid] != nil {
            lu.delete(eraseMetadata: false)
            throw .conflict("\(lu.guid): a logical unit with this GUID exists (imported from another file)", code: "LU_EXISTS")
        }
        do { try await lu.modify(change) } catch {
            await lu.shutdown()
            throw ServiceError(error)
        }
        let rec = Self.record(of: lu, provider: provider.name, file: file, online: false)
        let result = info(LURuntime(record: rec, lu: lu))
        await lu.shutdown()
        logger.info("modified a logical unit that is not imported", metadata: ["guid": "\(lu.guid)", "file": "\(file)"])
        return result
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
        lio.removeGeometry(guid)
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

    /// Opens one stored LU through its provider, which must bring back the stored GUID.
    func open(_ rec: StoredConfiguration.LU) -> LURuntime {
        guard let guid = LUGUID(rec.guid) else { return LURuntime(record: rec, lu: nil, reason: "invalid GUID \(rec.guid)") }
        guard let provider = providers.logicalUnitProvider(named: rec.provider) else {
            return LURuntime(record: rec, lu: nil, reason: "no logical unit provider named \(rec.provider) is registered")
        }
        let lu: any ManagedLogicalUnit
        do { lu = try provider.open(guid: guid, source: rec.file, size: rec.size, properties: rec.properties) } catch {
            return LURuntime(record: rec, lu: nil, reason: error.message)
        }
        guard lu.guid == guid else {
            lu.delete(eraseMetadata: false)
            return LURuntime(record: rec, lu: nil, reason: "backing store holds a different logical unit (\(lu.guid))")
        }
        return LURuntime(record: rec, lu: lu)
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

    /// An LU whose store went away while it ran (a pass-through device unplugged): out of
    /// STMF (its LUN leaves every map, initiators are told REPORTED LUNS DATA HAS CHANGED) and
    /// closed, with the reason shown by list-lu, until `reopenUnavailable` brings it back.
    func logicalUnitLost(_ guid: LUGUID, _ reason: String) async {
        guard let lu = luRuntimes[guid]?.lu else { return }
        luRuntimes[guid]?.lu = nil
        luRuntimes[guid]?.reason = reason
        logger.warning("logical unit lost its store; offline until it returns", metadata: ["guid": "\(guid)", "reason": "\(reason)"])
        try? await stmf.deregisterLogicalUnit(guid)
        lio.removeGeometry(guid)
        await lu.shutdown()
    }

    /// Stored LUs that could not be opened (a missing backing file, an absent device) are tried
    /// again: one whose store is back returns in its stored state.
    func reopenUnavailable() async {
        for (guid, rt) in luRuntimes where rt.lu == nil {
            let again = open(rt.record)
            guard let lu = again.lu else {
                if let why = again.reason, luRuntimes[guid]?.lu == nil { luRuntimes[guid]?.reason = why }
                continue
            }
            guard luRuntimes[guid]?.lu == nil else { lu.delete(eraseMetadata: false); continue }
            luRuntimes[guid] = again
            do { try await activate(lu, online: rt.record.online) } catch {
                luRuntimes[guid]?.reason = error.description
                continue
            }
            logger.info("logical unit is back", metadata: ["guid": "\(guid)", "file": "\(rt.record.file)"])
        }
    }

    func startLUWatch() {
        guard luWatch == nil else { return }
        luWatch = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                guard let self, !Task.isCancelled else { return }
                await self.reopenUnavailable()
            }
        }
    }

    func stopLUWatch() {
        luWatch?.cancel()
        luWatch = nil
    }

    func closeLogicalUnits() async {
        for (guid, rt) in luRuntimes {
            try? await stmf.deregisterLogicalUnit(guid)
            if let lu = rt.lu { await lu.shutdown() }
        }
    }
}
