/// Finds this machine's FC HBA ports through libudev: every `fc_host`, its `scsi_host`, the PCI
/// function it sits on and the driver bound to that function (read from the function's `driver`
/// link, never guessed from a model or symbolic name), plus which drivers the alias tables say
/// claim the device.
public struct HBADiscovery: Sendable {
    public var modulesAliasPath: String
    public var driverAliasesPath: String
    /// Where module parameters are (`/sys/module`).
    public var moduleParametersRoot: String

    public init(modulesAliasPath: String = ModuleAliases.defaultPath,
                driverAliasesPath: String = DriverAliasOverrides.defaultPath,
                moduleParametersRoot: String = "/sys/module") {
        self.modulesAliasPath = modulesAliasPath
        self.driverAliasesPath = driverAliasesPath
        self.moduleParametersRoot = moduleParametersRoot
    }

    public struct Inventory: Sendable, Equatable {
        public var ports: [HBAPort]
        /// Lines of the override file that could not be used (the rest applied).
        public var aliasProblems: [DriverAliasOverrides.Problem]
        /// Which override file was read, if one exists.
        public var driverAliasesFile: String?
        /// Whether the kernel's modules.alias was found.
        public var modulesAliasFound: Bool
    }

    public func scan() throws(DiscoveryError) -> Inventory {
        let ctx = try UdevContext()
        let overrides = DriverAliasOverrides.load(path: driverAliasesPath)
        let aliases = ModuleAliases.load(path: modulesAliasPath)
        var ports: [HBAPort] = []
        for d in try ctx.devices(subsystem: "fc_host") {
            ports.append(port(d, ctx: ctx, overrides: overrides, aliases: aliases))
        }
        // In SCSI host order (host9, host10, host11), as the kernel numbered them.
        ports.sort { ($0.hostNumber, $0.sysfsPath) < ($1.hostNumber, $1.sysfsPath) }
        return Inventory(ports: ports, aliasProblems: overrides.problems, driverAliasesFile: overrides.path,
                         modulesAliasFound: aliases != nil)
    }

    /// The link statistics of a port, read now (each file is a firmware query on qla2xxx).
    public func statistics(of port: HBAPort) -> FCHostStatistics {
        let dir = port.sysfsPath + "/statistics"
        var counters: [String: UInt64] = [:]
        var unavailable: [String] = []
        for name in SysfsFile.list(dir) where name != "reset_statistics" {
            guard let text = SysfsFile.read(dir + "/" + name), let v = Self.hexValue(text), v != UInt64.max else {
                unavailable.append(name)
                continue
            }
            counters[name] = v
        }
        return FCHostStatistics(counters: counters, unavailable: unavailable)
    }

    /// The remote ports below a port's SCSI host, by name.
    public func remotePorts(of port: HBAPort) throws(DiscoveryError) -> [HBARemotePort] {
        let ctx = try UdevContext()
        return try ctx.devices(subsystem: "fc_remote_ports")
            .filter { $0.syspath.contains("/\(port.host)/rport-") }
            .map { d in
                HBARemotePort(
                    name: d.sysname,
                    portWWN: d.attribute("port_name").flatMap(Self.wwn) ?? "0000000000000000",
                    nodeWWN: d.attribute("node_name").flatMap(Self.wwn) ?? "0000000000000000",
                    portID: d.attribute("port_id").flatMap(Self.hexValue).flatMap { $0 == 0 ? nil : Self.padded($0, 6) },
                    roles: Self.list(d.attribute("roles")),
                    state: d.attribute("port_state") ?? "Unknown",
                    scsiTargetID: d.attribute("scsi_target_id").flatMap { Int($0) }.flatMap { $0 < 0 ? nil : $0 },
                    devLossTimeout: d.attribute("dev_loss_tmo").flatMap { Int($0) },
                    supportedClasses: Self.list(d.attribute("supported_classes")))
            }
            .sorted { ($0.name.count, $0.name) < ($1.name.count, $1.name) }   // rport-6:0-2 before rport-6:0-10
    }

    /// The SCSI logical units below FC remote ports (sysfs `hostH/rport-H:B-R/targetH:C:T/H:C:T:L`),
    /// with their block and sg devices, in host:channel:target:lun order.
    public func logicalUnits() throws(DiscoveryError) -> [FCLogicalUnit] {
        let ctx = try UdevContext()
        let blocks = try ctx.devices(subsystem: "block")
        let generics = try ctx.devices(subsystem: "scsi_generic")
        func child(_ list: [UdevDevice], of d: UdevDevice) -> String? {
            list.first { $0.syspath.hasPrefix(d.syspath + "/") }.map { $0.property("DEVNAME") ?? "/dev/" + $0.sysname }
        }
        var out: [(key: [Int], lu: FCLogicalUnit)] = []
        for d in try ctx.devices(subsystem: "scsi") where d.devtype == "scsi_device" {
            let components = d.syspath.split(separator: "/").map(String.init)
            guard let rport = components.first(where: { $0.hasPrefix("rport-") }),
                  let host = components.first(where: { $0.hasPrefix("host") && $0.dropFirst(4).allSatisfy(\.isNumber) }) else { continue }
            let hctl = d.sysname.split(separator: ":").compactMap { Int($0) }
            guard hctl.count == 4 else { continue }
            let remote = ctx.device(subsystem: "fc_remote_ports", sysname: rport)?.attribute("port_name").flatMap(Self.wwn)
            let local = ctx.device(subsystem: "fc_host", sysname: host)?.attribute("port_name").flatMap(Self.wwn)
            let sg = child(generics, of: d)
            let name = child(blocks, of: d) ?? sg ?? d.sysname
            out.append((hctl, FCLogicalUnit(
                osDeviceName: name, genericDevice: sg, hctl: d.sysname,
                hbaPortWWN: local ?? "0000000000000000", remotePortWWN: remote ?? "0000000000000000", lun: hctl[3],
                vendor: Self.trimmed(d.attribute("vendor")),
                product: Self.trimmed(d.attribute("model")),
                deviceType: Int(Self.trimmed(d.attribute("type"))) ?? 0x1F)))
        }
        return out.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.lu)
    }

    /// An attribute without the padding INQUIRY strings and sysfs newlines carry.
    static func trimmed(_ s: String?) -> String {
        var t = Substring(s ?? "")
        while let c = t.first, c == " " || c == "\n" || c == "\t" { t = t.dropFirst() }
        while let c = t.last, c == " " || c == "\n" || c == "\t" { t = t.dropLast() }
        return String(t)
    }

    // MARK: one port

    private func port(_ fc: UdevDevice, ctx: UdevContext, overrides: DriverAliasOverrides,
                      aliases: ModuleAliases?) -> HBAPort {
        let host = fc.sysname
        let scsi = ctx.device(subsystem: "scsi_host", sysname: host)
        let pciDevice = fc.parent(subsystem: "pci")
        let driver = pciDevice?.linkName("driver")
        let portType = fc.attribute("port_type")
        let components = fc.syspath.split(separator: "/")
        let isVirtual = (portType?.uppercased().contains("NPIV") ?? false) || components.contains { $0.hasPrefix("vport-") }
        var physical: String?
        if isVirtual, let v = components.firstIndex(where: { $0.hasPrefix("vport-") }), v > 0,
           components[v - 1].hasPrefix("host") {
            physical = ctx.device(subsystem: "fc_host", sysname: String(components[v - 1]))?
                .attribute("port_name").flatMap(Self.wwn)
        }

        // Inventory: the transport's own attributes where the driver fills them (bfa), else the
        // driver's scsi_host attributes (qla2xxx, lpfc names).
        func first(_ names: [String], _ devices: [UdevDevice?]) -> String? {
            for d in devices {
                for n in names {
                    if let v = d?.attribute(n), !v.isEmpty { return v }
                }
            }
            return nil
        }
        let both = [fc, scsi]
        var roms: [String: String] = [:]
        for (key, names) in [("BIOS", ["optrom_bios_version"]), ("FCode", ["optrom_fcode_version"]),
                             ("EFI", ["optrom_efi_version"]), ("FW", ["optrom_fw_version"]),
                             ("Option ROM", ["optionrom_version", "option_rom_version"])] {
            if let v = first(names, both), !v.isEmpty, v != "0.00", v != "0.0.0", v != "0.00.00" { roms[key] = v }
        }

        var pci: PCIFunction?
        var vendor: UInt16?
        if let p = pciDevice {
            let id = PCIIdentity(
                vendor: p.attribute("vendor").flatMap(Self.hex16) ?? 0,
                device: p.attribute("device").flatMap(Self.hex16) ?? 0,
                subsystemVendor: p.attribute("subsystem_vendor").flatMap(Self.hex16),
                subsystemDevice: p.attribute("subsystem_device").flatMap(Self.hex16),
                modalias: p.attribute("modalias") ?? p.property("MODALIAS"))
            vendor = id.vendor
            var claimed: [String] = [], sources: [String] = []
            for e in overrides.entries where overrides.drivers(for: id).contains(e.driver) && !claimed.contains(e.driver)
                && e.vendor == id.vendor && e.device == id.device {
                claimed.append(e.driver)
                sources.append("\(overrides.path ?? DriverAliasOverrides.defaultPath) line \(e.line)")
            }
            if let m = id.modalias, let aliases {
                for module in aliases.modules(matching: m) where !claimed.contains(module) {
                    claimed.append(module)
                    sources.append("modules.alias")
                }
            }
            pci = PCIFunction(address: p.sysname, id: id, revision: p.attribute("revision"), pciClass: p.attribute("class"),
                              claimedBy: claimed, claimSources: sources)
        }

        var mode: QLogicMode?
        if driver == "qla2xxx" {
            let hostMode = scsi?.attribute("qlini_mode").flatMap(QLogicMode.parseHostAttribute)
            // The per-host switch exists only when the module was loaded with qlini_mode=dual.
            mode = QLogicMode(
                module: SysfsFile.read(moduleParametersRoot + "/qla2xxx/parameters/qlini_mode")?.lowercased()
                    ?? (hostMode != nil ? "dual" : nil),
                host: hostMode)
        }

        let portID = fc.attribute("port_id").flatMap(Self.hexValue).flatMap { $0 == 0 ? nil : $0 }
        let fabric = fc.attribute("fabric_name").flatMap(Self.hexValue).flatMap { $0 == 0 || $0 == UInt64.max ? nil : $0 }
        return HBAPort(
            host: host,
            hostNumber: Int(host.drop(while: { !$0.isNumber })) ?? -1,
            sysfsPath: fc.syspath,
            portWWN: fc.attribute("port_name").flatMap(Self.wwn) ?? "0000000000000000",
            nodeWWN: fc.attribute("node_name").flatMap(Self.wwn) ?? "0000000000000000",
            portID: portID.map { Self.padded($0, 6) },
            state: fc.attribute("port_state") ?? "Unknown",
            type: portType,
            speed: fc.attribute("speed"),
            supportedSpeeds: Self.list(fc.attribute("supported_speeds")),
            supportedClasses: Self.list(fc.attribute("supported_classes")),
            fabricName: fabric.map { Self.padded($0, 16) },
            symbolicName: fc.attribute("symbolic_name"),
            devLossTimeout: fc.attribute("dev_loss_tmo").flatMap { Int($0) },
            maxNPIVPorts: fc.attribute("max_npiv_vports").flatMap { Int($0) },
            npivPortsInUse: fc.attribute("npiv_vports_inuse").flatMap { Int($0) },
            isVirtual: isVirtual,
            physicalPortWWN: physical,
            manufacturer: fc.attribute("manufacturer") ?? vendor.flatMap(FCDriver.manufacturer(pciVendor:)),
            model: first(["model", "model_name", "modelname"], both),
            modelDescription: first(["model_description", "model_desc", "modeldesc"], both),
            serialNumber: first(["serial_number", "serial_num", "serialnum"], both),
            firmwareVersion: first(["firmware_version", "fw_version", "fwrev"], both),
            driverVersion: first(["driver_version", "lpfc_drvr_version"], both),
            optionROMVersions: roms,
            portNumber: scsi?.attribute("port_no").flatMap { Int($0) },
            linkState: scsi?.attribute("link_state"),
            pci: pci,
            driver: driver,
            driverRole: FCDriver.named(driver)?.role ?? .unknown,
            qlogicMode: mode)
    }

    // MARK: values as sysfs prints them

    /// `0x21000024ff3d0001` (or without 0x) → its value.
    static func hexValue(_ s: String) -> UInt64? {
        var t = Substring(s)
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        guard !t.isEmpty, t.count <= 16 else { return nil }
        return UInt64(t, radix: 16)
    }

    static func hex16(_ s: String) -> UInt16? { hexValue(s).flatMap { $0 <= 0xFFFF ? UInt16($0) : nil } }

    static func padded(_ v: UInt64, _ digits: Int) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - h.count)) + h
    }

    /// A WWN as 16 lowercase hex digits (fc_host prints `0x%llx`, unpadded).
    static func wwn(_ s: String) -> String? { hexValue(s).map { padded($0, 16) } }

    static func list(_ s: String?) -> [String] {
        guard let s else { return [] }
        return s.split(separator: ",").map { String($0.trimmingPrefix(while: { $0 == " " })) }
            .filter { !$0.isEmpty && $0 != "unknown" }
    }
}
