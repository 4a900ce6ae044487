/// Host groups, target groups and view entries, with COMSTAR's rules (illumos lun_map.c):
///
/// - An initiator belongs to at most one host group; a target port to at most one target
///   group. The built-in groups `*` ("All") cannot be created, deleted or edited.
/// - Two view entries of one LU conflict when their host groups overlap and their target
///   groups overlap (All overlaps everything): "view entry exists".
/// - A LUN is in use when any view entry whose host group and target group both overlap the
///   new entry's already maps it: "LUN already in use". Without a LUN, the lowest free one
///   among those overlapping entries is taken.
/// - Views may name LUs that are not registered (yet).
/// - A session's LUN map merges the entries of (port's TG or All) × (initiator's HG or All).
///
/// A pure value: STMF applies changes and recomputes live sessions' maps.
public struct ViewConfiguration: Sendable, Hashable {
    public private(set) var hostGroups: [String: Group] = [:]
    public private(set) var targetGroups: [String: Group] = [:]
    /// Creation order of groups (for listings).
    public private(set) var hostGroupOrder: [String] = []
    public private(set) var targetGroupOrder: [String] = []
    private var hostGroupOf: [PortIdentifier: String] = [:]
    private var targetGroupOf: [PortIdentifier: String] = [:]
    /// View entries per LU, sorted by entry id.
    public private(set) var viewEntries: [LUGUID: [ViewEntry]] = [:]
    /// (TG, HG) → LUN → LU: COMSTAR's ver_tg/ver_hg maps, for O(1) LUN checks and fast merges.
    private var byGroups: [GroupPair: [UInt16: LUGUID]] = [:]

    struct GroupPair: Hashable, Sendable {
        var tg: GroupReference
        var hg: GroupReference
    }

    public static let maxLUN: UInt16 = 16383
    public static let maxGroupNameLength = 255

    public init() {}

    // MARK: Queries

    public func hostGroup(of initiator: PortIdentifier) -> String? { hostGroupOf[initiator] }
    public func targetGroup(of port: PortIdentifier) -> String? { targetGroupOf[port] }
    public var allViewEntries: [ViewEntry] {
        viewEntries.keys.sorted().flatMap { viewEntries[$0]! }
    }
    public func views(of lu: LUGUID) -> [ViewEntry] { viewEntries[lu] ?? [] }

    /// The LUN → LU map a session of `initiator` through `port` sees (before filtering out
    /// offline or unregistered LUs). Most specific entries win when member changes made two
    /// entries claim one LUN.
    public func lunMap(targetPort port: PortIdentifier, initiator: PortIdentifier) -> [UInt16: LUGUID] {
        let tg: GroupReference = targetGroupOf[port].map { .named($0) } ?? .all
        let hg: GroupReference = hostGroupOf[initiator].map { .named($0) } ?? .all
        var pairs: [GroupPair] = []
        if tg != .all {
            if hg != .all { pairs.append(GroupPair(tg: tg, hg: hg)) }
            pairs.append(GroupPair(tg: tg, hg: .all))
        }
        if hg != .all { pairs.append(GroupPair(tg: .all, hg: hg)) }
        pairs.append(GroupPair(tg: .all, hg: .all))
        var map: [UInt16: LUGUID] = [:]
        for p in pairs {
            guard let m = byGroups[p] else { continue }
            if map.isEmpty { map = m; continue }
            for (lun, lu) in m where map[lun] == nil { map[lun] = lu }
        }
        return map
    }

    // MARK: Groups

    private static func validate(_ name: String) throws(ViewError) {
        guard !name.isEmpty, name.utf8.count <= maxGroupNameLength, !name.hasPrefix("*"),
              name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalidGroupName(name)
        }
    }

    public mutating func createHostGroup(_ name: String) throws(ViewError) {
        try Self.validate(name)
        guard hostGroups[name] == nil else { throw .hostGroupExists(name) }
        hostGroups[name] = Group(name: name)
        hostGroupOrder.append(name)
    }

    public mutating func createTargetGroup(_ name: String) throws(ViewError) {
        try Self.validate(name)
        guard targetGroups[name] == nil else { throw .targetGroupExists(name) }
        targetGroups[name] = Group(name: name)
        targetGroupOrder.append(name)
    }

    public mutating func deleteHostGroup(_ name: String) throws(ViewError) {
        guard let g = hostGroups[name] else { throw .hostGroupNotFound(name) }
        if viewEntries.values.contains(where: { $0.contains { $0.hostGroup == .named(name) } }) {
            throw .hostGroupInUse(name)
        }
        for m in g.members { hostGroupOf[m] = nil }
        hostGroups[name] = nil
        hostGroupOrder.removeAll { $0 == name }
    }

    public mutating func deleteTargetGroup(_ name: String) throws(ViewError) {
        guard let g = targetGroups[name] else { throw .targetGroupNotFound(name) }
        if viewEntries.values.contains(where: { $0.contains { $0.targetGroup == .named(name) } }) {
            throw .targetGroupInUse(name)
        }
        for m in g.members { targetGroupOf[m] = nil }
        targetGroups[name] = nil
        targetGroupOrder.removeAll { $0 == name }
    }

    public mutating func addHostGroupMember(_ group: String, _ member: PortIdentifier) throws(ViewError) {
        guard hostGroups[group] != nil else { throw .hostGroupNotFound(group) }
        if let g = hostGroupOf[member] {
            throw g == group ? .memberExists(member: member, group: g) : .memberInOtherGroup(member: member, group: g)
        }
        hostGroups[group]!.members.append(member)
        hostGroupOf[member] = group
    }

    public mutating func removeHostGroupMember(_ group: String, _ member: PortIdentifier) throws(ViewError) {
        guard hostGroups[group] != nil else { throw .hostGroupNotFound(group) }
        guard hostGroupOf[member] == group else { throw .memberNotFound(member: member, group: group) }
        hostGroups[group]!.members.removeAll { $0 == member }
        hostGroupOf[member] = nil
    }

    public mutating func addTargetGroupMember(_ group: String, _ member: PortIdentifier) throws(ViewError) {
        guard targetGroups[group] != nil else { throw .targetGroupNotFound(group) }
        if let g = targetGroupOf[member] {
            throw g == group ? .memberExists(member: member, group: g) : .memberInOtherGroup(member: member, group: g)
        }
        targetGroups[group]!.members.append(member)
        targetGroupOf[member] = group
    }

    public mutating func removeTargetGroupMember(_ group: String, _ member: PortIdentifier) throws(ViewError) {
        guard targetGroups[group] != nil else { throw .targetGroupNotFound(group) }
        guard targetGroupOf[member] == group else { throw .memberNotFound(member: member, group: group) }
        targetGroups[group]!.members.removeAll { $0 == member }
        targetGroupOf[member] = nil
    }

    // MARK: View entries

    /// Adds a view entry; returns it with its entry number and LUN filled in.
    /// `requestedID` lets a configuration reload keep entry numbers.
    @discardableResult
    public mutating func addViewEntry(lu: LUGUID, hostGroup: GroupReference = .all, targetGroup: GroupReference = .all,
                                      lun: Int? = nil, requestedID: UInt32? = nil) throws(ViewError) -> ViewEntry {
        if let n = hostGroup.name, hostGroups[n] == nil { throw .hostGroupNotFound(n) }
        if let n = targetGroup.name, targetGroups[n] == nil { throw .targetGroupNotFound(n) }
        if let lun, lun < 0 || lun > Int(Self.maxLUN) { throw .lunOutOfRange(lun) }
        let existing = viewEntries[lu] ?? []
        if let c = existing.first(where: { $0.hostGroup.overlaps(hostGroup) && $0.targetGroup.overlaps(targetGroup) }) {
            throw .viewEntryExists(lu: lu, conflicting: c.id)
        }
        let chosen = try chooseLUN(lun, hostGroup: hostGroup, targetGroup: targetGroup)
        let id: UInt32
        if let requestedID {
            guard !existing.contains(where: { $0.id == requestedID }) else { throw .viewEntryExists(lu: lu, conflicting: requestedID) }
            id = requestedID
        } else {
            var next: UInt32 = 0
            for e in existing { if e.id == next { next += 1 } else if e.id > next { break } }
            id = next
        }
        let ve = ViewEntry(id: id, hostGroup: hostGroup, targetGroup: targetGroup, lun: chosen, lu: lu)
        var list = existing
        list.append(ve)
        list.sort { $0.id < $1.id }
        viewEntries[lu] = list
        byGroups[GroupPair(tg: targetGroup, hg: hostGroup), default: [:]][chosen] = lu
        return ve
    }

    /// Checks a requested LUN, or picks the lowest free one, against the (TG, HG) maps of
    /// every entry overlapping both groups. A separate function so the references it takes
    /// to those maps are gone before the caller mutates one (no copy-on-write copy).
    private func chooseLUN(_ lun: Int?, hostGroup: GroupReference, targetGroup: GroupReference) throws(ViewError) -> UInt16 {
        let overlapping = byGroups.filter { $0.key.tg.overlaps(targetGroup) && $0.key.hg.overlaps(hostGroup) }.map(\.value)
        func owner(_ l: UInt16) -> LUGUID? {
            for m in overlapping { if let g = m[l] { return g } }
            return nil
        }
        if let lun {
            if let other = owner(UInt16(lun)) { throw .lunInUse(lun: UInt16(lun), conflictingLU: other) }
            return UInt16(lun)
        }
        guard let free = (0...Self.maxLUN).first(where: { owner($0) == nil }) else { throw .noFreeLUN }
        return free
    }

    public mutating func removeViewEntry(lu: LUGUID, id: UInt32) throws(ViewError) {
        guard var list = viewEntries[lu], let i = list.firstIndex(where: { $0.id == id }) else {
            throw .viewEntryNotFound(lu: lu, id: id)
        }
        let ve = list.remove(at: i)
        viewEntries[lu] = list.isEmpty ? nil : list
        let pair = GroupPair(tg: ve.targetGroup, hg: ve.hostGroup)
        byGroups[pair]?[ve.lun] = nil
        if byGroups[pair]?.isEmpty == true { byGroups[pair] = nil }
    }

    /// Removes every view entry of `lu` (remove-view -a, delete-lu without -k).
    public mutating func removeAllViewEntries(lu: LUGUID) {
        for ve in viewEntries[lu] ?? [] { try? removeViewEntry(lu: lu, id: ve.id) }
    }
}
