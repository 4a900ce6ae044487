/// A back end that compiles views (the LIO binding: targets, TPGs, LUNs and ACLs from host
/// groups, target groups and view entries) and must recompute them when they change.
///
/// STMF calls every registered observer after each successful change of the view
/// configuration (groups, members, view entries), of an LU (registered, online, offline,
/// deregistered) or of a target port (registered, online, offline, deregistered), never with
/// its own locks held, on the thread that made the change. Concurrent changes may deliver
/// their snapshots out of order: an observer keeps the one with the highest `generation`.
public protocol ViewObserver: AnyObject, Sendable {
    func viewsChanged(_ snapshot: ViewSnapshot)
}

/// What changed, for observers that care about one kind only.
public enum ViewChange: Sendable, Hashable {
    /// Host or target groups, their members, or view entries.
    case views
    case logicalUnit(LUGUID)
    case targetPort(PortIdentifier)
}

/// The state an observer compiles from, as values taken at one instant.
public struct ViewSnapshot: Sendable, Equatable {
    public struct Port: Sendable, Hashable {
        public var relativeID: UInt16
        public var groupID: UInt16
        public var state: ResourceState
        public init(relativeID: UInt16, groupID: UInt16, state: ResourceState) {
            self.relativeID = relativeID; self.groupID = groupID; self.state = state
        }
    }

    /// Increases with every snapshot STMF takes.
    public var generation: UInt64

    public init(generation: UInt64, change: ViewChange, views: ViewConfiguration, logicalUnits: [LUGUID: ResourceState],
                targetPorts: [PortIdentifier: Port]) {
        self.generation = generation; self.change = change; self.views = views
        self.logicalUnits = logicalUnits; self.targetPorts = targetPorts
    }
    public var change: ViewChange
    public var views: ViewConfiguration
    /// Every registered LU with its state (an LU that is not online is in no LUN map).
    public var logicalUnits: [LUGUID: ResourceState]
    public var targetPorts: [PortIdentifier: Port]

    /// The LUN map a session of `initiator` through `port` has in this snapshot: the views'
    /// map less the LUs that are not online.
    public func lunMap(targetPort port: PortIdentifier, initiator: PortIdentifier) -> [UInt16: LUGUID] {
        views.lunMap(targetPort: port, initiator: initiator).filter { logicalUnits[$0.value] == .online }
    }
}

/// The observers of one STMF instance and the generation counter of its snapshots.
struct ViewObservers {
    var observers: [any ViewObserver] = []
    var generation: UInt64 = 0
}

extension STMF {
    /// Registers `observer` (once; adding it again does nothing).
    public func addViewObserver(_ observer: any ViewObserver) {
        viewObservers.withLock { o in
            if !o.observers.contains(where: { $0 === observer }) { o.observers.append(observer) }
        }
    }

    public func removeViewObserver(_ observer: any ViewObserver) {
        viewObservers.withLock { o in o.observers.removeAll { $0 === observer } }
    }

    /// The current state as observers see it.
    public func viewSnapshot(change: ViewChange = .views) -> ViewSnapshot {
        state.withLock { s in
            let generation = viewObservers.withLock { o in o.generation += 1; return o.generation }
            return ViewSnapshot(generation: generation, change: change, views: s.views,
                                logicalUnits: s.lus.mapValues(\.state),
                                targetPorts: s.ports.mapValues { .init(relativeID: $0.relativeID, groupID: $0.groupID, state: $0.state) })
        }
    }

    /// Tells every observer about `change`; called after the change, with no lock held.
    func notifyViewObservers(_ change: ViewChange) {
        let observers = viewObservers.withLock { $0.observers }
        guard !observers.isEmpty else { return }
        let snapshot = viewSnapshot(change: change)
        for o in observers { o.viewsChanged(snapshot) }
    }
}
