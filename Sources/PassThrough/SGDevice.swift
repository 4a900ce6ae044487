#if canImport(Glibc)
import Glibc
#endif
import CSG
import Runtime
import STMF

/// A Linux SCSI generic node (`/dev/sgN`) served on an event loop: each command is written to
/// the non-blocking descriptor as an sg_io_hdr (interface v3) and its result read back when the
/// descriptor is readable, so no thread waits on the device. The port provider's buffer is the
/// request's own (`dxferp`); the sg driver copies between it and the kernel's request unless
/// direct I/O is allowed (`/proc/scsi/sg/allow_dio`). The driver queues 16 commands per
/// descriptor; more wait here, in order. It has no abort of one command: `abort` lets the
/// command run out (its result still comes back), and a LOGICAL UNIT RESET is the driver's
/// device reset.
public final class SGDevice: PassThroughDevice, @unchecked Sendable {
    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case open(path: String, errno: Int32)
        case notSG(path: String)
        public var description: String {
            switch self {
            case let .open(p, e): "\(p): \(String(cString: strerror(e)))"
            case let .notSG(p): "\(p) is not a SCSI generic (sg) device of interface version 3 or later"
            }
        }
    }

    /// What the sg driver queues per descriptor (SG_MAX_QUEUE).
    static let driverQueueDepth = 16
    static let senseCapacity = 252

    public let path: String
    let fd: Int32
    public let loop: EventLoop

    // Loop-owned.
    private struct Slot {
        var completion: @Sendable (DeviceResult) -> Void
        var tag: UInt64
    }
    private var slots: [Slot?] = Array(repeating: nil, count: SGDevice.driverQueueDepth)
    private let senseBuffers: UnsafeMutablePointer<UInt8>
    private var waiting: [(DeviceRequest, @Sendable (DeviceResult) -> Void)] = []
    private var waitingHead = 0
    private var registration: EventLoop.Registration?
    private var closed = false

    public init(path: String, loop: EventLoop) throws(OpenError) {
        let fd = Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .open(path: path, errno: errno) }
        guard stmf_sg_version(fd) >= 30000 else {
            Glibc.close(fd)
            throw .notSG(path: path)
        }
        self.path = path
        self.fd = fd
        self.loop = loop
        senseBuffers = .allocate(capacity: Self.driverQueueDepth * Self.senseCapacity)
        loop.execute { [self] in registration = loop.register(fd: fd) { [unowned self] _ in readable() } }
    }

    deinit {
        Glibc.close(fd)
        senseBuffers.deallocate()
    }

    /// Stops serving: commands still at the driver end as `.gone`; the descriptor closes with
    /// the object (blocking until the loop has let go of it).
    public func close() {
        loop.runAndWait { [self] in
            closed = true
            if let r = registration { loop.remove(r); registration = nil }
            for i in slots.indices { if let s = slots[i] { slots[i] = nil; s.completion(DeviceResult(status: .good, failure: .gone)) } }
            while waitingHead < waiting.count { waiting[waitingHead].1(DeviceResult(status: .good, failure: .gone)); waitingHead += 1 }
            waiting = []; waitingHead = 0
        }
    }

    public func submit(_ request: DeviceRequest, completion: @escaping @Sendable (DeviceResult) -> Void) {
        if loop.inEventLoop { enqueue(request, completion) } else { loop.execute { [self] in enqueue(request, completion) } }
    }

    public func abort(tag: UInt64) {
        // The sg driver (v3) cannot abort one command: it runs out and its result comes back.
    }

    public func resetLogicalUnit() {
        loop.execute { [self] in _ = stmf_sg_reset(fd, 1) }
    }

    // MARK: The loop

    private func enqueue(_ r: DeviceRequest, _ completion: @escaping @Sendable (DeviceResult) -> Void) {
        guard !closed else { return completion(DeviceResult(status: .good, failure: .gone)) }
        guard waitingHead == waiting.count, let i = slots.firstIndex(where: { $0 == nil }) else {
            waiting.append((r, completion))
            return
        }
        start(r, completion, slot: i)
    }

    private func start(_ r: DeviceRequest, _ completion: @escaping @Sendable (DeviceResult) -> Void, slot i: Int) {
        let sense = senseBuffers + i * Self.senseCapacity
        let direction: Int32 = switch r.direction {
        case .read: STMF_SG_FROM_DEVICE
        case .write: STMF_SG_TO_DEVICE
        default: STMF_SG_NONE
        }
        let cdb = r.cdb.bytes
        let rc = cdb.withUnsafeBufferPointer { c in
            stmf_sg_submit(fd, c.baseAddress, Int32(c.count), direction, r.buffer.baseAddress, UInt32(r.buffer.count),
                           sense, Int32(Self.senseCapacity), r.timeoutMilliseconds, Int32(i))
        }
        switch rc {
        case 0:
            slots[i] = Slot(completion: completion, tag: r.tag)
        case -EAGAIN:
            // The driver's queue is full after all (another opener of the node): wait for a result.
            waiting.insert((r, completion), at: waitingHead)
        default:
            completion(DeviceResult(status: .good, failure: Self.failure(errno: -rc)))
        }
    }

    private func readable() {
        var result = stmf_sg_result()
        while !closed {
            let rc = stmf_sg_receive(fd, &result)
            if rc == 0 { break }
            if rc < 0 {
                // The device went away under its commands: every one of them ends.
                let why = Self.failure(errno: -rc)
                for i in slots.indices { if let s = slots[i] { slots[i] = nil; s.completion(DeviceResult(status: .good, failure: why)) } }
                break
            }
            let i = Int(result.pack_id)
            guard slots.indices.contains(i), let slot = slots[i] else { continue }
            slots[i] = nil
            let senseCount = min(Int(result.sense_length), Self.senseCapacity)
            let sense = Array(UnsafeBufferPointer(start: senseBuffers + i * Self.senseCapacity, count: senseCount))
            slot.completion(Self.result(result, sense: sense))
        }
        while waitingHead < waiting.count, let i = slots.firstIndex(where: { $0 == nil }) {
            let (r, c) = waiting[waitingHead]
            waitingHead += 1
            start(r, c, slot: i)
        }
        if waitingHead == waiting.count { waiting.removeAll(keepingCapacity: true); waitingHead = 0 }
    }

    /// The result of one command from the driver's fields (host status DID_*, driver status
    /// DRIVER_* of the SCSI mid level).
    static func result(_ r: stmf_sg_result, sense: [UInt8]) -> DeviceResult {
        let residual = Int(max(0, r.residual))
        switch r.host_status {
        case 0x00: break                                              // DID_OK
        case 0x01, 0x04: return DeviceResult(status: .good, residual: residual, failure: .gone)    // NO_CONNECT, BAD_TARGET
        case 0x03: return DeviceResult(status: .good, residual: residual, failure: .timedOut)      // TIME_OUT
        case 0x02, 0x05, 0x08, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F:           // BUS_BUSY, ABORT, RESET, SOFT_ERROR, IMM_RETRY, REQUEUE, TRANSPORT_DISRUPTED, TRANSPORT_FAILFAST
            return DeviceResult(status: .good, residual: residual, failure: .reset)
        default:
            return DeviceResult(status: .good, residual: residual,
                                failure: .transport("host adapter status 0x\(String(r.host_status, radix: 16))"))
        }
        if r.driver_status & 0x0F == 0x06 { return DeviceResult(status: .good, residual: residual, failure: .timedOut) }   // DRIVER_TIMEOUT
        return DeviceResult(status: SCSIStatus(rawValue: r.status), sense: sense, residual: residual)
    }

    static func failure(errno e: Int32) -> DeviceResult.Failure {
        switch e {
        case ENODEV, ENXIO, EBADF: .gone
        default: .transport(String(cString: strerror(e)))
        }
    }
}
