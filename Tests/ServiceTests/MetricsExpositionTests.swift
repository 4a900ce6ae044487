import Foundation
import ProcessTestSupport
import Testing

/// `GET /metrics` as Prometheus reads it (issue 16): parsed by the Prometheus client's own
/// parser (python3-prometheus-client, installed by scripts/install-deps.sh), with an emulated
/// SAN behind it (fcfabric, stmfd's emulated port, fcinit reading and writing), so every
/// family has samples to show.
@Suite(.serialized) struct MetricsExpositionTests {
    static let parser = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scripts/parse_metrics.py").path
    static let target = "2100001b32a0d001"
    static let initiator = "2100001b32b0e001"

    struct Sample: Decodable { var name: String; var labels: [String: String]; var value: Double }
    struct Family: Decodable { var name: String; var type: String; var help: String; var samples: [Sample] }

    /// The families as prometheus_client parses them (the test fails when it refuses the text).
    static func parse(_ text: String) throws -> [Family] {
        let r = try runTool("/usr/bin/python3", [parser], stdin: Data(text.utf8))
        #expect(r.status == 0, "\(r.err)")
        return try JSONDecoder().decode([Family].self, from: Data(r.out.utf8))
    }

    /// An fcfabric on `socket`, once the socket is there.
    static func startFabric(_ socket: String) throws -> Process {
        let fabric = Process()
        fabric.executableURL = productsDirectory.appendingPathComponent("fcfabric")
        fabric.arguments = ["--socket", socket]
        fabric.standardOutput = FileHandle.nullDevice
        fabric.standardError = FileHandle.nullDevice
        try fabric.run()
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
        return fabric
    }

    @Test func everyFamilyParsesWithHelpAndTheSANIsThere() throws {
        let d = try DaemonHarness(); defer { d.cleanup() }
        let fabricSocket = d.stateDir + ".fabric.sock"
        let fabric = try Self.startFabric(fabricSocket)
        defer { fabric.terminate(); fabric.waitUntilExit(); unlink(fabricSocket) }
        try d.start()
        let created = try d.ok(["create-lu", "-s", "1m", "-p", "alias=metrics", "ram:metrics"])
        let guid = String(created.dropFirst("Logical unit created: ".count).prefix(32))
        try d.ok(["add-view", "-n", "0", guid])
        #expect(try d.tool("fcadm", ["create-emulated-port", "-p", Self.target, "--fabric", fabricSocket]).status == 0)
        let env = ["STMF_STATE_DIR": d.stateDir, "FCFABRIC_SOCKET": fabricSocket, "FCINIT_WWPN": Self.initiator]
        // The port logs in to the fabric; then 8 blocks are written and 4 read.
        var online = false
        for _ in 0..<200 where !online {
            online = (try? d.tool("fcinfo", ["hba-port", Self.target]).out.contains("State: online")) ?? false
            if !online { usleep(50_000) }
        }
        #expect(online)
        let w = try runTool("fcinit", ["write", "--target", "wwn." + Self.target, "--lun", "0", "--pattern", "7", "--blocks", "8"], env: env)
        #expect(w.status == 0, "\(w.err)")
        let r = try runTool("fcinit", ["read", "--target", "wwn." + Self.target, "--lun", "0", "--blocks", "4",
                                       "--output", d.stateDir + ".read"], env: env)
        #expect(r.status == 0, "\(r.err)")
        // Scraped while an initiator is logged in (fcinit exec keeps its session for the program).
        let scrape = try runTool("fcinit", ["exec", "--target", "wwn." + Self.target, "--lun", "0", "--",
                                            "/usr/bin/curl", "-s", "--unix-socket", d.socketPath, "http://stmfd/metrics"], env: env)
        #expect(scrape.status == 0, "\(scrape.err)")
        let families = try Self.parse(scrape.out)
        let byName = Dictionary(families.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        // Every family: # HELP (non-empty) and a type the parser understood.
        for f in families {
            #expect(!f.help.isEmpty, "\(f.name) has no # HELP")
            #expect(["counter", "gauge", "histogram"].contains(f.type), "\(f.name): \(f.type)")
        }
        func value(_ family: String, _ sample: String? = nil, _ labels: [String: String]) -> Double? {
            byName[family]?.samples.first { s in
                s.name == (sample ?? family) && labels.allSatisfy { s.labels[$0.key] == $0.value }
            }?.value
        }
        let lu = ["lu": guid, "target": "wwn." + Self.target.uppercased()]
        // The read/write split: the write's 8 blocks exactly, the read's 4 (and more: INQUIRY…).
        #expect(value("stmf_written_bytes", "stmf_written_bytes_total", lu) == 4096, "\(scrape.out)")
        #expect((value("stmf_read_bytes", "stmf_read_bytes_total", lu) ?? 0) >= 2048)
        #expect((value("stmf_write_commands", "stmf_write_commands_total", lu) ?? 0) >= 1)
        #expect((value("stmf_read_commands", "stmf_read_commands_total", lu) ?? 0) >= 1)
        #expect((value("stmf_commands", "stmf_commands_total", lu) ?? 0)
                >= (value("stmf_write_commands", "stmf_write_commands_total", lu) ?? 0) + (value("stmf_read_commands", "stmf_read_commands_total", lu) ?? 0))
        #expect((value("stmf_write_duration_seconds", "stmf_write_duration_seconds_count", lu) ?? 0) >= 1)
        #expect(byName["stmf_command_duration_seconds"]?.type == "histogram")
        // Per initiator (I_T nexus): the same initiator did the write and the read.
        let it = ["target": "wwn." + Self.target.uppercased(), "initiator": "wwn." + Self.initiator.uppercased()]
        #expect(value("stmf_initiator_written_bytes", "stmf_initiator_written_bytes_total", it) == 4096, "\(scrape.out)")
        #expect((value("stmf_initiator_read_bytes", "stmf_initiator_read_bytes_total", it) ?? 0) >= 2048)
        #expect(value("stmf_initiator_commands", "stmf_initiator_commands_total", it) == value("stmf_commands", "stmf_commands_total", lu))
        // LU and target state, sessions (the exec's initiator), FC link errors, the fabric.
        #expect(value("stmf_lu_online", nil, ["lu": guid]) == 1)
        #expect(value("stmf_lu_size_bytes", nil, ["lu": guid]) == 1_048_576)
        #expect(value("stmf_target_online", nil, ["target": "wwn." + Self.target.uppercased()]) == 1)
        #expect(value("stmf_target_sessions", nil, ["target": "wwn." + Self.target.uppercased()]) == 1)
        #expect(value("stmf_session_login_time_seconds", nil, ["initiator": "wwn." + Self.initiator.uppercased()]).map { $0 > 1_700_000_000 } == true)
        #expect(value("stmf_session_tasks_in_flight", nil, ["initiator": "wwn." + Self.initiator.uppercased()]) != nil)
        #expect(value("stmf_fc_port_link_up", nil, ["port": Self.target]) == 1)
        #expect(value("stmf_fc_port_remote_ports", nil, ["port": Self.target]) == 1)
        #expect(value("stmf_fc_link_failures", "stmf_fc_link_failures_total", ["port": Self.target]) == 0)
        #expect(byName["stmf_fc_invalid_crcs"]?.type == "counter")
        #expect(value("fcfabric_up", nil, ["fabric": fabricSocket]) == 1)
        #expect((value("fcfabric_frames_in", "fcfabric_frames_in_total", ["port": Self.target]) ?? 0) > 0)
        #expect((value("fcfabric_frames_out", "fcfabric_frames_out_total", ["port": Self.initiator]) ?? 0) > 0)
        #expect(value("fcfabric_port_logged_in", nil, ["port": Self.initiator]) == 1)
        #expect(value("stmf_build_info", nil, [:]) == 1)
        #expect(byName["stmf_build_info"]?.samples.first?.labels["version"]?.isEmpty == false)
    }

    /// A label value with a quote, a backslash and a newline is escaped so the parser reads it
    /// back as it was (a group name or alias can hold any of them; the fabric path does here).
    @Test func labelValuesAreEscaped() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("stmf \"q\\ \(UUID().uuidString.prefix(6))").path
        let d = try DaemonHarness(stateDir: base); defer { d.cleanup() }
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        let fabricSocket = base + "/f.sock"
        let fabric = try Self.startFabric(fabricSocket)
        defer { fabric.terminate(); fabric.waitUntilExit() }
        try d.start()
        #expect(try d.tool("fcadm", ["create-emulated-port", "-p", Self.target, "--fabric", fabricSocket]).status == 0)
        let text = try apiRequest(d.socketPath, "GET", "/metrics").body
        let families = try Self.parse(text)
        let up = families.first { $0.name == "fcfabric_up" }
        #expect(up?.samples.first?.labels["fabric"] == fabricSocket, "\(text)")
    }
}
