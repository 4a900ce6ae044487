import Foundation
import STMF
import STMFAPI
import STMFClient
import Udev

/// The FC ports `fcinfo hba-port` and `fcadm hba-port` list: this machine's HBA ports read
/// from udev (no daemon needed, as illumos fcinfo reads the HBA API), and stmfd's emulated
/// target ports when stmfd is running.
struct HBAPortListing {
    /// One port in `--json` output: the keys common to both kinds, then what each kind adds.
    struct Entry: Encodable {
        /// "hba" (a port of this machine) or "emulated" (an stmfd port on an emulated fabric).
        var kind: String
        var portWWN: String
        var nodeWWN: String
        var portMode: String
        var portID: String?
        var state: String
        var driverName: String
        // emulated ports
        var targetState: String?
        var fabric: String?
        var remotePorts: [RemotePortInfo]?
        var openExchanges: Int?
        var linkErrors: FCLinkErrors?
        // HBA ports
        var hba: HBAPort?
        var statistics: FCHostStatistics?
    }

    var hba: [HBAPort] = []
    var emulated: [FCPortInfo] = []
    /// WWPNs of HBA ports bound to target mode (from stmfd).
    var bound: Set<String> = []
    /// stmfd was not running (its ports and bindings are not shown).
    var daemonDown = false
    var warnings: [String] = []

    /// Where the alias tables are: the defaults, or `$STMF_MODULES_ALIAS` / `$STMF_DRIVER_ALIASES`.
    static var discovery: HBADiscovery {
        let env = ProcessInfo.processInfo.environment
        return HBADiscovery(modulesAliasPath: env["STMF_MODULES_ALIAS"] ?? ModuleAliases.defaultPath,
                            driverAliasesPath: env["STMF_DRIVER_ALIASES"] ?? DriverAliasOverrides.defaultPath)
    }

    static func load(_ global: GlobalOptions) throws -> HBAPortListing {
        var out = HBAPortListing()
        do {
            let inv = try discovery.scan()
            out.hba = inv.ports
            for p in inv.aliasProblems {
                out.warnings.append("\(inv.driverAliasesFile ?? DriverAliasOverrides.defaultPath) \(p) (line ignored)")
            }
        } catch {
            out.warnings.append("HBA ports not listed: \(error)")
        }
        do {
            out.emulated = try global.client.call("GET", "/v1/fc/ports", as: [FCPortInfo].self)
            out.bound = Set(try global.client.call("GET", "/v1/fc/bindings", as: [HBABindingInfo].self).map(\.portWWN))
        } catch let e {
            if case .client(.notRunning) = e { out.daemonDown = true } else {
                try fail(e.description)
            }
        }
        return out
    }

    /// "Target" for a port bound to target mode (fcadm bind-port), else "Initiator".
    func mode(_ p: HBAPort) -> String { bound.contains(p.portWWN) ? "Target" : "Initiator" }

    func entry(_ p: HBAPort, statistics: FCHostStatistics? = nil) -> Entry {
        Entry(kind: "hba", portWWN: p.portWWN, nodeWWN: p.nodeWWN, portMode: mode(p), portID: p.portID,
              state: Self.state(p.state), driverName: p.driver ?? "none", hba: p, statistics: statistics)
    }

    static func entry(_ p: FCPortInfo) -> Entry {
        Entry(kind: "emulated", portWWN: p.portWWN, nodeWWN: p.nodeWWN, portMode: p.portMode, portID: p.portID,
              state: p.state, driverName: p.driverName, targetState: p.targetState, fabric: p.fabric,
              remotePorts: p.remotePorts, openExchanges: p.openExchanges, linkErrors: p.linkErrors)
    }

    // MARK: the illumos fcinfo layout for an HBA port

    /// illumos's HBA port state words (fcinfo printAttrs.c: online, offline, link down…).
    static func state(_ s: String) -> String {
        switch s.lowercased() {
        case "online": return "online"
        case "offline": return "offline"
        case "linkdown": return "link down"
        case "blocked": return "offline"
        case "bypassed": return "bypassed"
        case "diagnostics": return "diagnostics"
        case "error": return "error"
        case "loopback": return "loopback"
        default: return "unknown"
        }
    }

    /// fc_host port_type → illumos's port type words.
    static func type(_ p: HBAPort) -> String {
        guard let t = p.type?.lowercased() else { return "unknown" }
        if t.hasPrefix("nport") || t.hasPrefix("npiv") { return "N-port" }
        if t.hasPrefix("nlport") { return "NL-port" }
        if t.hasPrefix("lport") { return "L-port" }
        if t.hasPrefix("point-to-point") { return "point-to-point" }
        return "unknown"
    }

    /// "8 Gbit" → "8Gb"; "unknown" stays as illumos prints it for no link: "not established".
    static func speed(_ s: String) -> String {
        let t = s.replacingOccurrences(of: " Gbit", with: "Gb").replacingOccurrences(of: " Mbit", with: "Mb")
        return t.lowercased() == "unknown" || t.isEmpty ? "not established" : t
    }

    static func romVersions(_ p: HBAPort) -> String {
        let parts = [("BIOS", "BIOS"), ("FCode", "fcode"), ("EFI", "EFI")].compactMap { key, label in
            p.optionROMVersions[key].map { "\(label): \($0);" }
        }
        if !parts.isEmpty { return parts.joined(separator: " ") }
        return p.optionROMVersions["Option ROM"] ?? "N/A"
    }

    func printHBA(_ p: HBAPort, virtuals: [HBAPort], statistics: FCHostStatistics?) {
        typealias L = HBAPortListing
        let state = L.state, type = L.type, speed = L.speed, romVersions = L.romVersions, hex4 = L.hex4
        let targetCapability = L.targetCapability
        print("HBA Port WWN: \(p.portWWN)")
        print("        Port Mode: \(mode(p))")
        print("        Port ID: \(p.portID.map { String(UInt32($0, radix: 16) ?? 0, radix: 16) } ?? "0")")
        print("        OS Device Name: /sys/class/fc_host/\(p.host)")
        print("        Manufacturer: \(p.manufacturer ?? "unknown")")
        print("        Model: \(p.model ?? "unknown")")
        print("        Firmware Version: \(p.firmwareVersion ?? "unknown")")
        print("        FCode/BIOS Version: \(romVersions(p))")
        print("        Serial Number: \(p.serialNumber ?? "not available")")
        print("        Driver Name: \(p.driver ?? "none")")
        print("        Driver Version: \(p.driverVersion ?? "unknown")")
        print("        Type: \(type(p))")
        print("        State: \(state(p.state))")
        print("        Supported Speeds: \(p.supportedSpeeds.isEmpty ? "unknown" : p.supportedSpeeds.map(speed).joined(separator: " "))")
        print("        Current Speed: \(speed(p.speed ?? "unknown"))")
        print("        Node WWN: \(p.nodeWWN)")
        if let max = p.maxNPIVPorts, max > 0 {
            print("        Max NPIV Ports: \(max)")
            print("        NPIV port list:")
            for (i, v) in virtuals.enumerated() {
                print("          Virtual Port\(i + 1):")
                print("                Node WWN: \(v.nodeWWN)")
                print("                Port WWN: \(v.portWWN)")
            }
        }
        // What Linux adds to the illumos layout: where the port sits and what it can become.
        if let pci = p.pci {
            print("        PCI Address: \(pci.address) (\(hex4(pci.id.vendor)):\(hex4(pci.id.device))"
                + (pci.id.subsystemVendor.map { sv in " subsystem \(hex4(sv)):\(pci.id.subsystemDevice.map(hex4) ?? "?")" } ?? "") + ")")
            if !pci.claimedBy.isEmpty {
                print("        Claimed By: \(zip(pci.claimedBy, pci.claimSources).map { "\($0) (\($1))" }.joined(separator: ", "))")
            }
        }
        print("        Target Capable: \(targetCapability(p))")
        if let m = p.qlogicMode {
            let module = m.module ?? "unknown"
            print("        qlini_mode: module \(module)" + (m.host.map { ", host \($0)" } ?? ""))
        }
        if let s = statistics {
            print("        Link Error Statistics:")
            for (label, file) in [("Link Failure Count", "link_failure_count"), ("Loss of Sync Count", "loss_of_sync_count"),
                                  ("Loss of Signal Count", "loss_of_signal_count"),
                                  ("Primitive Seq Protocol Error Count", "prim_seq_protocol_err_count"),
                                  ("Invalid Tx Word Count", "invalid_tx_word_count"), ("Invalid CRC Count", "invalid_crc_count")] {
                print("                \(label): \(s[file].map(String.init) ?? "not available")")
            }
        }
    }

    static func targetCapability(_ p: HBAPort) -> String {
        if p.isVirtual { return "no (an NPIV port; bind its physical port)" }
        switch p.driverRole {
        case .targetCapable:
            let fabric = FCDriver.named(p.driver)?.targetFabricModule ?? "?"
            if p.qlogicMode?.module == "enabled" {
                return "no: qla2xxx was loaded with qlini_mode=enabled (initiator only); see fcadm bind-port"
            }
            return "yes (\(p.driver ?? "?") through \(fabric))"
        case .initiatorOnly: return "no (\(p.driver ?? "?") is an initiator-only driver)"
        case .unknown: return p.driver == nil ? "no (no driver bound to the PCI function)" : "no (\(p.driver!) is not a known FC target driver)"
        }
    }

    /// `hba-port --watch`: one line per change, flushed at once, until interrupted.
    static func watch(json: Bool, interval: Double, wwns: [String]) throws {
        var wanted: Set<String> = []
        for w in wwns {
            wanted.insert(try Fcinfo.wwn(w))
        }
        // The watch ends with SIGINT or SIGTERM, exit status 0: every line is already written.
        // (Unblocked first: a parent may have left them blocked in the mask we inherit.)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in _exit(0) }
        signal(SIGTERM) { _ in _exit(0) }
        let watcher = HBAWatcher(discovery: discovery, pollInterval: interval)
        let done = DispatchSemaphore(value: 0)
        let filter = wanted
        Task {
            for await change in watcher.changes() where filter.isEmpty || filter.contains(change.port.portWWN) {
                // Written at once (not through print's buffer): the watch usually ends with a signal.
                FileHandle.standardOutput.write(Data(((json ? jsonLine(change) : line(change)) + "\n").utf8))
            }
            done.signal()
        }
        done.wait()
    }

    struct WatchEvent: Encodable {
        var event: String
        var time: String
        var port: HBAPort
        var previous: HBAPort?
    }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }

    static func jsonLine(_ c: HBAChange) -> String {
        let e: WatchEvent
        switch c {
        case .added(let p): e = WatchEvent(event: "added", time: timestamp(), port: p)
        case .removed(let p): e = WatchEvent(event: "removed", time: timestamp(), port: p)
        case .changed(let o, let n): e = WatchEvent(event: "changed", time: timestamp(), port: n, previous: o)
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? enc.encode(e)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func line(_ c: HBAChange) -> String {
        func summary(_ p: HBAPort) -> String {
            "\(p.host) \(state(p.state)) \(speed(p.speed ?? "unknown")) \(p.driver ?? "no driver")"
        }
        switch c {
        case .added(let p): return "\(timestamp()) added \(p.portWWN) \(summary(p))"
        case .removed(let p): return "\(timestamp()) removed \(p.portWWN) \(p.host)"
        case .changed(let o, let n):
            var what: [String] = []
            if o.host != n.host { what.append("host \(o.host) -> \(n.host)") }
            if o.state != n.state { what.append("state \(state(o.state)) -> \(state(n.state))") }
            if o.speed != n.speed { what.append("speed \(speed(o.speed ?? "unknown")) -> \(speed(n.speed ?? "unknown"))") }
            if o.portID != n.portID { what.append("port id \(o.portID ?? "none") -> \(n.portID ?? "none")") }
            if o.fabricName != n.fabricName { what.append("fabric \(o.fabricName ?? "none") -> \(n.fabricName ?? "none")") }
            if o.qlogicMode != n.qlogicMode { what.append("qlini_mode \(o.qlogicMode?.effective ?? "?") -> \(n.qlogicMode?.effective ?? "?")") }
            if o.driver != n.driver { what.append("driver \(o.driver ?? "none") -> \(n.driver ?? "none")") }
            if what.isEmpty { what.append(changedFields(o, n).joined(separator: ", ")) }
            return "\(timestamp()) changed \(n.portWWN) \(n.host) " + what.joined(separator: ", ")
        }
    }

    /// The names of the fields that differ (for a change the line above does not spell out).
    static func changedFields(_ a: HBAPort, _ b: HBAPort) -> [String] {
        let enc = JSONEncoder()
        guard let da = try? enc.encode(a), let db = try? enc.encode(b),
              let ja = (try? JSONSerialization.jsonObject(with: da)) as? [String: Any],
              let jb = (try? JSONSerialization.jsonObject(with: db)) as? [String: Any] else { return ["attributes"] }
        let keys = Set(ja.keys).union(jb.keys).sorted()
        let changed = keys.filter { k in
            switch (ja[k], jb[k]) {
            case (nil, nil): return false
            case (let x?, let y?): return !((x as? NSObject)?.isEqual(y) ?? false)
            default: return true
            }
        }
        return changed.isEmpty ? ["attributes"] : changed
    }

    /// Writes `1` to the port's `issue_lip`; nil on success, else why not.
    static func forceLIP(_ p: HBAPort) -> String? {
        let path = p.sysfsPath + "/issue_lip"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            if e == ENOENT { return "the driver has no issue_lip for this port" }
            if e == EACCES || e == EPERM { return "permission denied (run as root)" }
            return String(cString: strerror(e))
        }
        defer { close(fd) }
        let n = write(fd, "1", 1)
        return n == 1 ? nil : String(cString: strerror(errno))
    }

    static func hex4(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: 4 - h.count) + h
    }
}
