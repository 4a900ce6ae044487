import Foundation
import Testing
@testable import SBD
@testable import STMF

/// Records what the LU asks of STMF.
final class FakeServices: LUServices, @unchecked Sendable {
    private let lock = NSLock()
    private var _uas: [(AdditionalSense, UnitAttentionScope)] = []
    private var _aborts: [UnitAttentionScope] = []
    let ports: [TargetPortInfo]

    init(ports: [TargetPortInfo] = [
        TargetPortInfo(name: .wwn(WWN(0x2100_0024_FF7F_0001)), relativeID: 1, groupID: 1, online: true),
        TargetPortInfo(name: .wwn(WWN(0x2100_0024_FF7F_0002)), relativeID: 2, groupID: 1, online: true),
        TargetPortInfo(name: .wwn(WWN(0x2100_0024_FF7F_0003)), relativeID: 3, groupID: 2, online: true),
    ]) { self.ports = ports }

    func establishUnitAttention(_ sense: AdditionalSense, lu: LUGUID, scope: UnitAttentionScope) {
        lock.lock(); _uas.append((sense, scope)); lock.unlock()
    }
    func targetPorts() -> [TargetPortInfo] { ports }
    func abortTasks(lu: LUGUID, scope: UnitAttentionScope) { lock.lock(); _aborts.append(scope); lock.unlock() }

    var unitAttentions: [(AdditionalSense, UnitAttentionScope)] { lock.lock(); defer { lock.unlock() }; return _uas }
}

func makeNexus(session: UInt64 = 1, relativePort: UInt16 = 1, group: UInt16 = 1) -> Nexus {
    Nexus(sessionID: session, initiator: .wwn(WWN(0x2100_0024_FF00_0000 + session)),
          targetPort: .wwn(WWN(0x2100_0024_FF7F_0000 + UInt64(relativePort))),
          relativeTargetPortID: relativePort, targetPortGroupID: group)
}

struct Result {
    var response: TaskResponse
    var data: [UInt8]
    var status: SCSIStatus { response.status }
    var sense: SenseData? { response.sense }
    var senseBytes: [UInt8] { response.senseBytes ?? [] }
}

/// An LU plus the plumbing to send it commands.
final class Harness: @unchecked Sendable {
    let lu: SBDLogicalUnit
    let services = FakeServices()
    let nexus: Nexus
    private var tag: UInt64 = 0

    init(_ lu: SBDLogicalUnit, nexus: Nexus = makeNexus()) {
        self.lu = lu; self.nexus = nexus
        lu.attach(services)
    }

    static func ram(size: UInt64 = 1 << 20, blockSize: UInt32 = 512, configure: (inout SBDProperties) -> Void = { _ in }) throws -> Harness {
        var p = SBDProperties()
        p.size = size; p.blockSize = blockSize
        p.guid = "600144F0C0FFEE000000000000000001"
        p.serial = "SN-0001"
        configure(&p)
        return Harness(try SBDLogicalUnit.create(properties: p, backing: .ram))
    }

    func run(_ cdb: [UInt8], out: [UInt8]? = nil, dataOutCount: Int? = nil, inLength: Int = 65536,
             nexus: Nexus? = nil) async -> Result {
        tag += 1
        let outBuf = out.map { IOBuffer(copying: $0) }
        if let dataOutCount, let outBuf { outBuf.count = dataOutCount }
        let inBuf = inLength > 0 ? IOBuffer(capacity: inLength) : nil
        let task = LUTask(cdb: CDB(cdb), lun: 0, nexus: nexus ?? self.nexus, attribute: .simple, tag: tag,
                          dataOut: outBuf, dataIn: inBuf, dataInLimit: inLength,
                          expectedTransferLength: out?.count ?? inLength,
                          direction: out != nil ? .write : (inLength > 0 ? .read : .none))
        let r = await lu.execute(task)
        let data = inBuf.map { Array($0.array(r.dataLength)) } ?? []
        return Result(response: r, data: out == nil ? data : [])
    }
}

// MARK: CDB builders

func be(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) } }

func read10(_ lba: UInt32, _ n: UInt16, flags: UInt8 = 0) -> [UInt8] { [0x28, flags] + be(UInt64(lba), 4) + [0] + be(UInt64(n), 2) + [0] }
func write10(_ lba: UInt32, _ n: UInt16, flags: UInt8 = 0) -> [UInt8] { [0x2A, flags] + be(UInt64(lba), 4) + [0] + be(UInt64(n), 2) + [0] }
func read16(_ lba: UInt64, _ n: UInt32, flags: UInt8 = 0) -> [UInt8] { [0x88, flags] + be(lba, 8) + be(UInt64(n), 4) + [0, 0] }
func write16(_ lba: UInt64, _ n: UInt32, flags: UInt8 = 0) -> [UInt8] { [0x8A, flags] + be(lba, 8) + be(UInt64(n), 4) + [0, 0] }
func read12(_ lba: UInt32, _ n: UInt32) -> [UInt8] { [0xA8, 0] + be(UInt64(lba), 4) + be(UInt64(n), 4) + [0, 0] }
func write12(_ lba: UInt32, _ n: UInt32, flags: UInt8 = 0) -> [UInt8] { [0xAA, flags] + be(UInt64(lba), 4) + be(UInt64(n), 4) + [0, 0] }
func inquiry(evpd: Bool = false, page: UInt8 = 0, alloc: UInt16 = 1024) -> [UInt8] { [0x12, evpd ? 1 : 0, page] + be(UInt64(alloc), 2) + [0] }

func pattern(_ n: Int, seed: UInt8 = 1) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) } }

// MARK: sg3_utils

struct ToolOutput { var stdout: String; var stderr: String; var status: Int32 }

func runTool(_ tool: String, _ args: [String]) throws -> ToolOutput {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : "/usr/bin/" + tool)
    p.arguments = args
    let o = Pipe(), e = Pipe()
    p.standardOutput = o; p.standardError = e
    try p.run()
    let od = o.fileHandleForReading.readDataToEndOfFile()
    let ed = e.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return ToolOutput(stdout: String(decoding: od, as: UTF8.self), stderr: String(decoding: ed, as: UTF8.self),
                      status: p.terminationStatus)
}

/// Writes `bytes` as ASCII hex (16 per line) into a temporary file and runs `tool --inhex=FILE args`.
func decodeHex(_ tool: String, _ bytes: [UInt8], _ args: [String] = [], flag: String = "--inhex=") throws -> ToolOutput {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sbd-hex-\(UUID().uuidString).txt")
    defer { try? FileManager.default.removeItem(at: url) }
    var text = ""
    for (i, b) in bytes.enumerated() {
        text += String(format: "%02x", b) + ((i % 16 == 15) ? "\n" : " ")
    }
    try (text + "\n").write(to: url, atomically: true, encoding: .ascii)
    return try runTool(tool, [flag + url.path] + args)
}

/// A scratch directory removed when the value is released.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("sbd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func fileBlocks(_ path: String) -> Int {
    var st = stat()
    return stat(path, &st) == 0 ? Int(st.st_blocks) : -1
}
