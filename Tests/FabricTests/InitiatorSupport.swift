import FCFabric
import FCInitiator
import FCLink
import FCPort
import Foundation
import STMF
import SBD
import FCTarget
import Testing

extension TestFabric {
    /// An FC initiator on this fabric, started and online.
    func onlineInitiator(_ wwpn: UInt64 = 0x2100_0024_FFFC_0001) async throws -> FCInitiator {
        let i = FCInitiator(portName: WWN(wwpn), fabricPath: socket)
        i.start()
        try await i.waitOnline()
        return i
    }

    /// A relay reflector on this fabric, started and online.
    func onlineReflector(_ wwpn: UInt64 = 0x2FFF_0000_0000_0001) async throws -> RelayReflector {
        let r = RelayReflector(portName: WWN(wwpn), fabricPath: socket)
        r.start()
        try await r.waitOnline()
        return r
    }
}

/// Polls `condition` every 10 ms until it holds or `limit` passes (for state that settles
/// asynchronously; the test then checks the state itself, not the time it took).
func eventually(_ limit: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Deterministic bytes for data checks.
func testPattern(_ count: Int, seed: UInt64) -> [UInt8] {
    var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var out = [UInt8](repeating: 0, count: count)
    for i in 0..<count {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17
        out[i] = UInt8(truncatingIfNeeded: s)
    }
    return out
}

/// A mutex-protected value shared with handlers.
final class Shared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
    var current: Value { withLock { $0 } }
}

/// A target N_Port whose FCP frames go to a script (protocol-level tests).
final class ScriptedTarget: @unchecked Sendable {
    let nport: NPort
    let commands: Shared<[(FrameHeader, [UInt8])]>
    let aborts: Shared<Int>
    private let script: Shared<(@Sendable (FrameHeader, [UInt8], NPort) -> Void)?>

    init(fabric: TestFabric, wwpn: UInt64) {
        let commands = Shared<[(FrameHeader, [UInt8])]>([]), aborts = Shared<Int>(0)
        self.commands = commands
        self.aborts = aborts
        let script = Shared<(@Sendable (FrameHeader, [UInt8], NPort) -> Void)?>(nil)
        let portBox = Shared<NPort?>(nil)
        var h = NPort.Handlers()
        h.processLogin = { _, _ in [.targetFunction, .readXferRdyDisabled] }
        h.frame = { header, payload in
            guard let port = portBox.current else { return }
            let bytes = Array(payload)
            if header.type == .bls && header.routing == .abts {
                aborts.withLock { $0 += 1 }
                let acc = BAAccept.abortingExchange(oxID: header.originatorExchangeID, rxID: header.responderExchangeID)
                port.send(FCFrame(header: header.reply(routing: .baAcc, type: .bls), payload: acc.encoded()))
                return
            }
            if header.routing == .fcpCommand { commands.withLock { $0.append((header, bytes)) } }
            script.current?(header, bytes, port)
        }
        let port = fabric.nport(wwpn, features: .target, handlers: h)
        portBox.withLock { $0 = port }
        nport = port
        self.script = script
    }

    func onScript(_ body: @escaping @Sendable (FrameHeader, [UInt8], NPort) -> Void) { script.withLock { $0 = body } }

    static func respond(_ h: FrameHeader, _ rsp: FCPResponse, via port: NPort) {
        port.send(FCFrame(header: h.reply(routing: .fcpResponse, type: .fcp, responderExchangeID: 0x0042),
                          payload: rsp.encoded()))
    }

    static func data(_ h: FrameHeader, offset: UInt32, _ bytes: [UInt8], via port: NPort) {
        var d = h.reply(routing: .fcpData, type: .fcp, control: [.exchangeResponder, .relativeOffset],
                        responderExchangeID: 0x0042)
        d.parameter = offset
        port.send(FCFrame(header: d, payload: bytes))
    }
}

/// A fabric with an emulated target port in front of STMF and one RAM-backed SBD LU at LUN 0,
/// viewed by every host.
final class TargetRig: @unchecked Sendable {
    static let targetName = WWN(0x5000_0000_0000_0F01)
    let fab: TestFabric
    let stmf = STMF()
    let port: EmulatedTargetPort
    let lu: SBDLogicalUnit
    static let blockSize = 512
    static let size: UInt64 = 64 << 20

    init(pcap: Bool = false) async throws {
        fab = try TestFabric(pcap: pcap)
        port = EmulatedTargetPort(stmf: stmf, portName: Self.targetName, fabricPath: fab.socket)
        try port.register()
        var p = SBDProperties()
        p.size = Self.size
        p.blockSize = UInt32(Self.blockSize)
        p.guid = "600144F0C0FFEE00000000000000F001"
        p.serial = "FCINIT-TEST"
        lu = try SBDLogicalUnit.create(properties: p, backing: .ram)
        try stmf.registerLogicalUnit(lu)
        try await stmf.setLogicalUnitState(lu.guid, online: true)
        let guid = lu.guid
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in
            try v.addViewEntry(lu: guid, lun: 0)
        }
        try await stmf.setTargetPortState(port.name, online: true)
        #expect(await eventually { self.port.status.portID != nil })
    }

    func shutdown() async {
        try? await stmf.setTargetPortState(port.name, online: false)
    }
}

/// The `fcinit` executable next to the test bundle (SwiftPM builds products there).
func fcinitExecutable() -> String? {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("fcinit").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return nil
}

/// Runs a program to completion without blocking the Swift concurrency pool (the in-process
/// fabric and target keep serving it); returns its status, stdout and stderr.
func runProgram(_ path: String, _ args: [String], environment: [String: String]? = nil) async throws
    -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    return await withCheckedContinuation { c in
        Thread {
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            c.resume(returning: (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self)))
        }.start()
    }
}

/// Starts `request` in a task whose value is its outcome (for commands a test aborts or cuts off).
func inFlight(_ ini: FCInitiator, _ request: SCSIRequest, target: FCID) -> Task<Result<SCSIResult, InitiatorError>, Never> {
    Task {
        do throws(InitiatorError) { return .success(try await ini.execute(request, target: target)) } catch {
            return .failure(error)
        }
    }
}
