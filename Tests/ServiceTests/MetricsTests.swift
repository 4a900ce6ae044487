import Foundation
import Testing
import SBD
@testable import STMF
@testable import STMFService

private final class NullPort: PortProvider {
    func online() async throws {}
    func offline() async {}
}

/// swift-metrics may be bootstrapped once per process.
private let sharedMetrics: MetricsRegistry = {
    let m = MetricsRegistry()
    m.bootstrap()
    return m
}()

@Suite struct MetricsTests {
    @Test func commandsBytesErrorsAndLatencyPerLUAndPort() async throws {
        let metrics = sharedMetrics
        let stmf = STMF(observer: CommandMetrics(registry: metrics.registry))
        let target = try PortIdentifier(parsing: "wwn.5000000000000077")
        let port = try stmf.registerTargetPort(target, provider: NullPort())
        try await stmf.setTargetPortState(target, online: true)
        var props = SBDProperties()
        props.size = 1 << 20
        let lu = try SBDLogicalUnit.create(properties: props, backing: .ram)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addViewEntry(lu: lu.guid, lun: 0) }
        let session = try port.createSession(initiator: try PortIdentifier(parsing: "wwn.2100000000000077"))
        func send(_ cdb: [UInt8], dataIn: Int = 0, dataOut: [UInt8]? = nil) async -> TaskResponse {
            await session.execute(SCSICommand(lun: 0, cdb: CDB(cdb), tag: UInt64.random(in: 1...UInt64.max),
                                              direction: dataOut != nil ? .write : (dataIn > 0 ? .read : .none),
                                              expectedTransferLength: dataOut?.count ?? dataIn,
                                              dataOut: dataOut.map { IOBuffer(copying: $0) },
                                              dataIn: dataIn > 0 ? IOBuffer(capacity: dataIn) : nil))
        }
        #expect(await send([0, 0, 0, 0, 0, 0]).status == .checkCondition)          // POWER ON UA: an error
        #expect(await send([0x2A, 0, 0, 0, 0, 0, 0, 0, 2, 0], dataOut: [UInt8](repeating: 7, count: 1024)).status == .good)
        #expect(await send([0x28, 0, 0, 0, 0, 0, 0, 0, 4, 0], dataIn: 2048).status == .good)
        let text = metrics.prometheusText()
        let labels = "lu=\"\(lu.guid)\",target=\"\(target)\""
        let lines = text.split(separator: "\n").map(String.init)
        func value(_ name: String) -> String? {
            lines.first { $0.hasPrefix(name + "{") && $0.contains("lu=\"\(lu.guid)\"") }?.split(separator: " ").last.map(String.init)
        }
        // The UA CHECK CONDITION is STMF's own answer; the two LU commands are counted.
        #expect(value("stmf_commands_total") == "2", "\(text)")
        #expect(value("stmf_written_bytes_total") == "1024")
        #expect(value("stmf_read_bytes_total") == "2048")
        #expect(text.contains("stmf_command_duration_seconds_count{\(labels)} 2") || text.contains("stmf_command_duration_seconds_count{target=\"\(target)\",lu=\"\(lu.guid)\"} 2"), "\(text)")
    }
}

/// Per-initiator counters: the recorder of an I_T_L nexus named with its initiator counts into
/// the I_T families too (STMF names the initiator through `recorder(lu:targetPort:initiator:)`).
@Suite struct InitiatorMetricsTests {
    @Test func anITLRecorderCountsPerInitiatorAndReadWriteApart() throws {
        let metrics = MetricsRegistry()
        let observer = CommandMetrics(registry: metrics.registry)
        let lu = try #require(LUGUID("600144F0000000000000000000000042"))
        let target = try PortIdentifier(parsing: "wwn.5000000000000042")
        let a = observer.recorder(lu: lu, targetPort: target, initiator: try PortIdentifier(parsing: "wwn.2100000000000042"))
        let b = observer.recorder(lu: lu, targetPort: target, initiator: try PortIdentifier(parsing: "wwn.2100000000000043"))
        a.record(direction: .write, bytes: 4096, status: .good, nanoseconds: 50_000)
        a.record(direction: .read, bytes: 512, status: .checkCondition, nanoseconds: 20_000)
        b.record(direction: .read, bytes: 1024, status: .good, nanoseconds: 30_000)
        let text = metrics.prometheusText()
        func line(_ name: String, _ initiator: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(name + "{") && $0.contains(initiator) }.map(String.init)
        }
        #expect(line("stmf_initiator_commands_total", "2100000000000042")?.hasSuffix(" 2") == true, "\(text)")
        #expect(line("stmf_initiator_written_bytes_total", "2100000000000042")?.hasSuffix(" 4096") == true)
        #expect(line("stmf_initiator_command_errors_total", "2100000000000042")?.hasSuffix(" 1") == true)
        #expect(line("stmf_initiator_read_bytes_total", "2100000000000043")?.hasSuffix(" 1024") == true)
        // The LU's own counters add both initiators up, reads and writes apart.
        #expect(text.contains("stmf_read_commands_total{lu=\"600144F0000000000000000000000042\",target=\"wwn.5000000000000042\"} 2"), "\(text)")
        #expect(text.contains("stmf_write_commands_total{lu=\"600144F0000000000000000000000042\",target=\"wwn.5000000000000042\"} 1"))
        #expect(text.contains("# HELP stmf_initiator_commands_total "))
    }
}
