#if canImport(Glibc)
import Glibc
#endif
import CSG
import STMF

/// What a SCSI device says of itself, asked once when its LU is made or reopened (blocking
/// SG_IO: a control path): INQUIRY, VPD 0x83 and, for a disk, READ CAPACITY.
public struct SGDeviceInfo: Sendable, Equatable {
    /// The device's sg node.
    public var sgPath: String
    public var identity: PassThroughLogicalUnit.Identity
    public var vendor: String
    public var product: String
    public var revision: String
    /// The unit serial number (VPD 0x80), empty when the device has none.
    public var serial: String
    /// Capacity in bytes (a disk), 0 for devices without one (tape, media changer).
    public var size: UInt64
}

/// Why a device cannot be an LU.
public struct SGProbeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum SGProbe {
    /// The sg node of `path`: an sg node itself, or a SCSI disk, tape or other SCSI device node
    /// (`/dev/sdX`, `/dev/st0`, `/dev/disk/by-id/…`, symlinks followed) through sysfs.
    public static func sgNode(for path: String, sysRoot: String = "/sys", devRoot: String = "/dev") throws(SGProbeError) -> String {
        guard path.hasPrefix("/") else { throw SGProbeError("\(path): a device path must be absolute") }
        guard let real = realpath(path, nil) else { throw SGProbeError("\(path): \(String(cString: strerror(errno)))") }
        let resolved = String(cString: real)
        free(real)
        var st = stat()
        guard stat(resolved, &st) == 0 else { throw SGProbeError("\(path): \(String(cString: strerror(errno)))") }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFCHR || kind == S_IFBLK else {
            throw SGProbeError("\(path): not a device node (a SCSI generic, disk or tape device is needed)")
        }
        let major = (st.st_rdev >> 8) & 0xFFF, minor = (st.st_rdev & 0xFF) | ((st.st_rdev >> 12) & 0xFFF00)
        if kind == S_IFCHR && major == 21 { return resolved }     // SCSI_GENERIC_MAJOR
        let dir = "\(sysRoot)/dev/\(kind == S_IFBLK ? "block" : "char")/\(major):\(minor)/device/scsi_generic"
        guard let names = sgNames(in: dir) else {
            throw SGProbeError("\(path): not a SCSI device (no SCSI generic node in \(dir)); load the sg module if it is one")
        }
        guard let name = names.first else { throw SGProbeError("\(path): no SCSI generic node in \(dir)") }
        return "\(devRoot)/\(name)"
    }

    /// Asks the device at `sgPath` who it is.
    public static func probe(sgPath: String) throws(SGProbeError) -> SGDeviceInfo {
        let fd = open(sgPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SGProbeError("\(sgPath): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard stmf_sg_version(fd) >= 30000 else { throw SGProbeError("\(sgPath) is not a SCSI generic (sg) device") }
        let inquiry = try command(fd, sgPath, [0x12, 0, 0, 0, 96, 0], 96, "INQUIRY")
        guard inquiry.count >= 36 else { throw SGProbeError("\(sgPath): INQUIRY returned \(inquiry.count) bytes") }
        guard inquiry[0] >> 5 == 0 else { throw SGProbeError("\(sgPath): no logical unit is connected there (peripheral qualifier \(inquiry[0] >> 5))") }
        let type = inquiry[0] & 0x1F
        func text(_ r: Range<Int>) -> String {
            String(decoding: inquiry[r], as: UTF8.self).trimmingWhitespace
        }
        var designators: [UInt8] = []
        if let page = try? command(fd, sgPath, [0x12, 0x01, 0x83, 0x10, 0x00, 0], 4096, "INQUIRY VPD 0x83") {
            designators = PassThroughLogicalUnit.Identity.logicalUnitDesignators(page: page) ?? []
        }
        var serial = ""
        if let page = try? command(fd, sgPath, [0x12, 0x01, 0x80, 0x01, 0x00, 0], 256, "INQUIRY VPD 0x80"), page.count >= 4, page[1] == 0x80 {
            serial = String(decoding: page.dropFirst(4).prefix(Int(page[3])), as: UTF8.self).trimmingWhitespace
        }
        var blockSize: Int?
        var size: UInt64 = 0
        if type == 0 {
            var cdb = [UInt8](repeating: 0, count: 16)
            cdb[0] = 0x9E; cdb[1] = 0x10; cdb[13] = 32
            let cap = try command(fd, sgPath, cdb, 32, "READ CAPACITY (16)")
            guard cap.count >= 12 else { throw SGProbeError("\(sgPath): READ CAPACITY (16) returned \(cap.count) bytes") }
            let last = cap[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let block = cap[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            guard block > 0 else { throw SGProbeError("\(sgPath): READ CAPACITY gives a block size of 0") }
            blockSize = Int(block)
            let (bytes, overflow) = (last &+ 1).multipliedReportingOverflow(by: UInt64(block))
            size = overflow ? UInt64.max : bytes
        }
        let max = stmf_sg_max_transfer(fd)
        let identity = PassThroughLogicalUnit.Identity(peripheralDeviceType: type, designators: designators, blockSize: blockSize,
                                                       maxTransferBytes: max > 0 ? Int(max) : 512 * 1024)
        return SGDeviceInfo(sgPath: sgPath, identity: identity, vendor: text(8..<16), product: text(16..<32),
                            revision: text(32..<36), serial: serial, size: size)
    }

    /// The sg node of the device whose logical-unit designators are `designators`, among this
    /// machine's (`/sys/class/scsi_generic`), or nil. Each candidate is asked (INQUIRY VPD 0x83).
    public static func find(designators: [UInt8], sysRoot: String = "/sys", devRoot: String = "/dev") -> String? {
        guard !designators.isEmpty, let names = sgNames(in: "\(sysRoot)/class/scsi_generic") else { return nil }
        for name in names {
            if let info = try? probe(sgPath: "\(devRoot)/\(name)"), info.identity.designators == designators { return info.sgPath }
        }
        return nil
    }

    /// The `sg*` entries of a directory, sorted; nil when it cannot be read.
    static func sgNames(in dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { p in p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name.hasPrefix("sg") { names.append(name) }
        }
        return names.sorted()
    }

    /// A blocking data-in command; its data, or why it failed.
    static func command(_ fd: Int32, _ path: String, _ cdb: [UInt8], _ length: Int, _ what: String) throws(SGProbeError) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: length)
        var sense = [UInt8](repeating: 0, count: 64)
        var result = stmf_sg_result()
        let rc = cdb.withUnsafeBufferPointer { c in
            data.withUnsafeMutableBytes { d in
                sense.withUnsafeMutableBufferPointer { s in
                    stmf_sg_io(fd, c.baseAddress, Int32(c.count), STMF_SG_FROM_DEVICE, d.baseAddress, UInt32(length),
                               s.baseAddress, Int32(s.count), 20_000, &result)
                }
            }
        }
        guard rc == 0 else { throw SGProbeError("\(path): \(what): \(String(cString: strerror(-rc)))") }
        guard result.host_status == 0, result.status == 0 else {
            let key = result.sense_length > 2 ? sense[(sense[0] & 0x7F) >= 0x72 ? 1 : 2] & 0x0F : 0
            throw SGProbeError("\(path): \(what) failed: status 0x\(String(result.status, radix: 16)), host status 0x\(String(result.host_status, radix: 16)), sense key 0x\(String(key, radix: 16))")
        }
        return Array(data.prefix(max(0, length - Int(result.residual))))
    }
}
