import Foundation
import ProcessTestSupport
import Testing

/// Discovery and bind/unbind on a real qla2xxx port, named by `STMF_HW_QLA2XXX_WWPN` (its WWPN,
/// any WWN form). Binding may reset the HBA (a qlini_mode switch in dual mode): every login on
/// that port drops and comes back, so the variable must name a port nothing depends on.
/// Run as root: `STMF_HW_QLA2XXX_WWPN=21:00:00:24:ff:3d:4c:48 swift test --filter HardwareTests`.
private let namedPort = ProcessInfo.processInfo.environment["STMF_HW_QLA2XXX_WWPN"]

@Suite(.enabled(if: namedPort != nil, "set STMF_HW_QLA2XXX_WWPN to a qla2xxx port's WWPN to run the real-HBA binding tests"),
       .serialized)
struct QLogicBindingTests {
    var wwpn: String {
        let raw = (namedPort ?? "").lowercased().replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "wwn.", with: "")
        return raw.hasPrefix("0x") ? String(raw.dropFirst(2)) : raw
    }

    func ports() throws -> [[String: Any]] {
        let r = try runTool("fcinfo", ["hba-port", "--json", "--state-dir", "/nonexistent"])
        #expect(r.status == 0, "\(r.err)")
        return (try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func discoveryFindsThePortAsATargetCapableQLogicPort() throws {
        let port = try #require(try ports().first { $0["portWWN"] as? String == wwpn }, "fcinfo hba-port does not list \(wwpn)")
        let hba = try #require(port["hba"] as? [String: Any])
        #expect(hba["driver"] as? String == "qla2xxx")
        #expect(hba["driverRole"] as? String == "target-capable")
        #expect((hba["pci"] as? [String: Any])?["claimedBy"] as? [String] != nil)
        let text = try runTool("fcinfo", ["hba-port", "-l", wwpn, "--state-dir", "/nonexistent"])
        #expect(text.status == 0)
        #expect(text.out.contains("HBA Port WWN: \(wwpn)"))
        #expect(text.out.contains("Link Error Statistics:"))
    }

    @Test func bindAndUnbindThroughStmfd() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("stmf-hw-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let stmfd = try launchStmfd(stateDir: state)
        defer { stmfd.terminate(); stmfd.waitUntilExit() }
        func fcadm(_ args: [String]) throws -> ProcessResult {
            try runTool("fcadm", Array(args.prefix(1)) + ["--state-dir", state] + Array(args.dropFirst()))
        }
        for _ in 0..<200 where (try? fcadm(["list-bindings"]))?.status != 0 { Thread.sleep(forTimeInterval: 0.05) }
        let bind = try fcadm(["bind-port", wwpn])
        #expect(bind.status == 0, "\(bind.err)")
        let listed = try fcadm(["list-bindings", "--json"])
        #expect(listed.out.contains("\"target\" : \"wwn.\(wwpn)\""))
        let targets = try runTool("fcinfo", ["hba-port", "-t", "--state-dir", state])
        #expect(targets.out.contains("HBA Port WWN: \(wwpn)\n        Port Mode: Target"))
        let unbind = try fcadm(["unbind-port", wwpn])
        #expect(unbind.status == 0, "\(unbind.err)")
        #expect(!(try runTool("fcinfo", ["hba-port", "-t", "--state-dir", state])).out.contains(wwpn))
    }
}
