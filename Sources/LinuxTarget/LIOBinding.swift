#if canImport(Glibc)
import Glibc
#endif
import Locking
import Runtime
import STMF
import Synchronization
import TCMU

/// The kernel data path of stmfd: LIO terminates FCP (tcm_qla2xxx on a bound HBA port,
/// tcm_loop for tests), and every LU a view shows to an initiator through such a port is one
/// TCMU device served here by the same STMF and LU providers that serve the emulated fabric
/// (kernel-path.md §6, option B: one device per LU, initiator and port, so the ring a command
/// arrives on names its I_T_L nexus; the kernel's PR and ALUA are switched off on each).
///
/// The binding watches STMF's views (a `ViewObserver`) and compiles them into configfs on its
/// own control thread, minimally: a view change adds or removes only the devices and LUN links
/// it concerns. Devices are served on the runtime's event loops. At start it takes over what
/// an earlier run left — the devices of its TCMU HBA (`core/user_<hba>`), which are its own by
/// construction — reattaching to those the views still call for (block, reset the ring so
/// stale commands bounce BUSY to be retried, serve, unblock) and removing the rest with the
/// LUN links that point at them. Configfs objects it did not make are never touched.
public final class LIOBinding: ViewObserver, @unchecked Sendable {
    public struct Options: Sendable {
        /// The configfs tree (`/sys/kernel/config/target`).
        public var configfs = ConfigFS()
        /// Where uio devices are: `/dev` and `/sys`.
        public var devRoot = "/dev"
        public var sysRoot = "/sys"
        /// The TCMU HBA number whose devices are all stmfd's (`core/user_<hba>`).
        public var hba = 4711
        /// Per device: the data area, the command ring (small: devices multiply with views),
        /// the largest command, and the kernel's timeout for a command the handler holds.
        public var dataAreaMB = 32
        public var ringMB = 1
        public var maxSectorsBytes = 1 << 20
        public var commandTimeout = 30
        public init() {}
    }

    public let stmf: STMF
    public let options: Options
    let log: @Sendable (String) -> Void
    let control: EventLoop
    let serving: EventLoopGroup

    /// LU geometry the service keeps current (any thread).
    private let geometry = Locked<[LUGUID: (size: UInt64, blockSize: Int)]>([:])
    /// The ports, by name (any thread).
    let portTable = Locked<[PortIdentifier: LIOTargetPort]>([:])
    /// When this stmfd first saw each kernel session, by `sessionKey` (any thread).
    let firstSeen = Locked<[String: Double]>([:])
    private let latest = Locked<ViewSnapshot?>(nil)
    private let pendingReconcile = Atomic<Bool>(false)

    // Control-thread state.
    private var devices: [String: (clone: LIOClone, device: TCMUDevice)] = [:]
    /// Devices an earlier run left, not yet reattached or removed (by device name).
    private var leftovers: Set<String> = []
    private var nextTagBase: UInt64 = 1
    /// Set once the service has started every stored port: only then can a device of an
    /// earlier run be known to be unwanted.
    private var startupComplete = false
    private var sessions: [String: Session] = [:]
    /// The size each device's `dev_size` was last given, by device name.
    private var deviceSizes: [String: UInt64] = [:]

    public init(stmf: STMF, options: Options = Options(), serving: EventLoopGroup = .shared,
                log: @escaping @Sendable (String) -> Void) {
        self.stmf = stmf
        self.options = options
        self.serving = serving
        self.log = log
        control = EventLoop(name: "lio-control", fileIO: .threads)
        control.start()
    }

    var cfs: ConfigFS { options.configfs }
    var hbaPath: String { "core/user_\(options.hba)" }

    /// Whether this kernel has LIO and TCMU (configfs mounted, target_core_user loadable).
    public static func kernelProblem(_ configfs: ConfigFS = ConfigFS()) -> String? {
        if !configfs.isDirectory("") {
            return "\(configfs.root) is not there: load target_core_mod and mount configfs (modprobe target_core_mod target_core_user)"
        }
        return nil
    }

    /// Starts watching STMF and the kernel's TCMU events, and takes over an earlier run's devices.
    public func start() {
        stmf.addViewObserver(self)
        run { [self] in
            leftovers = Set(cfs.list(hbaPath).filter { LIOClone.parse(deviceName: $0) != nil })
            if !leftovers.isEmpty { log("LIO: \(leftovers.count) TCMU device(s) of an earlier run found; reattaching or removing them") }
            listen()
            watchLogins()
        }
        viewsChanged(stmf.viewSnapshot())
    }

    // MARK: TCMU netlink events

    private var netlink: TCMUNetlink?
    private var netlinkRegistration: EventLoop.Registration?

    /// Joins the TCM-USER `config` group (control thread). Without it the binding still works
    /// (it made every change itself); it only would not hear of changes made behind its back.
    private func listen() {
        do {
            let nl = try TCMUNetlink()
            netlink = nl
            netlinkRegistration = control.register(fd: nl.fileDescriptor) { [unowned self] _ in self.netlinkReadable() }
            log("LIO: listening to TCM-USER netlink events (family \(nl.family))")
        } catch {
            log("LIO: not listening to TCMU netlink events: \(error)")
        }
    }

    private func netlinkReadable() {
        guard let nl = netlink else { return }
        let events: [TCMUNetlink.Event]
        do { events = try nl.receive() } catch {
            log("LIO: \(error)")
            return
        }
        for e in events {
            guard let (hba, name) = e.hbaAndName, hba == options.hba else { continue }
            switch e.kind {
            case .added:
                log("LIO: TCMU device \(name) added (uio\(e.minor))")
            case .removed:
                log("LIO: TCMU device \(name) removed (uio\(e.minor))")
                // Removed by someone else (stmfd closes its device before it removes one):
                // stop serving it, and let the views rebuild it.
                deviceSizes[name] = nil
        if let d = devices.removeValue(forKey: name) {
                    log("LIO: TCMU device \(name) was removed behind stmfd's back; rebuilding it from the views")
                    d.device.close()
                    scheduleReconcile()
                }
            case .reconfigured:
                log("LIO: TCMU device \(name) reconfigured behind stmfd's back: \(e); the LU's own geometry still rules what it answers")
            case .other:
                break
            }
        }
    }

    /// The service has loaded its LUs and started its ports: devices of an earlier run that no
    /// view calls for now go (with their LUN links).
    public func finishStartup() {
        run { [self] in
            startupComplete = true
            reconcile()
        }
    }

    /// Whether `configfs` holds devices of this HBA from an earlier run (no binding needed).
    public static func hasDevices(_ configfs: ConfigFS, hba: Int) -> Bool {
        configfs.list("core/user_\(hba)").contains { LIOClone.parse(deviceName: $0) != nil }
    }

    // MARK: Geometry (from the service)

    public func setGeometry(_ lu: LUGUID, size: UInt64, blockSize: Int) {
        let changed = geometry.withLock { g -> Bool in
            let before = g[lu]
            g[lu] = (size, blockSize)
            return before == nil || before!.size != size || before!.blockSize != blockSize
        }
        if changed { scheduleReconcile() }
    }

    public func removeGeometry(_ lu: LUGUID) { geometry.withLock { $0[lu] = nil } }

    // MARK: Ports

    /// A tcm_loop or tcm_qla2xxx target, registered with STMF (offline until STMF brings it
    /// online). `initiators`: tcm_loop's nexus, or the initiators an HBA port serves.
    public func addPort(_ port: LIOPort, alias: String = "", relativeID: UInt16? = nil) throws(STMFError) -> LIOTargetPort {
        let p = LIOTargetPort(binding: self, port: port)
        p.handle = try stmf.registerTargetPort(port.name, provider: p, alias: alias, relativeID: relativeID)
        portTable.withLock { $0[port.name] = p }
        return p
    }

    public func removePort(_ name: PortIdentifier) async {
        try? await stmf.deregisterTargetPort(name)
        portTable.withLock { $0[name] = nil }
    }

    public var ports: [LIOTargetPort] { portTable.withLock { Array($0.values) } }

    /// The port's target, TPG and nexus, and its sessions in STMF (control thread).
    func bringUp(_ p: LIOTargetPort) throws(ConfigFS.Failure) {
        let port = p.port
        try cfs.makeDirectory(port.tpgPath)
        switch port.fabric {
        case .loopback:
            let want = "fc.\(port.initiators.first?.hex.lowercased() ?? "")"
            let have = cfs.read(port.tpgPath + "/nexus")
            if have.map({ "fc." + $0 }) != want && have != want {
                if have != nil && !(have ?? "").isEmpty { try? cfs.write(port.tpgPath + "/nexus", "NULL") }
                try cfs.write(port.tpgPath + "/nexus", want)
                // The login is this write: its time is what list-target shows as "logged in since".
                if let i = port.initiators.first {
                    let now = Double(time(nil))
                    firstSeen.withLock { $0[sessionKey(port.wwpn, i)] = now }
                }
            }
        case .qla2xxx:
            // Only initiators with an ACL log in, unless a view for all hosts reaches the port
            // (`acceptLogins`, kept current by every reconcile); a login on a dynamic ACL sees
            // nothing until the binding gives it an ACL of its own.
            try? cfs.write(port.tpgPath + "/attrib/demo_mode_login_only", "1")
            try? cfs.write(port.tpgPath + "/attrib/cache_dynamic_acls", "1")
            acceptLogins(port)
            // Enabled by the first reconcile that finds it online (`enableIfOnline`).
        }
        for i in port.initiators { _ = session(p, i) }
    }

    /// Sets the HBA port's `generate_node_acls` from the latest views (control thread).
    private func acceptLogins(_ port: LIOPort) {
        let want = latest.withLock({ $0 }).map { LIOPlan.acceptsUnknownInitiators($0, port: port) } ?? false
        let path = port.tpgPath + "/attrib/generate_node_acls"
        if cfs.read(path) != (want ? "1" : "0") {
            do { try cfs.write(path, want ? "1" : "0") } catch { log("LIO: \(error)") }
        }
    }

    /// An HBA port's TPG is enabled by the first compile of the views that finds the port
    /// online, after its ACLs and LUNs: last, as the kernel expects, and once, since enabling
    /// resets the HBA and drops every login (control thread).
    private func enableIfOnline(_ port: LIOPort, _ snapshot: ViewSnapshot) {
        guard snapshot.targetPorts[port.name]?.state == .online, cfs.read(port.tpgPath + "/enable") != "1" else { return }
        do { try cfs.write(port.tpgPath + "/enable", "1") } catch {
            log("LIO: \(port.name) cannot be enabled, so no initiator can log in to it: \(error)")
        }
    }

    /// Sessions of a port going offline, for STMF to end (control thread).
    func takeSessions(_ p: LIOTargetPort) -> [Session] {
        let prefix = p.port.wwpn.hex + "/"
        let keys = sessions.keys.filter { $0.hasPrefix(prefix) }
        return keys.compactMap { sessions.removeValue(forKey: $0) }
    }

    /// Removes the port's LIO objects once its devices are gone (control thread).
    func tearDown(_ p: LIOTargetPort) {
        let port = p.port
        for c in devices.values.map(\.clone) where c.port == port.wwpn { removeClone(c) }
        if port.fabric == .qla2xxx { try? cfs.write(port.tpgPath + "/enable", "0") }
        if port.fabric == .loopback, cfs.read(port.tpgPath + "/nexus").map({ !$0.isEmpty }) == true {
            try? cfs.write(port.tpgPath + "/nexus", "NULL")
        }
        for acl in cfs.list(port.tpgPath + "/acls") {
            for l in cfs.list(port.tpgPath + "/acls/\(acl)") where l.hasPrefix("lun_") {
                for link in cfs.list(port.tpgPath + "/acls/\(acl)/\(l)") where cfs.linkTarget(port.tpgPath + "/acls/\(acl)/\(l)/\(link)") != nil {
                    try? cfs.unlink(port.tpgPath + "/acls/\(acl)/\(l)/\(link)")
                }
                try? cfs.removeDirectory(port.tpgPath + "/acls/\(acl)/\(l)")
            }
            try? cfs.removeDirectory(port.tpgPath + "/acls/\(acl)")
        }
        for l in cfs.list(port.tpgPath + "/lun") { removeLUNDirectory(port.tpgPath + "/lun/\(l)") }
        try? cfs.removeDirectory(port.tpgPath)
        try? cfs.removeDirectory(port.targetPath)
    }

    func sessionKey(_ port: WWN, _ initiator: WWN) -> String { port.hex + "/" + initiator.hex }

    /// The STMF session of (port, initiator), opened on first need (HBA ports learn their
    /// initiators from the views and from logins). STMF refuses one on a port that is not
    /// online or onlining.
    private func session(_ p: LIOTargetPort, _ initiator: WWN) -> Session? {
        let key = sessionKey(p.port.wwpn, initiator)
        if let s = sessions[key] { return s }
        guard let handle = p.handle else { return nil }
        do {
            let s = try handle.createSession(initiator: .wwn(initiator), taskPort: TCMUTaskPort())
            sessions[key] = s
            return s
        } catch {
            log("LIO: no session for wwn.\(initiator.hex) on \(p.port.name): \(error)")
            return nil
        }
    }

    // MARK: Logins on HBA ports

    /// Initiators logged in on dynamic ACLs of an HBA port (`tpgt_1/dynamic_sessions`: names in
    /// the colon form, each followed by a newline and a NUL), as WWNs.
    public static func parseDynamicSessions(_ text: String) -> [WWN] {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\0" }).compactMap { name in
            let hex = name.filter { $0.isHexDigit }
            return hex.count == 16 ? WWN(hex) : nil
        }
    }

    /// Every 2 s: new logins on HBA ports whose views show all hosts something become
    /// explicit ACLs with their devices (the dynamic ACL is converted in place).
    private func watchLogins() {
        control.schedule(after: .seconds(2)) { [weak self] in
            guard let self else { return }
            var changed = false
            for p in portTable.withLock({ Array($0.values) }) where p.port.fabric == .qla2xxx && p.isUp {
                let text = cfs.read(p.port.tpgPath + "/dynamic_sessions") ?? ""
                if p.noteLogins(Self.parseDynamicSessions(text)) { changed = true }
            }
            if changed { reconcile() }
            watchLogins()
        }
    }

    // MARK: Views

    public func viewsChanged(_ snapshot: ViewSnapshot) {
        latest.withLock { s in if s == nil || s!.generation < snapshot.generation { s = snapshot } }
        scheduleReconcile()
    }

    func scheduleReconcile() {
        guard !pendingReconcile.exchange(true, ordering: .acquiringAndReleasing) else { return }
        control.execute { [self] in
            pendingReconcile.store(false, ordering: .releasing)
            reconcile()
        }
    }

    /// Runs `work` on the control thread and waits for it.
    func run(_ work: @escaping @Sendable () -> Void) { control.runAndWait(work) }

    /// Runs `work` on the control thread without blocking the caller's thread.
    func onControl<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in control.execute { c.resume(returning: work()) } }
    }

    /// Waits until every change delivered so far is compiled (tests, shutdown).
    public func settle() async {
        await onControl { [self] in reconcile() }
    }

    private func reconcile() {
        guard let snapshot = latest.withLock({ $0 }) else { return }
        let ports = portTable.withLock { Array($0.values) }.filter { $0.isUp }.map(\.currentPort)
        let desired = LIOPlan.clones(snapshot, ports: ports)
        let known = geometry.withLock { Set($0.keys) }
        let wanted = desired.filter { known.contains($0.lu) }
        let (remove, add) = LIOPlan.diff(current: Set(devices.values.map(\.clone)), desired: wanted)
        for c in remove { removeClone(c) }
        for c in add {
            do { try addClone(c) } catch { log("LIO: \(c): \(error)") }
        }
        pushSizes()
        for p in ports where p.fabric == .qla2xxx {
            acceptLogins(p)
            enableIfOnline(p, snapshot)
        }
        // What an earlier run left and the views no longer call for.
        if startupComplete && !leftovers.isEmpty {
            sweepLinks { name in leftovers.contains(name) }
            for name in leftovers.sorted() { removeDevice(name) }
            leftovers = []
        }
    }

    /// A resized LU (modify-lu -s) gives each of its devices the new `dev_size` (the kernel tells
    /// the handler with a RECONFIG event, which needs no reply from stmfd: nl_reply_supported=-1).
    /// Initiators learn the size from STMF: READ CAPACITY and CAPACITY DATA HAS CHANGED.
    private func pushSizes() {
        let sizes = geometry.withLock { $0.mapValues(\.size) }
        for (name, d) in devices {
            guard let size = sizes[d.clone.lu], deviceSizes[name] != size else { continue }
            do {
                try cfs.write("\(hbaPath)/\(name)/attrib/dev_size", "\(size)")
                deviceSizes[name] = size
            } catch { log("LIO: cannot give \(name) its new size \(size): \(error)") }
        }
    }

    // MARK: Devices

    enum CloneError: Error, CustomStringConvertible {
        case configfs(ConfigFS.Failure)
        case noUIO(String)
        case open(TCMUDevice.OpenError)
        case noSession
        var description: String {
            switch self {
            case let .configfs(f): "\(f)"
            case let .noUIO(n): "no uio device appeared for TCMU device \(n)"
            case let .open(e): "\(e)"
            case .noSession: "no session for the nexus"
            }
        }
    }

    private func addClone(_ c: LIOClone) throws(CloneError) {
        guard let port = portTable.withLock({ $0[.wwn(c.port)] }), let g = geometry.withLock({ $0[c.lu] }) else { return }
        guard let session = session(port, c.initiator) else { throw .noSession }
        let name = c.deviceName
        let dev = "\(hbaPath)/\(name)"
        let reattach = leftovers.remove(name) != nil && cfs.read(dev + "/enable") == "1"
        do {
            if reattach {
                // A device an earlier run served: stale commands bounce BUSY (retried by the
                // initiator), never replayed.
                try cfs.write(dev + "/action/block_dev", "1")
                try cfs.write(dev + "/action/reset_ring", "1")
            } else {
                if cfs.exists(dev) { removeDevice(name) }
                try createDevice(dev, name: name, size: g.size, blockSize: g.blockSize)
            }
        } catch { throw .configfs(error) }
        guard let minor = uioMinor(of: name) else { throw .noUIO(name) }
        let device: TCMUDevice
        do {
            device = try TCMUDevice(minor: minor, loop: serving.next(), tagBase: nextTagBase, devRoot: options.devRoot, sysRoot: options.sysRoot)
        } catch { throw .open(error) }
        nextTagBase += 1
        let logger = log
        device.onBroken = { why in logger("LIO: TCMU device \(name) ring broken (\(why)); it serves no more until stmfd restarts") }
        device.setRoute(.init(session: session, lun: c.lun))
        device.start()
        devices[name] = (c, device)
        deviceSizes[name] = reattach ? cfs.read(dev + "/attrib/dev_size").flatMap { UInt64($0) } : g.size
        if reattach { try? cfs.write(dev + "/action/block_dev", "0") }
        do { try link(c, port: port.port, device: dev) } catch {
            removeClone(c)
            throw .configfs(error)
        }
    }

    private func createDevice(_ dev: String, name: String, size: UInt64, blockSize: Int) throws(ConfigFS.Failure) {
        try cfs.makeDirectory(dev)
        let sectors = max(1, options.maxSectorsBytes / max(blockSize, 1))
        try cfs.write(dev + "/control", "dev_size=\(size),dev_config=stmf/\(name),hw_block_size=\(blockSize),"
                      + "hw_max_sectors=\(sectors),max_data_area_mb=\(options.dataAreaMB),cmd_ring_size_mb=\(options.ringMB),"
                      // The kernel never waits for a netlink reply about this device: a stmfd that
                      // died cannot hang configfs, and another listener (tcmu-runner) cannot
                      // refuse it (kernel-path.md §5.3).
                      + "nl_reply_supported=-1")
        // STMF owns reservations and port groups: the kernel must pass those commands on and
        // enforce no access state (kernel-path.md §6), set before the device is exported.
        try cfs.write(dev + "/attrib/pgr_support", "0")
        try cfs.write(dev + "/attrib/alua_support", "0")
        if cfs.exists(dev + "/attrib/tmr_notification") { try cfs.write(dev + "/attrib/tmr_notification", "1") }
        try cfs.write(dev + "/attrib/cmd_time_out", "\(options.commandTimeout)")
        try cfs.write(dev + "/enable", "1")
    }

    /// The uio minor of TCMU device `name` of this binding's HBA.
    func uioMinor(of name: String) -> Int? {
        let prefix = "tcm-user/\(options.hba)/\(name)"
        let uio = ConfigFS(root: options.sysRoot + "/class/uio")
        for entry in uio.list("") where entry.hasPrefix("uio") {
            guard let text = uio.read("\(entry)/name") else { continue }
            if text == prefix || text.hasPrefix(prefix + "/") { return Int(entry.dropFirst(3)) }
        }
        return nil
    }

    /// Exports the device as the clone's LUN to its initiator only.
    private func link(_ c: LIOClone, port: LIOPort, device: String) throws(ConfigFS.Failure) {
        switch port.fabric {
        case .loopback:
            // One nexus per tcm_loop TPG: the TPG's LUNs are exactly what its initiator sees.
            let lunDir = "\(port.tpgPath)/lun/lun_\(c.lun)"
            // Reattached after a restart: the LUN (and the initiator's disk, maybe mounted) stays.
            if linked(lunDir, to: device) { return }
            if cfs.exists(lunDir) { removeLUNDirectory(lunDir) }
            try cfs.makeDirectory(lunDir)
            try cfs.symlink(device, at: lunDir + "/stmf")
        case .qla2xxx:
            // TPG LUN numbers are the binding's own; the ACL maps the view's LUN onto one.
            let acl = "\(port.tpgPath)/acls/\(c.initiator.colonSeparated)"
            if let existing = cfs.list(port.tpgPath + "/lun").first(where: { linked("\(port.tpgPath)/lun/\($0)", to: device) }),
               cfs.list(acl + "/lun_\(c.lun)").contains(where: { cfs.linkTarget("\(acl)/lun_\(c.lun)/\($0)")?.hasSuffix("/lun/\(existing)") == true }) {
                return
            }
            var index = 0
            while cfs.exists("\(port.tpgPath)/lun/lun_\(index)") { index += 1 }
            let lunDir = "\(port.tpgPath)/lun/lun_\(index)"
            try cfs.makeDirectory(lunDir)
            try cfs.symlink(device, at: lunDir + "/stmf")
            try cfs.makeDirectory(acl + "/lun_\(c.lun)")
            try cfs.symlink(lunDir, at: acl + "/lun_\(c.lun)/stmf")
        }
    }

    /// Whether the LUN directory holds a link to `device` (a path under the configfs root).
    private func linked(_ lunDir: String, to device: String) -> Bool {
        cfs.list(lunDir).contains { cfs.linkTarget("\(lunDir)/\($0)")?.hasSuffix("/" + device) == true }
    }

    private func removeClone(_ c: LIOClone) {
        let name = c.deviceName
        sweepLinks { $0 == name }
        if let d = devices.removeValue(forKey: name) {
            d.device.close()
            d.device.loop.runAndWait {}   // the close, queued before, has run
        }
        removeDevice(name)
    }

    private func removeDevice(_ name: String) {
        let dev = "\(hbaPath)/\(name)"
        guard cfs.exists(dev) else { return }
        do { try cfs.removeDirectory(dev) } catch { log("LIO: \(error)") }
    }

    /// Removes every LUN link (and ACL mapping) of the known fabrics that points at one of this
    /// HBA's devices `matching` its name.
    private func sweepLinks(_ matching: (String) -> Bool) {
        let marker = "/core/user_\(options.hba)/"
        for fabric in ["loopback", "qla2xxx"] {
            for target in cfs.list(fabric) where cfs.isDirectory("\(fabric)/\(target)") {
                for tpg in cfs.list("\(fabric)/\(target)") where tpg.hasPrefix("tpgt_") {
                    let tpgPath = "\(fabric)/\(target)/\(tpg)"
                    for l in cfs.list(tpgPath + "/lun") {
                        let lunDir = "\(tpgPath)/lun/\(l)"
                        let hit = cfs.list(lunDir).contains { entry in
                            guard let t = cfs.linkTarget("\(lunDir)/\(entry)"), let r = t.firstRange(of: marker) else { return false }
                            return matching(String(t[r.upperBound...]))
                        }
                        guard hit else { continue }
                        for acl in cfs.list(tpgPath + "/acls") {
                            for m in cfs.list("\(tpgPath)/acls/\(acl)") where m.hasPrefix("lun_") {
                                let mDir = "\(tpgPath)/acls/\(acl)/\(m)"
                                let points = cfs.list(mDir).contains { cfs.linkTarget("\(mDir)/\($0)")?.hasSuffix("/lun/\(l)") == true }
                                if points {
                                    for e in cfs.list(mDir) where cfs.linkTarget("\(mDir)/\(e)") != nil { try? cfs.unlink("\(mDir)/\(e)") }
                                    try? cfs.removeDirectory(mDir)
                                }
                            }
                        }
                        removeLUNDirectory(lunDir)
                    }
                }
            }
        }
    }

    private func removeLUNDirectory(_ lunDir: String) {
        for e in cfs.list(lunDir) where cfs.linkTarget("\(lunDir)/\(e)") != nil { try? cfs.unlink("\(lunDir)/\(e)") }
        do { try cfs.removeDirectory(lunDir) } catch { log("LIO: \(error)") }
    }

    /// The devices served now (for listings and tests).
    public func servedDevices() async -> [(clone: LIOClone, minor: Int, counters: TCMUDevice.Counters)] {
        await onControl { [self] in
            devices.values.map { ($0.clone, $0.device.minor, $0.device.counters) }.sorted { $0.clone < $1.clone }
        }
    }
}

/// One LIO target port as STMF's port provider: online builds its target, TPG and nexus and
/// opens its sessions; offline ends them and removes what the binding built for it.
public final class LIOTargetPort: PortProvider, @unchecked Sendable {
    public let port: LIOPort
    unowned let binding: LIOBinding
    var handle: TargetPortHandle?
    private let up = Atomic<Bool>(false)
    var isUp: Bool { up.load(ordering: .acquiring) }
    private let logins = Locked<[WWN]>([])

    /// The port with the initiators seen logging in (HBA ports).
    var currentPort: LIOPort {
        var p = port
        for w in logins.withLock({ $0 }) where !p.initiators.contains(w) { p.initiators.append(w) }
        return p
    }

    /// Records logins; true when there is a new one.
    func noteLogins(_ wwns: [WWN]) -> Bool {
        logins.withLock { l in
            let new = wwns.filter { !l.contains($0) }
            l += new
            return !new.isEmpty
        }
    }

    init(binding: LIOBinding, port: LIOPort) {
        self.binding = binding
        self.port = port
    }

    public func online() async throws {
        let b = binding
        let result: ConfigFS.Failure? = await b.onControl { [self] in
            do throws(ConfigFS.Failure) { try b.bringUp(self) } catch { return error }
            return nil
        }
        if let result { throw STMFError.providerFailed("\(port.name): \(result)") }
        up.store(true, ordering: .releasing)
    }

    public func offline() async {
        up.store(false, ordering: .releasing)
        let b = binding
        let sessions = await b.onControl { [self] in
            b.tearDown(self)
            return b.takeSessions(self)
        }
        for s in sessions { await handle?.removeSession(s) }
    }
}
