import Foundation
import GRDB
import Logging
import STMF
import Runtime
import STMFAPI
import FCTarget
import Udev

/// The service's brain: owns the live STMF instance and the configuration store, and makes
/// every change in the same order — validate on a copy, commit to the store, then apply
/// live — so an acknowledged change is durable and a crash never leaves one half-applied.
/// An actor: changes are serialised.
public actor ServiceCore {
    public nonisolated let stmf: STMF
    let store: ConfigStore
    /// The LU and port providers, by the names stored LUs and ports carry.
    public nonisolated let providers: ProviderRegistry
    /// The kernel data path (LIO + TCMU), made on first use.
    nonisolated let lio: LIOHost
    let logger: Logger
    var configStatus = "uninitialized"
    /// Target port records (provider, alias, properties) by name.
    var portRecords: [String: StoredConfiguration.TargetPort] = [:]
    /// Logical units: their stored record, the live LU when its backing store opened, and
    /// why not when it did not.
    var luRuntimes: [LUGUID: LURuntime] = [:]
    /// Live target ports stmfd brought up from the store, by target name.
    var startedPorts: [String: any PortProvider] = [:]
    /// This machine's FC HBA ports as last seen (by WWPN), and the watch that keeps them live.
    var hbaPorts: [String: HBAPort] = [:]
    var hbaWatch: (watcher: HBAWatcher, task: Task<Void, Never>)?
    /// Retries the stored LUs that could not be opened (`reopenUnavailable`).
    var luWatch: Task<Void, Never>?
    /// Where the configuration is kept before it is replaced and at start (nil: not kept).
    var restorePoints: RestorePoints?
    /// Where discovery reads the alias tables ($STMF_MODULES_ALIAS, $STMF_DRIVER_ALIASES).
    nonisolated let hbaDiscovery: HBADiscovery = {
        let env = ProcessInfo.processInfo.environment
        return HBADiscovery(modulesAliasPath: env["STMF_MODULES_ALIAS"] ?? ModuleAliases.defaultPath,
                            driverAliasesPath: env["STMF_DRIVER_ALIASES"] ?? DriverAliasOverrides.defaultPath)
    }()

    struct LURuntime {
        var record: StoredConfiguration.LU
        var lu: (any ManagedLogicalUnit)?
        var reason: String?
    }

    /// `providers`: stmfd's own (`ProviderRegistry.stmfd`) unless given.
    public init(stmf: STMF, store: ConfigStore, logger: Logger, providers: ProviderRegistry? = nil) {
        self.stmf = stmf
        self.store = store
        self.logger = logger
        lio = LIOHost(logger: logger)
        self.providers = providers ?? .stmfd(logger: logger, lio: lio, stateDirectory: store.directory)
    }

    public func state() -> ServiceState {
        let io = FileIO.engineInUse
        return ServiceState(operationalStatus: "online", configStatus: configStatus,
                            ioEngine: io.kind.rawValue, ioEngineNote: io.refusal)
    }

    // MARK: Change discipline

    /// Validates `change` on a copy of the views, commits `persist` in one transaction, then
    /// installs the new views live.
    func mutateViews<T>(_ change: (inout ViewConfiguration) throws(ViewError) -> T,
                        persist: (Database, T) throws -> Void) throws(ServiceError) -> T {
        var v = stmf.views
        let result: T
        do throws(ViewError) { result = try change(&v) } catch { throw ServiceError(error) }
        do { try store.write { db in try persist(db, result) } } catch { throw .storeFailed(error) }
        stmf.replaceViews(v)
        return result
    }

    static func parsePort(_ s: String) throws(ServiceError) -> PortIdentifier {
        do { return try PortIdentifier(parsing: s) } catch { throw .badRequest(error.description, code: "INVALID_NAME") }
    }

    static func parseGUID(_ s: String) throws(ServiceError) -> LUGUID {
        guard let g = LUGUID(s) else {
            throw .badRequest(Wording.invalidGUID(s), code: "INVALID_LU_NAME")
        }
        return g
    }

    // MARK: Host and target groups

    public func hostGroups() -> [GroupInfo] {
        let v = stmf.views
        return v.hostGroupOrder.map { GroupInfo(name: $0, members: v.hostGroups[$0]!.members.map(\.description)) }
    }

    public func targetGroups() -> [GroupInfo] {
        let v = stmf.views
        return v.targetGroupOrder.map { GroupInfo(name: $0, members: v.targetGroups[$0]!.members.map(\.description)) }
    }

    public func createGroup(_ name: String, host: Bool) throws(ServiceError) {
        let table = host ? "host_group" : "target_group"
        try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            if host { try v.createHostGroup(name) } else { try v.createTargetGroup(name) }
        }, persist: { db, _ in
            try db.execute(sql: "INSERT INTO \(table)(name, seq) VALUES (?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM \(table)))",
                           arguments: [name])
        })
    }

    public func deleteGroup(_ name: String, host: Bool) throws(ServiceError) {
        let table = host ? "host_group" : "target_group"
        try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            if host { try v.deleteHostGroup(name) } else { try v.deleteTargetGroup(name) }
        }, persist: { db, _ in
            try db.execute(sql: "DELETE FROM \(table) WHERE name = ?", arguments: [name])
        })
    }

    func requireTargetsOffline(_ ids: [PortIdentifier]) throws(ServiceError) {
        for id in ids {
            do { try stmf.requireTargetOffline(id) } catch { throw ServiceError(error) }
        }
    }

    /// Adds members (all or none).
    public func addGroupMembers(_ name: String, _ members: [String], host: Bool) throws(ServiceError) {
        let ids = try members.map { (m: String) throws(ServiceError) -> PortIdentifier in try Self.parsePort(m) }
        if !host { try requireTargetsOffline(ids) }
        let table = host ? "host_group_member" : "target_group_member"
        try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            for id in ids { if host { try v.addHostGroupMember(name, id) } else { try v.addTargetGroupMember(name, id) } }
        }, persist: { db, _ in
            for id in ids {
                try db.execute(sql: "INSERT INTO \(table)(member, grp, seq) VALUES (?, ?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM \(table)))",
                               arguments: [id.description, name])
            }
        })
    }

    public func removeGroupMembers(_ name: String, _ members: [String], host: Bool) throws(ServiceError) {
        let ids = try members.map { (m: String) throws(ServiceError) -> PortIdentifier in try Self.parsePort(m) }
        if !host { try requireTargetsOffline(ids) }
        let table = host ? "host_group_member" : "target_group_member"
        try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            for id in ids { if host { try v.removeHostGroupMember(name, id) } else { try v.removeTargetGroupMember(name, id) } }
        }, persist: { db, _ in
            for id in ids { try db.execute(sql: "DELETE FROM \(table) WHERE member = ?", arguments: [id.description]) }
        })
    }

    // MARK: Views

    static func info(_ e: ViewEntry) -> ViewEntryInfo {
        ViewEntryInfo(lu: e.lu.description, entry: e.id, hostGroup: e.hostGroup.name, targetGroup: e.targetGroup.name, lun: e.lun)
    }

    public func views(lu: String) throws(ServiceError) -> [ViewEntryInfo] {
        let guid = try Self.parseGUID(lu)
        let entries = stmf.views.views(of: guid)
        guard !entries.isEmpty else { throw ServiceError(ViewError.noViews(guid)) }
        return entries.map(Self.info)
    }

    public func allViews() -> [ViewEntryInfo] { stmf.views.allViewEntries.map(Self.info) }

    public func addView(lu: String, _ r: AddViewRequest) throws(ServiceError) -> ViewEntryInfo {
        let guid = try Self.parseGUID(lu)
        let hg = GroupReference(r.hostGroup), tg = GroupReference(r.targetGroup)
        let entry = try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: guid, hostGroup: hg, targetGroup: tg, lun: r.lun)
        }, persist: { db, e in try StoredConfiguration.insertView(db, Self.info(e)) })
        return Self.info(entry)
    }

    /// remove-view -l LU ENTRY… (all or none), or every entry when `entries` is nil (-a).
    public func removeViews(lu: String, entries: [UInt32]?) throws(ServiceError) {
        let guid = try Self.parseGUID(lu)
        let ids = entries ?? stmf.views.views(of: guid).map(\.id)
        if entries == nil && ids.isEmpty { throw ServiceError(ViewError.noViews(guid)) }
        try mutateViews({ (v: inout ViewConfiguration) throws(ViewError) in
            for id in ids { try v.removeViewEntry(lu: guid, id: id) }
        }, persist: { db, _ in
            for id in ids {
                try db.execute(sql: "DELETE FROM view_entry WHERE lu = ? AND id = ?", arguments: [guid.description, Int64(id)])
            }
        })
    }

    // MARK: Targets

    public func targets() -> [TargetInfo] {
        stmf.targetPorts().map { p in
            let rec = portRecords[p.name.description]
            // An LIO port's sessions are the kernel's logins (STMF keeps one per initiator its
            // views name there, logged in or not); an emulated port's are STMF's own.
            let sessions = lio.current?.kernelSessions(of: p.name, now: Date().timeIntervalSince1970)?.map {
                SessionInfo(initiator: PortIdentifier.wwn($0.session.initiator).description, alias: nil, loggedInSince: $0.since,
                            commands: $0.session.commands, readMegabytes: $0.session.readMegabytes,
                            writeMegabytes: $0.session.writeMegabytes)
            } ?? stmf.sessions(of: p.name).map {
                SessionInfo(initiator: $0.nexus.initiator.description, alias: nil, loggedInSince: $0.loginTime)
            }
            return TargetInfo(name: p.name.description,
                              operationalStatus: stmf.targetPortState(p.name)?.rawValue ?? "Offline",
                              providerName: rec?.provider ?? "unknown", alias: (rec?.alias).flatMap { $0.isEmpty ? nil : $0 } ?? "-",
                              protocol: p.name.protocolIdentifier == .fibreChannel ? "Fibre Channel" : "iSCSI",
                              sessions: sessions)
        }
    }

    /// online-target / offline-target: the desired state is committed, then applied.
    public func setTargetState(_ name: String, online: Bool) async throws(ServiceError) {
        let id = try Self.parsePort(name)
        guard var rec = portRecords[id.description], stmf.targetPortState(id) != nil else {
            throw .notFound("\(name): target not found", code: "TARGET_NOT_FOUND")
        }
        rec.online = online
        let r = rec
        do { try store.write { db in try StoredConfiguration.upsertPort(db, r) } } catch { throw .storeFailed(error) }
        portRecords[id.description] = rec
        do { try await stmf.setTargetPortState(id, online: online) } catch { throw ServiceError(error) }
    }
}
