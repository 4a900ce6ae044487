/// A view entry's host or target group: a named group or the built-in "All" (`*`).
public enum GroupReference: Hashable, Sendable, CustomStringConvertible, Comparable {
    case all
    case named(String)

    public init(_ name: String?) {
        if let name, name != "*" { self = .named(name) } else { self = .all }
    }

    /// `*` for All, as stmfadm list-view prints it.
    public var description: String {
        switch self {
        case .all: "*"
        case let .named(n): n
        }
    }

    public var name: String? {
        if case let .named(n) = self { return n }
        return nil
    }

    func overlaps(_ other: GroupReference) -> Bool {
        self == .all || other == .all || self == other
    }
}

/// A host group or target group and its members, in the order they were added.
public struct Group: Hashable, Sendable {
    public var name: String
    public var members: [PortIdentifier]
    public init(name: String, members: [PortIdentifier] = []) { self.name = name; self.members = members }
}

/// A view entry: makes LU `lu` visible as `lun` to initiators in `hostGroup` through ports in
/// `targetGroup` (COMSTAR stmfadm add-view).
public struct ViewEntry: Hashable, Sendable {
    /// Entry number, unique per LU (the lowest free one is taken).
    public var id: UInt32
    public var hostGroup: GroupReference
    public var targetGroup: GroupReference
    public var lun: UInt16
    public var lu: LUGUID

    public init(id: UInt32, hostGroup: GroupReference, targetGroup: GroupReference, lun: UInt16, lu: LUGUID) {
        self.id = id; self.hostGroup = hostGroup; self.targetGroup = targetGroup; self.lun = lun; self.lu = lu
    }
}
