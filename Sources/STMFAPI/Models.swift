import STMF

/// `stmfadm list-state`.
public struct ServiceState: Codable, Sendable, Equatable {
    /// "online" or "offline" (COMSTAR prints them lowercase).
    public var operationalStatus: String
    /// "initialized", "uninitialized" or "loading".
    public var configStatus: String
    public var aluaStatus: String
    public var aluaNode: Int
    /// How file and block LUs do their I/O on the command path: "io_uring", or "thread pool"
    /// where the kernel refuses io_uring (chosen when stmfd starts).
    public var ioEngine: String?
    /// Why io_uring is not used (nil when it is).
    public var ioEngineNote: String?
    public init(operationalStatus: String, configStatus: String, aluaStatus: String = "disabled", aluaNode: Int = 0,
                ioEngine: String? = nil, ioEngineNote: String? = nil) {
        self.operationalStatus = operationalStatus; self.configStatus = configStatus
        self.aluaStatus = aluaStatus; self.aluaNode = aluaNode
        self.ioEngine = ioEngine; self.ioEngineNote = ioEngineNote
    }
}

/// The LU provider of a request that names none.
public let defaultLUProvider = "sbd"

/// `stmfadm create-lu [-p prop=val]… [-s size] FILE` (FILE may be `ram:NAME` for a RAM LU).
public struct CreateLURequest: Codable, Sendable, Equatable {
    /// The LU provider by its registry name (`sbd` when absent).
    public var provider: String
    /// The source the provider makes the LU from: for `sbd` a file, a block device or `ram:NAME`.
    public var file: String
    /// Every property, named as `create-lu -p` names them, size included (`-s` is `size`); the
    /// provider checks them. Integers and booleans are read as their decimal or true/false text.
    public var properties: [String: String]
    /// Write the metadata over a file or device that holds other data (`--overwrite`); without
    /// it such a backing store is refused.
    public var overwrite: Bool?
    public init(provider: String = defaultLUProvider, file: String, properties: [String: String] = [:], overwrite: Bool? = nil) {
        self.provider = provider; self.file = file; self.properties = properties; self.overwrite = overwrite
    }

    enum CodingKeys: String, CodingKey { case provider, file, properties, overwrite }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? defaultLUProvider
        file = try c.decode(String.self, forKey: .file)
        properties = try PropertyBag.decodeIfPresent(c, forKey: .properties) ?? [:]
        overwrite = try c.decodeIfPresent(Bool.self, forKey: .overwrite)
    }
}

/// `stmfadm modify-lu [-p prop=val]… [-s size] LU`.
public struct ModifyLURequest: Codable, Sendable, Equatable {
    /// The LU's provider; when absent, whichever provider the LU has. A name that is not the
    /// LU's is refused.
    public var provider: String?
    /// The properties to change (`-s` is `size`); the provider says which it can change.
    public var properties: [String: String]
    public init(provider: String? = nil, properties: [String: String] = [:]) {
        self.provider = provider; self.properties = properties
    }

    enum CodingKeys: String, CodingKey {
        case provider, properties
        // The first API's fields, still read: size, alias, managementURL, writeCacheDisabled, writeProtect.
        case size, alias, managementURL, writeCacheDisabled, writeProtect
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider)
        var bag = try PropertyBag.decodeIfPresent(c, forKey: .properties) ?? [:]
        func legacy(_ name: String, _ value: String?) { if let value, bag[name] == nil { bag[name] = value } }
        legacy(LUPropertyName.size, try c.decodeIfPresent(UInt64.self, forKey: .size).map { String($0) })
        legacy(LUPropertyName.alias, try c.decodeIfPresent(String.self, forKey: .alias))
        legacy(LUPropertyName.managementURL, try c.decodeIfPresent(String.self, forKey: .managementURL))
        legacy(LUPropertyName.writeCacheDisabled, try c.decodeIfPresent(Bool.self, forKey: .writeCacheDisabled).map { String($0) })
        legacy(LUPropertyName.writeProtect, try c.decodeIfPresent(Bool.self, forKey: .writeProtect).map { String($0) })
        properties = bag
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(provider, forKey: .provider)
        try c.encode(properties, forKey: .properties)
    }
}

/// `stmfadm import-lu FILE`.
public struct ImportLURequest: Codable, Sendable, Equatable {
    /// The LU provider by its registry name (`sbd` when absent).
    public var provider: String
    /// What the LU is brought back from: for `sbd` its backing file or device.
    public var file: String
    /// For `sbd`: `meta`, the metadata file when it is kept apart from the data.
    public var properties: [String: String]
    public init(provider: String = defaultLUProvider, file: String, properties: [String: String] = [:]) {
        self.provider = provider; self.file = file; self.properties = properties
    }

    enum CodingKeys: String, CodingKey {
        case provider, file, properties
        // The first API's field, still read.
        case meta
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? defaultLUProvider
        file = try c.decode(String.self, forKey: .file)
        var bag = try PropertyBag.decodeIfPresent(c, forKey: .properties) ?? [:]
        if let meta = try c.decodeIfPresent(String.self, forKey: .meta), bag[LUPropertyName.metaFile] == nil {
            bag[LUPropertyName.metaFile] = meta
        }
        properties = bag
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(provider, forKey: .provider)
        try c.encode(file, forKey: .file)
        try c.encode(properties, forKey: .properties)
    }
}

/// One LU as `stmfadm list-lu -v` shows it.
public struct LUInfo: Codable, Sendable, Equatable {
    public var guid: String
    /// "Online", "Offline", "Onlining", "Offlining".
    public var operationalStatus: String
    /// The LU provider's registry name.
    public var provider: String
    /// Every property of the LU, as its provider names and normalises them.
    public var properties: [String: String]
    /// The provider's name as list-lu shows it (the same as `provider`).
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

    public init(guid: String, operationalStatus: String, provider: String, properties: [String: String], alias: String,
                viewEntryCount: Int, dataFile: String, metaFile: String?, size: UInt64, blockSize: UInt32, managementURL: String?,
                vendorID: String, productID: String, serialNumber: String?, writeProtect: Bool,
                writebackCache: Bool, accessState: String = "Active", reason: String? = nil) {
        self.guid = guid; self.operationalStatus = operationalStatus; self.provider = provider
        self.properties = properties; self.providerName = provider
        self.alias = alias; self.viewEntryCount = viewEntryCount; self.dataFile = dataFile; self.metaFile = metaFile
        self.size = size; self.blockSize = blockSize; self.managementURL = managementURL; self.vendorID = vendorID
        self.productID = productID; self.serialNumber = serialNumber; self.writeProtect = writeProtect
        self.writebackCache = writebackCache; self.accessState = accessState; self.reason = reason
    }
}

/// A registered provider and the properties it takes (`GET /v1/providers`).
public struct ProviderInfo: Codable, Sendable, Equatable {
    public struct Property: Codable, Sendable, Equatable {
        public var name: String
        public var help: String
        /// "create", "modify", "import": the operations that take it.
        public var operations: [String]
        public init(name: String, help: String, operations: [String]) {
            self.name = name; self.help = help; self.operations = operations
        }
    }
    public var name: String
    /// "logical-unit" or "port".
    public var kind: String
    public var summary: String
    public var properties: [Property]
    public init(name: String, kind: String, summary: String, properties: [Property]) {
        self.name = name; self.kind = kind; self.summary = summary; self.properties = properties
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
    /// Seconds since the epoch (for a session of an LIO port: since stmfd first saw the login).
    public var loggedInSince: Double
    /// Sessions of LIO ports (tcm_loop, tcm_qla2xxx): the kernel's statistics of the nexus —
    /// commands, and megabytes read and written (truncated to 32 bits by the kernel); absent
    /// where the kernel keeps none (a login that sees no LUN) and for emulated ports.
    public var commands: UInt64?
    public var readMegabytes: UInt64?
    public var writeMegabytes: UInt64?
    public init(initiator: String, alias: String?, loggedInSince: Double, commands: UInt64? = nil,
                readMegabytes: UInt64? = nil, writeMegabytes: UInt64? = nil) {
        self.initiator = initiator; self.alias = alias; self.loggedInSince = loggedInSince
        self.commands = commands; self.readMegabytes = readMegabytes; self.writeMegabytes = writeMegabytes
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

/// `stmfadm modify-lu -f FILE`: an LU named by its backing file (or meta file). An LU stmfd
/// has is changed live; one it does not have is changed in its metadata (COMSTAR's
/// stmfModifyLuByFname).
public struct ModifyLUFileRequest: Codable, Sendable, Equatable {
    public var provider: String
    public var file: String
    public var properties: [String: String]
    public init(provider: String = defaultLUProvider, file: String, properties: [String: String] = [:]) {
        self.provider = provider; self.file = file; self.properties = properties
    }

    enum CodingKeys: String, CodingKey { case provider, file, properties }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        provider = try c.decodeIfPresent(String.self, forKey: .provider) ?? defaultLUProvider
        file = try c.decode(String.self, forKey: .file)
        properties = try PropertyBag.decodeIfPresent(c, forKey: .properties) ?? [:]
    }
}

/// A configuration restore point (`stmfadm list-backups`).
public struct BackupInfo: Codable, Sendable, Equatable {
    /// What `stmfadm restore` takes.
    public var name: String
    /// Seconds since the epoch.
    public var createdAt: Double
    /// "start", "import" (before an import --replace), "restore" (before a restore).
    public var reason: String
    /// Bytes of the export document.
    public var size: Int
    /// SHA-256 of the document's body, as its header carries it.
    public var sha256: String
    /// Why the document cannot be restored (damaged, truncated); nil when it verified.
    public var problem: String?
    /// What the configuration holds, when it verified.
    public var contents: Contents?

    public struct Contents: Codable, Sendable, Equatable {
        public var logicalUnits: Int
        public var hostGroups: Int
        public var targetGroups: Int
        public var viewEntries: Int
        public var targetPorts: Int
        public init(logicalUnits: Int, hostGroups: Int, targetGroups: Int, viewEntries: Int, targetPorts: Int) {
            self.logicalUnits = logicalUnits; self.hostGroups = hostGroups; self.targetGroups = targetGroups
            self.viewEntries = viewEntries; self.targetPorts = targetPorts
        }
    }

    public init(name: String, createdAt: Double, reason: String, size: Int, sha256: String, problem: String?, contents: Contents?) {
        self.name = name; self.createdAt = createdAt; self.reason = reason; self.size = size; self.sha256 = sha256
        self.problem = problem; self.contents = contents
    }
}

/// `stmfadm restore`: the restore point applied, and the one that keeps what it replaced.
public struct RestoreResult: Codable, Sendable, Equatable {
    public var restored: String
    /// The restore point made of the configuration before the restore (nil when there was none
    /// to keep: an empty service).
    public var previous: String?
    public init(restored: String, previous: String?) { self.restored = restored; self.previous = previous }
}
