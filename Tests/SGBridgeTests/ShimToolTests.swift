import Foundation
import Testing
@testable import SBD
@testable import SGBridge
@testable import STMF

/// Unmodified sg3_utils and fio in child processes, through the preloaded shim and the bridge,
/// against a RAM-backed SBD LU in this process.
@Suite struct ShimToolTests {
    static let dev = BridgeFixture.device

    /// Exit 0, nothing on stderr, and each of `needles` on stdout.
    func expectQuietSuccess(_ r: ToolResult, printing needles: [String], caseInsensitive: Bool = false,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "\(r)", sourceLocation: sourceLocation)
        #expect(r.stderr.isEmpty, "\(r)", sourceLocation: sourceLocation)
        let out = caseInsensitive ? r.stdout.lowercased() : r.stdout
        for n in needles {
            #expect(out.contains(caseInsensitive ? n.lowercased() : n), "missing \(n) in \(r)", sourceLocation: sourceLocation)
        }
    }

    @Test func sgInq() async throws {
        let f = try await BridgeFixture.withLU()
        expectQuietSuccess(try await f.run("sg_inq", [Self.dev]),
                           printing: ["Peripheral device type: disk", "Vendor identification: STMF",
                                      "Product identification: SBD DISK", "Unit serial number: SGB-0001"])
    }

    @Test func sgVpdDeviceIdentification() async throws {
        let f = try await BridgeFixture.withLU()
        expectQuietSuccess(try await f.run("sg_vpd", ["-p", "di", Self.dev]),
                           printing: ["Device Identification VPD page", LoopbackLU.guid], caseInsensitive: true)
    }

    @Test func sgVpdBlockLimits() async throws {
        let f = try await BridgeFixture.withLU()
        expectQuietSuccess(try await f.run("sg_vpd", ["-p", "bl", Self.dev]),
                           printing: ["Block limits VPD page", "Maximum unmap LBA count"])
    }

    @Test func sgReadcap() async throws {
        let f = try await BridgeFixture.withLU()
        expectQuietSuccess(try await f.run("sg_readcap", ["-l", Self.dev]),
                           printing: ["Last LBA=32767 (0x7fff), Number of logical blocks=32768",
                                      "Logical block length=512 bytes"])
    }

    @Test func sgLuns() async throws {
        let f = try await BridgeFixture.withLU()
        expectQuietSuccess(try await f.run("sg_luns", [Self.dev]), printing: ["0000000000000000"])
    }

    @Test func sgTurs() async throws {
        let f = try await BridgeFixture.withLU()
        let r = try await f.run("sg_turs", [Self.dev])
        expectQuietSuccess(r, printing: [])
        #expect(r.stdout.isEmpty, "\(r)")
    }

    @Test func sgRequests() async throws {
        let f = try await BridgeFixture.withLU()
        let r = try await f.run("sg_requests", [Self.dev])
        #expect(r.status == 0, "\(r)")
        // sg_requests prints its decode of the returned sense on stderr.
        #expect(r.stderr.contains("data-in decoded as sense"), "\(r)")
        #expect(r.stderr.contains("Sense key: No Sense"), "\(r)")
    }

    /// A pattern written with sg_dd of= reads back identical with if=, and the LU holds it.
    @Test func sgDdRoundTrip() async throws {
        let f = try await BridgeFixture.withLU()
        let pattern = patternBytes(1 << 20, seed: 42)
        let input = f.scratch.path("pattern.bin"), output = f.scratch.path("back.bin")
        try Data(pattern).write(to: URL(fileURLWithPath: input))
        let w = try await f.run("sg_dd", ["if=\(input)", "of=\(Self.dev)", "bs=512", "seek=128"])
        #expect(w.status == 0, "\(w)")
        #expect(w.stderr.contains("2048+0 records out"), "\(w)")
        let r = try await f.run("sg_dd", ["if=\(Self.dev)", "of=\(output)", "bs=512", "skip=128", "count=2048"])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.contains("2048+0 records in"), "\(r)")
        let back = try [UInt8](Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(back.count == pattern.count)
        let same = back == pattern // a Bool: never let the test library diff megabytes
        #expect(same, "data read back differs")
        // And the LU itself holds the pattern at LBA 128.
        let direct = await f.lu!.session.execute(SGRequest(cdb: [0x28, 0, 0, 0, 0, 128, 0, 0, 8, 0], direction: .fromDevice,
                                                          transferLength: 4096), lun: 0, tag: nextTag())
        let held = direct.dataIn == Array(pattern[0..<4096])
        #expect(held)
    }

    @Test func sgPersistRegisterAndReadKeys() async throws {
        let f = try await BridgeFixture.withLU()
        let reg = try await f.run("sg_persist", ["--out", "--register", "--param-sark=0x1234abcd", Self.dev])
        #expect(reg.status == 0, "\(reg)")
        let keys = try await f.run("sg_persist", ["--in", "--read-keys", Self.dev])
        #expect(keys.status == 0, "\(keys)")
        #expect(keys.stdout.contains("1 registered reservation key follows"), "\(keys)")
        #expect(keys.stdout.contains("0x1234abcd"), "\(keys)")
    }

    @Test func sgUnmap() async throws {
        let f = try await BridgeFixture.withLU()
        let session = f.lu!.session
        let data = patternBytes(8 * 512, seed: 7)
        let w = await session.execute(SGRequest(cdb: [0x2A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], direction: .toDevice, dataOut: data),
                                      lun: 0, tag: nextTag())
        #expect(w.status == 0)
        let r = try await f.run("sg_unmap", ["--force", "--lba=4096", "--num=8", Self.dev])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.isEmpty, "\(r)")
        let back = await session.execute(SGRequest(cdb: [0x28, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], direction: .fromDevice,
                                                   transferLength: 4096), lun: 0, tag: nextTag())
        let zeros = back.dataIn == [UInt8](repeating: 0, count: 4096)
        #expect(zeros, "unmapped blocks read back as zeros (LBPRZ)")
    }

    @Test func sgWriteSame() async throws {
        let f = try await BridgeFixture.withLU()
        let block = patternBytes(512, seed: 9)
        let input = f.scratch.path("block.bin")
        try Data(block).write(to: URL(fileURLWithPath: input))
        let r = try await f.run("sg_write_same", ["--in=\(input)", "--lba=100", "--num=4", Self.dev])
        #expect(r.status == 0, "\(r)")
        #expect(r.stderr.isEmpty, "\(r)")
        let back = await f.lu!.session.execute(SGRequest(cdb: [0x28, 0, 0, 0, 0, 100, 0, 0, 4, 0], direction: .fromDevice,
                                                         transferLength: 2048), lun: 0, tag: nextTag())
        let same = back.dataIn == block + block + block + block
        #expect(same)
    }

    /// COMPARE AND WRITE succeeds when the compare half matches, then reports a miscompare.
    @Test func sgCompareAndWrite() async throws {
        let f = try await BridgeFixture.withLU()
        let newData = patternBytes(512, seed: 11)
        let input = f.scratch.path("caw.bin")
        try Data([UInt8](repeating: 0, count: 512) + newData).write(to: URL(fileURLWithPath: input))
        let ok = try await f.run("sg_compare_and_write", ["--in=\(input)", "--lba=200", "--num=1", Self.dev])
        #expect(ok.status == 0, "\(ok)")
        #expect(ok.stderr.isEmpty, "\(ok)")
        let back = await f.lu!.session.execute(SGRequest(cdb: [0x28, 0, 0, 0, 0, 200, 0, 0, 1, 0], direction: .fromDevice,
                                                         transferLength: 512), lun: 0, tag: nextTag())
        let written = back.dataIn == newData
        #expect(written)
        let again = try await f.run("sg_compare_and_write", ["--in=\(input)", "--lba=200", "--num=1", Self.dev])
        #expect(again.status == 14, "\(again)") // SG_LIB_CAT_MISCOMPARE
        #expect(again.stderr.lowercased().contains("miscompare"), "\(again)")
    }

    /// fio's sg engine on a character device: asynchronous sg v3 (write/poll/read) at queue
    /// depth 8, with verification.
    @Test func fioRandomReadWriteWithVerify() async throws {
        guard toolPath("fio") != nil else { return } // fio not installed: nothing to run
        let f = try await BridgeFixture.withLU()
        let r = try await f.run("fio", ["--name=sgbridge", "--ioengine=sg", "--filename=\(Self.dev)", "--rw=randrw", "--bs=4k",
                                  "--iodepth=8", "--verify=crc32c", "--verify_state_save=0", "--size=4m", "--output-format=terse",
                                  "--terse-version=3"], timeout: 300)
        #expect(r.status == 0, "\(r)")
        #expect(!r.stderr.contains("verify"), "\(r)")
        #expect(!r.stderr.contains("error"), "\(r)")
        // terse v3: field 5 is the error count.
        let fields = r.stdout.split(separator: "\n").last.map { $0.split(separator: ";", omittingEmptySubsequences: false) } ?? []
        #expect(fields.count > 47 && fields[4] == "0", "\(r)")
        // Fields 6 and 47: KiB read and written (randrw over 4 MiB moves both).
        #expect(fields.count > 47 && (Int(fields[5]) ?? 0) > 0 && (Int(fields[46]) ?? 0) > 0, "\(r)")
    }

    // MARK: failures

    /// No bridge listening: the tool fails at open, promptly.
    @Test func bridgeNotRunning() async throws {
        let f = try BridgeFixture(handler: { _ in .good() })
        f.server.stop()
        let r = try await f.run("sg_inq", [Self.dev], timeout: 20)
        #expect(!r.timedOut, "\(r)")
        #expect(r.status != 0, "\(r)")
        #expect(r.stderr.contains("No such device or address"), "\(r)")
    }

    /// The bridge goes away while a command is outstanding: the command fails with
    /// DID_NO_CONNECT instead of hanging.
    @Test func bridgeGoesAwayMidCommand() async throws {
        let f = try BridgeFixture(handler: { _ in
            try? await Task.sleep(for: .seconds(30))
            return .good()
        })
        let server = f.server
        Task.detached {
            try? await Task.sleep(for: .milliseconds(500))
            server.stop()
        }
        let started = Date()
        let r = try await f.run("sg_turs", [Self.dev], timeout: 20)
        #expect(!r.timedOut, "\(r)")
        #expect(Date().timeIntervalSince(started) < 60)
        // sg3_utils reports transport errors but most tools still exit 0 (as with a kernel).
        #expect(r.stderr.contains("Host_status=0x01 [DID_NO_CONNECT]"), "\(r)")
        // The next command on a new connection fails at open: the bridge is gone.
        let after = try await f.run("sg_turs", [Self.dev], timeout: 20)
        #expect(after.status != 0 && after.stderr.contains("No such device or address"), "\(after)")
    }

    /// A command the bridge never answers times out after the tool's own timeout.
    @Test func commandTimeout() async throws {
        let f = try BridgeFixture(handler: { _ in
            try? await Task.sleep(for: .seconds(30))
            return .good()
        })
        let started = Date()
        let r = try await f.run("sg_raw", ["--timeout=1", Self.dev, "00", "00", "00", "00", "00", "00"], timeout: 20)
        #expect(!r.timedOut, "\(r)")
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(r.status != 0, "\(r)")
        #expect(r.stderr.contains("DID_TIME_OUT"), "\(r)")
    }
}

/// The asynchronous sg v3 interface (write / poll / read) as fio's sg engine uses it, driven
/// call by call from a Python program (its os.open/os.write/poll/os.read go through the
/// preloaded shim like any C program's).
@Suite struct ShimAsyncInterfaceTests {
    /// sg_io_hdr_t through ctypes; `submit(fd, opcode, timeout_ms)` writes one command.
    static let prelude = """
    import ctypes, os, select, sys, time
    class Hdr(ctypes.Structure):
        _fields_ = [("interface_id", ctypes.c_int), ("dxfer_direction", ctypes.c_int),
                    ("cmd_len", ctypes.c_ubyte), ("mx_sb_len", ctypes.c_ubyte), ("iovec_count", ctypes.c_ushort),
                    ("dxfer_len", ctypes.c_uint), ("dxferp", ctypes.c_void_p), ("cmdp", ctypes.c_void_p),
                    ("sbp", ctypes.c_void_p), ("timeout", ctypes.c_uint), ("flags", ctypes.c_uint),
                    ("pack_id", ctypes.c_int), ("usr_ptr", ctypes.c_void_p), ("status", ctypes.c_ubyte),
                    ("masked_status", ctypes.c_ubyte), ("msg_status", ctypes.c_ubyte), ("sb_len_wr", ctypes.c_ubyte),
                    ("host_status", ctypes.c_ushort), ("driver_status", ctypes.c_ushort), ("resid", ctypes.c_int),
                    ("duration", ctypes.c_uint), ("info", ctypes.c_uint)]
    keep = []
    def submit(fd, opcode, timeout_ms):
        cdb = ctypes.create_string_buffer(bytes([opcode, 0, 0, 0, 0, 0]), 6)
        sense = ctypes.create_string_buffer(32)
        keep.extend([cdb, sense])
        h = Hdr(interface_id=ord('S'), dxfer_direction=-1, cmd_len=6, mx_sb_len=32,
                cmdp=ctypes.addressof(cdb), sbp=ctypes.addressof(sense), timeout=timeout_ms)
        assert os.write(fd, bytes(h)) == ctypes.sizeof(Hdr)
    def reap(fd):
        return Hdr.from_buffer_copy(os.read(fd, ctypes.sizeof(Hdr)))
    fd = os.open("\(BridgeFixture.device)", os.O_RDWR)
    p = select.poll()
    p.register(fd, select.POLLIN)
    """

    func python(_ f: BridgeFixture, _ body: String) async throws -> ToolResult {
        try await f.run("python3", ["-c", Self.prelude + "\n" + body], timeout: 30)
    }

    /// A completion already taken in by an earlier poll is reported by the next poll at once
    /// (the shim once lost it: the kernel clears revents of the descriptor it left out, and
    /// fio then waited in poll for good).
    @Test func pollReportsACompletionAlreadyReceived() async throws {
        let f = try BridgeFixture(handler: { _ in .good() })
        let r = try await python(f, """
        submit(fd, 0x00, 5000)
        assert p.poll(5000) == [(fd, select.POLLIN)], "first poll"
        t = time.monotonic()
        again = p.poll(3000)
        print("second poll", again, round(time.monotonic() - t, 2))
        assert again == [(fd, select.POLLIN)], "the second poll lost the completion"
        h = reap(fd)
        assert h.status == 0 and h.host_status == 0, (h.status, h.host_status)
        print("ok")
        """)
        #expect(r.status == 0 && r.stdout.contains("ok"), "\(r)")
    }

    /// A command the bridge never answers completes with DID_TIME_OUT at its sg timeout while
    /// the program waits in poll(-1) (nothing else arrives on the socket to wake the shim).
    @Test func commandTimesOutWhileTheProgramPolls() async throws {
        let f = try BridgeFixture(handler: { request in
            if request.cdb.first == 0x00 { return .good() }
            try? await Task.sleep(for: .seconds(60))
            return .good()
        })
        let r = try await python(f, """
        submit(fd, 0x1d, 700)   # SEND DIAGNOSTIC: never answered
        t = time.monotonic()
        assert p.poll(-1) == [(fd, select.POLLIN)]
        waited = time.monotonic() - t
        h = reap(fd)
        print("waited", round(waited, 2), "host", h.host_status)
        assert h.host_status == 3, h.host_status   # DID_TIME_OUT
        assert 0.5 < waited < 10, waited
        submit(fd, 0x00, 5000)  # the device still serves commands
        assert p.poll(5000) == [(fd, select.POLLIN)]
        assert reap(fd).status == 0
        print("ok")
        """)
        #expect(!r.timedOut, "\(r)")
        #expect(r.status == 0 && r.stdout.contains("ok"), "\(r)")
    }
}
