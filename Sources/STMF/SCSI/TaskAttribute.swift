/// SAM-5 task attributes.
public enum TaskAttribute: UInt8, Sendable, CaseIterable {
    case simple = 0
    case headOfQueue = 1
    case ordered = 2
    case aca = 4
}

/// Direction of the data phase as the transport announced it (FCP RDDATA/WRDATA).
public enum DataDirection: UInt8, Sendable {
    case none = 0
    case read = 1    // data-in: target to initiator
    case write = 2   // data-out: initiator to target
    case bidirectional = 3
}
