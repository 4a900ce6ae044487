#if canImport(Glibc)
import Glibc
#endif
import FCLink
import Foundation

/// The raw limit of the emulated fabric's topology with no FC or SCSI work at all: the message
/// pattern of FCP relayed initiator → switch → target and back over the same Unix stream
/// sockets (`UnixSocket`, same buffer sizes), by three processes as in the real topology.
///
/// Every message is a 64-byte header (standing for an FC frame's SOF, header, CRC and EOF plus
/// the link's record length) and an optional payload. A read is a command message answered by
/// data messages of at most `framePayload` bytes and a status message; a write is a command
/// answered by a ready message (XFER_RDY), then the initiator's data messages, then a status.
///
/// Each hop does the least it can, as a tuned C program would: a buffered reader finds message
/// boundaries by their length field; the switch forwards every complete message it has in one
/// `send`; the target and initiator gather their answers (headers from an arena, data from one
/// constant buffer) into one `sendmsg`. The figures are therefore what the sockets, the
/// scheduler and three processes allow — the ceiling for `fcinit bench`.
public enum RawRelay {
    /// Bytes of every message's header.
    public static let headerBytes = 64
    /// The most data one message carries (FCP_DATA frames at a 2048-byte receive size).
    public static let framePayload = 2048
    static let receiveBuffer = 4 << 20
    // Written once at first use, then only read.
    nonisolated(unsafe) static let constantData: UnsafeMutableRawPointer = {
        let p = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        p.initializeMemory(as: UInt8.self, repeating: 0x5A, count: 1 << 20)
        return p
    }()

    enum Kind: UInt32 { case readCommand = 1, writeCommand, ready, data, status }

    /// Header layout (little-endian): length of the whole message (u32), kind (u32), tag (u32),
    /// byte count (u32: a command's transfer length, a data message's payload).
    struct Header {
        var length: Int
        var kind: UInt32
        var tag: UInt32
        var bytes: Int

        init(length: Int, kind: Kind, tag: UInt32, bytes: Int) {
            self.length = length
            self.kind = kind.rawValue
            self.tag = tag
            self.bytes = bytes
        }

        init(_ p: UnsafeRawPointer) {
            length = Int(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            kind = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            tag = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            bytes = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        }

        func store(_ p: UnsafeMutableRawPointer) {
            p.storeBytes(of: UInt32(length).littleEndian, as: UInt32.self)
            p.storeBytes(of: kind.littleEndian, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: tag.littleEndian, toByteOffset: 8, as: UInt32.self)
            p.storeBytes(of: UInt32(bytes).littleEndian, toByteOffset: 12, as: UInt32.self)
        }
    }

    /// A buffered stream reader that hands out runs of complete messages.
    struct Reader: ~Copyable {
        let fd: Int32
        let buffer: UnsafeMutableRawPointer
        var head = 0, tail = 0

        init(fd: Int32) {
            self.fd = fd
            buffer = .allocate(byteCount: RawRelay.receiveBuffer, alignment: 4096)
        }
        deinit { buffer.deallocate() }

        /// The complete messages that have arrived (waiting for at least one); nil at EOF, on
        /// an error or on a message whose length field is impossible. Valid until the next call.
        mutating func receive() -> UnsafeRawBufferPointer? {
            let capacity = RawRelay.receiveBuffer
            while true {
                if head == tail {
                    head = 0; tail = 0
                } else if head > capacity / 2 {
                    memmove(buffer, buffer + head, tail - head)
                    tail -= head; head = 0
                }
                var p = head
                while tail - p >= RawRelay.headerBytes {
                    let length = Int(UInt32(littleEndian: (buffer + p).loadUnaligned(as: UInt32.self)))
                    guard length >= RawRelay.headerBytes, length <= RawRelay.headerBytes + RawRelay.framePayload
                    else { return nil }
                    if tail - p < length { break }
                    p += length
                }
                if p > head {
                    defer { head = p }
                    return UnsafeRawBufferPointer(start: buffer + head, count: p - head)
                }
                let n = recv(fd, buffer + tail, capacity - tail, 0)
                if n > 0 { tail += n; continue }
                if n < 0 && errno == EINTR { continue }
                return nil
            }
        }
    }

    /// Calls `body` with each message's header and payload in a run from `Reader.receive`.
    static func forEachMessage(_ run: UnsafeRawBufferPointer, _ body: (Header, UnsafeRawPointer) -> Void) {
        var p = 0
        while p < run.count {
            let h = Header(run.baseAddress! + p)
            body(h, run.baseAddress! + p + RawRelay.headerBytes)
            p += h.length
        }
    }

    /// Collects messages (headers in an arena, payloads by reference) and writes them with
    /// `sendmsg` in as few calls as the kernel's iovec limit allows.
    struct GatherWriter: ~Copyable {
        let fd: Int32
        static let arenaHeaders = 16384
        let arena: UnsafeMutableRawPointer
        var used = 0
        var vectors: [iovec] = []

        init(fd: Int32) {
            self.fd = fd
            arena = .allocate(byteCount: Self.arenaHeaders * RawRelay.headerBytes, alignment: 64)
            arena.initializeMemory(as: UInt8.self, repeating: 0, count: Self.arenaHeaders * RawRelay.headerBytes)
            vectors.reserveCapacity(4096)
        }
        deinit { arena.deallocate() }

        /// Appends a message; false when the peer is gone.
        mutating func append(_ header: Header, payload: UnsafeRawPointer? = nil) -> Bool {
            if used == Self.arenaHeaders { guard flush() else { return false } }
            let h = arena + used * RawRelay.headerBytes
            header.store(h)
            used += 1
            if let last = vectors.last, last.iov_base! + last.iov_len == h {
                vectors[vectors.count - 1].iov_len += RawRelay.headerBytes
            } else {
                vectors.append(iovec(iov_base: h, iov_len: RawRelay.headerBytes))
            }
            if let payload, header.bytes > 0, header.kind == Kind.data.rawValue {
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: payload), iov_len: header.bytes))
            }
            return true
        }

        /// Appends `total` bytes of constant data for `tag`, split into data messages.
        mutating func appendData(tag: UInt32, total: Int) -> Bool {
            var offset = 0
            while offset < total {
                let n = min(RawRelay.framePayload, total - offset)
                guard append(Header(length: RawRelay.headerBytes + n, kind: .data, tag: tag, bytes: n),
                             payload: RawRelay.constantData + (offset & ((1 << 20) - 1))) else { return false }
                offset += n
            }
            return true
        }

        /// Writes everything appended; false when the peer is gone.
        mutating func flush() -> Bool {
            defer { vectors.removeAll(keepingCapacity: true); used = 0 }
            var start = 0
            let limit = 1024
            while start < vectors.count {
                let count = min(limit, vectors.count - start)
                let sent: Int = vectors.withUnsafeMutableBufferPointer { v in
                    var msg = msghdr()
                    msg.msg_iov = v.baseAddress! + start
                    msg.msg_iovlen = count
                    return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                }
                if sent < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                // Skip what was written; a partial write leaves the rest of one vector.
                var left = sent
                while left > 0 && start < vectors.count {
                    if left >= vectors[start].iov_len {
                        left -= vectors[start].iov_len
                        start += 1
                    } else {
                        vectors[start].iov_base! += left
                        vectors[start].iov_len -= left
                        left = 0
                    }
                }
            }
            return true
        }
    }

    // MARK: - The switch and the target (run by `fcinit raw-relay`)

    /// Accepts initiators on `listener` and relays each to a new connection to `targetPath`,
    /// one thread per direction forwarding every complete message it has in one `send`.
    /// Returns when the listener is closed.
    public static func runSwitch(listener: Int32, targetPath: String) {
        while let a = UnixSocket.accept(listener) {
            guard let t = try? UnixSocket.connect(targetPath) else { close(a); continue }
            let finished = AtomicCounter()
            for (from, to) in [(a, t), (t, a)] {
                Thread.detachNewThread {
                    var reader = Reader(fd: from)
                    while let run = reader.receive() {
                        if !UnixSocket.writeAll(to, run) { break }
                    }
                    shutdown(to, Int32(SHUT_WR))
                    if finished.next() == 1 { close(a); close(t) }   // the second direction to end
                }
            }
        }
    }

    /// Accepts connections on `listener` and answers each message the way an FCP target's
    /// messages go, with no work besides. Returns when the listener is closed.
    public static func runTarget(listener: Int32) {
        while let fd = UnixSocket.accept(listener) {
            Thread.detachNewThread {
                serveTarget(fd)
                close(fd)
            }
        }
    }

    static func serveTarget(_ fd: Int32) {
        var reader = Reader(fd: fd)
        var writer = GatherWriter(fd: fd)
        var writes: [UInt32: Int] = [:]
        while let run = reader.receive() {
            var ok = true
            forEachMessage(run) { h, _ in
                guard ok else { return }
                switch Kind(rawValue: h.kind) {
                case .readCommand:
                    ok = writer.appendData(tag: h.tag, total: h.bytes)
                        && writer.append(Header(length: headerBytes, kind: .status, tag: h.tag, bytes: 0))
                case .writeCommand:
                    writes[h.tag] = h.bytes
                    ok = writer.append(Header(length: headerBytes, kind: .ready, tag: h.tag, bytes: h.bytes))
                case .data:
                    guard let due = writes[h.tag] else { return }
                    if due - h.bytes > 0 {
                        writes[h.tag] = due - h.bytes
                    } else {
                        writes[h.tag] = nil
                        ok = writer.append(Header(length: headerBytes, kind: .status, tag: h.tag, bytes: 0))
                    }
                default:
                    break
                }
            }
            guard ok, writer.flush() else { break }
        }
    }

    // MARK: - The initiator (in the benchmark's process)

    /// Runs `workload` for `seconds` through the switch at `switchPath`: `queueDepth` commands
    /// kept outstanding by one thread, each completion's latency recorded.
    public static func run(_ workload: BenchWorkload, switchPath: String, seconds: Double) throws(SocketError)
        -> BenchFigures {
        let fd = try UnixSocket.connect(switchPath)
        defer { close(fd) }
        var reader = Reader(fd: fd)
        var writer = GatherWriter(fd: fd)
        let depth = max(1, workload.queueDepth)
        let bytes = workload.blockBytes
        let kind: Kind = workload.operation == .read ? .readCommand : .writeCommand
        var started = [UInt64](repeating: 0, count: depth)
        var latencies: [Int64] = []
        latencies.reserveCapacity(1 << 20)
        var errors = 0
        let begin = monotonicNanoseconds()
        let end = begin + UInt64(seconds * 1e9)
        for tag in 0..<depth {
            started[tag] = monotonicNanoseconds()
            _ = writer.append(Header(length: headerBytes, kind: kind, tag: UInt32(tag), bytes: bytes))
        }
        guard writer.flush() else { throw SocketError(operation: "send", path: switchPath, errno: errno) }
        var outstanding = depth
        var received = [Int](repeating: 0, count: depth)
        var stopping = false
        while outstanding > 0, let run = reader.receive() {
            var ok = true
            forEachMessage(run) { h, _ in
                guard ok else { return }
                guard Int(h.tag) < depth else { errors += 1; return }
                let tag = Int(h.tag)
                switch Kind(rawValue: h.kind) {
                case .data:
                    received[tag] += h.bytes
                case .ready:
                    ok = writer.appendData(tag: h.tag, total: h.bytes)
                case .status:
                    let now = monotonicNanoseconds()
                    if kind == .readCommand && received[tag] != bytes { errors += 1 } else {
                        latencies.append(Int64(now - started[tag]))
                    }
                    received[tag] = 0
                    outstanding -= 1
                    if now >= end { stopping = true }
                    if !stopping {
                        started[tag] = now
                        ok = writer.append(Header(length: headerBytes, kind: kind, tag: h.tag, bytes: bytes))
                        outstanding += 1
                    }
                default:
                    errors += 1
                }
            }
            guard ok, writer.flush() else { break }
        }
        let elapsed = Double(monotonicNanoseconds() - begin) / 1e9
        errors += outstanding
        return BenchRunner.figures(workload.name, latencies: latencies, errors: errors, elapsed: elapsed,
                                   bytesPerIO: bytes)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    // MARK: - The topology as processes

    /// The switch and target processes (`executable raw-relay …`) in a private directory.
    /// They exit when this process's end of their standard input closes, so they never outlive it.
    public final class Topology: @unchecked Sendable {
        public let switchPath: String
        public let targetPath: String
        let directory: String
        let processes: [Process]
        let lifelines: [Pipe]

        /// Starts `executable raw-relay target` and `executable raw-relay switch` and waits
        /// until the switch accepts connections.
        public init(executable: String) throws {
            directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("fcinit-raw-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            targetPath = directory + "/target.sock"
            switchPath = directory + "/switch.sock"
            var processes: [Process] = []
            var lifelines: [Pipe] = []
            for args in [["raw-relay", "target", "--listen", targetPath],
                         ["raw-relay", "switch", "--listen", switchPath, "--to", targetPath]] {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: executable)
                p.arguments = args
                let lifeline = Pipe()
                p.standardInput = lifeline
                do { try p.run() } catch {
                    processes.forEach { $0.terminate() }
                    throw error
                }
                processes.append(p)
                lifelines.append(lifeline)
                // The switch connects to the target per initiator, so the target must listen first.
                let path = args[3]
                var ready = false
                for _ in 0..<200 {
                    if let fd = try? UnixSocket.connect(path) { close(fd); ready = true; break }
                    if !p.isRunning { break }
                    usleep(25_000)
                }
                guard ready else {
                    processes.forEach { $0.terminate() }
                    throw SocketError(operation: "raw relay \(args[1]) did not start listening at", path: path,
                                      errno: ETIMEDOUT)
                }
            }
            self.processes = processes
            self.lifelines = lifelines
        }

        public var processIdentifiers: [Int32] { processes.map(\.processIdentifier) }

        /// Ends both processes (closing their lifelines; a signal if one lingers) and removes
        /// the directory.
        public func stop() {
            for l in lifelines { try? l.fileHandleForWriting.close() }
            for p in processes {
                for _ in 0..<100 where p.isRunning { usleep(10_000) }
                if p.isRunning { p.terminate() }
                p.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Runs every workload against a freshly started topology, then stops it. The initiator
    /// runs on its own thread so the blocking socket calls never occupy Swift's task pool.
    public static func limits(_ workloads: [BenchWorkload], seconds: Double, executable: String) async throws
        -> [BenchFigures] {
        let topology = try Topology(executable: executable)
        defer { topology.stop() }
        let path = topology.switchPath
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[BenchFigures], any Error>) in
            Thread.detachNewThread {
                do {
                    var out: [BenchFigures] = []
                    for w in workloads { out.append(try run(w, switchPath: path, seconds: seconds)) }
                    c.resume(returning: out)
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }
}
