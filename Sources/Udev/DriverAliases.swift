import Locking
import Glibc

/// Which driver claims a PCI device: the running kernel's `modules.alias`, and an
/// administrator's override file in the Solaris `/etc/driver_aliases` form.

/// A PCI function's identity as alias tables match it.
public struct PCIIdentity: Sendable, Equatable, Codable {
    public var vendor: UInt16
    public var device: UInt16
    public var subsystemVendor: UInt16?
    public var subsystemDevice: UInt16?
    /// The kernel's `modalias` (`pci:v00001077d00002532sv…`), which modules.alias patterns match.
    public var modalias: String?

    public init(vendor: UInt16, device: UInt16, subsystemVendor: UInt16? = nil, subsystemDevice: UInt16? = nil,
                modalias: String? = nil) {
        self.vendor = vendor; self.device = device
        self.subsystemVendor = subsystemVendor; self.subsystemDevice = subsystemDevice; self.modalias = modalias
    }
}

/// The kernel's `modules.alias` (written by depmod): `alias <glob> <module>` lines.
public struct ModuleAliases: Sendable {
    public struct Entry: Sendable, Equatable {
        public var pattern: String
        public var module: String
    }
    public private(set) var entries: [Entry] = []

    /// The running kernel's table, `/lib/modules/<release>/modules.alias`.
    public static var defaultPath: String {
        var u = utsname()
        uname(&u)
        let release = withUnsafePointer(to: u.release) {
            $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) }
        }
        return "/lib/modules/\(release)/modules.alias"
    }

    public init(text: String) {
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("#") { continue }
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Only PCI aliases matter here; depmod writes thousands of others.
            guard f.count == 3, f[0] == "alias", f[1].hasPrefix("pci:") else { continue }
            entries.append(Entry(pattern: String(f[1]), module: String(f[2])))
        }
    }

    /// Reads the table; nil when the file is absent (a container, or a kernel without modules).
    /// The parsed table is kept while the file is unchanged (same inode, size and mtime): the
    /// HBA watch scans every two seconds, and a stock kernel's table is over a megabyte of text
    /// (parsing it each time cost stmfd most of a CPU in the kernel-path guest).
    public static func load(path: String = defaultPath) -> ModuleAliases? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            cache.withLock { $0[path] = nil }
            return nil
        }
        let stamp = Stamp(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                          seconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec))
        if let hit = cache.withLock({ $0[path] }), hit.stamp == stamp { return hit.table }
        let table = SysfsFile.read(path, limit: 64 << 20).map { ModuleAliases(text: $0) }
        cache.withLock { $0[path] = (stamp, table) }
        return table
    }

    struct Stamp: Equatable {
        var inode: UInt64, size: Int64, seconds: Int64, nanoseconds: Int64
    }
    private static let cache = Locked<[String: (stamp: Stamp, table: ModuleAliases?)]>([:])

    /// The modules whose patterns match `modalias`, in table order, without repeats.
    public func modules(matching modalias: String) -> [String] {
        var out: [String] = []
        for e in entries where fnmatch(e.pattern, modalias, 0) == 0 && !out.contains(e.module) {
            out.append(e.module)
        }
        return out
    }
}

/// An administrator's override file in the Solaris `driver_aliases(5)` form, one
/// `driver "alias"` per line: `qla2xxx "pci1077,2532"`, also `pciex1077,2532`, and with the
/// subsystem ids `pci1077,2532.1077.15d`. `#` starts a comment. Its entries are consulted before
/// the kernel's modules.alias: a newer ISP the driver supports but this kernel's table lacks,
/// or a device the administrator wants treated as another driver's.
public struct DriverAliasOverrides: Sendable {
    public struct Entry: Sendable, Equatable {
        public var driver: String
        public var vendor: UInt16
        public var device: UInt16
        public var subsystemVendor: UInt16?
        public var subsystemDevice: UInt16?
        public var line: Int
    }
    /// A line that could not be used, and why; the other lines still apply.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static let defaultPath = "/etc/stmf/driver_aliases"

    public private(set) var entries: [Entry] = []
    public private(set) var problems: [Problem] = []
    public var path: String?

    public init(text: String, path: String? = nil) {
        self.path = path
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = line.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            while let last = line.last, last == " " || last == "\t" || last == "\r" { line.removeLast() }
            if line.isEmpty { continue }
            switch Self.parse(line) {
            case .success(let (driver, ids)):
                entries.append(Entry(driver: driver, vendor: ids.0, device: ids.1,
                                     subsystemVendor: ids.2, subsystemDevice: ids.3, line: n))
            case .failure(let message):
                problems.append(Problem(line: n, message: message.text))
            }
        }
    }

    /// Reads the file; an absent file is an empty table (the override is optional).
    public static func load(path: String = defaultPath) -> DriverAliasOverrides {
        guard let text = SysfsFile.read(path, limit: 1 << 20) else { return DriverAliasOverrides(text: "", path: nil) }
        return DriverAliasOverrides(text: text, path: path)
    }

    /// The drivers this file assigns to the device: an entry naming the subsystem ids wins over
    /// one naming only vendor and device.
    public func drivers(for id: PCIIdentity) -> [String] {
        var exact: [String] = [], general: [String] = []
        for e in entries where e.vendor == id.vendor && e.device == id.device {
            if let sv = e.subsystemVendor {
                if sv == id.subsystemVendor && e.subsystemDevice == id.subsystemDevice && !exact.contains(e.driver) {
                    exact.append(e.driver)
                }
            } else if !general.contains(e.driver) {
                general.append(e.driver)
            }
        }
        return exact + general.filter { !exact.contains($0) }
    }

    struct Message: Error { var text: String }
    typealias IDs = (UInt16, UInt16, UInt16?, UInt16?)

    private static func parse(_ line: Substring) -> Result<(String, IDs), Message> {
        guard let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) else {
            return .failure(Message(text: "expected: driver \"pciVVVV,DDDD\" (no alias after \"\(line)\")"))
        }
        let driver = line[..<space]
        guard driver.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            return .failure(Message(text: "\"\(driver)\" is not a driver name (letters, digits, _ and -)"))
        }
        var rest = line[space...].trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        guard rest.first == "\"" else {
            return .failure(Message(text: "the alias must be in double quotes: \(driver) \"pciVVVV,DDDD\""))
        }
        rest.removeFirst()
        guard let close = rest.firstIndex(of: "\"") else {
            return .failure(Message(text: "the alias has no closing double quote"))
        }
        let alias = rest[..<close]
        let after = rest[rest.index(after: close)...]
        guard after.allSatisfy({ $0 == " " || $0 == "\t" }) else {
            return .failure(Message(text: "unexpected text after the alias: \"\(after.trimmingPrefix(while: { $0 == " " }))\""))
        }
        let body: Substring
        if alias.hasPrefix("pciex") { body = alias.dropFirst(5) } else if alias.hasPrefix("pci") { body = alias.dropFirst(3) } else {
            return .failure(Message(text: "\"\(alias)\" is not a PCI alias (pciVVVV,DDDD or pciexVVVV,DDDD[.SSSS.ssss])"))
        }
        let parts = body.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return .failure(Message(text: "\"\(alias)\": expected vendor and device ids separated by a comma"))
        }
        let dev = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard dev.count == 1 || dev.count == 3 else {
            return .failure(Message(text: "\"\(alias)\": after the device id only .SSSS.ssss (subsystem vendor and id) may follow"))
        }
        func hex(_ s: Substring, _ what: String) -> Result<UInt16, Message> {
            guard (1...4).contains(s.count), let v = UInt16(s, radix: 16) else {
                return .failure(Message(text: "\"\(alias)\": \(what) \"\(s)\" is not 1 to 4 hex digits"))
            }
            return .success(v)
        }
        do {
            let v = try hex(parts[0], "vendor id").get()
            let d = try hex(dev[0], "device id").get()
            if dev.count == 3 {
                let sv = try hex(dev[1], "subsystem vendor id").get()
                let sd = try hex(dev[2], "subsystem id").get()
                return .success((String(driver), (v, d, sv, sd)))
            }
            return .success((String(driver), (v, d, nil, nil)))
        } catch {
            return .failure(error)
        }
    }
}
