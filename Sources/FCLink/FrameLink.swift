#if canImport(Glibc)
import Glibc
#endif
import Foundation
import FCPort
import Runtime

/// One end of an emulated FC link: a Unix stream socket carrying `FrameStream` records.
///
/// A link runs on an event loop (`loop`, the ports' links: N_Ports of targets and initiators)
/// or on threads of its own (the switch's links, whose senders may be held for the edge hold
/// time). On a loop, records arrive on the loop's thread, and everything sent while the loop
/// runs (the answers of one read, from any number of exchanges) is gathered and written once
/// at the end of the loop's turn; sends from other threads join the same queue, so order is
/// kept, and the loop flushes them.
///
/// In thread mode:
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

    /// The loop the link runs on (nil: its own reader and writer threads).
    public let loop: EventLoop?
    // Loop mode: what was sent and not yet written (guarded by `cond`), and what a write left.
    private var pending: [UInt8] = []
    private var flushScheduled = false
    private var unsent: [UInt8] = []
    private var unsentOffset = 0
    /// EPOLLOUT is asked for (the socket was full).
    private var waitingForRoom = false
    private var registration: EventLoop.Registration?
    private var hook: UInt64?
    private var onCloseHandler: (@Sendable (Error?) -> Void)?

    public init(fd: Int32, limit: SendLimit? = nil, loop: EventLoop? = nil) {
        self.fd = fd
        self.limit = limit
        self.loop = loop
    }

    /// Bytes waiting to be written to the socket.
    public var queuedBytes: Int {
        cond.lock()
        defer { cond.unlock() }
        return outbox.count + inFlight
    }

    /// Connects to a fabric (or any frame-stream listener) at `path`; the link runs on the next
    /// loop of `group` (the shared one by default).
    public static func connect(path: String, loop: EventLoop? = nil) throws(SocketError) -> FrameLink {
        FrameLink(fd: try UnixSocket.connect(path), loop: loop ?? EventLoopGroup.shared.next())
    }

    /// Sends already-encoded records (`FCFrame.encode(into:record: true)`, `FrameStream.append`).
    /// Returns false when the records were discarded because the link's queue stayed full
    /// (records are kept whole: a record is never cut, so the stream stays parseable).
    @discardableResult
    public func send(records bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return true }
        if let loop { return queue(bytes, loop) }
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

    // MARK: Loop mode

    /// Adds records to what the loop writes at the end of its turn (at once from another thread).
    private func queue(_ bytes: UnsafeRawBufferPointer, _ loop: EventLoop) -> Bool {
        let onLoop = loop.inEventLoop
        cond.lock()
        if closed { cond.unlock(); return true }
        pending.append(contentsOf: bytes)
        let schedule = !onLoop && !flushScheduled
        if schedule { flushScheduled = true }
        // A long sequence (a 1 MiB read's data) goes out as it is produced, so the switch and the
        // peer start on its first frames while the rest is encoded.
        let streaming = onLoop && pending.count >= Self.streamThreshold
        cond.unlock()
        if schedule { loop.execute { [self] in flush() } }
        if streaming { flush() }
        return true
    }

    /// Queued bytes past which a loop-mode link writes at once instead of at the end of the turn.
    static let streamThreshold = 128 << 10

    /// Writes what was queued (loop thread): as much as the socket takes now; the rest waits
    /// for room (EPOLLOUT).
    private func flush() {
        if unsentOffset < unsent.count { return }   // still waiting for room: order is kept
        cond.lock()
        flushScheduled = false
        if pending.isEmpty || closed { cond.unlock(); return }
        swap(&pending, &unsent)
        unsentOffset = 0
        cond.unlock()
        writeUnsent()
    }

    private func writeUnsent() {
        while unsentOffset < unsent.count {
            let n = unsent.withUnsafeBytes { b in
                Glibc.send(fd, b.baseAddress! + unsentOffset, b.count - unsentOffset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if n > 0 { unsentOffset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !waitingForRoom, let registration { loop!.setWritable(registration, true) }
                waitingForRoom = true
                return
            }
            close()   // peer gone: the read side reports it
            return
        }
        unsent.removeAll(keepingCapacity: true)
        unsentOffset = 0
        if waitingForRoom, let registration { loop!.setWritable(registration, false) }
        waitingForRoom = false
        cond.lock()
        let more = !pending.isEmpty
        cond.broadcast()
        cond.unlock()
        if more { flush() }
    }

    private func startOnLoop(_ loop: EventLoop, onRecord: @escaping @Sendable (FrameStreamRecord, UnsafeRawBufferPointer) -> Void,
                             onBatchEnd: (@Sendable () -> Void)?, onClose: @escaping @Sendable (Error?) -> Void) {
        cond.withLock { onCloseHandler = onClose }
        loop.execute { [self] in
            let capacity = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
            var filled = 0
            var ended = false
            func end(_ failure: Error?) {
                guard !ended else { return }
                ended = true
                if let registration { loop.remove(registration) }
                if let hook { loop.removeBatchEndHook(hook) }
                registration = nil
                buffer.deallocate()
                close()
                let h = cond.withLock { () -> (@Sendable (Error?) -> Void)? in defer { onCloseHandler = nil }; return onCloseHandler }
                h?(failure)
            }
            registration = loop.register(fd: fd) { [self] events in
                if events & IOEvent.writable != 0 { writeUnsent() }
                guard events & (IOEvent.readable | IOEvent.hangup) != 0 else { return }
                // Reads of at most `Self.loopReadSize` bytes, each parsed and its output
                // flushed before the next: a peer's batch is taken in pieces, so the answers to
                // the first commands leave while later ones are still being read and the
                // processes of the fabric work side by side instead of in lockstep. At most
                // four reads per wake-up, so one busy link does not starve the loop's others.
                for _ in 0..<4 {
                    let n = recv(fd, buffer.baseAddress! + filled, min(capacity - filled, Self.loopReadSize), Int32(MSG_DONTWAIT))
                    if n < 0 && errno == EINTR { continue }
                    if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
                    if n <= 0 { end(nil); return }
                    filled += n
                    do {
                        let used = try FrameStream.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]), onRecord)
                        onBatchEnd?()
                        if used > 0 && used < filled {
                            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + used, byteCount: filled - used)
                        }
                        filled -= used
                    } catch {
                        onBatchEnd?()
                        end(error)
                        return
                    }
                    flush()
                    if n < Self.loopReadSize { return }   // a short read: the socket is drained
                }
            }
            hook = loop.addBatchEndHook { [self] in flush() }
            closeOnLoop = { end(nil) }
        }
    }

    /// Ends a loop-mode link from the loop (set once it runs).
    private var closeOnLoop: (() -> Void)?

    /// The most a loop-mode link reads at once (a record longer than this is read in pieces).
    static let loopReadSize = 64 << 10

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
        if let loop {
            if loop.inEventLoop { flush(); return }
            loop.execute { [self] in flush() }
            cond.lock()
            while (!pending.isEmpty || flushScheduled) && !closed { cond.wait(until: Date(timeIntervalSinceNow: 0.05)) }
            cond.unlock()
            return
        }
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
        if let loop {
            startOnLoop(loop, onRecord: onRecord, onBatchEnd: onBatchEnd, onClose: onClose)
            return
        }
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
        let was = closed
        closed = true
        cond.broadcast()
        cond.unlock()
        shutdown(fd, Int32(SHUT_RDWR))
        // On a loop, the read side sees the shutdown as end of stream and reports the close.
        if !was, let loop { loop.execute { [self] in closeOnLoop?() } }
    }

    deinit { Glibc.close(fd) }
}
