import Locking

/// A registered logical unit and its task set.
final class LURecord: Sendable {
    let lu: any LogicalUnit
    let guid: LUGUID
    let taskSet = TaskSet()
    init(_ lu: any LogicalUnit) { self.lu = lu; self.guid = lu.guid }
}

/// The SCSI Target Mode Framework: the registry every port provider and LU provider plugs
/// into. It knows no transport. It keeps the view configuration, each session's precomputed
/// LUN map, unit attentions, task ordering and task management; LU providers see tasks,
/// port providers see sessions and responses.
///
/// Lock order: the framework lock, then a session's lock. The per-command path takes only
/// the session's lock and the LU's task-set lock.
public final class STMF: Sendable, LUServices {
    struct PortState {
        var provider: any PortProvider
        var state: ResourceState
        var relativeID: UInt16
        var groupID: UInt16
        var sessions: [UInt64: Session] = [:]
        var alias: String
    }
    struct LUState {
        var record: LURecord
        var state: ResourceState
    }
    struct State {
        var views = ViewConfiguration()
        var lus: [LUGUID: LUState] = [:]
        var ports: [PortIdentifier: PortState] = [:]
        var nextSessionID: UInt64 = 1
        var usedRelativeIDs: Set<UInt16> = []
    }
    let state = Locked(State())
    let observer: (any TaskObserver)?
    /// Back ends told of every view, LU-state and port-state change (`ViewObserver`).
    let viewObservers = Locked(ViewObservers())
    public let limits: Limits

    /// How many tasks STMF accepts before it answers TASK SET FULL or BUSY (SAM-5 5.3.1): a
    /// nexus past `tasksPerNexus`, or an LU past `tasksPerLU` for all nexuses together, gets
    /// TASK SET FULL when that initiator already has a task in the task set and BUSY when not,
    /// instead of an ever longer queue. LIO's default per-ACL queue depth is 128, SCST's 32–128.
    public struct Limits: Sendable, Equatable {
        public var tasksPerNexus: Int
        public var tasksPerLU: Int
        public init(tasksPerNexus: Int = 256, tasksPerLU: Int = 1024) {
            self.tasksPerNexus = tasksPerNexus
            self.tasksPerLU = tasksPerLU
        }
    }

    public init(observer: (any TaskObserver)? = nil, limits: Limits = Limits()) {
        self.observer = observer
        self.limits = limits
    }

    // MARK: Logical units

    /// Registers an LU (offline; `setLogicalUnitState` brings it online).
    public func registerLogicalUnit(_ lu: any LogicalUnit) throws(STMFError) {
        try state.withLock { (s: inout State) throws(STMFError) in
            guard s.lus[lu.guid] == nil else { throw .logicalUnitExists(lu.guid) }
            s.lus[lu.guid] = LUState(record: LURecord(lu), state: .offline)
        }
        lu.attach(self)
        notifyViewObservers(.logicalUnit(lu.guid))
    }

    /// Takes the LU offline (aborting its tasks) and removes it. Its views stay.
    public func deregisterLogicalUnit(_ guid: LUGUID) async throws(STMFError) {
        try await setLogicalUnitState(guid, online: false)
        state.withLock { s in s.lus[guid] = nil }
        notifyViewObservers(.logicalUnit(guid))
    }

    public func setLogicalUnitState(_ guid: LUGUID, online: Bool) async throws(STMFError) {
        let record: LURecord? = state.withLock { s in
            guard var l = s.lus[guid] else { return nil }
            l.state = online ? .onlining : .offlining
            s.lus[guid] = l
            return l.record
        }
        guard let record else { throw .logicalUnitNotFound(guid) }
        if !online {
            // Invisible first, then abort what is still running on it.
            state.withLock { s in s.lus[guid]?.state = .offline; refreshAllSessions(&s) }
            await abortTasks(on: guid, requester: nil, reason: .silently)
        } else {
            state.withLock { s in s.lus[guid]?.state = .online; refreshAllSessions(&s) }
        }
        record.lu.handle(.stateChanged(online: online))
        notifyViewObservers(.logicalUnit(guid))
    }

    public func logicalUnitState(_ guid: LUGUID) -> ResourceState? {
        state.withLock { $0.lus[guid]?.state }
    }

    public func logicalUnit(_ guid: LUGUID) -> (any LogicalUnit)? {
        state.withLock { $0.lus[guid]?.record.lu }
    }

    public var logicalUnits: [(guid: LUGUID, state: ResourceState)] {
        state.withLock { s in s.lus.map { ($0.key, $0.value.state) }.sorted { $0.guid < $1.guid } }
    }

    // MARK: Target ports

    /// Registers a local target port (offline). The relative target port identifier is the
    /// lowest free one unless `relativeID` asks for a specific one (kept across restarts).
    public func registerTargetPort(_ name: PortIdentifier, provider: any PortProvider, alias: String = "",
                                   relativeID: UInt16? = nil, groupID: UInt16 = 0) throws(STMFError) -> TargetPortHandle {
        let rid: UInt16 = try state.withLock { (s: inout State) throws(STMFError) -> UInt16 in
            guard s.ports[name] == nil else { throw .targetPortExists(name) }
            var rid = relativeID ?? 1
            if relativeID == nil || s.usedRelativeIDs.contains(rid) {
                rid = 1
                while s.usedRelativeIDs.contains(rid) { rid += 1 }
            }
            s.usedRelativeIDs.insert(rid)
            s.ports[name] = PortState(provider: provider, state: .offline, relativeID: rid, groupID: groupID, alias: alias)
            return rid
        }
        notifyViewObservers(.targetPort(name))
        return TargetPortHandle(stmf: self, name: name, relativeID: rid, groupID: groupID)
    }

    /// Takes the port offline and removes it.
    public func deregisterTargetPort(_ name: PortIdentifier) async throws(STMFError) {
        try await setTargetPortState(name, online: false)
        state.withLock { s in
            if let p = s.ports.removeValue(forKey: name) { s.usedRelativeIDs.remove(p.relativeID) }
        }
        notifyViewObservers(.targetPort(name))
    }

    /// online-target / offline-target: asks the provider, then ends remaining sessions.
    public func setTargetPortState(_ name: PortIdentifier, online: Bool) async throws(STMFError) {
        // Already there (online-target on an online port, offline-target on an offline one):
        // nothing to do, so a repeated admin action never starts a second provider instance.
        enum Step { case notFound, nothing, change(any PortProvider) }
        let step: Step = state.withLock { s in
            guard let p = s.ports[name] else { return .notFound }
            if p.state == (online ? .online : .offline) { return .nothing }
            s.ports[name]!.state = online ? .onlining : .offlining
            return .change(p.provider)
        }
        let provider: any PortProvider
        switch step {
        case .notFound: throw .targetPortNotFound(name)
        case .nothing: return
        case let .change(p): provider = p
        }
        if online {
            do {
                try await provider.online()
            } catch {
                state.withLock { s in s.ports[name]?.state = .offline }
                throw .providerFailed("\(error)")
            }
            state.withLock { s in s.ports[name]?.state = .online }
        } else {
            await provider.offline()
            let sessions: [Session] = state.withLock { s in Array(s.ports[name]?.sessions.values ?? [:].values) }
            for session in sessions { await removeSession(session) }
            state.withLock { s in s.ports[name]?.state = .offline }
        }
        notifyViewObservers(.targetPort(name))
    }

    public func targetPortState(_ name: PortIdentifier) -> ResourceState? {
        state.withLock { $0.ports[name]?.state }
    }

    public func targetPorts() -> [TargetPortInfo] {
        state.withLock { s in
            s.ports.map { TargetPortInfo(name: $0.key, relativeID: $0.value.relativeID, groupID: $0.value.groupID,
                                         online: $0.value.state == .online) }
                .sorted { $0.relativeID < $1.relativeID }
        }
    }

    public func sessions(of port: PortIdentifier) -> [Session] {
        state.withLock { s in (s.ports[port]?.sessions.values).map { $0.sorted { $0.nexus.sessionID < $1.nexus.sessionID } } ?? [] }
    }

    public var allSessions: [Session] {
        state.withLock { s in s.ports.values.flatMap { $0.sessions.values }.sorted { $0.nexus.sessionID < $1.nexus.sessionID } }
    }

    // MARK: Sessions

    func createSession(port: TargetPortHandle, initiator: PortIdentifier, taskPort: (any TaskPort)?) throws(STMFError) -> Session {
        try state.withLock { (s: inout State) throws(STMFError) -> Session in
            guard let p = s.ports[port.name] else { throw .targetPortNotFound(port.name) }
            guard p.state == .online || p.state == .onlining else { throw .targetPortNotOnline(port.name) }
            if p.sessions.values.contains(where: { $0.nexus.initiator == initiator }) {
                throw .sessionExists(initiator: initiator, port: port.name)
            }
            let id = s.nextSessionID
            s.nextSessionID += 1
            let nexus = Nexus(sessionID: id, initiator: initiator, targetPort: port.name,
                              relativeTargetPortID: p.relativeID, targetPortGroupID: p.groupID)
            let session = Session(nexus: nexus, stmf: self, port: taskPort)
            s.ports[port.name]!.sessions[id] = session
            session.apply(map: Self.lunMap(&s, port: port.name, initiator: initiator), initial: true)
            return session
        }
    }

    /// Ends a session (logout, link loss): aborts its tasks, waits for them, and tells each
    /// LU it lost the nexus.
    public func removeSession(_ session: Session) async {
        let removed: Bool = state.withLock { s in
            s.ports[session.nexus.targetPort]?.sessions.removeValue(forKey: session.nexus.sessionID) != nil
        }
        guard removed else { return }
        let lus = await session.close()
        for lu in lus { lu.lu.handle(.itNexusLoss(session.nexus)) }
    }

    // MARK: Views

    /// The current view configuration (a value).
    public var views: ViewConfiguration { state.withLock { $0.views } }

    /// Applies a change to the view configuration and updates every live session's LUN map.
    @discardableResult
    public func updateViews<T>(_ body: (inout ViewConfiguration) throws(ViewError) -> T) throws(STMFError) -> T {
        let result = try state.withLock { (s: inout State) throws(STMFError) -> T in
            var v = s.views
            let result: T
            do throws(ViewError) { result = try body(&v) } catch { throw .view(error) }
            s.views = v
            refreshAllSessions(&s)
            return result
        }
        notifyViewObservers(.views)
        return result
    }

    /// Installs a whole view configuration (validated by the caller) and updates every live
    /// session's LUN map.
    public func replaceViews(_ views: ViewConfiguration) {
        state.withLock { s in
            s.views = views
            refreshAllSessions(&s)
        }
        notifyViewObservers(.views)
    }

    /// Adds a member to a target group; COMSTAR requires the target to be offline.
    public func addTargetGroupMember(_ group: String, _ member: PortIdentifier) throws(STMFError) {
        try requireTargetOffline(member)
        try updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addTargetGroupMember(group, member) }
    }

    public func removeTargetGroupMember(_ group: String, _ member: PortIdentifier) throws(STMFError) {
        try requireTargetOffline(member)
        try updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.removeTargetGroupMember(group, member) }
    }

    /// COMSTAR's rule for target group membership changes: a registered target must be
    /// offline (an unregistered one may be named freely).
    public func requireTargetOffline(_ port: PortIdentifier) throws(STMFError) {
        if let st = targetPortState(port), st != .offline { throw .view(.targetNotOffline(port)) }
    }

    // MARK: Unit attentions (LUServices)

    public func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID, scope: UnitAttentionScope) {
        state.withLock { s in
            for p in s.ports.values {
                for session in p.sessions.values where scope.matches(session.nexus) {
                    session.establishUnitAttention(sense, lu: lu)
                }
            }
        }
    }

    public func abortTasks(lu: LUGUID, scope: UnitAttentionScope) {
        let tas = logicalUnit(lu)?.taskAbortedStatus ?? false
        for session in allSessions where scope.matches(session.nexus) {
            session.abort(session.markAborted(where: { $0.record?.guid == lu }, withStatus: tas, unitAttention: nil))
        }
    }

    // MARK: Internals

    static func lunMap(_ s: inout State, port: PortIdentifier, initiator: PortIdentifier) -> [UInt16: LURecord] {
        var out: [UInt16: LURecord] = [:]
        for (lun, guid) in s.views.lunMap(targetPort: port, initiator: initiator) {
            if let l = s.lus[guid], l.state == .online { out[lun] = l.record }
        }
        return out
    }

    func refreshAllSessions(_ s: inout State) {
        for (name, p) in s.ports {
            for session in p.sessions.values {
                session.apply(map: Self.lunMap(&s, port: name, initiator: session.nexus.initiator), initial: false)
            }
        }
    }

    enum AbortReason { case silently, clearTaskSet, reset }

    /// Aborts every task on `lu` in every session and waits for them to end. Tasks of other
    /// nexuses than `requester` are reported with TASK ABORTED when the LU's TAS is set; for
    /// CLEAR TASK SET without TAS those nexuses get COMMANDS CLEARED BY ANOTHER INITIATOR.
    func abortTasks(on lu: LUGUID, requester: Session?, reason: AbortReason) async {
        let sessions = allSessions
        let tas = logicalUnit(lu)?.taskAbortedStatus ?? false
        var aborted: [(Session, [Session.Marked])] = []
        for session in sessions {
            let other = session !== requester && requester != nil
            let ts = session.markAborted(where: { $0.record?.guid == lu }, withStatus: other && tas,
                                         unitAttention: other && !tas && reason == .clearTaskSet
                                            ? .commandsClearedByAnotherInitiator : nil)
            if !ts.isEmpty { aborted.append((session, ts)) }
        }
        for (session, ts) in aborted { session.abort(ts) }
        for (session, ts) in aborted { await session.waitFor(ts) }
    }
}

/// A port provider's handle on its registered target port.
public final class TargetPortHandle: Sendable {
    public let name: PortIdentifier
    public let relativeID: UInt16
    public let groupID: UInt16
    let stmf: STMF

    init(stmf: STMF, name: PortIdentifier, relativeID: UInt16, groupID: UInt16) {
        self.stmf = stmf; self.name = name; self.relativeID = relativeID; self.groupID = groupID
    }

    /// A new I_T nexus (FC: after PRLI). Its LUN map is computed now, with POWER ON/RESET
    /// unit attentions on every LUN. `taskPort` gets the data transfers and the status of the
    /// tasks `Session.submit` answers `.pending` for (none is needed when only the async
    /// `Session.execute` is used).
    public func createSession(initiator: PortIdentifier, taskPort: (any TaskPort)? = nil) throws(STMFError) -> Session {
        try stmf.createSession(port: self, initiator: initiator, taskPort: taskPort)
    }

    /// The nexus ended (LOGO, PRLO, link loss).
    public func removeSession(_ session: Session) async {
        await stmf.removeSession(session)
    }

    public var sessions: [Session] { stmf.sessions(of: name) }
}

extension UnitAttentionScope {
    func matches(_ n: Nexus) -> Bool {
        switch self {
        case .all: true
        case let .allExcept(id): n.sessionID != id
        case let .session(id): n.sessionID == id
        case let .nexus(i, rtp): n.initiator == i && n.relativeTargetPortID == rtp
        case let .initiator(i): n.initiator == i
        }
    }
}
