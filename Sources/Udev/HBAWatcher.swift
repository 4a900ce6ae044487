import CUdev
import Glibc
import Locking

/// A change to this machine's FC HBA ports.
public enum HBAChange: Sendable, Equatable {
    case added(HBAPort)
    case removed(HBAPort)
    /// The same port (WWPN) with a new state, speed, port id, fabric or mode.
    case changed(old: HBAPort, new: HBAPort)

    public var port: HBAPort {
        switch self {
        case .added(let p), .removed(let p), .changed(_, let p): return p
        }
    }
}

/// Keeps the port list live. udev announces HBAs and hosts appearing and going (add/remove of
/// `pci`, `scsi_host` and `fc_host` devices); the kernel sends no uevent when an fc_host's link
/// goes up or down (scsi_transport_fc reports those over SCSI netlink only), so the ports are
/// also re-read every `pollInterval` (port_state, speed and port_id are read from the driver's
/// state, not from firmware). Every event or poll rescans and reports the differences.
public final class HBAWatcher: Sendable {
    public let discovery: HBADiscovery
    public let pollInterval: Double
    private let state = Locked(State())
    private struct State {
        var stopped = false
        var wakeWrite: Int32 = -1
    }

    public init(discovery: HBADiscovery = HBADiscovery(), pollInterval: Double = 2) {
        self.discovery = discovery
        self.pollInterval = pollInterval
    }

    /// Starts watching on a thread of its own. The first value is the current list (every port
    /// `.added`); after that, differences as they happen. The stream ends on `stop()` or when
    /// udev cannot be used.
    public func changes() -> AsyncStream<HBAChange> {
        let (stream, continuation) = AsyncStream.makeStream(of: HBAChange.self, bufferingPolicy: .bufferingNewest(4096))
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            continuation.finish()
            return stream
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let proceed = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.wakeWrite = fds[1]
            return true
        }
        guard proceed else {
            close(fds[0]); close(fds[1]); continuation.finish()
            return stream
        }
        let context = WatchContext(watcher: self, wakeRead: fds[0], continuation: continuation)
        var tid = pthread_t()
        let box = Unmanaged.passRetained(context).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            let ctx = Unmanaged<WatchContext>.fromOpaque(raw!).takeRetainedValue()
            ctx.watcher.run(wakeRead: ctx.wakeRead, continuation: ctx.continuation)
            return nil
        }, box)
        if rc == 0 {
            pthread_detach(tid)
        } else {
            Unmanaged<WatchContext>.fromOpaque(box).release()
            close(fds[0]); continuation.finish()
        }
        return stream
    }

    /// Ends the watch (the stream finishes).
    public func stop() {
        let fd = state.withLock { s -> Int32 in
            s.stopped = true
            let fd = s.wakeWrite
            s.wakeWrite = -1
            return fd
        }
        if fd >= 0 {
            var one: UInt8 = 1
            _ = write(fd, &one, 1)
            close(fd)
        }
    }

    private final class WatchContext: @unchecked Sendable {
        let watcher: HBAWatcher
        let wakeRead: Int32
        let continuation: AsyncStream<HBAChange>.Continuation
        init(watcher: HBAWatcher, wakeRead: Int32, continuation: AsyncStream<HBAChange>.Continuation) {
            self.watcher = watcher; self.wakeRead = wakeRead; self.continuation = continuation
        }
    }

    private func run(wakeRead: Int32, continuation: AsyncStream<HBAChange>.Continuation) {
        defer { close(wakeRead); continuation.finish() }
        guard let udev = udev_new() else { return }
        defer { udev_unref(udev) }
        // The monitor is optional: without it (no netlink in a container) the poll still works.
        let monitor = udev_monitor_new_from_netlink(udev, "udev")
        defer { if let monitor { udev_monitor_unref(monitor) } }
        var monitorFD: Int32 = -1
        if let monitor {
            for subsystem in ["fc_host", "scsi_host", "pci"] {
                udev_monitor_filter_add_match_subsystem_devtype(monitor, subsystem, nil)
            }
            if udev_monitor_enable_receiving(monitor) >= 0 { monitorFD = udev_monitor_get_fd(monitor) }
        }
        var known: [HBAPort] = []
        func rescan() {
            guard let now = try? discovery.scan().ports else { return }
            for change in Self.differences(from: known, to: now) { continuation.yield(change) }
            known = now
        }
        rescan()
        let timeout = Int32(max(0.05, pollInterval) * 1000)
        while true {
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: monitorFD, events: Int16(POLLIN), revents: 0)]
            let n = poll(&fds, monitorFD >= 0 ? 2 : 1, timeout)
            if n < 0 && errno != EINTR { return }
            if fds[0].revents != 0 || state.withLock({ $0.stopped }) { return }
            if monitorFD >= 0 && fds[1].revents & Int16(POLLIN) != 0, let monitor {
                // Drain what is queued; one rescan covers them all.
                while let d = udev_monitor_receive_device(monitor) { udev_device_unref(d) }
            }
            rescan()
        }
    }

    /// What changed between two scans, ports matched by WWPN (a port moving to another host
    /// number is the same port): removals first, then additions, then changes.
    public static func differences(from old: [HBAPort], to new: [HBAPort]) -> [HBAChange] {
        var out: [HBAChange] = []
        let newByWWN = Dictionary(new.map { ($0.portWWN, $0) }, uniquingKeysWith: { a, _ in a })
        let oldByWWN = Dictionary(old.map { ($0.portWWN, $0) }, uniquingKeysWith: { a, _ in a })
        for p in old where newByWWN[p.portWWN] == nil { out.append(.removed(p)) }
        for p in new where oldByWWN[p.portWWN] == nil { out.append(.added(p)) }
        for p in new {
            if let o = oldByWWN[p.portWWN], o != p { out.append(.changed(old: o, new: p)) }
        }
        return out
    }
}
