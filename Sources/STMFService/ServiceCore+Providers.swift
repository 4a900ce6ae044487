import FCLink
import LinuxTarget
import PassThrough
import Runtime
import FCPort
import FCTarget
import Logging
import SBD
import STMF

/// The providers stmfd registers: the only place the service names a provider's own types.
extension ProviderRegistry {
    /// `sbd` and `sg` (SCSI pass-through) for logical units; `fcemu` (emulated FC target
    /// ports), `qla2xxx` (bound HBA ports) and `tcm-loop` (LIO loopback targets served through
    /// TCMU) for target ports. `stateDirectory`: where `sg` keeps APTPL reservations.
    public static func stmfd(logger: Logger, lio: LIOHost, stateDirectory: String? = nil) -> ProviderRegistry {
        var r = ProviderRegistry()
        do {
            try r.register(SBDProvider())
            try r.register(SGProvider(loops: .shared, control: EventLoopGroup.shared.next(), stateDirectory: stateDirectory))
            try r.register(EmulatedPortProvider(logger: logger))
            try r.register(QLogicPortProvider(host: lio))
            try r.register(LoopPortProvider(host: lio))
        } catch {
            preconditionFailure("stmfd's providers do not register: \(error)")
        }
        return r
    }
}

/// `fcemu`: a persistent emulated FC target port of stmfd on an `fcfabric` socket
/// (`fcadm create-emulated-port`).
struct EmulatedPortProvider: PortProviderFactory {
    let logger: Logger
    var name: String { ServiceCore.emulatedProvider }
    var summary: String { "emulated Fibre Channel target ports on an fcfabric switch" }
    var properties: [ProviderPropertyHelp] {
        [.init("fabric", "the emulated fabric's socket"), .init("node-wwn", "the port's node WWN, 16 hex digits")]
    }

    func start(_ port: StoredTargetPort, stmf: STMF) throws -> (any PortProvider)? {
        guard case let .wwn(wwpn) = port.name else { throw STMFError.providerFailed("\(port.name) is not an FC port name") }
        let p = EmulatedTargetPort(stmf: stmf, portName: wwpn, nodeName: port.properties["node-wwn"].flatMap { WWN($0) },
                                   fabricPath: port.properties["fabric"] ?? FabricAddress.defaultSocketPath, logger: logger)
        _ = try p.register(alias: port.alias, relativeID: port.relativeID)
        return p
    }
}

/// `qla2xxx`: an HBA port of this machine bound to target mode (`fcadm bind-port`). stmfd keeps
/// the binding and follows the port through the HBA watch; where the kernel has LIO, the port
/// is a tcm_qla2xxx target whose LUs stmfd serves through TCMU (explicit ACLs for the
/// initiators the host groups name, logins on dynamic ACLs turned into explicit ones).
struct QLogicPortProvider: PortProviderFactory {
    let host: LIOHost
    var name: String { ServiceCore.qlogicProvider }
    var summary: String { "QLogic HBA ports bound to target mode by WWN (served by the kernel path)" }
    var properties: [ProviderPropertyHelp] {
        [.init("node-wwn", "the port's node WWN"), .init("host-mode-before", "the host's qlini_mode before the binding, restored on unbind"),
         .init("pci", "the HBA's PCI address")]
    }

    func start(_ port: StoredTargetPort, stmf: STMF) throws -> (any PortProvider)? {
        guard case let .wwn(wwpn) = port.name, case let .success(binding) = host.binding(stmf) else { return nil }
        return try binding.addPort(LIOPort(wwpn: wwpn, fabric: .qla2xxx, initiators: []), alias: port.alias, relativeID: port.relativeID)
    }
}
