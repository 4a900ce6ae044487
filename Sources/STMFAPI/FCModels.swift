/// `fcadm create-emulated-port`: a persistent emulated FC target port of stmfd.
public struct CreateEmulatedPortRequest: Codable, Sendable, Equatable {
    /// Port WWN (16 hex digits, colons or `wwn.` allowed).
    public var portWWN: String
    /// Node WWN; derived from the port WWN when absent.
    public var nodeWWN: String?
    /// The emulated fabric's socket.
    public var fabric: String
    public init(portWWN: String, nodeWWN: String? = nil, fabric: String) {
        self.portWWN = portWWN; self.nodeWWN = nodeWWN; self.fabric = fabric
    }
}

/// A remote N_Port logged in to a local FC port (`fcinfo remote-port`).
public struct RemotePortInfo: Codable, Sendable, Equatable {
    public var portWWN: String
    public var nodeWWN: String
    public var portID: String
    /// FC-4 types with an established process login ("SCSI" for FCP).
    public var activeFC4Types: [String]
    public var scsiTarget: Bool
    public var scsiInitiator: Bool
    /// Whether an STMF session (I_T nexus) exists for it.
    public var session: Bool
    /// The symbolic name the port registered with the fabric's name server (RSPN_ID), when the
    /// fabric could be asked.
    public var symbolicName: String?
    /// The port's link error status as the fabric counts it (what RLS to the fabric controller
    /// answers), when the fabric could be asked.
    public var linkErrors: FCLinkErrors?
    public init(portWWN: String, nodeWWN: String, portID: String, activeFC4Types: [String],
                scsiTarget: Bool, scsiInitiator: Bool, session: Bool, symbolicName: String? = nil, linkErrors: FCLinkErrors? = nil) {
        self.portWWN = portWWN; self.nodeWWN = nodeWWN; self.portID = portID; self.activeFC4Types = activeFC4Types
        self.scsiTarget = scsiTarget; self.scsiInitiator = scsiInitiator; self.session = session
        self.symbolicName = symbolicName; self.linkErrors = linkErrors
    }
}

/// A local FC port of stmfd (`fcinfo hba-port`).
public struct FCPortInfo: Codable, Sendable, Equatable {
    public var portWWN: String
    public var nodeWWN: String
    /// "Target".
    public var portMode: String
    /// N_Port ID when logged in to the fabric.
    public var portID: String?
    /// "online" when logged in to the fabric, else "offline" / "link down".
    public var state: String
    /// STMF's state of the target port.
    public var targetState: String
    public var driverName: String
    public var fabric: String
    public var remotePorts: [RemotePortInfo]
    public var openExchanges: Int
    /// The port's link error status block (what RLS answers).
    public var linkErrors: FCLinkErrors
    public init(portWWN: String, nodeWWN: String, portMode: String, portID: String?, state: String, targetState: String,
                driverName: String, fabric: String, remotePorts: [RemotePortInfo], openExchanges: Int,
                linkErrors: FCLinkErrors = FCLinkErrors()) {
        self.portWWN = portWWN; self.nodeWWN = nodeWWN; self.portMode = portMode; self.portID = portID
        self.state = state; self.targetState = targetState; self.driverName = driverName; self.fabric = fabric
        self.remotePorts = remotePorts; self.openExchanges = openExchanges; self.linkErrors = linkErrors
    }
}

/// An FC port's link error status block (FC-LS-3 RLS), as `fcinfo hba-port -l` shows it.
public struct FCLinkErrors: Codable, Sendable, Equatable {
    public var linkFailures: UInt32 = 0
    public var lossOfSync: UInt32 = 0
    public var lossOfSignal: UInt32 = 0
    public var primitiveSequenceProtocolErrors: UInt32 = 0
    public var invalidTransmissionWords: UInt32 = 0
    public var invalidCRCs: UInt32 = 0
    public init(linkFailures: UInt32 = 0, lossOfSync: UInt32 = 0, lossOfSignal: UInt32 = 0,
                primitiveSequenceProtocolErrors: UInt32 = 0, invalidTransmissionWords: UInt32 = 0, invalidCRCs: UInt32 = 0) {
        self.linkFailures = linkFailures; self.lossOfSync = lossOfSync; self.lossOfSignal = lossOfSignal
        self.primitiveSequenceProtocolErrors = primitiveSequenceProtocolErrors
        self.invalidTransmissionWords = invalidTransmissionWords; self.invalidCRCs = invalidCRCs
    }
}

/// `fcadm bind-port`: put an HBA port of this machine into target mode (STMF target `wwn.<WWPN>`).
public struct BindHBAPortRequest: Codable, Sendable, Equatable {
    /// The port's WWN (16 hex digits, colons or `wwn.` allowed).
    public var portWWN: String
    public init(portWWN: String) { self.portWWN = portWWN }
}

/// A bound HBA port: what the store holds and what stmfd sees of the port now.
public struct HBABindingInfo: Codable, Sendable, Equatable {
    /// 16 lowercase hex digits.
    public var portWWN: String
    /// The STMF target name, `wwn.<WWPN>`.
    public var target: String
    /// Whether the port is on this machine now (a removed HBA stays bound and returns).
    public var present: Bool
    public var host: String?
    public var driver: String?
    /// The port's link state ("online", "link down"…) when present.
    public var linkState: String?
    /// qla2xxx `qlini_mode` of the module and of the host (dual mode only).
    public var moduleMode: String?
    public var hostMode: String?
    /// ready: the driver's mode lets the port be a target; switched: stmfd changed the host's
    /// mode for the binding (the chip reset, logins dropped and came back); reload-required:
    /// the module must be reloaded with another qlini_mode (see `message`); absent: the port is
    /// not on the machine; unknown: the mode could not be read.
    public var modeStatus: String
    /// What the administrator must do, or what happened.
    public var message: String?
    public init(portWWN: String, target: String, present: Bool, host: String?, driver: String?, linkState: String?,
                moduleMode: String?, hostMode: String?, modeStatus: String, message: String?) {
        self.portWWN = portWWN; self.target = target; self.present = present; self.host = host; self.driver = driver
        self.linkState = linkState; self.moduleMode = moduleMode; self.hostMode = hostMode
        self.modeStatus = modeStatus; self.message = message
    }
}

/// `fcadm create-loop-port`: a LIO tcm_loop target (FCP) whose nexus is `initiatorWWN`.
public struct CreateLoopPortRequest: Codable, Sendable, Equatable {
    public var portWWN: String
    public var initiatorWWN: String
    public init(portWWN: String, initiatorWWN: String) { self.portWWN = portWWN; self.initiatorWWN = initiatorWWN }
}

/// A LIO target of stmfd and the TCMU devices that serve its LUs (`fcadm list-loop-port`).
public struct LIOPortInfo: Codable, Sendable, Equatable {
    /// One TCMU device: one LU as one initiator sees it through this port.
    public struct Device: Codable, Sendable, Equatable {
        public var lu: String
        public var initiator: String
        public var lun: Int
        /// The uio device its ring is mapped from.
        public var uio: String
        /// The backstore's name under core/user_<hba>.
        public var name: String
        public var commands: UInt64
        /// Commands whose data the kernel split over several iovecs (served through a copy).
        public var copiedCommands: UInt64
        public var taskManagement: UInt64
        public init(lu: String, initiator: String, lun: Int, uio: String, name: String, commands: UInt64,
                    copiedCommands: UInt64, taskManagement: UInt64) {
            self.lu = lu; self.initiator = initiator; self.lun = lun; self.uio = uio; self.name = name
            self.commands = commands; self.copiedCommands = copiedCommands; self.taskManagement = taskManagement
        }
    }
    public var target: String
    public var fabric: String
    /// The target's configfs directory.
    public var configfs: String
    public var initiators: [String]
    public var targetState: String
    public var devices: [Device]
    public init(target: String, fabric: String, configfs: String, initiators: [String], targetState: String, devices: [Device]) {
        self.target = target; self.fabric = fabric; self.configfs = configfs; self.initiators = initiators
        self.targetState = targetState; self.devices = devices
    }
}
