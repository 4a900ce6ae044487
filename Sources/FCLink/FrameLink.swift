#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FCPort

/// One end of an emulated FC link: a Unix stream socket carrying `FrameStream` records.
///
/// Sending never blocks the caller: records are written straight away when the socket has
/// room, and otherwise queued for the link's writer thread, so a port that is busy receiving
/// can always send (no cycle of full sockets can deadlock the fabric). A reader thread parses
/// records and hands each to the receive handler, zero-copy, while the handler runs.
///
/// A link may bound what it queues (`SendLimit`), as a switch port bounds its buffers with
/// BB_Credit: a send that finds the queue full waits up to the hold time for the peer to take
/// frames, and is discarded if it does not; once a hold time has run out, the link is *starved*
/// and further sends are discarded at once until the peer has taken half the queue.
public final class FrameLink: @unchecked Sendable {
    /// How much a link queues for a peer that does not read, and how long a sender waits for room.
    public struct SendLimit: Sendable, Equatable {
        /// Bytes queued beyond what the socket holds.
        public var queuedBytes: Int
        /// How long a send waits for room before it is discarded (a switch's edge hold time).
        public var holdTime: Duration
        public init(queuedBytes: Int, holdTime: Duration) {
            self.queuedBytes = queuedBytes
            self.holdTime = holdTime
        }
    }

    public let fd: Int32
    public let limit: SendLimit?
    private let cond = NSCondition()
    private var outbox: [UInt8] = []
    /// Bytes the writer took from the outbox and is still writing.
    private var inFlight = 0
    private var writerBusy = false
    private var closed = false
    private var writerStarted = false
    private var starved = false

    public init(fd: Int32, limit: SendLimit? = nil) {
        self.fd = fd
        self.limit = limit
    }

    /// Bytes waiting to be written to the socket.
    public var queuedBytes: Int {
        cond.lock()
        defer { cond.unlock() }
        return outbox.count + inFlight
    }

    /// Connects to a fabric (or any frame-stream listener) at `path`.
    public static func connect(path: String) throws(SocketError) -> FrameLink {
        FrameLink(fd: try UnixSocket.connect(path))
    }

    /// Sends already-encoded records (`FCFrame.encode(into:record: true)`, `FrameStream.append`).
    /// Returns false when the records were discarded because the link's queue stayed full
    /// (records are kept whole: a record is never cut, so the stream stays parseable).
    @discardableResult
    public func send(records bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return true }
        cond.lock()
        defer { cond.unlock() }
        if closed { return true }
        var offset = 0
        if outbox.isEmpty && !writerBusy {
            while offset < bytes.count {
                let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset,
                                   Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { break }
                closed = true          // peer gone: the reader sees EOF and reports the close
                return true
            }
            if offset == bytes.count { return true }
        }
        // Part of a record already went to the socket: the rest must follow or the stream breaks.
        if offset == 0, let limit, !roomFor(bytes.count, limit) { return false }
        outbox.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
        startWriterIfNeeded()
        cond.signal()
        return true
    }

    /// Waits (lock held) up to the hold time for `count` more bytes to fit; false when they do
    /// not, which starves the link until the peer has taken half its queue.
    private func roomFor(_ count: Int, _ limit: SendLimit) -> Bool {
        func fits() -> Bool { outbox.count + inFlight + count <= limit.queuedBytes || outbox.isEmpty && inFlight == 0 }
        if fits() { return true }
        if starved { return false }
        let (s, a) = limit.holdTime.components
        let deadline = Date(timeIntervalSinceNow: Double(s) + Double(a) / 1e18)
        while !fits() && !closed {
            if !cond.wait(until: deadline) { break }
        }
        if fits() || closed { return true }
        starved = true
        return false
    }

    /// Sends already-encoded records.
    @discardableResult
    public func send(records bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { send(records: $0) } }

    /// Sends one frame.
    public func send(_ frame: FCFrame) {
        var out = [UInt8]()
        out.reserveCapacity(frame.encodedLength + FrameStream.prefixLength)
        frame.encode(into: &out, record: true)
        send(records: out)
    }

    /// Sends a primitive sequence (link state).
    public func send(_ primitive: LinkPrimitive) {
        var out = [UInt8]()
        FrameStream.append(primitive, to: &out)
        send(records: out)
    }

    private func startWriterIfNeeded() {
        guard !writerStarted else { return }
        writerStarted = true
        let t = Thread { [self] in writerLoop() }
        t.name = "fclink-writer"
        t.start()
    }

    private func writerLoop() {
        var chunk: [UInt8] = []
        cond.lock()
        while true {
            while outbox.isEmpty && !closed { cond.wait() }
            if closed { cond.unlock(); return }
            swap(&chunk, &outbox)
            writerBusy = true
            inFlight = chunk.count
            cond.unlock()
            let ok = chunk.withUnsafeBytes { UnixSocket.writeAll(fd, $0) }
            chunk.removeAll(keepingCapacity: true)
            cond.lock()
            writerBusy = false
            inFlight = 0
            if let limit, starved, outbox.count <= limit.queuedBytes / 2 { starved = false }
            if !ok { closed = true; cond.broadcast(); cond.unlock(); return }
            cond.broadcast()
        }
    }

    /// Waits until everything queued has been handed to the kernel (or the link closed).
    public func drain() {
        cond.lock()
        while (!outbox.isEmpty || writerBusy) && !closed { cond.wait() }
        cond.unlock()
    }

    /// Starts the reader thread. `onRecord` gets each record and the record's bytes including
    /// its length prefix (to forward unchanged); the pointers stay valid until `onBatchEnd`,
    /// which runs after the records parsed from one read (consecutive records are adjacent).
    /// `onClose` runs once when the peer closes, the stream is violated or `close()` is called.
    public func start(onRecord: @escaping @Sendable (FrameStreamRecord, UnsafeRawBufferPointer) -> Void,
                      onBatchEnd: (@Sendable () -> Void)? = nil,
                      onClose: @escaping @Sendable (Error?) -> Void) {
        let t = Thread { [self] in
            let capacity = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            defer { buffer.deallocate() }
            var filled = 0
            var failure: Error?
            while true {
                let n = Glibc.read(fd, buffer.baseAddress! + filled, capacity - filled)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                filled += n
                do {
                    let used = try FrameStream.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]), onRecord)
                    // Before the unparsed tail moves to the front: records stay valid until here.
                    onBatchEnd?()
                    if used > 0 && used < filled {
                        (buffer.baseAddress!).copyMemory(from: buffer.baseAddress! + used, byteCount: filled - used)
                    }
                    filled -= used
                } catch {
                    onBatchEnd?()
                    failure = error
                    break
                }
            }
            self.close()
            onClose(failure)
        }
        t.name = "fclink-reader"
        t.start()
    }

    /// Closes the link: queued bytes are dropped, the reader sees EOF.
    public func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
    }

    deinit { Glibc.close(fd) }
}
