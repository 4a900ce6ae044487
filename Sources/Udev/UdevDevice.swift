import CUdev
import Glibc

/// A libudev context and the devices read through it. libudev objects are not thread-safe:
/// a context and its devices are used by one task at a time and never leave this module;
/// what discovery returns is plain values (`HBAPort`).
final class UdevContext {
    let handle: OpaquePointer

    init() throws(DiscoveryError) {
        guard let u = udev_new() else { throw .udevUnavailable("udev_new failed: \(String(cString: strerror(errno)))") }
        handle = u
    }

    deinit { udev_unref(handle) }

    /// Every device of `subsystem` (for example `fc_host`), sorted by sysfs path.
    func devices(subsystem: String) throws(DiscoveryError) -> [UdevDevice] {
        guard let e = udev_enumerate_new(handle) else { throw .udevUnavailable("udev_enumerate_new failed") }
        defer { udev_enumerate_unref(e) }
        udev_enumerate_add_match_subsystem(e, subsystem)
        let rc = udev_enumerate_scan_devices(e)
        guard rc >= 0 else { throw .udevUnavailable("scanning \(subsystem) devices: \(String(cString: strerror(-rc)))") }
        var out: [UdevDevice] = []
        var entry = udev_enumerate_get_list_entry(e)
        while let en = entry {
            if let path = udev_list_entry_get_name(en), let d = udev_device_new_from_syspath(handle, path) {
                out.append(UdevDevice(owning: d))
            }
            entry = udev_list_entry_get_next(en)
        }
        return out.sorted { $0.syspath < $1.syspath }
    }

    func device(subsystem: String, sysname: String) -> UdevDevice? {
        udev_device_new_from_subsystem_sysname(handle, subsystem, sysname).map { UdevDevice(owning: $0) }
    }

    func device(syspath: String) -> UdevDevice? {
        udev_device_new_from_syspath(handle, syspath).map { UdevDevice(owning: $0) }
    }
}

/// One udev device (a reference it owns).
final class UdevDevice {
    let handle: OpaquePointer

    init(owning handle: OpaquePointer) { self.handle = handle }
    deinit { udev_device_unref(handle) }

    var syspath: String { udev_device_get_syspath(handle).map { String(cString: $0) } ?? "" }
    var sysname: String { udev_device_get_sysname(handle).map { String(cString: $0) } ?? "" }
    var subsystem: String? { udev_device_get_subsystem(handle).map { String(cString: $0) } }
    var devtype: String? { udev_device_get_devtype(handle).map { String(cString: $0) } }

    /// The nearest ancestor in `subsystem` (and `devtype`, if given).
    func parent(subsystem: String, devtype: String? = nil) -> UdevDevice? {
        // The parent belongs to this device; take a reference of our own.
        guard let p = udev_device_get_parent_with_subsystem_devtype(handle, subsystem, devtype) else { return nil }
        return UdevDevice(owning: udev_device_ref(p))
    }

    /// A sysfs attribute, read fresh from the file (libudev caches its own reads, and
    /// attributes such as port_state change), trailing newlines and blanks removed; nil if the
    /// file does not exist or cannot be read.
    func attribute(_ name: String) -> String? { SysfsFile.read(syspath + "/" + name) }

    /// A udev property (from the device's uevent and the udev database).
    func property(_ name: String) -> String? {
        udev_device_get_property_value(handle, name).map { String(cString: $0) }
    }

    /// The last component of what the symbolic link `name` below the device points at
    /// (`driver` → `qla2xxx`): read with readlink, not resolved, so a link into a driver
    /// directory that is not there (as under umockdev) still names its driver.
    func linkName(_ name: String) -> String? {
        guard let target = SysfsFile.readLink(syspath + "/" + name) else { return nil }
        return target.split(separator: "/").last.map(String.init)
    }
}

/// Plain reads of sysfs files and links (through libc, so umockdev's preload library sees them).
enum SysfsFile {
    /// The file's text with trailing whitespace removed, or nil.
    static func read(_ path: String, limit: Int = 64 * 1024) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                if n < 0 { return nil }
                break
            }
            bytes.append(contentsOf: buffer[0..<n])
        }
        // Some attributes (LIO's, and a few drivers') embed NUL bytes; sysfs text ends at them.
        if let nul = bytes.firstIndex(of: 0) { bytes.removeSubrange(nul...) }
        var s = String(decoding: bytes, as: UTF8.self)
        while let last = s.unicodeScalars.last, last == "\n" || last == " " || last == "\t" || last == "\r" {
            s.unicodeScalars.removeLast()
        }
        return s
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Names in a directory (without . and ..), sorted; empty if it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func write(_ path: String, _ text: String) -> Int32? {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        return n == bytes.count ? nil : (n < 0 ? errno : EIO)
    }
}
