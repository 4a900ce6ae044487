import STMF

/// The CDBs the initiator itself issues (discovery, CLI, benchmark).
extension SCSIRequest {
    public static func testUnitReady(lun: UInt16) -> SCSIRequest {
        SCSIRequest(lun: lun, cdb: [0x00, 0, 0, 0, 0, 0])
    }

    /// Standard INQUIRY.
    public static func inquiry(lun: UInt16, allocationLength: UInt16 = 96) -> SCSIRequest {
        SCSIRequest(lun: lun, cdb: [0x12, 0, 0, UInt8(allocationLength >> 8), UInt8(truncatingIfNeeded: allocationLength), 0],
                    direction: .read, readLength: Int(allocationLength))
    }

    /// REPORT LUNS (select report 0), addressed to `lun` (normally LUN 0).
    public static func reportLUNs(lun: UInt16 = 0, allocationLength: UInt32 = 8 + 8 * 512) -> SCSIRequest {
        var cdb = [UInt8](repeating: 0, count: 12)
        cdb[0] = 0xA0
        put32(allocationLength, into: &cdb, at: 6)
        return SCSIRequest(lun: lun, cdb: cdb, direction: .read, readLength: Int(allocationLength))
    }

    /// READ CAPACITY(16) (SERVICE ACTION IN(16), service action 0x10).
    public static func readCapacity16(lun: UInt16) -> SCSIRequest {
        var cdb = [UInt8](repeating: 0, count: 16)
        cdb[0] = 0x9E
        cdb[1] = 0x10
        cdb[13] = 32
        return SCSIRequest(lun: lun, cdb: cdb, direction: .read, readLength: 32)
    }

    /// READ(16) of `blocks` blocks of `blockSize` bytes at `lba`.
    public static func read16(lun: UInt16, lba: UInt64, blocks: UInt32, blockSize: Int) -> SCSIRequest {
        SCSIRequest(lun: lun, cdb: rw16(0x88, lba: lba, blocks: blocks), direction: .read,
                    readLength: Int(blocks) * blockSize)
    }

    /// WRITE(16) of `data` (a whole number of `blockSize` blocks) at `lba`.
    public static func write16(lun: UInt16, lba: UInt64, data: [UInt8], blockSize: Int) -> SCSIRequest {
        SCSIRequest(lun: lun, cdb: rw16(0x8A, lba: lba, blocks: UInt32(data.count / blockSize)), direction: .write,
                    dataOut: data)
    }

    static func rw16(_ op: UInt8, lba: UInt64, blocks: UInt32) -> [UInt8] {
        var cdb = [UInt8](repeating: 0, count: 16)
        cdb[0] = op
        for i in 0..<8 { cdb[2 + i] = UInt8(truncatingIfNeeded: lba >> (56 - 8 * UInt64(i))) }
        put32(blocks, into: &cdb, at: 10)
        return cdb
    }

    static func put32(_ v: UInt32, into b: inout [UInt8], at o: Int) {
        b[o] = UInt8(v >> 24); b[o + 1] = UInt8(truncatingIfNeeded: v >> 16)
        b[o + 2] = UInt8(truncatingIfNeeded: v >> 8); b[o + 3] = UInt8(truncatingIfNeeded: v)
    }
}

/// Standard INQUIRY data (SPC-4 6.6.2), the fields an initiator shows.
public struct InquiryData: Sendable, Equatable {
    public var peripheralQualifier: UInt8
    public var peripheralDeviceType: UInt8
    public var removable: Bool
    public var version: UInt8
    public var vendor: String
    public var product: String
    public var revision: String

    public init?(parsing b: [UInt8]) {
        guard b.count >= 36 else { return nil }
        peripheralQualifier = b[0] >> 5
        peripheralDeviceType = b[0] & 0x1F
        removable = b[1] & 0x80 != 0
        version = b[2]
        func text(_ r: Range<Int>) -> String {
            String(decoding: b[r].map { $0 >= 0x20 && $0 < 0x7F ? $0 : 0x20 }, as: UTF8.self)
                .trimmingCharacters(in: " ")
        }
        vendor = text(8..<16)
        product = text(16..<32)
        revision = text(32..<36)
    }

    /// SPC peripheral device type names (as `fcinfo lu` / sg_inq print them).
    public var deviceTypeName: String {
        switch peripheralDeviceType {
        case 0x00: "disk"
        case 0x01: "tape"
        case 0x05: "cd/dvd"
        case 0x07: "optical memory"
        case 0x08: "medium changer"
        case 0x0C: "storage array controller"
        case 0x0D: "enclosure services"
        case 0x1E: "well known logical unit"
        case 0x1F: "no device"
        default: "type 0x" + String(peripheralDeviceType, radix: 16)
        }
    }
}

/// READ CAPACITY(16) parameter data (SBC-3 5.16.2).
public struct ReadCapacityData: Sendable, Equatable {
    /// The number of logical blocks (last LBA + 1).
    public var blocks: UInt64
    public var blockSize: UInt32
    /// Thin provisioning enabled (LBPME).
    public var thinProvisioned: Bool

    public init?(parsing b: [UInt8]) {
        guard b.count >= 12 else { return nil }
        var last: UInt64 = 0
        for i in 0..<8 { last = last << 8 | UInt64(b[i]) }
        blocks = last &+ 1
        blockSize = UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11])
        thinProvisioned = b.count > 14 && b[14] & 0x80 != 0
    }

    public var bytes: UInt64 { blocks &* UInt64(blockSize) }
}

/// The LUNs of REPORT LUNS parameter data that use single-level peripheral or flat addressing.
public func parseReportLUNs(_ b: [UInt8]) -> [UInt16] {
    guard b.count >= 8 else { return [] }
    let length = Int(UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3]))
    let end = min(b.count, 8 + length)
    var out: [UInt16] = []
    var p = 8
    while p + 8 <= end {
        var field: UInt64 = 0
        for i in 0..<8 { field = field << 8 | UInt64(b[p + i]) }
        if case .lun(let n) = LUNAddress(field: field) { out.append(n) }
        p += 8
    }
    return out
}

/// Human-readable size with binary units, as COMSTAR's tools print them ("1.0G", "512M").
public func humanReadableSize(_ bytes: UInt64) -> String {
    let units = ["B", "K", "M", "G", "T", "P", "E"]
    var v = Double(bytes)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    if i == 0 { return "\(bytes)B" }
    let rounded = (v * 10).rounded() / 10
    return rounded == rounded.rounded() && rounded >= 10 ? "\(Int(rounded))\(units[i])" : "\(rounded)\(units[i])"
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
