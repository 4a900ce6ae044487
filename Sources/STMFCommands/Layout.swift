#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import STMFAPI

/// COMSTAR's output layouts.
enum Layout {
    static func luVerbose(_ lu: LUInfo) -> String {
        var s = ""
        func line(_ k: String, _ v: String) { s += "    " + k.padding(toLength: 18, withPad: " ", startingAt: 0) + ": " + v + "\n" }
        line("Operational Status", lu.operationalStatus)
        line("Provider Name", lu.providerName)
        line("Alias", lu.alias)
        line("View Entry Count", "\(lu.viewEntryCount)")
        line("Data File", lu.dataFile)
        line("Meta File", lu.metaFile ?? "not set")
        line("Size", "\(lu.size)")
        line("Block Size", "\(lu.blockSize)")
        line("Management URL", lu.managementURL ?? "not set")
        line("Vendor ID", lu.vendorID)
        line("Product ID", lu.productID)
        line("Serial Num", lu.serialNumber ?? "not set")
        line("Write Protect", lu.writeProtect ? "Enabled" : "Disabled")
        line("Writeback Cache", lu.writebackCache ? "Enabled" : "Disabled")
        line("Access State", lu.accessState)
        // A pass-through LU (provider sg): what the device is, and that STMF answers reservations.
        if let t = lu.properties["device-type"] { line("Device Type", t) }
        if let r = lu.properties["reservations"] { line("Reservations", r) }
        if let r = lu.reason { line("Reason", r) }
        return s
    }

    static func view(_ v: ViewEntryInfo) -> String {
        """
        View Entry: \(v.entry)
            Host group   : \(v.hostGroup ?? "All")
            Target group : \(v.targetGroup ?? "All")
            LUN          : \(v.lun)

        """
    }

    /// A time as illumos prints one, ctime(3) in the local time zone without its newline:
    /// `Thu Nov  4 18:22:48 2025` (the day of the month padded to two columns).
    static func date(_ t: Double) -> String {
        var seconds = time_t(t.rounded(.down))
        var buffer = [CChar](repeating: 0, count: 32)
        guard ctime_r(&seconds, &buffer) != nil else { return "unknown" }
        return String(cString: buffer).trimmingCharacters(in: .newlines)
    }

    static func target(_ t: TargetInfo, verbose: Bool) -> String {
        var s = "Target: \(t.name)\n"
        guard verbose else { return s }
        func line(_ k: String, _ v: String) { s += "    " + k.padding(toLength: 18, withPad: " ", startingAt: 0) + ": " + v + "\n" }
        line("Operational Status", t.operationalStatus)
        line("Provider Name", t.providerName)
        line("Alias", t.alias)
        line("Protocol", t.protocol)
        line("Sessions", "\(t.sessions.count)")
        for session in t.sessions {
            s += "        Initiator: \(session.initiator)\n"
            s += "            Alias: \(session.alias ?? "-")\n"
            s += "            Logged in since: \(date(session.loggedInSince))\n"
            // LIO ports: the kernel's statistics of the nexus (not in illumos' layout).
            if let n = session.commands { s += "            Commands: \(n)\n" }
            if let r = session.readMegabytes, let w = session.writeMegabytes {
                s += "            Read/Written MB: \(r)/\(w)\n"
            }
        }
        return s
    }

    /// A link error status block as illumos prints one (`-l`).
    static func linkErrors(_ e: FCLinkErrors, indent: String) {
        print(indent + "Link Error Statistics:")
        let i2 = indent + "        "
        print(i2 + "Link Failure Count: \(e.linkFailures)")
        print(i2 + "Loss of Sync Count: \(e.lossOfSync)")
        print(i2 + "Loss of Signal Count: \(e.lossOfSignal)")
        print(i2 + "Primitive Seq Protocol Error Count: \(e.primitiveSequenceProtocolErrors)")
        print(i2 + "Invalid Tx Word Count: \(e.invalidTransmissionWords)")
        print(i2 + "Invalid CRC Count: \(e.invalidCRCs)")
    }

    /// The SCSI peripheral device type as illumos' fcinfo names it.
    static func deviceType(_ t: Int) -> String {
        switch t & 0x1F {
        case 0x00: "Disk Device"
        case 0x01: "Tape Device"
        case 0x02: "Printer Device"
        case 0x03: "Processor Device"
        case 0x04: "WORM Device"
        case 0x05: "CD/DVD Device"
        case 0x06: "Scanner Device"
        case 0x07: "Optical Memory Device"
        case 0x08: "Medium Changer Device"
        case 0x09: "Communications Device"
        case 0x0C: "Storage Array Controller Device"
        case 0x0D: "Enclosure Services Device"
        case 0x0E: "Simplified Direct-access Device"
        case 0x0F: "Optical Card Reader/Writer Device"
        case 0x10: "Bridge Controller Commands"
        case 0x11: "Object-based Storage Device"
        case 0x12: "Automation/Drive Interface"
        case 0x1E: "Well Known Logical Unit"
        case 0x1F: "Unknown Device"
        default: "Undefined"
        }
    }
}
