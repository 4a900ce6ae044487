import SBD
/// `stmfadm list-state`.
public struct ServiceState: Codable, Sendable, Equatable {
    /// "online" or "offline" (COMSTAR prints them lowercase).
    public var operationalStatus: String
    /// "initialized", "uninitialized" or "loading".
    public var configStatus: String
    public var aluaStatus: String
    public var aluaNode: Int
    public init(operationalStatus: String, configStatus: String, aluaStatus: String = "disabled", aluaNode: Int = 0) {
        self.operationalStatus = operationalStatus; self.configStatus = configStatus
        self.aluaStatus = aluaStatus; self.aluaNode = aluaNode
    }
}

/// Properties of a disk LU, named as `stmfadm create-lu -p` names them (SBD's own type).
public typealias LUProperties = SBDProperties

/// `stmfadm create-lu [-p prop=val]… [-s size] FILE` (FILE may be `ram:NAME` for a RAM LU).
public struct CreateLURequest: Codable, Sendable, Equatable {
    public var file: String
    /// Every property, size included (`-s` is the `size` property).
    public var properties: LUProperties
    /// Write the metadata over a file or device that holds other data (`--overwrite`); without
    /// it such a backing store is refused.
    public var overwrite: Bool?
    public init(file: String, properties: LUProperties = LUProperties(), overwrite: Bool? = nil) {
        self.file = file; self.properties = properties; self.overwrite = overwrite
    }
}

/// `stmfadm modify-lu [-p prop=val]… [-s size] LU`.
public struct ModifyLURequest: Codable, Sendable, Equatable {
    public var size: UInt64?
    public var alias: String?
    public var managementURL: String?
    public var writeCacheDisabled: Bool?
    public var writeProtect: Bool?
    public init(size: UInt64? = nil, alias: String? = nil, managementURL: String? = nil,
                writeCacheDisabled: Bool? = nil, writeProtect: Bool? = nil) {
        self.size = size; self.alias = alias; self.managementURL = managementURL
        self.writeCacheDisabled = writeCacheDisabled; self.writeProtect = writeProtect
    }
}

/// `stmfadm import-lu FILE`.
public struct ImportLURequest: Codable, Sendable, Equatable {
    public var file: String
    /// Metadata file when it is kept apart from the data.
    public var meta: String?
    public init(file: String, meta: String? = nil) { self.file = file; self.meta = meta }
}

/// One LU as `stmfadm list-lu -v` shows it.
public struct LUInfo: Codable, Sendable, Equatable {
    public var guid: String
    /// "Online", "Offline", "Onlining", "Offlining".
    public var operationalStatus: String
    public var providerName: String
    public var alias: String
    public var viewEntryCount: Int
    public var dataFile: String
    public var metaFile: String?
    public var size: UInt64
    public var blockSize: UInt32
    public var managementURL: String?
    public var vendorID: String
    public var productID: String
    public var serialNumber: String?
    public var writeProtect: Bool
    /// Writeback cache enabled (WCE), i.e. not wcd.
    public var writebackCache: Bool
    public var accessState: String
    /// Why an LU that should be online is not (e.g. backing store missing or damaged).
    public var reason: String?

    public init(guid: String, operationalStatus: String, providerName: String, alias: String, viewEntryCount: Int,
                dataFile: String, metaFile: String?, size: UInt64, blockSize: UInt32, managementURL: String?,
                vendorID: String, productID: String, serialNumber: String?, writeProtect: Bool,
                writebackCache: Bool, accessState: String = "Active", reason: String? = nil) {
        self.guid = guid; self.operationalStatus = operationalStatus; self.providerName = providerName
        self.alias = alias; self.viewEntryCount = viewEntryCount; self.dataFile = dataFile; self.metaFile = metaFile
        self.size = size; self.blockSize = blockSize; self.managementURL = managementURL; self.vendorID = vendorID
        self.productID = productID; self.serialNumber = serialNumber; self.writeProtect = writeProtect
        self.writebackCache = writebackCache; self.accessState = accessState; self.reason = reason
    }
}

public struct GroupInfo: Codable, Sendable, Equatable {
    public var name: String
    public var members: [String]
    public init(name: String, members: [String]) { self.name = name; self.members = members }
}

public struct CreateGroupRequest: Codable, Sendable, Equatable {
    public var name: String
    public init(name: String) { self.name = name }
}

public struct GroupMemberRequest: Codable, Sendable, Equatable {
    public var members: [String]
    public init(members: [String]) { self.members = members }
}

/// A view entry; `hostGroup`/`targetGroup` nil means All.
public struct ViewEntryInfo: Codable, Sendable, Equatable {
    public var lu: String
    public var entry: UInt32
    public var hostGroup: String?
    public var targetGroup: String?
    public var lun: UInt16
    public init(lu: String, entry: UInt32, hostGroup: String?, targetGroup: String?, lun: UInt16) {
        self.lu = lu; self.entry = entry; self.hostGroup = hostGroup; self.targetGroup = targetGroup; self.lun = lun
    }
}

/// `stmfadm add-view [-n lun] [-t tg] [-h hg] LU`.
public struct AddViewRequest: Codable, Sendable, Equatable {
    public var hostGroup: String?
    public var targetGroup: String?
    public var lun: Int?
    public init(hostGroup: String? = nil, targetGroup: String? = nil, lun: Int? = nil) {
        self.hostGroup = hostGroup; self.targetGroup = targetGroup; self.lun = lun
    }
}

public struct SessionInfo: Codable, Sendable, Equatable {
    public var initiator: String
    public var alias: String?
    /// Seconds since the epoch.
    public var loggedInSince: Double
    public init(initiator: String, alias: String?, loggedInSince: Double) {
        self.initiator = initiator; self.alias = alias; self.loggedInSince = loggedInSince
    }
}

/// One local target port as `stmfadm list-target -v` shows it.
public struct TargetInfo: Codable, Sendable, Equatable {
    public var name: String
    public var operationalStatus: String
    public var providerName: String
    public var alias: String
    public var `protocol`: String
    public var sessions: [SessionInfo]
    public init(name: String, operationalStatus: String, providerName: String, alias: String, protocol: String, sessions: [SessionInfo]) {
        self.name = name; self.operationalStatus = operationalStatus; self.providerName = providerName
        self.alias = alias; self.protocol = `protocol`; self.sessions = sessions
    }
}

/// `stmfadm remove-view -l LU [-a] ENTRY…`.
public struct RemoveViewsRequest: Codable, Sendable, Equatable {
    public var all: Bool
    public var entries: [UInt32]
    public init(all: Bool = false, entries: [UInt32] = []) { self.all = all; self.entries = entries }
}

/// The body of a successful response that carries no data (`{}`).
public struct EmptyResponse: Codable, Sendable, Equatable {
    public init() {}
}
