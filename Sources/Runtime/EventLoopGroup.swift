#if canImport(Glibc)
import Glibc
#endif
import Locking

/// The process's event loops: one per core by default, started on first use. Descriptors are
/// spread over them in turn; everything a descriptor's handler starts (a command, its file
/// I/O, its answer) then runs on that loop.
public final class EventLoopGroup: Sendable {
    public let loops: [EventLoop]
    private let nextIndex = Locked(0)

    public init(count: Int, name: String = "loop", clock: any LoopClock = MonotonicClock(), fileIO: FileIO.Engine = .automatic) {
        loops = (0..<max(1, count)).map { EventLoop(name: "\(name)-\($0)", clock: clock, fileIO: fileIO) }
        for l in loops { l.start() }
    }

    /// The loop for the next descriptor.
    public func next() -> EventLoop {
        loops[nextIndex.withLock { i in defer { i = (i + 1) % loops.count }; return i }]
    }

    /// The shared group: `$STMF_EVENT_LOOPS` loops if set, else one per core, with file I/O
    /// through io_uring unless `$STMF_FILE_IO=threads` or the kernel refuses it.
    public static let shared: EventLoopGroup = {
        let env = getenv("STMF_EVENT_LOOPS").flatMap { Int(String(cString: $0)) }
        let io: FileIO.Engine = getenv("STMF_FILE_IO").map { String(cString: $0) == "threads" ? .threads : .automatic } ?? .automatic
        return EventLoopGroup(count: env ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), fileIO: io)
    }()

    public func stop() { for l in loops { l.stop() } }
}
