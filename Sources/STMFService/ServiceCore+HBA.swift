import Foundation
#if canImport(Glibc)
import Glibc
#endif
import STMF
import STMFAPI
import Udev

/// Binding this machine's HBA ports to target mode by WWN (`fcadm bind-port`), as COMSTAR binds
/// a port to qlt. A binding is a target port record (`wwn.<WWPN>`, provider `qla2xxx`) in the
/// store, so export, import and restarts carry it; its properties remember the host's mode before
/// the binding, to restore on unbind. The kernel objects that serve it (LIO tcm_qla2xxx, TCMU)
/// are the kernel-path work; until then a bound port is in target mode at the driver and listed
/// as such, and stmfd follows it as it disappears and returns.
extension ServiceCore {
    static let qlogicProvider = "qla2xxx"

    // MARK: Watching the HBAs

    /// Starts the HBA watch (at load): the port list kept live, bound ports followed.
    func startHBAWatch() {
        guard hbaWatch == nil else { return }
        let watcher = HBAWatcher(discovery: hbaDiscovery, pollInterval: 2)
        let task = Task { [weak self] in
            for await change in watcher.changes() {
                guard let self else { return }
                await self.hbaChanged(change)
            }
        }
        hbaWatch = (watcher, task)
    }

    func stopHBAWatch() {
        hbaWatch?.watcher.stop()
        hbaWatch?.task.cancel()
        hbaWatch = nil
    }

    func hbaChanged(_ change: HBAChange) {
        let p = change.port
        switch change {
        case .removed:
            hbaPorts[p.portWWN] = nil
            if isBound(p.portWWN) {
                logger.warning("bound HBA port removed; its target is away until the port returns",
                               metadata: ["port": "\(p.portWWN)", "host": "\(p.host)"])
            }
        case .added, .changed:
            let before = hbaPorts[p.portWWN]
            hbaPorts[p.portWWN] = p
            guard isBound(p.portWWN) else { return }
            if case .added = change {
                logger.info("bound HBA port present", metadata: ["port": "\(p.portWWN)", "host": "\(p.host)", "state": "\(p.state)"])
            } else if before?.state != p.state {
                logger.info("bound HBA port link \(p.state)", metadata: ["port": "\(p.portWWN)", "host": "\(p.host)"])
            }
            // A port that came back (or whose driver was reloaded) in initiator mode is switched again.
            if p.qlogicMode?.host == "enabled" {
                let outcome = switchHost(p, to: "exclusive")
                logger.notice("bound HBA port returned in initiator mode: \(outcome.message ?? outcome.status)",
                              metadata: ["port": "\(p.portWWN)", "host": "\(p.host)"])
            }
        }
    }

    func isBound(_ wwpn: String) -> Bool {
        portRecords["wwn.\(wwpn)"]?.provider == Self.qlogicProvider
    }

    /// The ports now: the watch's list, or a fresh scan before the watch has reported.
    func currentHBAPorts() -> [String: HBAPort] {
        if hbaWatch != nil, !hbaPorts.isEmpty { return hbaPorts }
        guard let ports = try? hbaDiscovery.scan().ports else { return hbaPorts }
        return Dictionary(ports.map { ($0.portWWN, $0) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: API

    public func hbaBindings() -> [HBABindingInfo] {
        let ports = currentHBAPorts()
        return portRecords.values.filter { $0.provider == Self.qlogicProvider }.sorted { $0.name < $1.name }.map { rec in
            let wwpn = String(rec.name.dropFirst(4))
            return info(wwpn: wwpn, port: ports[wwpn], status: nil, message: nil)
        }
    }

    /// `fcadm bind-port`: refused for a WWN no port has, a port whose driver cannot be a target,
    /// an NPIV port, or one already bound; otherwise stored, then the host switched where the
    /// driver allows it.
    public func bindHBAPort(_ text: String) async throws(ServiceError) -> HBABindingInfo {
        let wwpn = try Self.parseHBAWWN(text)
        let name = "wwn.\(wwpn)"
        if isBound(wwpn) { throw .conflict("\(name): this HBA port is already bound to target mode", code: "ALREADY_BOUND") }
        if portRecords[name] != nil { throw .conflict("\(name): a target port of that name already exists", code: "TARGET_EXISTS") }
        let ports: [HBAPort]
        do { ports = try hbaDiscovery.scan().ports } catch { throw ServiceError(500, "DISCOVERY_FAILED", "\(error)") }
        guard let port = ports.first(where: { $0.portWWN == wwpn }) else {
            throw .notFound("\(name): no FC HBA port on this machine has this WWN (fcinfo hba-port lists them)", code: "HBA_PORT_NOT_FOUND")
        }
        if port.isVirtual {
            throw .badRequest("\(name): an NPIV port (\(port.host)) cannot be bound; bind its physical port \(port.physicalPortWWN ?? "?")",
                              code: "NPIV_PORT")
        }
        guard port.driverRole == .targetCapable else {
            let why = port.driver.map { d in
                FCDriver.named(d)?.role == .initiatorOnly ? "\(d) is an initiator-only driver" : "\(d) is not a known FC target driver"
            } ?? "no driver is bound to its PCI function"
            throw .conflict("\(name): \(port.host) cannot be a target: \(why); only qla2xxx ports can be bound", code: "NOT_TARGET_CAPABLE")
        }
        let rid = freeRelativeID()
        var props = ["node-wwn": port.nodeWWN]
        if let h = port.qlogicMode?.host { props["host-mode-before"] = h }
        if let pci = port.pci?.address { props["pci"] = pci }
        let rec = StoredConfiguration.TargetPort(name: name, provider: Self.qlogicProvider, alias: port.host,
                                                 properties: props, online: true, relativeID: rid)
        do { try store.write { db in try StoredConfiguration.upsertPort(db, rec) } } catch { throw .storeFailed(error) }
        portRecords[name] = rec
        let outcome = bindMode(port)
        // Where the kernel has LIO, the port becomes a tcm_qla2xxx target now.
        await startPorts()
        logger.notice("HBA port bound to target mode", metadata: ["port": "\(wwpn)", "host": "\(port.host)", "mode": "\(outcome.status)"])
        hbaPorts[wwpn] = (try? hbaDiscovery.scan().ports.first { $0.portWWN == wwpn }) ?? port
        return info(wwpn: wwpn, port: hbaPorts[wwpn], status: outcome.status, message: outcome.message)
    }

    /// `fcadm unbind-port`: removed from the store, the host returned to initiator mode.
    public func unbindHBAPort(_ text: String) async throws(ServiceError) -> HBABindingInfo {
        let wwpn = try Self.parseHBAWWN(text)
        let name = "wwn.\(wwpn)"
        guard let rec = portRecords[name], rec.provider == Self.qlogicProvider else {
            throw .notFound("\(name): this port is not bound to target mode", code: "NOT_BOUND")
        }
        do { try store.write { db in try db.execute(sql: "DELETE FROM target_port WHERE name = ?", arguments: [name]) } } catch {
            throw .storeFailed(error)
        }
        portRecords[name] = nil
        if startedPorts.removeValue(forKey: name) != nil { if let w = WWN(wwpn) { await lio.current?.removePort(.wwn(w)) } }
        let port = currentHBAPorts()[wwpn]
        var outcome: ModeOutcome = ("ready", nil)
        if let port, port.qlogicMode?.host != nil {
            let back = rec.properties["host-mode-before"].flatMap { ["enabled", "dual"].contains($0) ? $0 : nil } ?? "enabled"
            outcome = port.qlogicMode?.host == back ? ("ready", nil) : switchHost(port, to: back)
        } else if let port, let module = port.qlogicMode?.module, module == "exclusive" || module == "disabled" {
            outcome = ("ready", "qla2xxx was loaded with qlini_mode=\(module): the port is an initiator again only "
                + (module == "exclusive" ? "once no target is enabled on it" : "after qla2xxx is reloaded with qlini_mode=dual or enabled"))
        } else if port == nil {
            outcome = ("absent", "the port is not on this machine now")
        }
        logger.notice("HBA port unbound", metadata: ["port": "\(wwpn)", "mode": "\(outcome.status)"])
        hbaPorts[wwpn] = (try? hbaDiscovery.scan().ports.first { $0.portWWN == wwpn }) ?? port
        return info(wwpn: wwpn, port: hbaPorts[wwpn], status: outcome.status, message: outcome.message)
    }

    // MARK: qla2xxx mode

    typealias ModeOutcome = (status: String, message: String?)

    /// What the binding needs of the driver's mode, done where sysfs allows it.
    func bindMode(_ port: HBAPort) -> ModeOutcome {
        guard let mode = port.qlogicMode else { return ("unknown", "the driver's mode could not be read") }
        switch mode.module {
        case "dual":
            switch mode.host {
            case "exclusive", "disabled", "dual": return ("ready", nil)
            default: return switchHost(port, to: "exclusive")
            }
        case "exclusive", "disabled":
            return ("ready", nil)
        case "enabled":
            return ("reload-required", Self.reloadInstructions)
        default:
            return ("unknown", "cannot read /sys/module/qla2xxx/parameters/qlini_mode; if qla2xxx was loaded with "
                    + "qlini_mode=enabled (the default) no port can be a target: " + Self.reloadInstructions)
        }
    }

    static let reloadInstructions = "qla2xxx was loaded with qlini_mode=enabled, which never allows target mode. "
        + "Put the line `options qla2xxx qlini_mode=dual` in /etc/modprobe.d/qla2xxx.conf (dual keeps every port an "
        + "initiator until it is bound), run `update-initramfs -u` if the initramfs loads qla2xxx, then reload the "
        + "module (`modprobe -r qla2xxx && modprobe qla2xxx`: every port's initiator LUNs go away meanwhile) or reboot; "
        + "stmfd then switches this port when it returns."

    /// Writes the host's `qlini_mode` and reads it back (the driver refuses some changes while
    /// still returning success). The write resets the chip: every login drops and comes back.
    func switchHost(_ port: HBAPort, to mode: String) -> ModeOutcome {
        let path = "/sys/class/scsi_host/\(port.host)/qlini_mode"
        let fd = Glibc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)   // as `echo mode >` does
        guard fd >= 0 else {
            let e = errno
            return ("unknown", "cannot write \(path): \(String(cString: strerror(e)))"
                    + (e == EACCES || e == EPERM ? " (stmfd needs root to change the port's mode)" : ""))
        }
        let n = mode.withCString { write(fd, $0, strlen($0)) }
        let writeErrno = errno
        close(fd)
        if n < 0 { return ("unknown", "writing \(mode) to \(path) failed: \(String(cString: strerror(writeErrno)))") }
        let now = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap(QLogicMode.parseHostAttribute)
        guard now == mode else {
            return ("unknown", "qla2xxx did not take qlini_mode=\(mode) on \(port.host) (it reads \(now ?? "nothing")); "
                    + "a target still enabled on the port refuses the change: see the kernel log")
        }
        return ("switched", "\(port.host) qlini_mode \(port.qlogicMode?.host ?? "?") -> \(mode): the HBA reset, its logins dropped and return")
    }

    // MARK: helpers

    static func parseHBAWWN(_ text: String) throws(ServiceError) -> String {
        guard let w = WWN(text.hasPrefix("wwn.") ? String(text.dropFirst(4)) : text) else {
            throw .badRequest(Wording.invalidWWN(text), code: "INVALID_WWN")
        }
        return w.hex.lowercased()
    }

    /// A relative target port identifier no stored or live port uses, kept for the target the
    /// kernel path will register for this binding.
    func freeRelativeID() -> UInt16 {
        let used = Set(portRecords.values.map(\.relativeID)).union(stmf.targetPorts().map(\.relativeID))
        var rid: UInt16 = 1
        while used.contains(rid) { rid += 1 }
        return rid
    }

    func info(wwpn: String, port: HBAPort?, status: String?, message: String?) -> HBABindingInfo {
        let fallback: ModeOutcome
        if let port {
            switch (port.qlogicMode?.module, port.qlogicMode?.host) {
            case ("enabled", _): fallback = ("reload-required", Self.reloadInstructions)
            case ("dual", "enabled"?): fallback = ("unknown", "the host is in initiator mode; stmfd switches it when it is seen again")
            case (nil, nil): fallback = ("unknown", nil)
            default: fallback = ("ready", nil)
            }
        } else {
            fallback = ("absent", "the port is not on this machine now; it stays bound and returns with its HBA")
        }
        return HBABindingInfo(portWWN: wwpn, target: "wwn.\(wwpn)", present: port != nil, host: port?.host, driver: port?.driver,
                              linkState: port.map { Self.linkWord($0.state) }, moduleMode: port?.qlogicMode?.module,
                              hostMode: port?.qlogicMode?.host, modeStatus: status ?? fallback.status,
                              message: status == nil ? fallback.message : message)
    }

    static func linkWord(_ s: String) -> String {
        switch s.lowercased() {
        case "online": return "online"
        case "linkdown": return "link down"
        default: return s.lowercased()
        }
    }
}
