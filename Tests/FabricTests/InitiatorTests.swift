import FCFabric
import FCInitiator
import FCLink
import FCPort
import Foundation
import STMF
import Testing

@Suite("FC initiator against the relay reflector and scripted targets")
struct InitiatorReflectorTests {
    @Test func discoversTheReflectorAndMovesData() async throws {
        let fab = try TestFabric()
        let reflector = try await fab.onlineReflector()
        let ini = try await fab.onlineInitiator()
        let found = try await ini.discover()
        #expect(found.map(\.portName) == [reflector.nport.configuration.portName])
        #expect(found.first?.loginError == nil)
        let id = try #require(found.first?.portID)

        let r = try await ini.execute(patient(.read16(lun: 0, lba: 0, blocks: 2048, blockSize: 512)), target: id)
        #expect(r.status == .good)
        #expect(r.data.count == 1 << 20)
        #expect(r.data.allSatisfy { $0 == 0x5A })
        let w = try await ini.execute(patient(.write16(lun: 0, lba: 0, data: testPattern(1 << 20, seed: 1), blockSize: 512)), target: id)
        #expect(w.status == .good)

        // Queue depth 32 of mixed 4 KiB commands.
        try await withThrowingTaskGroup(of: Void.self) { g in
            for k in 0..<32 {
                g.addTask {
                    for n in 0..<20 {
                        let req: SCSIRequest = (k + n) % 2 == 0
                            ? .read16(lun: 0, lba: UInt64(n * 8), blocks: 8, blockSize: 512)
                            : .write16(lun: 0, lba: UInt64(n * 8), data: testPattern(4096, seed: UInt64(n)), blockSize: 512)
                        let r = try await ini.execute(patient(req), target: id)
                        #expect(r.status == .good)
                    }
                }
            }
            try await g.waitForAll()
        }
        #expect(reflector.counters.commands >= 2 + 640)
        #expect(await eventually { ini.exchangeCount == 0 })
        await ini.stop(); await reflector.stop()
    }

    @Test func abortOfAnInFlightCommand() async throws {
        let fab = try TestFabric()
        let reflector = try await fab.onlineReflector()
        let ini = try await fab.onlineInitiator()
        let id = try await ini.login(to: reflector.nport.configuration.portName)
        reflector.hold = true
        var req = SCSIRequest.read16(lun: 0, lba: 0, blocks: 8, blockSize: 512)
        req.tag = 77
        req.timeout = .seconds(60)
        let pending = inFlight(ini, req, target: id)
        #expect(await eventually { reflector.counters.held == 1 })
        #expect(ini.abort(tag: 77))
        let outcome = await pending.value
        guard case .failure(.aborted) = outcome else { Issue.record("expected .aborted, got \(outcome)"); return }
        #expect(reflector.counters.aborts == 1)
        #expect(!ini.abort(tag: 77))
        // The OX_ID stays reserved for R_A_TOV after BA_ACC, then is released.
        #expect(ini.exchangeCount == 1)
        #expect(await eventually { ini.exchangeCount == 0 })
        reflector.hold = false
        let r = try await ini.execute(.testUnitReady(lun: 0), target: id)
        #expect(r.status == .good)
        await ini.stop(); await reflector.stop()
    }

    @Test func timeoutAbortsAndRetryRecovers() async throws {
        let fab = try TestFabric()
        let reflector = try await fab.onlineReflector()
        let ini = try await fab.onlineInitiator()
        let name = reflector.nport.configuration.portName
        let id = try await ini.login(to: name)
        reflector.hold = true
        var req = SCSIRequest.testUnitReady(lun: 0)
        req.timeout = .milliseconds(200)
        await #expect(throws: InitiatorError.timeout) { try await ini.execute(req, target: id) }
        #expect(reflector.counters.aborts == 1)

        // executeWithRetry keeps going while the target is silent, and succeeds once it answers.
        let retried = Task { try await ini.executeWithRetry(req, target: name, retries: 8) }
        #expect(await eventually { reflector.counters.held >= 3 })
        reflector.hold = false
        let r = try await retried.value
        #expect(r.status == .good)
        await ini.stop(); await reflector.stop()
    }

    @Test func lossyFabricEveryCommandEndsCleanly() async throws {
        let fab = try TestFabric()
        let reflector = try await fab.onlineReflector()
        let ini = try await fab.onlineInitiator()
        let name = reflector.nport.configuration.portName
        _ = try await ini.login(to: name)
        try fab.fabric.setFaults(Faults(lossRate: 0.02), port: nil)
        let outcomes = Shared<(ok: Int, failed: Int)>((0, 0))
        await withTaskGroup(of: Void.self) { g in
            for k in 0..<8 {
                g.addTask {
                    for n in 0..<15 {
                        var req: SCSIRequest = n % 2 == 0
                            ? .read16(lun: 0, lba: UInt64(n), blocks: 8, blockSize: 512)
                            : .write16(lun: 0, lba: UInt64(n), data: testPattern(4096, seed: UInt64(k)), blockSize: 512)
                        req.timeout = .milliseconds(400)
                        do {
                            let r = try await ini.executeWithRetry(req, target: name, retries: 10)
                            if r.status == .good && (req.direction != .read || r.data.count == 4096) {
                                outcomes.withLock { $0.ok += 1 }
                            } else {
                                outcomes.withLock { $0.failed += 1 }
                            }
                        } catch {
                            outcomes.withLock { $0.failed += 1 }
                        }
                    }
                }
            }
        }
        try fab.fabric.setFaults(Faults(), port: nil)
        let o = outcomes.current
        #expect(o.ok + o.failed == 120)
        #expect(o.ok > 100)
        await ini.stop(); await reflector.stop()
    }

    @Test func linkBounceFailsInFlightAndRetryRecovers() async throws {
        let fab = try TestFabric()
        let reflector = try await fab.onlineReflector()
        let ini = try await fab.onlineInitiator()
        let name = reflector.nport.configuration.portName
        _ = try await ini.login(to: name)
        reflector.hold = true
        let id = try #require(ini.loggedInID(name))
        var held = SCSIRequest.testUnitReady(lun: 0)
        held.timeout = .seconds(60)
        let pending = inFlight(ini, held, target: id)
        #expect(await eventually { reflector.counters.held == 1 })
        try fab.fabric.linkDown(ini.portName)
        guard case .failure(.linkDown) = await pending.value else { Issue.record("in-flight command did not fail with .linkDown"); return }
        reflector.hold = false
        let retried = Task { try await ini.executeWithRetry(.read16(lun: 0, lba: 0, blocks: 8, blockSize: 512), target: name) }
        try await Task.sleep(for: .milliseconds(300))
        try fab.fabric.linkUp(ini.portName)
        let r = try await retried.value
        #expect(r.status == .good && r.data.count == 4096)
        await ini.stop(); await reflector.stop()
    }

    @Test func fcpCommandFieldsAndDataOffsetChecks() async throws {
        let fab = try TestFabric()
        let target = ScriptedTarget(fabric: fab, wwpn: 0x2FFF_0000_0000_00AA)
        target.nport.start()
        _ = try await target.nport.waitOnline()
        let ini = try await fab.onlineInitiator()
        let id = try await ini.login(to: WWN(0x2FFF_0000_0000_00AA))
        target.onScript { h, payload, port in
            guard h.routing == .fcpCommand, let cmd = try? FCPCommand.decode(payload) else { return }
            if cmd.direction == .read {
                // One frame inside FCP_DL, one beyond it.
                ScriptedTarget.data(h, offset: 0, [UInt8](repeating: 1, count: 512), via: port)
                ScriptedTarget.data(h, offset: cmd.dataLength, [UInt8](repeating: 2, count: 512), via: port)
            }
            ScriptedTarget.respond(h, FCPResponse(), via: port)
        }
        let r0 = try await ini.execute(.testUnitReady(lun: 5), target: id)
        #expect(r0.status == .good)
        _ = try await ini.execute(.testUnitReady(lun: 300), target: id)
        await #expect(throws: InitiatorError.self) {
            try await ini.execute(.read16(lun: 1, lba: 0, blocks: 2, blockSize: 512), target: id)
        }
        let cmds = target.commands.current.map { try? FCPCommand.decode($0.1) }
        #expect(cmds.count == 3)
        #expect(cmds[0]?.lun == 0x0005_0000_0000_0000)
        #expect(cmds[1]?.lun == 0x412C_0000_0000_0000)
        #expect(cmds[2]?.direction == .read && cmds[2]?.dataLength == 1024)
        #expect(cmds[0]?.taskAttribute == .simple && cmds[0]?.commandReferenceNumber == 0)

        // Task management: the FCP_RSP's response code comes back.
        target.onScript { h, _, port in
            ScriptedTarget.respond(h, FCPResponse(responseCode: .taskManagementFunctionComplete), via: port)
        }
        let tmf = try await ini.taskManagement(.logicalUnitReset, lun: 3, target: id)
        #expect(tmf.responseCode == .taskManagementFunctionComplete)
        let last = try #require(target.commands.current.last.flatMap { try? FCPCommand.decode($0.1) })
        #expect(last.taskManagement == .logicalUnitReset)
        await ini.stop(); await target.nport.stop()
    }
}

/// A request that may take long (debug builds under a parallel test load): data checks are not timing checks.
func patient(_ r: SCSIRequest) -> SCSIRequest {
    var r = r
    r.timeout = .seconds(30)
    return r
}

@Suite("FC initiator against the emulated target port, STMF and a RAM SBD LU")
struct InitiatorTargetTests {
    @Test func discoverInquiryAndCapacity() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        let found = try await ini.discover()
        #expect(found.count == 1)
        let t = try #require(found.first)
        #expect(t.portName == TargetRig.targetName)
        #expect(t.loginError == nil && t.reportLUNsError == nil)
        #expect(t.luns.map(\.lun) == [0])
        let lun = try #require(t.luns.first)
        #expect(lun.inquiry?.vendor == "STMF")
        #expect(lun.inquiry?.product == "SBD DISK")
        #expect(lun.inquiry?.peripheralDeviceType == 0)
        #expect(lun.capacity?.blockSize == UInt32(TargetRig.blockSize))
        #expect(lun.capacity?.bytes == TargetRig.size)

        // A LUN that is not mapped: INQUIRY answers with peripheral qualifier 3 (no LU).
        let r = try await ini.executeWithRetry(.inquiry(lun: 7), target: TargetRig.targetName)
        #expect(r.status == .good)
        #expect(InquiryData(parsing: r.data)?.peripheralQualifier == 3)
        // READ CAPACITY to it fails with a check condition that decodes.
        let c = try await ini.executeWithRetry(.readCapacity16(lun: 7), target: TargetRig.targetName)
        #expect(c.status == .checkCondition)
        #expect(c.senseData?.key == .illegalRequest)
        await ini.stop(); await rig.shutdown()
    }

    @Test func writeThenReadBackLargeAndRandomBlocks() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        let name = TargetRig.targetName
        let id = try await ini.login(to: name)
        let bs = TargetRig.blockSize
        let big = testPattern(1 << 20, seed: 42)
        let w = try await ini.executeWithRetry(patient(.write16(lun: 0, lba: 100, data: big, blockSize: bs)), target: name)
        #expect(w.status == .good)
        let r = try await ini.execute(patient(.read16(lun: 0, lba: 100, blocks: UInt32((1 << 20) / bs), blockSize: bs)), target: id)
        #expect(r.status == .good)
        #expect(r.data == big)

        // 128 random 4 KiB blocks at queue depth 16, each written once, then read back.
        var slots = Set<UInt64>()
        var g = SystemRandomNumberGenerator()
        while slots.count < 128 { slots.insert(UInt64.random(in: 1024..<(TargetRig.size / 4096), using: &g)) }
        let list = Array(slots)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for q in 0..<16 {
                group.addTask {
                    for slot in list[q...].enumerated().filter({ $0.offset % 16 == 0 }).map(\.element) {
                        let data = testPattern(4096, seed: slot)
                        let w = try await ini.execute(patient(.write16(lun: 0, lba: slot * 8, data: data, blockSize: bs)), target: id)
                        #expect(w.status == .good)
                    }
                }
            }
            try await group.waitForAll()
        }
        for slot in list {
            let r = try await ini.execute(patient(.read16(lun: 0, lba: slot * 8, blocks: 8, blockSize: bs)), target: id)
            #expect(r.status == .good && r.data == testPattern(4096, seed: slot), "block \(slot)")
        }
        await ini.stop(); await rig.shutdown()
    }

    @Test func abortOfAnInFlightCommand() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        let id = try await ini.login(to: TargetRig.targetName)
        _ = try await ini.executeWithRetry(.testUnitReady(lun: 0), target: TargetRig.targetName)   // consume the UA
        // Every frame to or from the initiator takes 500 ms, so the command is surely in flight.
        try rig.fab.fabric.setFaults(Faults(delayMilliseconds: 500), port: ini.portName)
        var req = SCSIRequest.write16(lun: 0, lba: 0, data: testPattern(65536, seed: 3), blockSize: TargetRig.blockSize)
        req.tag = 9
        req.timeout = .seconds(30)
        let pending = inFlight(ini, req, target: id)
        #expect(await eventually { ini.exchangeCount == 1 })
        #expect(ini.abort(tag: 9))
        let outcome = await pending.value
        guard case .failure(.aborted) = outcome else { Issue.record("expected .aborted, got \(outcome)"); return }
        try rig.fab.fabric.setFaults(Faults(), port: ini.portName)
        // The target forgot the exchange (BA_ACC) and keeps serving the nexus.
        #expect(await eventually { rig.port.status.openExchanges == 0 })
        let r = try await ini.executeWithRetry(.testUnitReady(lun: 0), target: TargetRig.targetName)
        #expect(r.status == .good)
        // Task management goes through too.
        let tmf = try await ini.taskManagement(.abortTaskSet, lun: 0, target: id)
        #expect(tmf.responseCode == .taskManagementFunctionComplete)
        await ini.stop(); await rig.shutdown()
    }

    /// Writes `blocks` distinct 4 KiB blocks at queue depth 8 with `executeWithRetry` while
    /// `disturb` runs; returns which writes reported GOOD.
    func writeUnderDisturbance(_ ini: FCInitiator, blocks: Int, timeout: Duration,
                               disturb: @escaping @Sendable () async throws -> Void) async throws -> [UInt64: Bool] {
        let results = Shared<[UInt64: Bool]>([:])
        let errors = Shared<[String]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await disturb() }
            for q in 0..<8 {
                group.addTask {
                    for slot in stride(from: UInt64(q), to: UInt64(blocks), by: 8) {
                        var req = SCSIRequest.write16(lun: 0, lba: slot * 8, data: testPattern(4096, seed: slot &+ 1000),
                                                      blockSize: TargetRig.blockSize)
                        req.timeout = timeout
                        let ok: Bool
                        do { ok = try await ini.executeWithRetry(req, target: TargetRig.targetName, retries: 10).status == .good } catch {
                            errors.withLock { $0.append("block \(slot): \(error)") }
                            ok = false
                        }
                        results.withLock { $0[slot] = ok }
                    }
                }
            }
            try await group.waitForAll()
        }
        if !errors.current.isEmpty { print("writes that failed: \(errors.current)") }
        return results.current
    }

    /// Every block whose write reported GOOD reads back as written; the others read back as
    /// either the old (zero) or the new data.
    func verify(_ ini: FCInitiator, _ written: [UInt64: Bool]) async throws {
        for (slot, ok) in written.sorted(by: { $0.key < $1.key }) {
            let r = try await ini.executeWithRetry(.read16(lun: 0, lba: slot * 8, blocks: 8, blockSize: TargetRig.blockSize),
                                                   target: TargetRig.targetName)
            #expect(r.status == .good)
            let expected = testPattern(4096, seed: slot &+ 1000)
            if ok {
                #expect(r.data == expected, "block \(slot)")
            } else {
                #expect(r.data == expected || r.data == [UInt8](repeating: 0, count: 4096), "block \(slot)")
            }
        }
    }

    @Test func frameLossDuringIO() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        _ = try await ini.login(to: TargetRig.targetName)
        try rig.fab.fabric.setFaults(Faults(lossRate: 0.01), port: nil)
        let written = try await writeUnderDisturbance(ini, blocks: 160, timeout: .milliseconds(500)) {}
        try rig.fab.fabric.setFaults(Faults(), port: nil)
        #expect(written.count == 160)
        #expect(written.values.filter { $0 }.count > 150)
        try await verify(ini, written)
        await ini.stop(); await rig.shutdown()
    }

    /// Every frame delivered twice (commands, XFER_RDY, data both ways, responses): each
    /// duplicate is discarded by its receiver, none is taken for an overlapped command, none
    /// counts twice towards a sequence's data, so writes succeed and read back intact.
    @Test func everyFrameDuplicatedDuringIO() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        _ = try await ini.login(to: TargetRig.targetName)
        try rig.fab.fabric.setFaults(Faults(duplicateRate: 1), port: nil)
        let written = try await writeUnderDisturbance(ini, blocks: 64, timeout: .seconds(2)) {}
        #expect(written.count == 64)
        #expect(written.values.allSatisfy { $0 }, "writes failed with every frame duplicated")
        try await verify(ini, written)          // reads with duplicated data-in frames too
        try rig.fab.fabric.setFaults(Faults(), port: nil)
        await ini.stop(); await rig.shutdown()
    }

    @Test func linkBounceDuringIO() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        _ = try await ini.login(to: TargetRig.targetName)
        let fabric = rig.fab.fabric, me = ini.portName
        let written = try await writeUnderDisturbance(ini, blocks: 240, timeout: .seconds(1)) {
            try await Task.sleep(for: .milliseconds(30))
            try fabric.linkDown(me)
            try await Task.sleep(for: .milliseconds(200))
            try fabric.linkUp(me)
            try await Task.sleep(for: .milliseconds(100))
            try fabric.linkDown(TargetRig.targetName)
            try await Task.sleep(for: .milliseconds(200))
            try fabric.linkUp(TargetRig.targetName)
        }
        #expect(written.count == 240)
        #expect(written.values.allSatisfy { $0 })
        try await verify(ini, written)
        await ini.stop(); await rig.shutdown()
    }
}

@Suite("fcinit command line against an in-process fabric and target")
struct FCInitCommandLineTests {
    func fcinit() throws -> String {
        try #require(fcinitExecutable(), "the fcinit product is not built next to the tests")
    }

    @Test func discoverInquiryReadWriteAndErrors() async throws {
        let rig = try await TargetRig()
        let bin = try fcinit()
        let base = ["--fabric", rig.fab.socket, "--wwpn", "21:00:00:24:ff:fc:00:0a"]
        let target = ["--target", "wwn." + TargetRig.targetName.hex, "--lun", "0"]

        let d = try await runProgram(bin, base + ["discover"])
        #expect(d.status == 0, "\(d.err)")
        #expect(d.out.contains("Remote Port WWN: \(TargetRig.targetName.hex)"))
        #expect(d.out.contains("Vendor: STMF") && d.out.contains("Product: SBD DISK"))
        #expect(d.out.contains("64M"))
        let j = try await runProgram(bin, base + ["discover", "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(j.out.utf8)) as? [[String: Any]]
        #expect((json?.first?["luns"] as? [[String: Any]])?.first?["blocks"] as? Int == Int(TargetRig.size) / TargetRig.blockSize)

        let w = try await runProgram(bin, base + ["write"] + target + ["--lba", "8", "--pattern", "171", "--blocks", "2"])
        #expect(w.status == 0, "\(w.err)")
        let r = try await runProgram(bin, base + ["read"] + target + ["--lba", "8", "--blocks", "1"])
        #expect(r.status == 0)
        #expect(r.out.hasPrefix("00000000: abab abab"))
        #expect(r.out.split(separator: "\n").count == TargetRig.blockSize / 16)

        let unknown = try await runProgram(bin, base + ["tur", "--target", "wwn.5000000000000BAD"])
        #expect(unknown.status == 1)
        #expect(unknown.err.contains("no target port wwn.5000000000000BAD"))
        let beyond = try await runProgram(bin, base + ["read"] + target + ["--lba", String(TargetRig.size / 512)])
        #expect(beyond.status == 1)
        #expect(beyond.err.contains("ILLEGAL REQUEST") && beyond.err.contains("21/00"))
        let noFabric = try await runProgram(bin, ["--fabric", rig.fab.dir + "/none.sock", "discover"])
        #expect(noFabric.status == 1 && noFabric.err.contains("cannot reach the fabric"))
        await rig.shutdown()
    }

    @Test func execRunsSG3UtilsAndFioThroughTheBridge() async throws {
        let rig = try await TargetRig()
        let bin = try fcinit()
        let base = ["--fabric", rig.fab.socket, "--wwpn", "21:00:00:24:ff:fc:00:0b", "exec",
                    "--target", "wwn." + TargetRig.targetName.hex, "--lun", "0", "--"]
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sg_inq") else { return }
        let inq = try await runProgram(bin, base + ["sh", "-c", "sg_inq $FCINIT_DEVICE && sg_readcap -16 $FCINIT_DEVICE"])
        #expect(inq.status == 0, "\(inq.err)")
        #expect(inq.out.contains("STMF") && inq.out.contains("SBD DISK"))
        #expect(inq.out.contains("Logical block length=512 bytes"))
        let status = try await runProgram(bin, base + ["sh", "-c", "exit 7"])
        #expect(status.status == 7)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/fio") else { return }
        let fio = try await runProgram(bin, base + ["sh", "-c",
            "fio --name=v --filename=$FCINIT_DEVICE --ioengine=sg --rw=randwrite --bs=4k --size=2m --iodepth=8 "
            + "--verify=crc32c --do_verify=1 --verify_state_save=0 --output-format=terse"])
        #expect(fio.status == 0, "\(fio.err)\(fio.out)")
        await rig.shutdown()
    }
}
