import FCFabric
import FCInitiator
import FCLink
import FCPort
import FCTarget
import Foundation
import ProcessTestSupport
import SBD
import STMF
import Testing

@Suite("Errors before the data phase, transfer limits and several paths")
struct PreDataPhaseTests {
    /// XFER_RDY frames in the fabric's capture, as tshark's FC dissector reads them.
    func transferReadyFrames(_ rig: TargetRig) throws -> Int? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else { return nil }
        rig.fab.fabric.closeCapture()
        let out = try runTool("/usr/bin/tshark", ["-r", rig.fab.dir + "/capture.pcap", "-o", "fc.max_frame_size:2048",
                                                  "-Y", "fc.r_ctl == 0x05", "-T", "fields", "-e", "fc.ox_id"])
        #expect(out.status == 0, "\(out.err)")
        return out.out.split(separator: "\n").count
    }

    @Test func refusedCommandsGetStatusSenseAndResidualWithoutADataPhase() async throws {
        let rig = try await TargetRig(pcap: true)
        let ini = try await rig.fab.onlineInitiator()
        let id = try await ini.login(to: TargetRig.targetName)
        let bs = TargetRig.blockSize
        _ = try await ini.executeWithRetry(.testUnitReady(lun: 0), target: TargetRig.targetName)   // the power-on UA
        let page = try await ini.execute(SCSIRequest(lun: 0, cdb: [0x12, 1, 0xB0, 0, 64, 0], direction: .read, readLength: 64), target: id)
        let maxTransfer = Int(page.data[8..<12].reduce(0) { $0 << 8 | UInt32($1) })
        #expect(maxTransfer == (8 << 20) / bs)

        // One block more than the maximum transfer length: INVALID FIELD IN CDB (byte 10),
        // every byte of FCP_DL reported as residual, and the target never asked for the data.
        let over = testPattern((maxTransfer + 1) * bs, seed: 5)
        let w = try await ini.execute(patient(.write16(lun: 0, lba: 0, data: over, blockSize: bs)), target: id)
        #expect(w.status == .checkCondition)
        #expect(w.senseData?.senseKeySpecific == .fieldPointer(inCDB: true, byte: 10, bit: nil))
        #expect(w.residual == .underflow(UInt32(over.count)))
        // A write past the end and one to a LUN with no LU fail the same way.
        let end = try await ini.execute(.write16(lun: 0, lba: TargetRig.size / UInt64(bs), data: testPattern(bs, seed: 1), blockSize: bs), target: id)
        #expect(end.status == .checkCondition && end.senseData?.additional == .lbaOutOfRange)
        #expect(end.residual == .underflow(UInt32(bs)))
        let noLU = try await ini.execute(.write16(lun: 9, lba: 0, data: testPattern(bs, seed: 1), blockSize: bs), target: id)
        #expect(noLU.status == .checkCondition && noLU.senseData?.additional == .logicalUnitNotSupported)
        // The reads: the same refusal, no data.
        let r = try await ini.execute(patient(.read16(lun: 0, lba: 0, blocks: UInt32(maxTransfer + 1), blockSize: bs)), target: id)
        #expect(r.status == .checkCondition && r.data.isEmpty)
        // One write that succeeds: the capture shows its XFER_RDY, and only that one.
        #expect(try await ini.execute(.write16(lun: 0, lba: 0, data: testPattern(bs, seed: 2), blockSize: bs), target: id).status == .good)
        if let n = try transferReadyFrames(rig) { #expect(n == 1) }
        await ini.stop(); await rig.shutdown()
    }

    @Test func fcpDLBeyondWhatTheCDBMovesIsAnUnderflow() async throws {
        let rig = try await TargetRig()
        let ini = try await rig.fab.onlineInitiator()
        let id = try await ini.login(to: TargetRig.targetName)
        let bs = TargetRig.blockSize
        _ = try await ini.executeWithRetry(.testUnitReady(lun: 0), target: TargetRig.targetName)
        let data = testPattern(4 * bs, seed: 8)
        #expect(try await ini.execute(patient(.write16(lun: 0, lba: 16, data: data, blockSize: bs)), target: id).status == .good)
        // READ (16) of one block with FCP_DL of 64 MiB: one block moves, the rest is FCP_RESID_UNDER
        // (and the target sizes its buffer by the CDB, not by FCP_DL).
        var big = SCSIRequest.read16(lun: 0, lba: 16, blocks: 1, blockSize: bs)
        big.readLength = 64 << 20
        let one = try await ini.execute(patient(big), target: id)
        #expect(one.status == .good && one.data == Array(data[0..<bs]))
        #expect(one.residual == .underflow(UInt32((64 << 20) - bs)))
        // WRITE (16) of one block with 4 blocks of data-out: XFER_RDY asks for the one block only.
        var short = SCSIRequest.write16(lun: 0, lba: 16, data: testPattern(4 * bs, seed: 2), blockSize: bs)
        short.cdb[13] = 1
        let ws = try await ini.execute(patient(short), target: id)
        #expect(ws.status == .good && ws.residual == .underflow(UInt32(3 * bs)))
        let back = try await ini.execute(.read16(lun: 0, lba: 16, blocks: 2, blockSize: bs), target: id)
        #expect(Array(back.data[0..<bs]) == Array(testPattern(4 * bs, seed: 2)[0..<bs]))
        #expect(Array(back.data[bs...]) == Array(data[bs..<(2 * bs)]))
        #expect(rig.port.status.openExchanges == 0)
        await ini.stop(); await rig.shutdown()
    }

    /// `fcinit exec` with two target ports and two initiator ports: four devices on four I_T
    /// nexuses, each with its own relative target port and its own reservation registration.
    @Test func execGivesOneDevicePerPath() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sg_persist"),
              let bin = fcinitExecutable() else { return }
        let rig = try await TargetRig()
        let second = EmulatedTargetPort(stmf: rig.stmf, portName: WWN(0x5000_0000_0000_0F02), fabricPath: rig.fab.socket)
        try second.register()
        try await rig.stmf.setTargetPortState(second.name, online: true)
        #expect(await eventually { second.status.portID != nil })
        let script = """
            echo paths=$FCINIT_PATHS
            for d in "$FCINIT_DEVICE" "$FCINIT_DEVICE_1" "$FCINIT_DEVICE_2" "$FCINIT_DEVICE_3"; do
              echo "== $d"; sg_vpd -p di "$d" | grep -i 'relative target port'
            done
            sg_persist --out --register --param-sark=0xab01 "$FCINIT_DEVICE" >/dev/null
            sg_persist --out --register --param-sark=0xab02 "$FCINIT_DEVICE_1" >/dev/null
            sg_persist --out --register --param-sark=0xab03 "$FCINIT_DEVICE_3" >/dev/null
            sg_persist --in --read-keys "$FCINIT_DEVICE_2"
            """
        let r = try await runProgram(bin, ["--fabric", rig.fab.socket, "--wwpn", "21:00:00:24:ff:fc:00:0c", "exec",
                                           "--target", "wwn." + TargetRig.targetName.hex, "--target", "wwn.5000000000000F02",
                                           "--initiator", "21:00:00:24:ff:fc:00:0d", "--lun", "0", "--", "sh", "-c", script])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("paths=4"))
        let ports = r.out.split(separator: "\n").filter { $0.lowercased().contains("relative target port: ") }
            .map { $0.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        #expect(ports.count == 4)
        #expect(ports.count == 4 && ports[0] == ports[2] && ports[1] == ports[3] && ports[0] != ports[1], "\(ports)")
        // Three registrations from three nexuses, read through the fourth.
        #expect(r.out.contains("3 registered reservation keys follow"), "\(r.out)")
        for k in ["0xab01", "0xab02", "0xab03"] { #expect(r.out.contains(k)) }
        let bad = try await runProgram(bin, ["--fabric", rig.fab.socket, "exec", "--target", "wwn." + TargetRig.targetName.hex,
                                             "--target", "wwn." + TargetRig.targetName.hex, "--", "true"])
        #expect(bad.status == 1 && bad.err.contains("given twice"))
        try? await rig.stmf.setTargetPortState(second.name, online: false)
        await rig.shutdown()
    }
}

@Suite("fcinit exec passes signals on")
struct ExecSignalTests {
    /// SIGTERM to fcinit reaches the program (which decides how to stop), and fcinit exits
    /// with the program's status after it has gone: a tool under `fcinit exec` can be stopped.
    @Test func sigtermReachesTheProgram() async throws {
        guard let bin = fcinitExecutable() else { return }
        let rig = try await TargetRig()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["--fabric", rig.fab.socket, "--wwpn", "21:00:00:24:ff:fc:00:0e", "exec",
                       "--target", "wwn." + TargetRig.targetName.hex, "--",
                       "sh", "-c", "trap 'echo stopping; exit 3' TERM; echo ready; while :; do sleep 0.1; done"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let reader = Task.detached { String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        // Wait until the program runs (its first line), then stop fcinit.
        #expect(await eventually(.seconds(30)) { p.isRunning && FileManager.default.fileExists(atPath: "/proc/\(p.processIdentifier)") })
        try await Task.sleep(for: .seconds(2))
        kill(p.processIdentifier, SIGTERM)
        let exited = await eventually(.seconds(30)) { !p.isRunning }
        #expect(exited)
        if !exited { p.terminate() }
        let text = await reader.value
        #expect(text.contains("ready") && text.contains("stopping"), "\(text)")
        #expect(p.terminationStatus == 3)
        await rig.shutdown()
    }
}

@Suite("Administrative actions repeated")
struct RepeatedAdminActionTests {
    /// online-target on an online port and offline-target on an offline one change nothing:
    /// one N_Port on the fabric, commands keep working, and the port comes back after offline.
    @Test func onlineAndOfflineTwiceAreIdempotent() async throws {
        let rig = try await TargetRig()
        let name = rig.port.name
        func targetPortsOnFabric() -> Int {
            rig.fab.fabric.ports().filter { $0.portName?.uppercased() == TargetRig.targetName.hex.uppercased() && $0.loggedIn }.count
        }
        #expect(await eventually { targetPortsOnFabric() == 1 })
        try await rig.stmf.setTargetPortState(name, online: true)
        try await rig.stmf.setTargetPortState(name, online: true)
        #expect(rig.fab.fabric.ports().count == 1)
        #expect(targetPortsOnFabric() == 1)
        #expect(rig.stmf.targetPortState(name) == .online)
        let ini = try await rig.fab.onlineInitiator()
        let r = try await ini.executeWithRetry(patient(.read16(lun: 0, lba: 0, blocks: 8, blockSize: TargetRig.blockSize)), target: TargetRig.targetName)
        #expect(r.status == .good || r.isUnitAttention)
        let again = try await ini.executeWithRetry(patient(.read16(lun: 0, lba: 0, blocks: 8, blockSize: TargetRig.blockSize)), target: TargetRig.targetName)
        #expect(again.status == .good)
        try await rig.stmf.setTargetPortState(name, online: false)
        try await rig.stmf.setTargetPortState(name, online: false)
        #expect(rig.stmf.targetPortState(name) == .offline)
        #expect(await eventually { targetPortsOnFabric() == 0 })
        try await rig.stmf.setTargetPortState(name, online: true)
        #expect(await eventually { targetPortsOnFabric() == 1 })
        let back = try await ini.executeWithRetry(patient(.read16(lun: 0, lba: 0, blocks: 8, blockSize: TargetRig.blockSize)), target: TargetRig.targetName)
        #expect(back.status == .good || back.isUnitAttention)
        await ini.stop(); await rig.shutdown()
    }
}
