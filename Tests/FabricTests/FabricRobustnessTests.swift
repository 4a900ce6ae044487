@testable import FCFabric
import FCLink
import FCPort
import Foundation
import ProcessTestSupport
import STMF
import Testing

/// What a switch must survive: ports that never read, descriptor exhaustion, WWPN churn, and
/// ports that lie about their address or reach outside their zone.
@Suite("Fabric robustness")
struct FabricRobustnessTests {
    static let a: UInt64 = 0x2100_0000_0000_00A1
    static let b: UInt64 = 0x2100_0000_0000_00B2
    static let c: UInt64 = 0x2100_0000_0000_00C3

    /// An unsolicited FCP_CMND-shaped frame from `source` to `destination` (the receiver's
    /// `handlers.frame` sees anything that is not ELS/CT/BLS).
    static func probe(from source: FCID, to destination: FCID, tag: UInt16) -> FCFrame {
        FCFrame(header: FrameHeader(routing: .fcpCommand, destination: destination, source: source, type: .fcp,
                                    control: [.firstSequence, .endSequence, .sequenceInitiative],
                                    originatorExchangeID: tag),
                payload: [UInt8](repeating: 0, count: 32))
    }

    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ cond: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !cond() {
            guard ContinuousClock.now < deadline else { Issue.record("timed out waiting for \(what)"); return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: bounded egress (BB_Credit)

    @Test func portThatNeverReadsIsBoundedAndOthersCarryOn() async throws {
        let limit = FrameLink.SendLimit(queuedBytes: 256 << 10, holdTime: .milliseconds(20))
        let fab = try TestFabric { $0.egressLimit = limit }
        // A raw connection that floods the fabric controller with ELS it must reject (it is not
        // logged in) and never reads a byte of the answers.
        let fd = try UnixSocket.connect(fab.socket)
        defer { close(fd) }
        var batch = [UInt8]()
        let echo = ELSRequest.echo([UInt8](repeating: 0x5A, count: 64)).encoded()
        for x in 0..<512 {
            FCFrame(header: FrameHeader(routing: .elsRequest, destination: .fabricController, source: FCID(0), type: .els,
                                        control: [.firstSequence, .endSequence, .sequenceInitiative],
                                        originatorExchangeID: UInt16(x)),
                    payload: echo).encode(into: &batch, record: true)
        }
        let stop = Shared(false)
        let records = batch
        let flooder = Thread {
            while !stop.current {
                guard records.withUnsafeBytes({ UnixSocket.writeAll(fd, $0) }) else { return }
            }
        }
        flooder.start()
        defer { stop.withLock { $0 = true } }
        func flooded() -> PortStatus? { fab.fabric.ports().first { $0.portName == nil } }
        var maxQueued = 0
        try await waitFor("discards at the non-reading port") {
            maxQueued = max(maxQueued, flooded()?.queuedBytes ?? 0)
            return (flooded()?.counters.framesDiscarded ?? 0) > 1000
        }
        // While it is still flooding, another port logs in and queries the name server.
        let other = fab.nport(Self.a, features: .target)
        other.start()
        let id = try await other.waitOnline()
        guard case .portIDs(let ids) = try await other.nameServer(.gidFT(type: 8)) else { Issue.record("GID_FT"); return }
        #expect(ids == [id.rawValue])
        for _ in 0..<50 { maxQueued = max(maxQueued, flooded()?.queuedBytes ?? 0); try await Task.sleep(for: .milliseconds(5)) }
        #expect(maxQueued > 0)
        #expect(maxQueued <= limit.queuedBytes + 2048, "queued \(maxQueued) bytes for a port with a \(limit.queuedBytes)-byte limit")
        await other.stop()
    }

    // MARK: descriptor exhaustion

    @Test func acceptSurvivesRunningOutOfDescriptors() async throws {
        let dir = NSTemporaryDirectory() + "fabfd-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/fabric.sock"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        p.arguments = ["--nofile=64:64", productsDirectory.appendingPathComponent("fcfabric").path, "run", "--socket", socket]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        try await waitFor("the fabric socket") { FileManager.default.fileExists(atPath: socket) }
        // Far more connections than the fabric has descriptors for: the ones beyond stay in the
        // backlog while accept fails with EMFILE.
        var fds: [Int32] = []
        for _ in 0..<100 {
            guard let fd = try? UnixSocket.connect(socket) else { break }
            fds.append(fd)
        }
        #expect(fds.count >= 70)
        try await Task.sleep(for: .milliseconds(500))
        for fd in fds { close(fd) }
        // Once descriptors are free again, a port attaches and logs in as usual.
        let port = NPort(configuration: .init(portName: WWN(Self.a), nodeName: WWN(Self.a ^ 1), features: .target,
                                              symbolicName: "after EMFILE", fabricPath: socket),
                         handlers: .init())
        port.start()
        // Generous: the fabric retries accept on a timer, and under ThreadSanitizer on a loaded
        // two-core machine its first login answer has taken over 20 s.
        let id = try await port.waitOnline(timeout: .seconds(60))
        #expect(id.rawValue != 0)
        await port.stop()
        p.terminate()
        p.waitUntilExit()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("cannot accept a port connection yet: Too many open files"), "fcfabric said: \(log)")
    }

    // MARK: N_Port ID reclaim (pure state, event by event)

    @Test func idsOfPortsGoneForRATOVAreReclaimed() {
        var s = FabricState(zones: .allAccess, seed: 1, domain: 1, reclaimAfter: .seconds(10))
        let t0 = ContinuousClock.now
        var ports: [SwitchPort] = []
        var ids: [FCID] = []
        // 255 WWPNs take every area of the domain and leave.
        for n in 0..<255 {
            let p = SwitchPort(link: FrameLink(fd: -1))
            _ = s.attach(p)
            guard case .success(let id) = s.fabricLogin(p, portName: WWN(0x2000_0000_0000_0000 + UInt64(n)), nodeName: WWN(1),
                                                        receiveDataFieldSize: 2048, now: t0) else {
                Issue.record("login \(n) refused"); return
            }
            ids.append(id)
            ports.append(p)
        }
        #expect(Set(ids).count == 255)
        for (n, p) in ports.enumerated() { _ = s.detach(p, now: t0 + .milliseconds(n)) }
        // A new WWPN within R_A_TOV of the first release: nothing may be reused yet.
        let late = SwitchPort(link: FrameLink(fd: -1))
        _ = s.attach(late)
        let newName = WWN(0x2000_0000_0000_1000)
        guard case .failure(.noAddresses) = s.fabricLogin(late, portName: newName, nodeName: WWN(1), receiveDataFieldSize: 2048,
                                                          now: t0 + .seconds(9)) else {
            Issue.record("an ID was handed out before R_A_TOV"); return
        }
        // After R_A_TOV the ID released first (the oldest) is reclaimed.
        guard case .success(let reclaimed) = s.fabricLogin(late, portName: newName, nodeName: WWN(1), receiveDataFieldSize: 2048,
                                                           now: t0 + .seconds(10)) else {
            Issue.record("no ID reclaimed after R_A_TOV"); return
        }
        #expect(reclaimed == ids[0])
        // The WWPN that had it gets another reclaimed ID, not the one now in use...
        let back = SwitchPort(link: FrameLink(fd: -1))
        _ = s.attach(back)
        guard case .success(let second) = s.fabricLogin(back, portName: WWN(0x2000_0000_0000_0000), nodeName: WWN(1),
                                                        receiveDataFieldSize: 2048, now: t0 + .seconds(11)) else {
            Issue.record("the first WWPN could not log back in"); return
        }
        #expect(second == ids[1])
        // ...and a WWPN whose ID was never taken gets its own ID back.
        let third = SwitchPort(link: FrameLink(fd: -1))
        _ = s.attach(third)
        guard case .success(let own) = s.fabricLogin(third, portName: WWN(0x2000_0000_0000_0000 + 200), nodeName: WWN(1),
                                                     receiveDataFieldSize: 2048, now: t0 + .seconds(11)) else {
            Issue.record("WWPN 200 could not log back in"); return
        }
        #expect(own == ids[200])
    }

    @Test func churningWWPNsNeverExhaustTheDomain() async throws {
        let fab = try TestFabric { $0.resourceAllocationTimeout = 200; $0.errorDetectTimeout = 100 }
        // 300 different WWPNs one after another: more than the domain's 255 areas.
        for n in 0..<300 {
            let p = fab.nport(0x2100_0000_0001_0000 + UInt64(n), features: .initiator)
            p.start()
            do { _ = try await p.waitOnline(timeout: .seconds(10)) } catch {
                Issue.record("WWPN \(n) could not log in: \(error)")
                await p.stop()
                return
            }
            await p.stop()
            if n >= 250 { try await Task.sleep(for: .milliseconds(5)) }
        }
    }

    // MARK: zoning of the fabric's own services

    @Test func rlsAnswersOnlyWithinZoning() async throws {
        let zones = try ZoneSet(parsing: "ab: \(String(Self.a, radix: 16)) \(String(Self.b, radix: 16))\n")
        let fab = try TestFabric(zones: zones)
        let pa = fab.nport(Self.a, features: .initiator)
        let pb = fab.nport(Self.b, features: .target)
        let pc = fab.nport(Self.c, features: .target)
        for p in [pa, pb, pc] { p.start() }
        let ida = try await pa.waitOnline(), idb = try await pb.waitOnline(), idc = try await pc.waitOnline()
        // Itself and a zoned port: answered.
        for id in [ida, idb] {
            guard case .rls = try await pa.request(.rls(portID: id.rawValue), to: .fabricController) else {
                Issue.record("RLS of \(id) not answered"); continue
            }
        }
        // An unzoned port and an unknown ID: LS_RJT, as if it were not there.
        for id in [idc, FCID(0x01EE00)] {
            do {
                _ = try await pa.request(.rls(portID: id.rawValue), to: .fabricController)
                Issue.record("RLS of \(id) answered outside zoning")
            } catch {
                guard case .rejected(let r) = error else { Issue.record("RLS of \(id): \(error)"); continue }
                #expect(r.explanation == .invalidNPortID)
            }
        }
        for p in [pa, pb, pc] { await p.stop() }
    }

    // MARK: spoofing and zoning of N_Port traffic (enforced before; kept tested)

    @Test func spoofedAndUnzonedFramesAreDroppedAndCounted() async throws {
        let zones = try ZoneSet(parsing: "ab: \(String(Self.a, radix: 16)) \(String(Self.b, radix: 16))\n")
        let fab = try TestFabric(zones: zones)
        let got = Shared<[UInt16]>([])  // OX_IDs the receiver's handlers.frame saw
        var hb = NPort.Handlers()
        hb.frame = { h, _ in got.withLock { $0.append(h.originatorExchangeID) } }
        let pa = fab.nport(Self.a, features: .initiator)
        let pb = fab.nport(Self.b, features: .target, handlers: hb)
        let pc = fab.nport(Self.c, features: .initiator)
        for p in [pa, pb, pc] { p.start() }
        let ida = try await pa.waitOnline(), idb = try await pb.waitOnline(), idc = try await pc.waitOnline()
        pa.send(Self.probe(from: FCID(0x01EE00), to: idb, tag: 1))   // forged S_ID
        pa.send(Self.probe(from: idc, to: idb, tag: 2))              // another port's S_ID
        pc.send(Self.probe(from: idc, to: idb, tag: 3))              // honest but unzoned
        pc.send(Self.probe(from: ida, to: idb, tag: 4))              // unzoned, borrowing a zoned port's S_ID
        pa.send(Self.probe(from: ida, to: idb, tag: 5))              // honest and zoned: the control
        try await waitFor("the zoned frame") { got.current.contains(5) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(got.current == [5])
        let status = fab.fabric.ports()
        let dropsA = status.first { $0.portName == WWN(Self.a).hex }?.counters.framesDropped
        let dropsC = status.first { $0.portName == WWN(Self.c).hex }?.counters.framesDropped
        #expect(dropsA == 2)
        #expect(dropsC == 2)
        for p in [pa, pb, pc] { await p.stop() }
    }
}
