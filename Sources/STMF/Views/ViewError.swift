/// Refusals of view and group changes, with COMSTAR's wording.
public enum ViewError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidGroupName(String)
    case hostGroupExists(String)
    case targetGroupExists(String)
    case hostGroupNotFound(String)
    case targetGroupNotFound(String)
    case hostGroupInUse(String)
    case targetGroupInUse(String)
    case memberExists(member: PortIdentifier, group: String)
    case memberInOtherGroup(member: PortIdentifier, group: String)
    case memberNotFound(member: PortIdentifier, group: String)
    case targetNotOffline(PortIdentifier)
    case viewEntryExists(lu: LUGUID, conflicting: UInt32)
    case lunInUse(lun: UInt16, conflictingLU: LUGUID)
    case lunOutOfRange(Int)
    case noFreeLUN
    case viewEntryNotFound(lu: LUGUID, id: UInt32)
    case noViews(LUGUID)

    /// Stable machine-readable code for the management API.
    public var code: String {
        switch self {
        case .invalidGroupName: "INVALID_GROUP_NAME"
        case .hostGroupExists: "HOST_GROUP_EXISTS"
        case .targetGroupExists: "TARGET_GROUP_EXISTS"
        case .hostGroupNotFound: "HOST_GROUP_NOT_FOUND"
        case .targetGroupNotFound: "TARGET_GROUP_NOT_FOUND"
        case .hostGroupInUse: "HOST_GROUP_IN_USE"
        case .targetGroupInUse: "TARGET_GROUP_IN_USE"
        case .memberExists: "MEMBER_EXISTS"
        case .memberInOtherGroup: "MEMBER_IN_OTHER_GROUP"
        case .memberNotFound: "MEMBER_NOT_FOUND"
        case .targetNotOffline: "TARGET_NOT_OFFLINE"
        case .viewEntryExists: "VIEW_ENTRY_EXISTS"
        case .lunInUse: "LUN_IN_USE"
        case .lunOutOfRange: "LUN_OUT_OF_RANGE"
        case .noFreeLUN: "NO_FREE_LUN"
        case .viewEntryNotFound: "VIEW_ENTRY_NOT_FOUND"
        case .noViews: "NO_VIEWS"
        }
    }

    public var description: String {
        switch self {
        case let .invalidGroupName(n):
            "\(n.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } ? n.debugDescription : n): invalid group name"
                + " (1 to \(ViewConfiguration.maxGroupNameLength) bytes, no control characters, not starting with *)"
        case let .hostGroupExists(n): "\(n): host group already exists"
        case let .targetGroupExists(n): "\(n): target group already exists"
        case let .hostGroupNotFound(n): "\(n): host group not found"
        case let .targetGroupNotFound(n): "\(n): target group not found"
        case let .hostGroupInUse(n): "\(n): host group is in use by a view entry"
        case let .targetGroupInUse(n): "\(n): target group is in use by a view entry"
        case let .memberExists(m, g): "\(m): already exists in group \(g)"
        case let .memberInOtherGroup(m, g): "\(m): already a member of group \(g); a member may belong to only one group"
        case let .memberNotFound(m, g): "\(m): not found in group \(g)"
        case let .targetNotOffline(t): "\(t): target must be offline"
        case let .viewEntryExists(lu, c): "view entry exists: conflicts with view entry \(c) of \(lu)"
        case let .lunInUse(lun, lu): "LUN \(lun) already in use (by \(lu))"
        case let .lunOutOfRange(n): Wording.lunOutOfRange(String(n))
        case .noFreeLUN: "no free logical unit number"
        case let .viewEntryNotFound(lu, id): "\(lu): view entry \(id) not found"
        case let .noViews(lu): "\(lu): no views found"
        }
    }
}
