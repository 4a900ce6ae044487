#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Locking

public enum SGBridgeError: Error, Equatable, CustomStringConvertible {
    case socketPathTooLong(String)
    /// A live server already answers on the path.
    case addressInUse(String)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .socketPathTooLong(let p): "socket path too long: \(p)"
        case .addressInUse(let p): "another SG bridge is listening on \(p)"
        case .system(let what, let e): "\(what): \(String(cString: strerror(e)))"
        }
    }
}

/// Serves the commands the preloaded shim forwards: listens on a Unix stream socket, accepts
/// any number of connections (one per descriptor the program opened on the fake device; a
/// forked child reconnects), and calls `handler` for each request. Requests of one connection
/// run concurrently (so a program's queue depth reaches the target) and their replies go back
/// as they finish, matched by id.
///
/// Threads, not the Swift concurrency pool, do the blocking socket I/O: one accepts, and each
/// connection has a reader and a writer. A malformed frame closes its connection with a line
/// on stderr (or `log`).
///
/// Call `stop()` when done (it also runs when the server is released): it closes the
/// listening socket, unlinks the path and ends the connections; handlers still running finish
/// but their replies are dropped.
public final class SGBridgeServer: Sendable {
    public typealias Handler = @Sendable (SGRequest) async -> SGReply

    public let socketPath: String
    private let core: ServerCore

    /// Binds and listens on `socketPath` (a stale socket file is replaced; a live one is an
    /// error). Nothing is accepted before `start()`.
    public init(socketPath: String, log: (@Sendable (String) -> Void)? = nil,
                handler: @escaping Handler) throws {
        self.socketPath = socketPath
        core = try ServerCore(path: socketPath, handler: handler, log: log ?? { writeStderr($0) })
    }

    /// Starts accepting connections (idempotent).
    public func start() { core.start() }

    /// Stops the server (idempotent): see the type's description.
    public func stop() { core.stop() }

    /// Connections currently open.
    public var connectionCount: Int { core.connectionCount }

    deinit { core.stop() }
}

func writeStderr(_ s: String) {
    var line = s
    if !line.hasSuffix("\n") { line += "\n" }
    var utf8 = Array(line.utf8)
    utf8.withUnsafeMutableBytes { p in
        var off = 0
        while off < p.count {
            let n = write(2, p.baseAddress! + off, p.count - off)
            if n < 0 { if errno == EINTR { continue }; return }
            off += n
        }
    }
}

// MARK: - server core

final class ServerCore: Sendable {
    let path: String
    let handler: SGBridgeServer.Handler
    let log: @Sendable (String) -> Void
    private let listenFD: Int32
    private let boundIdentity: (dev: UInt64, ino: UInt64)
    private let acceptorDone = Latch()

    struct State {
        var started = false
        var stopped = false
        var nextID = 1
        var connections: [Int: Connection] = [:]
    }
    private let state = Locked(State())

    init(path: String, handler: @escaping SGBridgeServer.Handler, log: @escaping @Sendable (String) -> Void) throws {
        self.path = path
        self.handler = handler
        self.log = log
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard path.utf8.count < capacity else { throw SGBridgeError.socketPathTooLong(path) }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            p.copyBytes(from: path.utf8)
            p[path.utf8.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SGBridgeError.system("socket", errno) }
        func bindOnce() -> Int32 {
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 ? 0 : errno
                }
            }
        }
        var e = bindOnce()
        if e == EADDRINUSE {
            // A socket file is there: if nobody answers it is stale, replace it.
            if Self.someoneListens(&addr) { close(fd); throw SGBridgeError.addressInUse(path) }
            unlink(path)
            e = bindOnce()
        }
        guard e == 0 else { close(fd); throw SGBridgeError.system("bind \(path)", e) }
        guard listen(fd, 128) == 0 else {
            let err = errno
            close(fd); unlink(path)
            throw SGBridgeError.system("listen", err)
        }
        var st = stat()
        stat(path, &st)
        boundIdentity = (UInt64(st.st_dev), UInt64(st.st_ino))
        listenFD = fd
    }

    private static func someoneListens(_ addr: inout sockaddr_un) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(probe, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    var connectionCount: Int { state.withLock { $0.connections.count } }

    func start() {
        let go = state.withLock { s -> Bool in
            guard !s.started, !s.stopped else { return false }
            s.started = true
            return true
        }
        guard go else { return }
        spawnThread { [self] in
            acceptLoop()
            close(listenFD)
            acceptorDone.open()
        }
    }

    func stop() {
        let decided = state.withLock { s -> (started: Bool, connections: [Connection])? in
            guard !s.stopped else { return nil }
            s.stopped = true
            return (s.started, Array(s.connections.values))
        }
        guard let decided else { return }
        let (wasStarted, connections) = decided
        // shutdown() wakes the acceptor out of accept(); it then closes the descriptor.
        shutdown(listenFD, Int32(SHUT_RDWR))
        if wasStarted { acceptorDone.wait() } else { close(listenFD) }
        var st = stat()
        if stat(path, &st) == 0, UInt64(st.st_dev) == boundIdentity.dev, UInt64(st.st_ino) == boundIdentity.ino {
            unlink(path)
        }
        for c in connections { c.shutdownSocket() }
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                let e = errno
                if state.withLock({ $0.stopped }) { return }
                if e == EINTR || e == ECONNABORTED { continue }
                log("SGBridge: accept on \(path): \(String(cString: strerror(e)))")
                if e == EINVAL || e == EBADF { return }
                usleep(10_000) // EMFILE and the like: let descriptors come back
                continue
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let connection: Connection? = state.withLock { s in
                guard !s.stopped else { return nil }
                let c = Connection(fd: fd, id: s.nextID, core: self)
                s.nextID += 1
                s.connections[c.id] = c
                return c
            }
            guard let connection else { close(fd); return }
            connection.start()
        }
    }

    func connectionEnded(_ id: Int) {
        state.withLock { _ = $0.connections.removeValue(forKey: id) }
    }
}

// MARK: - one connection

/// One shim connection: a reader thread decodes requests and starts a task per request; a
/// writer thread sends replies as the tasks finish. The last of the two to end closes the fd.
final class Connection: @unchecked Sendable {
    let fd: Int32
    let id: Int
    private let core: ServerCore  // released when the connection ends (connectionEnded)

    private struct Outgoing {
        var id: UInt64
        var reply: SGReply
        var maxDataIn: Int
    }
    // Guarded by `lock`.
    private let lock = ConditionLock()
    private var queue: [Outgoing] = []
    private var closed = false
    private var fdClosed = false
    private var threadsRunning = 2

    init(fd: Int32, id: Int, core: ServerCore) {
        self.fd = fd
        self.id = id
        self.core = core
    }

    func start() {
        spawnThread { [self] in readLoop(); finish() }
        spawnThread { [self] in writeLoop(); finish() }
    }

    /// Ends the connection from outside (server stop): both threads see it closed.
    func shutdownSocket() {
        lock.lock()
        if !fdClosed { shutdown(fd, Int32(SHUT_RDWR)) }
        lock.unlock()
    }

    private func finish() {
        lock.lock()
        closed = true
        queue.removeAll()
        lock.broadcast()
        threadsRunning -= 1
        let last = threadsRunning == 0
        // Either side ending ends the connection: the other side sees EOF / EPIPE.
        if last {
            close(fd)
            fdClosed = true
        } else {
            shutdown(fd, Int32(SHUT_RDWR))
        }
        lock.unlock()
        if last { core.connectionEnded(id) }
    }

    // MARK: reading

    private func readLoop() {
        var input = FrameReader(fd: fd)
        defer { input.deallocate() }
        var header = [UInt8](repeating: 0, count: SGBridgeProtocol.requestHeaderSize)
        let handler = core.handler
        while true {
            do {
                let atBoundary = try header.withUnsafeMutableBytes { try input.readFrameStart(into: $0) }
                if !atBoundary { return } // clean end of stream
                let h: SGBridgeProtocol.RequestHeader
                do {
                    h = try header.withUnsafeBytes { try SGBridgeProtocol.decodeRequestHeader($0) }
                } catch let e as SGBridgeProtocol.DecodingError {
                    throw FrameError.malformed(e)
                }
                let cdb = try input.readArray(h.cdbLength)
                let dataOut = try input.readArray(h.dataOutLength)
                let request = SGRequest(id: h.id, cdb: cdb, direction: h.direction, dataOut: dataOut,
                                        transferLength: h.transferLength, timeoutMilliseconds: h.timeoutMilliseconds)
                let maxDataIn = h.direction == .fromDevice ? h.transferLength : 0
                Task { [self] in
                    let reply = await handler(request)
                    enqueue(Outgoing(id: request.id, reply: reply, maxDataIn: maxDataIn))
                }
            } catch let error as FrameError {
                switch error {
                case .closed: break
                case .truncated: core.log("SGBridge: connection \(id): stream ended inside a request frame; closing")
                case .system(let e): core.log("SGBridge: connection \(id): read: \(String(cString: strerror(e))); closing")
                case .malformed(let why): core.log("SGBridge: connection \(id): malformed request (\(why)); closing")
                }
                return
            } catch {
                core.log("SGBridge: connection \(id): \(error); closing")
                return
            }
        }
    }

    // MARK: writing

    private func enqueue(_ o: Outgoing) {
        lock.lock()
        if !closed {
            queue.append(o)
            if queue.count == 1 { lock.signal() }
        }
        lock.unlock()
    }

    private func writeLoop() {
        var batch: [Outgoing] = []
        var out: [UInt8] = []
        out.reserveCapacity(256 * 1024)
        let bigData = 64 * 1024
        while true {
            lock.lock()
            while queue.isEmpty && !closed { lock.wait() }
            if closed { lock.unlock(); return }
            swap(&batch, &queue)
            lock.unlock()

            // Small replies are coalesced into `out` (one send for the batch); large data-in goes
            // out directly after its header, without a copy.
            for o in batch {
                let sense = o.reply.sense.prefix(SGBridgeProtocol.maxSenseLength)
                let dataInCount = min(o.reply.dataIn.count, o.maxDataIn)
                let start = out.count
                out.append(contentsOf: repeatElement(0, count: SGBridgeProtocol.replyHeaderSize))
                out.withUnsafeMutableBytes { p in
                    SGBridgeProtocol.encodeReplyHeader(o.reply, id: o.id, senseLength: sense.count, dataInLength: dataInCount,
                                                       into: UnsafeMutableRawBufferPointer(rebasing: p[start..<start + SGBridgeProtocol.replyHeaderSize]))
                }
                out.append(contentsOf: sense)
                if dataInCount >= bigData {
                    let ok = out.withUnsafeBytes { head in
                        o.reply.dataIn.withUnsafeBytes { data in
                            sendAll(fd, [head, UnsafeRawBufferPointer(rebasing: data[0..<dataInCount])])
                        }
                    }
                    out.removeAll(keepingCapacity: true)
                    if !ok { return }
                } else if dataInCount > 0 {
                    out.append(contentsOf: o.reply.dataIn[0..<dataInCount])
                }
            }
            batch.removeAll(keepingCapacity: true)
            if !out.isEmpty {
                let ok = out.withUnsafeBytes { sendAll(fd, [$0]) }
                out.removeAll(keepingCapacity: true)
                if !ok { return }
            }
            if out.capacity > 4 << 20 { out = []; out.reserveCapacity(256 * 1024) }
        }
    }
}

/// Sends every byte of `parts` (sendmsg with MSG_NOSIGNAL: a vanished peer is an error, not
/// SIGPIPE). False when the connection is unusable.
func sendAll(_ fd: Int32, _ parts: [UnsafeRawBufferPointer]) -> Bool {
    var iov = parts.filter { $0.count > 0 }.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.baseAddress), iov_len: $0.count) }
    var first = 0
    while first < iov.count {
        let n = iov.withUnsafeMutableBufferPointer { b -> Int in
            var m = msghdr()
            m.msg_iov = b.baseAddress! + first
            m.msg_iovlen = numericCast(b.count - first)
            return sendmsg(fd, &m, Int32(MSG_NOSIGNAL))
        }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return false
        }
        var left = n
        while first < iov.count && left >= iov[first].iov_len { left -= iov[first].iov_len; first += 1 }
        if left > 0 {
            iov[first].iov_base = iov[first].iov_base! + left
            iov[first].iov_len -= left
        }
    }
    return true
}

// MARK: - input

enum FrameError: Error {
    case closed
    case truncated
    case system(Int32)
    case malformed(SGBridgeProtocol.DecodingError)
}

/// Buffered reads of whole frames from a blocking socket; big payloads bypass the buffer.
struct FrameReader {
    let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(fd: Int32, capacity: Int = 256 * 1024) {
        self.fd = fd
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    func deallocate() { buffer.deallocate() }

    /// Reads a frame's first bytes. False on a clean end of stream before any byte.
    mutating func readFrameStart(into dst: UnsafeMutableRawBufferPointer) throws(FrameError) -> Bool {
        if start == end {
            let n = try fill()
            if n == 0 { return false }
        }
        try read(into: dst)
        return true
    }

    mutating func readArray(_ n: Int) throws(FrameError) -> [UInt8] {
        if n == 0 { return [] }
        var failure: FrameError?
        let a = [UInt8](unsafeUninitializedCapacity: n) { b, count in
            do throws(FrameError) { try read(into: UnsafeMutableRawBufferPointer(b)) } catch { failure = error }
            count = n
        }
        if let failure { throw failure }
        return a
    }

    mutating func read(into dst: UnsafeMutableRawBufferPointer) throws(FrameError) {
        var done = 0
        while done < dst.count {
            if start < end {
                let c = min(end - start, dst.count - done)
                (dst.baseAddress! + done).copyMemory(from: buffer.baseAddress! + start, byteCount: c)
                start += c; done += c
                continue
            }
            let want = dst.count - done
            if want >= buffer.count / 2 {
                // Large payload: straight into its destination.
                let n = recv(fd, dst.baseAddress! + done, want, 0)
                if n < 0 { if errno == EINTR { continue }; throw .system(errno) }
                if n == 0 { throw .truncated }
                done += n
            } else if try fill() == 0 {
                throw .truncated
            }
        }
    }

    private mutating func fill() throws(FrameError) -> Int {
        start = 0; end = 0
        while true {
            let n = recv(fd, buffer.baseAddress!, buffer.count, 0)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET || errno == EPIPE { return 0 }
                throw .system(errno)
            }
            end = n
            return n
        }
    }
}

// MARK: - threads and locks

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Starts a detached POSIX thread running `body`.
func spawnThread(_ body: @escaping @Sendable () -> Void) {
    let ctx = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var tid = pthread_t()
    let rc = pthread_create(&tid, nil, { ctx in
        Unmanaged<ThreadBody>.fromOpaque(ctx!).takeRetainedValue().run()
        return nil
    }, ctx)
    precondition(rc == 0, "cannot start an SG bridge thread: \(rc)")
    pthread_detach(tid)
}

/// A mutex with a condition variable.
final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    private let cond: UnsafeMutablePointer<pthread_cond_t> = .allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil); pthread_cond_init(cond, nil) }
    deinit {
        pthread_cond_destroy(cond); pthread_mutex_destroy(mutex)
        cond.deallocate(); mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    func wait() { pthread_cond_wait(cond, mutex) }
    func signal() { pthread_cond_signal(cond) }
    func broadcast() { pthread_cond_broadcast(cond) }
}

/// A one-shot gate: `wait()` returns once `open()` has been called.
final class Latch: @unchecked Sendable {
    private let lock = ConditionLock()
    private var isOpen = false
    func open() { lock.lock(); isOpen = true; lock.broadcast(); lock.unlock() }
    func wait() { lock.lock(); while !isOpen { lock.wait() }; lock.unlock() }
}
