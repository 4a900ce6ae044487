import Foundation
import Testing
import STMF

/// Tests that need a real Fibre Channel HBA. They look for `fc_host`s in sysfs and are
/// skipped (not failed) on machines without one, such as CI.
private let fcHosts: [URL] = (try? FileManager.default.contentsOfDirectory(
    at: URL(fileURLWithPath: "/sys/class/fc_host"), includingPropertiesForKeys: nil)) ?? []

private func attribute(_ host: URL, _ name: String) -> String? {
    (try? String(contentsOf: host.appendingPathComponent(name), encoding: .utf8))?
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite(.enabled(if: !fcHosts.isEmpty, "no fc_host in /sys/class/fc_host"))
struct FCHostTests {
    @Test func everyHBAPortNameParsesAsAWWN() throws {
        for host in fcHosts {
            let raw = try #require(attribute(host, "port_name"))
            let wwn = try #require(WWN(raw), "port_name \(raw) of \(host.lastPathComponent)")
            let id = try PortIdentifier(parsing: "wwn." + wwn.hex)
            #expect(id.description.count == 20)
        }
    }
}
