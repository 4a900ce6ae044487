#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a child process needs to see `devicePath` as a SCSI generic device served by the
/// bridge at `socketPath` (and further devices for further paths): the shim preloaded and the
/// variables it reads.
public struct SGBridgeEnvironment: Sendable, Equatable {
    /// The shim's file name, as SwiftPM builds the `fcinit-sgshim` product on Linux.
    public static let libraryName = "libfcinit-sgshim.so"
    /// Set to a path to override where `locateShim` looks first.
    public static let overrideVariable = "FCINIT_SGSHIM"
    /// How many devices the shim serves (its MAX_DEVICES).
    public static let maximumDevices = 16

    /// One fake device: its path, the bridge socket serving it, the LUN it reports.
    public struct Device: Sendable, Equatable {
        public var path: String
        public var socketPath: String
        public var lun: UInt16
        public init(path: String, socketPath: String, lun: UInt16 = 0) {
            self.path = path; self.socketPath = socketPath; self.lun = lun
        }
    }

    /// Path 0 is `$FCINIT_DEVICE`; path i is `$FCINIT_DEVICE_i`.
    public var devices: [Device]
    public var shimPath: String

    public var devicePath: String { devices[0].path }
    public var socketPath: String { devices[0].socketPath }

    public init(devicePath: String, socketPath: String, shimPath: String, lun: UInt16 = 0) {
        self.init(devices: [Device(path: devicePath, socketPath: socketPath, lun: lun)], shimPath: shimPath)
    }

    public init(devices: [Device], shimPath: String) {
        precondition(!devices.isEmpty)
        self.devices = devices
        self.shimPath = shimPath
    }

    /// `LD_PRELOAD` and, per device, `FCINIT_DEVICE[_i]`, `FCINIT_SGBRIDGE[_i]`, `FCINIT_LUN[_i]`.
    public var additions: [String: String] {
        var a = ["LD_PRELOAD": shimPath]
        for (i, d) in devices.enumerated() {
            a[SGBridgeProtocol.variable(SGBridgeProtocol.deviceVariable, path: i)] = d.path
            a[SGBridgeProtocol.variable(SGBridgeProtocol.socketVariable, path: i)] = d.socketPath
            a[SGBridgeProtocol.variable(SGBridgeProtocol.lunVariable, path: i)] = String(d.lun)
        }
        return a
    }

    /// `environment` with the additions; the shim goes first in an existing `LD_PRELOAD`.
    public func applied(to environment: [String: String]) -> [String: String] {
        var e = environment
        // Paths beyond ours from an enclosing `fcinit exec` would name devices this one does not serve.
        for k in environment.keys where k.hasPrefix(SGBridgeProtocol.deviceVariable + "_")
            || k.hasPrefix(SGBridgeProtocol.socketVariable + "_") || k.hasPrefix(SGBridgeProtocol.lunVariable + "_") {
            e[k] = nil
        }
        for (k, v) in additions { e[k] = v }
        if let existing = environment["LD_PRELOAD"], !existing.isEmpty {
            let others = existing.split(whereSeparator: { $0 == ":" || $0 == " " }).filter { $0 != shimPath }
            e["LD_PRELOAD"] = ([shimPath] + others.map(String.init)).joined(separator: ":")
        }
        return e
    }

    /// The places `locateShim` tries, in order: `$FCINIT_SGSHIM`, the running executable's
    /// directory (where SwiftPM puts products next to `fcinit`), then `.build/debug` and
    /// `.build/release` under the current directory, the executable's directory and their
    /// parents.
    public static func shimCandidates(environment: [String: String]? = nil,
                                      executablePath: String? = currentExecutablePath(),
                                      currentDirectory: String? = currentDirectoryPath()) -> [String] {
        var out: [String] = []
        let override = environment.map { $0[overrideVariable] } ?? getenv(overrideVariable).map { String(cString: $0) }
        if let override, !override.isEmpty { out.append(override) }
        let exeDir = executablePath.map(directory(of:))
        if let exeDir { out.append(exeDir + "/" + libraryName) }
        for start in [currentDirectory, exeDir].compactMap({ $0 }) {
            var dir = start
            while true {
                for config in ["debug", "release"] { out.append(dir + "/.build/" + config + "/" + libraryName) }
                if dir == "/" || dir.isEmpty { break }
                dir = directory(of: dir)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }

    /// The first readable candidate (see `shimCandidates`), or nil.
    public static func locateShim(environment: [String: String]? = nil) -> String? {
        shimCandidates(environment: environment).first { access($0, R_OK) == 0 }
    }

    /// `/proc/self/exe` resolved.
    public static func currentExecutablePath() -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The current directory.
    public static func currentDirectoryPath() -> String? {
        guard let p = getcwd(nil, 0) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }
}
