/// The FC HBA drivers the product knows, and which of them can put a port in target mode.
public enum FCDriverRole: String, Sendable, Codable {
    /// The driver has a target-mode fabric module in LIO the product can bind the port to.
    case targetCapable = "target-capable"
    /// An FC driver with no target mode in the kernel: the port can only be an initiator.
    case initiatorOnly = "initiator-only"
    /// Not an FC driver this table knows.
    case unknown
}

public struct FCDriver: Sendable, Equatable {
    public var name: String
    public var role: FCDriverRole
    /// The LIO fabric module that serves this driver's ports as targets.
    public var targetFabricModule: String?
    public var vendor: String

    /// The table: qla2xxx is the one driver with a LIO target fabric (tcm_qla2xxx). lpfc has no
    /// target mode in the kernel (its NVMe target is not SCSI), bfa none, and the FCoE drivers
    /// (bnx2fc, qedf, fcoe through libfc) are initiators; tcm_fc serves FCoE through libfc, a
    /// software path the product does not offer.
    public static let known: [FCDriver] = [
        FCDriver(name: "qla2xxx", role: .targetCapable, targetFabricModule: "tcm_qla2xxx", vendor: "QLogic Corp."),
        FCDriver(name: "lpfc", role: .initiatorOnly, targetFabricModule: nil, vendor: "Emulex Corporation"),
        FCDriver(name: "bfa", role: .initiatorOnly, targetFabricModule: nil, vendor: "Brocade Communications Systems, Inc."),
        FCDriver(name: "bnx2fc", role: .initiatorOnly, targetFabricModule: nil, vendor: "Broadcom / QLogic"),
        FCDriver(name: "qedf", role: .initiatorOnly, targetFabricModule: nil, vendor: "QLogic Corp."),
        FCDriver(name: "fcoe", role: .initiatorOnly, targetFabricModule: nil, vendor: "Open-FCoE"),
    ]

    public static func named(_ name: String?) -> FCDriver? {
        guard let name else { return nil }
        return known.first { $0.name == name }
    }

    /// PCI vendor ids of FC HBA makers, for the Manufacturer line when the driver does not say.
    static func manufacturer(pciVendor: UInt16) -> String? {
        switch pciVendor {
        case 0x1077: return "QLogic Corp."
        case 0x10df: return "Emulex Corporation"
        case 0x1657: return "Brocade Communications Systems, Inc."
        case 0x14e4: return "Broadcom Inc."
        case 0x19a2: return "Emulex Corporation (ServerEngines)"
        default: return nil
        }
    }
}
