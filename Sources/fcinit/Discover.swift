import ArgumentParser
import FCInitiator
import FCPort
import Foundation
import STMF

struct LUNJSON: Codable {
    var lun: Int
    var vendor: String?
    var product: String?
    var revision: String?
    var deviceType: String?
    var peripheralDeviceType: Int?
    var blockSize: Int?
    var blocks: UInt64?
    var sizeBytes: UInt64?
    var size: String?
    var error: String?

    init(_ d: DiscoveredLUN) {
        lun = Int(d.lun)
        vendor = d.inquiry?.vendor
        product = d.inquiry?.product
        revision = d.inquiry?.revision
        deviceType = d.inquiry?.deviceTypeName
        peripheralDeviceType = d.inquiry.map { Int($0.peripheralDeviceType) }
        blockSize = d.capacity.map { Int($0.blockSize) }
        blocks = d.capacity?.blocks
        sizeBytes = d.capacity?.bytes
        size = d.capacity.map { humanReadableSize($0.bytes) }
        error = d.error
    }
}

struct TargetJSON: Codable {
    var portName: String
    var nodeName: String
    var portID: String
    var symbolicName: String
    var loginError: String?
    var reportLUNsError: String?
    var luns: [LUNJSON]

    init(_ t: DiscoveredTarget) {
        portName = "wwn." + t.portName.hex
        nodeName = "wwn." + t.nodeName.hex
        portID = t.portID.description
        symbolicName = t.symbolicName
        loginError = t.loginError
        reportLUNsError = t.reportLUNsError
        luns = t.luns.map(LUNJSON.init)
    }
}

/// Prints one LU the way `fcinfo lu -v` / `stmfadm list-lu -v` lay out fields.
func describe(_ d: DiscoveredLUN, indent: String) -> [String] {
    var out = ["\(indent)LUN: \(d.lun)"]
    let i2 = indent + "    "
    if let inq = d.inquiry {
        out.append("\(i2)Vendor: \(inq.vendor)")
        out.append("\(i2)Product: \(inq.product)")
        out.append("\(i2)Revision: \(inq.revision)")
        out.append("\(i2)Device Type: \(inq.deviceTypeName)")
    }
    if let c = d.capacity {
        out.append("\(i2)Unformatted capacity: \(humanReadableSize(c.bytes)) (\(c.blocks) blocks of \(c.blockSize) bytes)")
    }
    if let e = d.error { out.append("\(i2)Error: \(e)") }
    return out
}

struct Discover: FCInitSubcommand {
    static let configuration = CommandConfiguration(
        abstract: "List the target ports on the fabric and their logical units.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.")
    var json = false

    func execute() async throws {
        try await runCLI {
            let targets = try await global.withInitiator { ini in
                do { return try await ini.discover() } catch { throw CLIError("discovery failed: \(error)") }
            }
            if json { try printJSON(targets.map(TargetJSON.init)); return }
            if targets.isEmpty { print("No target ports found."); return }
            for t in targets {
                print("Remote Port WWN: \(t.portName.hex)")
                print("    Active FC4 Types: SCSI")
                print("    SCSI Target: yes")
                print("    Node WWN: \(t.nodeName.hex)")
                print("    N_Port ID: \(t.portID)")
                if !t.symbolicName.isEmpty { print("    Symbolic Name: \(t.symbolicName)") }
                if let e = t.loginError { print("    Login: failed (\(e))"); continue }
                if let e = t.reportLUNsError { print("    LUNs: unknown (\(e))"); continue }
                print("    LUNs: \(t.luns.count)")
                for l in t.luns { describe(l, indent: "    ").forEach { print($0) } }
            }
        }
    }
}
