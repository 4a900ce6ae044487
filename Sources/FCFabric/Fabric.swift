import Dispatch
import FCLink
import FCPort
import Foundation
import Logging
import STMF
import Locking

/// The emulated FC switch: F_Port login (0xFFFFFE), fabric controller (0xFFFFFD), name server
/// (0xFFFFFC), class-3 routing by D_ID, hard WWPN zoning, fault injection and capture.
///
/// Each attached port has a reader thread (its `FrameLink`) that calls `receive`; the fabric's
/// state sits behind one mutex, taken briefly per frame to route it. Sends never block.
public final class Fabric: Sendable {
    public struct Configuration: Sendable {
        public var zones: ZoneSet
        public var pcapPath: String?
        /// Seed for fault decisions (reproducible runs).
        public var seed: UInt64
        /// The fabric's name (returned in FLOGI LS_ACC).
        public var fabricName: WWN
        /// Domain of assigned N_Port IDs.
        public var domain: UInt8
        /// R_A_TOV the fabric advertises in its FLOGI LS_ACC (ms).
        public var resourceAllocationTimeout: UInt32 = 10_000
        /// E_D_TOV the fabric advertises (ms).
        public var errorDetectTimeout: UInt32 = 2_000
        /// What the switch buffers for each port beyond its socket, and how long a frame waits
        /// for room (the edge hold time) before it is discarded and counted. A port that stops
        /// reading costs the fabric at most this much memory; nil means unbounded.
        public var egressLimit: FrameLink.SendLimit? = Fabric.defaultEgressLimit

        public init(zones: ZoneSet = .allAccess, pcapPath: String? = nil, seed: UInt64 = 1,
                    fabricName: WWN = WWN(0x1000_0000_FCFA_B000), domain: UInt8 = 0x01) {
            self.zones = zones
            self.pcapPath = pcapPath
            self.seed = seed
            self.fabricName = fabricName
            self.domain = domain
        }
    }

    /// 16 MiB per port (16 full 1 MiB FCP_DATA sequences beyond the socket's own 8 MiB) and a
    /// 220 ms edge hold time, a common switch default.
    public static let defaultEgressLimit = FrameLink.SendLimit(queuedBytes: 16 << 20, holdTime: .milliseconds(220))

    public let configuration: Configuration
    let state: Locked<FabricState>
    let pcap: PcapWriter?
    let logger: Logger
    let delayQueue = DispatchQueue(label: "fcfabric.delay")

    public init(configuration: Configuration, logger: Logger = Logger(label: "fcfabric")) throws(SocketError) {
        self.configuration = configuration
        self.logger = logger
        pcap = try configuration.pcapPath.map { p throws(SocketError) in try PcapWriter(path: p) }
        state = Locked(FabricState(zones: configuration.zones, seed: configuration.seed, domain: configuration.domain,
                                  reclaimAfter: .milliseconds(Int(configuration.resourceAllocationTimeout))))
    }

    /// Attaches a port's link: the port sees its link come up (Idle) and may log in.
    public func attach(_ link: FrameLink) {
        let port = SwitchPort(link: link)
        let index = state.withLock { s in s.attach(port) }
        port.index = index
        port.discarded = { [self] destination, frames in
            state.withLock { s in s.counters(of: destination) { $0.framesDiscarded += frames } }
        }
        link.start(onRecord: { [self] record, bytes in
            receive(record, bytes: bytes, from: port)
        }, onBatchEnd: { [self] in
            port.flushForwarded()
            pcap?.flush()
        }, onClose: { [self] error in
            if let error { logger.warning("port \(index) link violation: \(error)") }
            detach(port)
        })
        link.send(.idle)
    }

    /// Flushes and closes the capture; ports stay attached.
    public func closeCapture() { pcap?.close() }

    func detach(_ port: SwitchPort) {
        let affected = state.withLock { s in s.detach(port) }
        if let affected { announce(change: affected) }
    }

    // MARK: - Frame path

    func receive(_ record: FrameStreamRecord, bytes: UnsafeRawBufferPointer, from port: SwitchPort) {
        guard case .frame(let frameBytes) = record else { return }   // ports send no primitives we act on
        pcap?.record(frame: frameBytes)
        let validated: (StartOfFrame, FrameHeader, Range<Int>, EndOfFrame)
        do throws(FrameError) {
            validated = try FCFrame.validate(frameBytes)
        } catch {
            state.withLock { s in s.counters(of: port) { $0.invalidFrames += 1; if case .badCRC = error { $0.crcErrors += 1 } } }
            return
        }
        let header = validated.1
        if header.destination.isWellKnown {
            let payload = Array(frameBytes[validated.2])
            serve(header: header, payload: payload, from: port)
            return
        }
        let route = state.withLock { s in s.route(header, from: port) }
        guard case .forward(let destination, let faults) = route else { return }
        if faults.isNone {
            port.forward(bytes, to: destination)
        } else {
            port.flushForwarded()
            deliver(bytes, to: destination, faults: faults)
        }
    }

    /// Sends a frame record to `destination` after fault injection.
    func deliver(_ recordBytes: UnsafeRawBufferPointer, to destination: SwitchPort, faults: Faults) {
        var decision = FaultDecision.deliver
        if !faults.isNone {
            decision = state.withLock { s in s.random.decide(faults) }
        }
        switch decision {
        case .drop:
            state.withLock { s in s.counters(of: destination) { $0.framesDropped += 1 } }
            return
        case .deliver where faults.delayMilliseconds == 0:
            if !destination.link.send(records: recordBytes) { countDiscard(at: destination) }
        case .deliver, .corrupt, .duplicate:
            var copy = Array(recordBytes)
            if decision == .corrupt { copy[copy.count - 8] ^= 0xFF }   // first CRC byte
            if decision == .duplicate { copy += copy }                  // the same record twice in a row
            if faults.delayMilliseconds > 0 {
                let delayed = copy
                delayQueue.asyncAfter(deadline: .now() + faults.delayMilliseconds / 1000) { [self] in
                    if !destination.link.send(records: delayed) { countDiscard(at: destination) }
                }
            } else {
                if !destination.link.send(records: copy) { countDiscard(at: destination) }
            }
        }
    }

    /// A frame for `destination` found its queue full for the hold time (no credit).
    private func countDiscard(at destination: SwitchPort) {
        state.withLock { s in s.counters(of: destination) { $0.framesDiscarded += 1 } }
    }

    /// Sends a frame the fabric itself originates (service replies, RSCN).
    func send(_ frame: FCFrame, to port: SwitchPort) {
        var out = [UInt8]()
        frame.encode(into: &out, record: true)
        out.withUnsafeBytes { p in
            pcap?.record(frame: UnsafeRawBufferPointer(rebasing: p[FrameStream.prefixLength...]))
            let faults = state.withLock { s in s.faults(for: port) }
            deliver(p, to: port, faults: faults)
        }
    }

    // MARK: - Control (fcfabric ctl)

    public enum ControlError: Error, CustomStringConvertible, Sendable {
        case noSuchPort(WWN)
        case invalid(String)
        public var description: String {
            switch self {
            case .noSuchPort(let w): "no port with WWPN \(w.hex) is attached"
            case .invalid(let m): m
            }
        }
    }

    /// Takes a port's link down (NOS): implicit fabric logout, RSCN to the others.
    public func linkDown(_ wwpn: WWN) throws(ControlError) {
        let result = state.withLock { s in s.setLink(wwpn, up: false) }
        guard let (port, affected) = result else { throw .noSuchPort(wwpn) }
        port.link.send(.notOperational)
        if let affected { announce(change: affected) }
    }

    /// Brings a port's link back up (Idle): the port logs in again.
    public func linkUp(_ wwpn: WWN) throws(ControlError) {
        let result = state.withLock { s in s.setLink(wwpn, up: true) }
        guard let (port, _) = result else { throw .noSuchPort(wwpn) }
        port.link.send(.idle)
    }

    /// Sets fault injection fabric-wide (`wwpn` nil) or for one port.
    public func setFaults(_ faults: Faults, port wwpn: WWN?) throws(ControlError) {
        if let p = faults.problem { throw .invalid(p) }
        let ok = state.withLock { s in s.setFaults(faults, for: wwpn) }
        if !ok, let wwpn { throw .noSuchPort(wwpn) }
    }

    /// A snapshot of every attached port.
    public func ports() -> [PortStatus] { state.withLock { s in s.status() } }
}

/// One attached port as `fcfabric ctl show` reports it.
public struct PortStatus: Sendable, Codable, Equatable {
    public var index: Int
    public var portID: String?
    public var portName: String?
    public var nodeName: String?
    public var linkUp: Bool
    public var loggedIn: Bool
    public var fc4Types: [UInt8]
    public var roles: String
    public var symbolicName: String
    public var stateChangeRegistration: Bool
    public var counters: PortCounters
    public var faults: Faults
    /// Bytes the switch holds for this port that it has not taken yet.
    public var queuedBytes: Int
}

/// Per-port counters (also the Link Error Status Block RLS returns).
public struct PortCounters: Sendable, Codable, Equatable {
    public var framesIn = 0
    public var framesOut = 0
    public var framesDropped = 0
    public var invalidFrames = 0
    public var crcErrors = 0
    public var linkFailures = 0
    /// Frames for this port discarded because it did not take what was queued for it within
    /// the edge hold time (a slow-drain device, as a switch counts class 3 discards).
    public var framesDiscarded = 0
}

/// An attached port (a connection); its login state lives in `FabricState`.
final class SwitchPort: @unchecked Sendable, Hashable {
    let link: FrameLink
    /// Set once at attach, before the reader starts.
    var index = 0
    /// Counts frames discarded at a destination's full queue; set once at attach.
    var discarded: @Sendable (SwitchPort, Int) -> Void = { _, _ in }
    init(link: FrameLink) { self.link = link }

    // Frames this port sent that are routed to the same destination and lie next to each other
    // in the link's read buffer go out in one write, as a switch forwards a burst. Touched only
    // by this port's reader thread; flushed before the buffer is reused (`onBatchEnd`), before
    // a frame to another destination and before a frame that faults delay, drop or corrupt.
    private var forwardDestination: SwitchPort?
    private var forwardStart: UnsafeRawPointer?
    private var forwardCount = 0
    private var forwardFrames = 0

    func forward(_ record: UnsafeRawBufferPointer, to destination: SwitchPort) {
        if forwardDestination === destination, let start = forwardStart, start + forwardCount == record.baseAddress {
            forwardCount += record.count
            forwardFrames += 1
            return
        }
        flushForwarded()
        forwardDestination = destination
        forwardStart = record.baseAddress
        forwardCount = record.count
        forwardFrames = 1
    }

    func flushForwarded() {
        guard let destination = forwardDestination, let start = forwardStart else { return }
        let records = UnsafeRawBufferPointer(start: start, count: forwardCount), frames = forwardFrames
        forwardDestination = nil
        forwardStart = nil
        forwardCount = 0
        forwardFrames = 0
        if !destination.link.send(records: records) { discarded(destination, frames) }
    }
    static func == (a: SwitchPort, b: SwitchPort) -> Bool { a === b }
    func hash(into h: inout Hasher) { h.combine(ObjectIdentifier(self)) }
}
