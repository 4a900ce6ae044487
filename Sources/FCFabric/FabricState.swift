import FCPort
import STMF

/// A change the fabric controller announces with RSCN: which port, and its WWPN (for zoning).
struct StateChange: Sendable {
    var id: FCID
    var portName: WWN?
}

/// Where a routed frame goes.
enum Route {
    case forward(SwitchPort, Faults)
    case drop
}

/// The fabric's state: attached ports, their logins and name-server registrations.
/// Pure value logic, mutated under `Fabric.state`'s lock.
struct FabricState {
    struct Entry {
        var port: SwitchPort
        var index: Int
        var linkUp = true
        var id: FCID?
        var portName: WWN?
        var nodeName: WWN?
        var receiveDataFieldSize = 2048
        /// FC-4 TYPEs as RFT_ID registers them.
        var fc4Types = FC4TypeSet()
        /// FC-4 features as RFF_ID registers them.
        var fc4Features = FC4FeatureMap()
        var symbolicName: [UInt8] = []
        /// SCR registration function, when registered.
        var stateChangeRegistration: UInt8?
        var counters = PortCounters()
        var faults = Faults()
        var loggedIn: Bool { id != nil }
    }

    var entries: [SwitchPort: Entry] = [:]
    var byID: [FCID: SwitchPort] = [:]
    /// N_Port IDs handed out, kept per WWPN so a port logs back in at the same address.
    var assigned: [WWN: FCID] = [:]
    /// The WWPN each handed-out ID is kept for (the reverse of `assigned`).
    var owner: [FCID: WWN] = [:]
    /// When each logged-out ID was released: once the domain's fresh areas are used up, an ID
    /// released at least `reclaimAfter` ago (R_A_TOV, so no frame to the old port can still be
    /// in flight) is given to a new WWPN, the oldest first.
    var released: [FCID: ContinuousClock.Instant] = [:]
    var reclaimAfter: Duration = .seconds(10)
    var nextArea: UInt8 = 1
    var nextIndex = 0
    var zones: ZoneSet
    var random: FaultRandom
    var domain: UInt8
    var fabricFaults = Faults()
    var exchangeCounter: UInt16 = 0

    mutating func nextExchangeID() -> UInt16 {
        exchangeCounter = exchangeCounter == 0xFFFE ? 1 : exchangeCounter + 1
        return exchangeCounter
    }

    init(zones: ZoneSet, seed: UInt64, domain: UInt8, reclaimAfter: Duration = .seconds(10)) {
        self.zones = zones
        random = FaultRandom(seed: seed)
        self.domain = domain
        self.reclaimAfter = reclaimAfter
    }

    mutating func attach(_ port: SwitchPort) -> Int {
        nextIndex += 1
        entries[port] = Entry(port: port, index: nextIndex)
        return nextIndex
    }

    /// Removes a port whose connection closed; returns the change to announce if it was logged in.
    mutating func detach(_ port: SwitchPort, now: ContinuousClock.Instant = .now) -> StateChange? {
        let change = logout(port, now: now)
        entries[port] = nil
        return change
    }

    // MARK: logins

    enum LoginRefusal: Error { case portNameInUse, noAddresses, linkDown }

    /// FLOGI: assigns (or re-assigns) an N_Port ID.
    mutating func fabricLogin(_ port: SwitchPort, portName: WWN, nodeName: WWN,
                              receiveDataFieldSize: Int,
                              now: ContinuousClock.Instant = .now) -> Result<FCID, LoginRefusal> {
        guard var e = entries[port], e.linkUp else { return .failure(.linkDown) }
        if entries.values.contains(where: { $0.portName == portName && $0.loggedIn && $0.port !== port }) {
            return .failure(.portNameInUse)
        }
        if e.loggedIn { _ = logout(port, now: now); e = entries[port]! }
        guard let id = address(for: portName, now: now) else { return .failure(.noAddresses) }
        released[id] = nil
        e.id = id
        e.portName = portName
        e.nodeName = nodeName
        e.receiveDataFieldSize = receiveDataFieldSize
        entries[port] = e
        byID[id] = port
        return .success(id)
    }

    /// Fabric logout (LOGO to 0xFFFFFE, link down, detach): clears the port's registrations.
    /// The N_Port ID for a WWPN logging in: the one it had while nobody else took it, else a
    /// fresh area, else the ID released longest ago if that was at least R_A_TOV ago.
    private mutating func address(for portName: WWN, now: ContinuousClock.Instant) -> FCID? {
        if let known = assigned[portName], owner[known] == portName, byID[known] == nil { return known }
        let id: FCID
        if nextArea != 0 {
            id = FCID(domain: domain, area: nextArea, port: 0)
            nextArea &+= 1
        } else {
            let free = released.filter { byID[$0.key] == nil && now - $0.value >= reclaimAfter }
            guard let oldest = free.min(by: { $0.value < $1.value })?.key else { return nil }
            if let previous = owner[oldest] { assigned[previous] = nil }
            id = oldest
        }
        if let previous = assigned[portName], owner[previous] == portName { owner[previous] = nil }
        assigned[portName] = id
        owner[id] = portName
        return id
    }

    mutating func logout(_ port: SwitchPort, now: ContinuousClock.Instant = .now) -> StateChange? {
        guard var e = entries[port], let id = e.id else { return nil }
        byID[id] = nil
        released[id] = now
        e.id = nil
        e.fc4Types = FC4TypeSet()
        e.fc4Features = FC4FeatureMap()
        e.symbolicName = []
        e.stateChangeRegistration = nil
        entries[port] = e
        return StateChange(id: id, portName: e.portName)
    }

    func entry(_ id: FCID) -> Entry? { byID[id].flatMap { entries[$0] } }

    /// RLS to the fabric controller: a port's link error status, for itself or a port zoned with
    /// it; nil (LS_RJT invalid N_Port ID) for an unknown or unzoned one, as the name server hides it.
    func linkErrorStatus(of id: FCID, askedBy port: SwitchPort) -> LinkErrorStatusBlock? {
        guard let asker = entries[port], asker.loggedIn, let e = entry(id) else { return nil }
        guard e.port === port || zoned(asker, e) else { return nil }
        return LinkErrorStatusBlock(linkFailures: UInt32(clamping: e.counters.linkFailures),
                                    invalidCRCs: UInt32(clamping: e.counters.crcErrors))
    }

    /// Whether the port at `a` may see/reach the port at `b` (zoning).
    func zoned(_ a: Entry, _ b: Entry) -> Bool {
        guard let wa = a.portName, let wb = b.portName else { return false }
        return zones.permits(wa, wb)
    }

    // MARK: routing

    /// Counts the frame and decides where it goes. This runs for every frame, so entries are
    /// read and updated in place (`inPlace` on the dictionary's storage), never copied.
    mutating func route(_ h: FrameHeader, from port: SwitchPort) -> Route {
        guard let si = entries.index(forKey: port) else { return .drop }
        let source = Self.inPlace(&entries.values[si]) { e -> (WWN, Faults)? in
            e.counters.framesIn += 1
            guard e.linkUp, let id = e.id, id == h.source, let name = e.portName else {
                e.counters.framesDropped += 1
                return nil
            }
            return (name, e.faults)
        }
        guard let (sourceName, sourceFaults) = source else { return .drop }
        let zones = self.zones
        guard let dport = byID[h.destination], let di = entries.index(forKey: dport),
              let destinationFaults = Self.inPlace(&entries.values[di], { e -> Faults? in
                  guard e.linkUp, let name = e.portName, zones.permits(sourceName, name) else { return nil }
                  e.counters.framesOut += 1
                  return e.faults
              }) else {
            Self.inPlace(&entries.values[si]) { $0.counters.framesDropped += 1 }
            return .drop
        }
        return .forward(dport, destinationFaults.combined(with: sourceFaults).combined(with: fabricFaults))
    }

    private static func inPlace<T>(_ entry: inout Entry, _ body: (inout Entry) -> T) -> T { body(&entry) }

    func faults(for port: SwitchPort) -> Faults {
        (entries[port]?.faults ?? Faults()).combined(with: fabricFaults)
    }

    mutating func counters(of port: SwitchPort, _ body: (inout PortCounters) -> Void) {
        guard var e = entries[port] else { return }
        body(&e.counters)
        entries[port] = e
    }

    // MARK: control

    mutating func setLink(_ wwpn: WWN, up: Bool) -> (SwitchPort, StateChange?)? {
        guard let port = entries.values.first(where: { $0.portName == wwpn })?.port else { return nil }
        var change: StateChange?
        if !up {
            change = logout(port)
            entries[port]!.counters.linkFailures += 1
        }
        entries[port]!.linkUp = up
        return (port, change)
    }

    mutating func setFaults(_ f: Faults, for wwpn: WWN?) -> Bool {
        guard let wwpn else { fabricFaults = f; return true }
        guard let port = entries.values.first(where: { $0.portName == wwpn })?.port else { return false }
        entries[port]!.faults = f
        return true
    }

    /// Ports that registered for state changes and may see `change.portName`.
    func stateChangeRecipients(_ change: StateChange) -> [(SwitchPort, FCID)] {
        entries.values.compactMap { e in
            guard let id = e.id, e.linkUp, e.stateChangeRegistration != nil, id != change.id else { return nil }
            if let w = change.portName, let mine = e.portName, !zones.permits(w, mine) { return nil }
            return (e.port, id)
        }
    }

    func status() -> [PortStatus] {
        entries.values.sorted { $0.index < $1.index }.map { e in
            let fcp = e.fc4Features[ServiceParameterPage.fcpType]
            var roles: [String] = []
            if fcp.contains(.target) { roles.append("target") }
            if fcp.contains(.initiator) { roles.append("initiator") }
            return PortStatus(index: e.index, portID: e.id?.description, portName: e.portName?.hex,
                              nodeName: e.nodeName?.hex, linkUp: e.linkUp, loggedIn: e.loggedIn,
                              fc4Types: e.fc4Types.types, roles: roles.joined(separator: ","),
                              symbolicName: String(decoding: e.symbolicName, as: UTF8.self), stateChangeRegistration: e.stateChangeRegistration != nil,
                              counters: e.counters, faults: e.faults, queuedBytes: e.port.link.queuedBytes)
        }
    }
}
