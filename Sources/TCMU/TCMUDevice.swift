#if canImport(Glibc)
import Glibc
#endif
import Locking
import Runtime
import STMF

/// One TCMU device served on an event loop: `/dev/uioN` opened and mapped, its command ring
/// read when the kernel signals, every command submitted to STMF as a task of the device's
/// nexus, completions written back and the kernel told once per loop turn.
///
/// Data moves in place: a command whose data is one iovec (the usual case: the kernel hands out
/// contiguous data blocks when it can) gets that stretch of the mapped data area as its buffer,
/// so the LU reads write data from, and places read data into, the very bytes the kernel copies
/// to and from its scatterlist. Only a command whose data the kernel split over several iovecs
/// goes through a bounce buffer (counted in `copiedCommands`).
///
/// The device knows its nexus through `route`: the session of (initiator, target port) and the
/// LUN its LU has in that session's view. Without a route (the view went away, the port is
/// offline) commands end with LOGICAL UNIT NOT SUPPORTED.
public final class TCMUDevice: @unchecked Sendable {
    /// Where the device's commands go.
    public struct Route: Sendable {
        public var session: Session
        public var lun: UInt16
        public init(session: Session, lun: UInt16) { self.session = session; self.lun = lun }
    }

    public enum OpenError: Error, CustomStringConvertible {
        case open(path: String, errno: Int32)
        case mapSize(path: String)
        case mmap(errno: Int32)
        case ring(TCMURingError)
        /// The ring held entries of an earlier handler: reset it (`action/reset_ring`) first.
        case staleEntries

        public var description: String {
            switch self {
            case let .open(p, e): "cannot open \(p): \(String(cString: strerror(e)))"
            case let .mapSize(p): "cannot read the map size from \(p)"
            case let .mmap(e): "cannot map the TCMU area: \(String(cString: strerror(e)))"
            case let .ring(r): "the TCMU area is not usable: \(r)"
            case .staleEntries: "the ring holds commands of an earlier handler; reset it before attaching"
            }
        }
    }

    public let minor: Int
    public let loop: EventLoop
    /// Distinguishes this device's task tags from its siblings' in one session.
    public let tagBase: UInt64

    private let fd: Int32
    private let map: UnsafeMutableRawBufferPointer
    private var ring: TCMURing
    private var actions: [TCMURing.Action] = []
    private var registration: EventLoop.Registration?
    private var hook: UInt64?
    private var tasks: [UInt16: SCSITask] = [:]
    private var pool: [SCSITask] = []
    private var closed = false
    private var broken = false
    private let routeLock = Locked<Route?>(nil)

    /// Counters (read from any thread; written on the loop).
    public struct Counters: Sendable, Equatable {
        public var commands: UInt64 = 0
        public var copiedCommands: UInt64 = 0
        public var taskManagement: UInt64 = 0
        public var unrouted: UInt64 = 0
    }
    private let countersLock = Locked(Counters())
    public var counters: Counters { countersLock.withLock { $0 } }

    /// Called once on the loop when the ring is found corrupt (the device stops serving).
    public var onBroken: (@Sendable (String) -> Void)?

    public var capabilities: TCMUCapabilities { ring.capabilities }
    public var mapSize: Int { map.count }

    /// Opens `/dev/uio<minor>` (under `devRoot`), maps it and attaches to its ring. The device
    /// serves once `start` runs it on `loop`.
    public init(minor: Int, loop: EventLoop, tagBase: UInt64, devRoot: String = "/dev", sysRoot: String = "/sys") throws(OpenError) {
        self.minor = minor
        self.loop = loop
        self.tagBase = tagBase << 16
        let path = "\(devRoot)/uio\(minor)"
        let sizePath = "\(sysRoot)/class/uio/uio\(minor)/maps/map0/size"
        guard let size = TCMUDevice.readHex(sizePath), size > 0 else { throw .mapSize(path: sizePath) }
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .open(path: path, errno: errno) }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            let e = errno
            Glibc.close(fd)
            throw .mmap(errno: e)
        }
        let map = UnsafeMutableRawBufferPointer(start: p, count: size)
        let ring: TCMURing
        do { ring = try TCMURing(area: SharedArea(map)) } catch {
            munmap(p, size); Glibc.close(fd)
            throw .ring(error)
        }
        if ring.hadEntriesAtAttach {
            munmap(p, size); Glibc.close(fd)
            throw .staleEntries
        }
        self.fd = fd
        self.map = map
        self.ring = ring
        actions.reserveCapacity(64)
    }

    /// Reads a sysfs number written as hex (`0x…`) or decimal.
    static func readHex(_ path: String) -> Int? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buf, 63)
        guard n > 0 else { return nil }
        let text = String(decoding: buf[0..<n], as: UTF8.self).trimmingWhitespace
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        return Int(text)
    }

    /// The nexus the commands belong to (nil: none now). From any thread.
    public func setRoute(_ route: Route?) {
        routeLock.withLock { $0 = route }
    }

    public var route: Route? { routeLock.withLock { $0 } }

    /// Starts serving on the loop (and looks at the ring at once: the kernel may have queued
    /// commands before anyone listened).
    public func start() {
        loop.execute { [self] in
            guard !closed else { return }
            registration = loop.register(fd: fd) { [unowned self] _ in self.readable() }
            hook = loop.addBatchEndHook { [unowned self] in self.batchEnded() }
            poll()
        }
    }

    /// Stops serving and unmaps the area once no task holds a buffer in it. Commands still in
    /// the ring stay there for the kernel (its `reset_ring`, or the next handler after a reset).
    public func close() {
        loop.execute { [self] in
            guard !closed else { return }
            closed = true
            if let r = registration { loop.remove(r); registration = nil }
            if let h = hook { loop.removeBatchEndHook(h); hook = nil }
            releaseIfIdle()
        }
    }

    private var released = false
    private func releaseIfIdle() {
        guard closed, tasks.isEmpty, !released else { return }
        released = true
        munmap(map.baseAddress, map.count)
        Glibc.close(fd)
    }

    // MARK: Loop

    /// `STMF_TCMU_TRACE=1`: every ring event on standard error (debugging the kernel path).
    static let tracing = getenv("STMF_TCMU_TRACE").map { String(cString: $0) == "1" } ?? false
    func trace(_ s: @autoclosure () -> String) {
        if Self.tracing { let line = "tcmu uio\(minor): \(s())\n"; _ = line.withCString { write(2, $0, strlen($0)) } }
    }

    private func readable() {
        var v: UInt32 = 0
        _ = read(fd, &v, 4)   // consumes the interrupt count; EAGAIN when another wake-up took it
        poll()
    }

    private func poll() {
        guard !closed, !broken else { return }
        try? ring.handle(.kernelPosted, into: &actions)
        perform()
    }

    private func batchEnded() {
        guard !closed, !broken else { return }
        try? ring.handle(.batchEnded, into: &actions)
        perform()
    }

    /// Whether `perform` is running: a command finished inside it (data in memory) adds its
    /// completion's actions to the list being walked instead of walking it again.
    private var performing = false

    private func perform() {
        guard !performing else { return }
        performing = true
        defer { performing = false }
        var i = 0
        while i < actions.count {
            let action = actions[i]
            trace("\(action)")
            switch action {
            case let .execute(cmd): execute(cmd)
            case let .taskManagement(tm): taskManagement(tm)
            case .notifyKernel:
                var v: UInt32 = 0
                _ = write(fd, &v, 4)
            case let .ringBroken(e):
                broken = true
                onBroken?("\(e)")
            }
            i += 1
        }
        actions.removeAll(keepingCapacity: true)
    }

    private func execute(_ cmd: Command) {
        guard let route = routeLock.withLock({ $0 }) else {
            countersLock.withLock { $0.unrouted += 1 }
            let sense = SenseData(.illegalRequest, .logicalUnitNotSupported).bytes(descriptor: false)
            complete(TCMURing.Completion(id: cmd.id, status: .checkCondition, sense: sense))
            return
        }
        let length = cmd.dataLength
        let direction = DataDirection.of(cmd.cdb, dataLength: length)
        let task = pool.popLast() ?? SCSITask()
        task.lunField = LUNAddress.field(for: route.lun)
        task.cdb = cmd.cdb
        task.attribute = .simple
        task.tag = tagBase | UInt64(cmd.id)
        task.context = UInt64(cmd.id)
        task.contextObject = self
        task.direction = direction
        task.expectedTransferLength = length
        if length > 0 {
            let buffer: IOBuffer
            if cmd.dataCount == 1 {
                buffer = IOBuffer(borrowing: ring.area.buffer(cmd.iovecs[0]), count: direction == .write ? length : 0)
            } else {
                buffer = IOBuffer(capacity: length)
                if direction == .write { gather(cmd.dataIovecs, into: buffer) }
                pendingCopies[cmd.id] = Array(cmd.dataIovecs)
                countersLock.withLock { $0.copiedCommands += 1 }
            }
            if direction == .write { task.dataOut = buffer } else { task.dataIn = buffer }
        }
        tasks[cmd.id] = task
        countersLock.withLock { $0.commands += 1 }
        if case let .done(r) = route.session.submit(task) { finished(task, r) }
    }

    /// Iovecs of commands served through a bounce buffer (read data is scattered back).
    private var pendingCopies: [UInt16: [DataRange]] = [:]

    private func gather(_ iovecs: ArraySlice<DataRange>, into buffer: IOBuffer) {
        var at = 0
        for v in iovecs {
            let src = ring.area.buffer(v)
            (buffer.bytes.baseAddress! + at).copyMemory(from: src.baseAddress!, byteCount: v.length)
            at += v.length
        }
        buffer.count = at
    }

    private func scatter(_ buffer: IOBuffer, _ length: Int, to iovecs: [DataRange]) {
        var at = 0
        for v in iovecs where at < length {
            let n = min(v.length, length - at)
            ring.area.buffer(v).baseAddress!.copyMemory(from: buffer.bytes.baseAddress! + at, byteCount: n)
            at += n
        }
    }

    /// A task's end, from STMF (any thread).
    func sendStatus(_ task: SCSITask, _ response: TaskResponse) {
        if loop.inEventLoop { finished(task, response) } else { loop.execute { [self] in finished(task, response) } }
    }

    private func finished(_ task: SCSITask, _ r: TaskResponse) {
        let id = UInt16(truncatingIfNeeded: task.context)
        trace("finished \(id): \(r) \(r.dataLength) bytes")
        guard tasks[id] === task else { return }
        tasks[id] = nil
        let copies = pendingCopies.removeValue(forKey: id)
        if !closed && !broken {
            let read = task.direction == .read
            if read, let copies, let b = task.dataIn { scatter(b, r.dataLength, to: copies) }
            var c = TCMURing.Completion(id: id, status: r.aborted && r.status == .good ? .taskAborted : r.status)
            if let s = r.senseBytes { c.sense = Array(s.prefix(96)) }
            if read, ring.capabilities.contains(.readLength), r.dataLength < task.expectedTransferLength {
                c.readLength = UInt32(r.dataLength)
            }
            complete(c)
        }
        task.prepareForReuse()
        if pool.count < 256 { pool.append(task) }
        releaseIfIdle()
    }

    private func complete(_ c: TCMURing.Completion) {
        do { try ring.handle(.completed(c), into: &actions) } catch {
            // Only a broken ring refuses a completion of a command it handed out.
        }
        perform()
    }

    // MARK: Task management

    /// The kernel saw a task management function on this device's nexus (`tmr_notification`).
    /// STMF carries it out for the LU, on every nexus where SAM says so; the commands it names
    /// end through STMF's abort path (their completions reach the ring as TASK ABORTED).
    private func taskManagement(_ tm: TaskManagement) {
        countersLock.withLock { $0.taskManagement += 1 }
        guard let route = routeLock.withLock({ $0 }) else { return }
        let lun = LUNAddress.field(for: route.lun)
        var functions: [TaskManagementFunction] = []
        switch tm.function {
        case .abortTask: functions = tm.commandIDs.map { .abortTask(tag: tagBase | UInt64($0), lun: lun) }
        case .abortTaskSet: functions = [.abortTaskSet(lun: lun)]
        case .clearTaskSet: functions = [.clearTaskSet(lun: lun)]
        case .clearACA: functions = [.clearACA(lun: lun)]
        case .lunReset, .lunResetByPreempt: functions = [.logicalUnitReset(lun: lun)]
        case .targetWarmReset, .targetColdReset: functions = [.targetReset]
        default: return
        }
        let session = route.session
        Task.detached { for f in functions { _ = await session.taskManagement(f) } }
    }
}

/// The task port of a session whose tasks come from TCMU devices: every task carries its
/// device, which takes the status (several devices, one per LU, share the session of one I_T
/// nexus). Create the session with one (`TargetPortHandle.createSession(initiator:taskPort:)`).
public final class TCMUTaskPort: TaskPort, @unchecked Sendable {
    public init() {}
    /// Never asked: a TCMU command's write data is in the ring before it is submitted.
    public func transferData(_ task: SCSITask) { task.session?.dataTransferred(task, ok: true) }
    public func sendStatus(_ task: SCSITask, _ response: TaskResponse) {
        (task.contextObject as? TCMUDevice)?.sendStatus(task, response)
    }
    /// Nothing to stop: the data is in place; the status follows through `sendStatus`.
    public func abort(_ task: SCSITask) {}
    /// LIO raises REPORTED LUNS DATA HAS CHANGED itself when the binding links or unlinks a LUN.
    public var announcesLUNInventoryChanges: Bool { true }
}
