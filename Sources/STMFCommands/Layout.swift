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

    static func date(_ t: Double) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "EEE MMM d HH:mm:ss yyyy"
        return f.string(from: Date(timeIntervalSince1970: t))
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
        }
        return s
    }
}
