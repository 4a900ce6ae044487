/// One FC HBA port of this machine as udev and sysfs describe it (`fcinfo hba-port`).
public struct HBAPort: Sendable, Equatable, Codable {
    /// The SCSI host (`host7`), its number, and the fc_host's sysfs path.
    public var host: String
    public var hostNumber: Int
    public var sysfsPath: String
    /// 16 lowercase hex digits (the kernel prints `0x%llx` without padding; padded here).
    public var portWWN: String
    public var nodeWWN: String
    /// The N_Port ID as 6 hex digits; nil while the link is down (the kernel shows 0x000000).
    public var portID: String?
    /// `port_state` as the kernel says it: Online, Linkdown, Offline, Blocked, Diagnostics…
    public var state: String
    /// `port_type`: "NPort (fabric via point-to-point)", "NPIV VPORT", "LPort (private loop)"…
    public var type: String?
    /// `speed` ("8 Gbit", "unknown") and `supported_speeds`, as listed.
    public var speed: String?
    public var supportedSpeeds: [String]
    public var supportedClasses: [String]
    /// The fabric's name as 16 hex digits; nil when there is no fabric (the kernel shows all ones).
    public var fabricName: String?
    public var symbolicName: String?
    public var devLossTimeout: Int?
    public var maxNPIVPorts: Int?
    public var npivPortsInUse: Int?
    /// An NPIV virtual port (its host hangs below a vport of the physical port).
    public var isVirtual: Bool
    /// For a virtual port: the physical port's WWPN.
    public var physicalPortWWN: String?

    // From the driver (the scsi_host, or the fc_host where the driver fills those attributes).
    public var manufacturer: String?
    public var model: String?
    public var modelDescription: String?
    public var serialNumber: String?
    public var firmwareVersion: String?
    public var driverVersion: String?
    /// Option ROM images: "BIOS" → "3.64", "FCode" → …, "EFI" → …, "FW" → ….
    public var optionROMVersions: [String: String]
    /// The port's number on a multi-port card (qla2xxx `port_no`).
    public var portNumber: Int?
    /// The driver's own link line (qla2xxx `link_state`: "Link UP - F_Port").
    public var linkState: String?

    /// The PCI function the port sits on, and what claims it.
    public var pci: PCIFunction?
    /// The driver bound to the PCI function (its `driver` link); nil if none is bound.
    public var driver: String?
    /// What the product may do with the port, from the *bound* driver.
    public var driverRole: FCDriverRole
    /// qla2xxx only: the initiator/target mode of the module and of this host.
    public var qlogicMode: QLogicMode?

    public var canBeTarget: Bool { driverRole == .targetCapable && !isVirtual }
}

/// The PCI function of an HBA port.
public struct PCIFunction: Sendable, Equatable, Codable {
    /// The PCI address (`0000:05:00.0`).
    public var address: String
    public var id: PCIIdentity
    public var revision: String?
    public var pciClass: String?
    /// The drivers the alias tables say claim this device: the override file's first, then the
    /// kernel's modules.alias (loaded or not).
    public var claimedBy: [String]
    /// Where each claim came from: "driver_aliases line N" or "modules.alias".
    public var claimSources: [String]
}

/// The initiator/target mode of a qla2xxx port (`qlini_mode`), as far as sysfs tells.
public struct QLogicMode: Sendable, Equatable, Codable {
    /// The module parameter, fixed at load: enabled (initiator only, never a target), exclusive,
    /// disabled or dual. nil if /sys/module/qla2xxx/parameters/qlini_mode cannot be read.
    public var module: String?
    /// The host's own switch, present only when the module was loaded with qlini_mode=dual.
    public var host: String?
    /// Whether this host's mode can be changed without reloading the module.
    public var switchable: Bool { host != nil }
    /// The mode in force for the host.
    public var effective: String? { host ?? module }

    /// Parses the per-host attribute: a line of options, then "Current selection: <mode>".
    public static func parseHostAttribute(_ text: String) -> String? {
        for line in text.split(separator: "\n") {
            let l = line.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            if l.lowercased().hasPrefix("current selection:") {
                return String(l.dropFirst("current selection:".count).trimmingPrefix(while: { $0 == " " })).lowercased()
            }
        }
        let t = text.trimmingPrefix(while: { $0 == " " }).lowercased()
        return ["enabled", "disabled", "dual", "exclusive"].contains(t) ? t : nil
    }
}

/// The fc_host link statistics (`fc_host/hostN/statistics`), read on demand: each read of a
/// file is a firmware mailbox command on qla2xxx. A counter the driver could not read shows as
/// all ones in sysfs and is nil here.
public struct FCHostStatistics: Sendable, Equatable, Codable {
    public var counters: [String: UInt64]
    /// Files whose value was all ones (unavailable) or unreadable.
    public var unavailable: [String]

    public subscript(_ name: String) -> UInt64? { counters[name] }
}

public enum DiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
    case udevUnavailable(String)
    case noSuchPort(String)

    public var description: String {
        switch self {
        case .udevUnavailable(let s): return "udev is not available: \(s)"
        case .noSuchPort(let w): return "\(w): no FC HBA port has this WWN"
        }
    }
}

/// A remote port an HBA port knows (`fc_remote_ports/rport-H:C-N`): in initiator or dual mode
/// the driver registers every port it logged in with; in target-only mode none appear.
public struct HBARemotePort: Sendable, Equatable, Codable {
    public var name: String
    public var portWWN: String
    public var nodeWWN: String
    public var portID: String?
    /// "FCP Target", "FCP Initiator", both, or none.
    public var roles: [String]
    /// Online, Blocked (link or login lost, held for dev_loss_tmo), Not Present, …
    public var state: String
    public var scsiTargetID: Int?
    public var devLossTimeout: Int?
    public var supportedClasses: [String]
}

/// A SCSI logical unit this machine reaches through one of its FC HBA ports (initiator mode),
/// as `fcinfo logical-unit` lists it: the OS device, and the path to it.
public struct FCLogicalUnit: Sendable, Equatable, Codable {
    /// The block device (`/dev/sdb`), or the SCSI generic device when there is no block device.
    public var osDeviceName: String
    /// `/dev/sgN`, when the sg driver has one.
    public var genericDevice: String?
    /// host:channel:target:lun.
    public var hctl: String
    public var hbaPortWWN: String
    public var remotePortWWN: String
    public var lun: Int
    public var vendor: String
    public var product: String
    /// The SCSI peripheral device type (0 direct access, 1 sequential, 5 CD/DVD, 8 changer…).
    public var deviceType: Int

    public init(osDeviceName: String, genericDevice: String?, hctl: String, hbaPortWWN: String, remotePortWWN: String,
                lun: Int, vendor: String, product: String, deviceType: Int) {
        self.osDeviceName = osDeviceName; self.genericDevice = genericDevice; self.hctl = hctl
        self.hbaPortWWN = hbaPortWWN; self.remotePortWWN = remotePortWWN; self.lun = lun
        self.vendor = vendor; self.product = product; self.deviceType = deviceType
    }
}
