import FCLink
import FCPort
import Foundation
import Runtime
import STMF
import Synchronization

/// One benchmark workload: an operation, a pattern, an I/O size and a queue depth.
public struct BenchWorkload: Sendable, Codable, Equatable {
    public enum Operation: String, Sendable, Codable { case read, write }
    public var name: String
    public var operation: Operation
    public var random: Bool
    public var blockBytes: Int
    public var queueDepth: Int

    public init(name: String, operation: Operation, random: Bool, blockBytes: Int, queueDepth: Int) {
        self.name = name
        self.operation = operation
        self.random = random
        self.blockBytes = blockBytes
        self.queueDepth = queueDepth
    }

    /// 4 KiB random read and write at queue depth 1 and 32; 1 MiB sequential read and write at
    /// `sequentialDepth`.
    public static func standard(sequentialDepth: Int = 1) -> [BenchWorkload] {
        [BenchWorkload(name: "4k randread qd1", operation: .read, random: true, blockBytes: 4096, queueDepth: 1),
         BenchWorkload(name: "4k randread qd32", operation: .read, random: true, blockBytes: 4096, queueDepth: 32),
         BenchWorkload(name: "4k randwrite qd1", operation: .write, random: true, blockBytes: 4096, queueDepth: 1),
         BenchWorkload(name: "4k randwrite qd32", operation: .write, random: true, blockBytes: 4096, queueDepth: 32),
         BenchWorkload(name: "1m seqread qd\(sequentialDepth)", operation: .read, random: false, blockBytes: 1 << 20,
                       queueDepth: sequentialDepth),
         BenchWorkload(name: "1m seqwrite qd\(sequentialDepth)", operation: .write, random: false, blockBytes: 1 << 20,
                       queueDepth: sequentialDepth)]
    }
}

/// What one workload achieved.
public struct BenchFigures: Sendable, Codable, Equatable {
    public var workload: String
    public var ios: Int
    public var errors: Int
    public var seconds: Double
    public var iops: Double
    /// 10^6 bytes per second.
    public var megabytesPerSecond: Double
    /// Latency percentiles in microseconds.
    public var p50: Double
    public var p99: Double
    public var p999: Double
}

/// The LU a benchmark runs against.
public struct BenchTarget: Sendable {
    public var id: FCID
    public var lun: UInt16
    public var blockSize: Int
    public var blocks: UInt64

    public init(id: FCID, lun: UInt16, blockSize: Int, blocks: UInt64) {
        self.id = id
        self.lun = lun
        self.blockSize = blockSize
        self.blocks = blocks
    }
}

/// Runs workloads through `FCInitiator.execute` and measures them.
public enum BenchRunner {
    /// Runs `workload` for `seconds` against `target` and returns IOPS, MB/s and latency
    /// percentiles from every completed command's latency. The workload runs to completion on
    /// the initiator port's event loop, as an HBA driver's completion path does: each of the
    /// `queueDepth` slots issues its next command from the completion of its last one (no task,
    /// no continuation, no thread hop per command), and the commands of one turn of the loop
    /// leave in one write.
    public static func run(_ workload: BenchWorkload, initiator: FCInitiator, target: BenchTarget,
                           seconds: Double) async -> BenchFigures {
        let ioBlocks = max(1, workload.blockBytes / target.blockSize)
        let run = LoopRun(workload: workload, initiator: initiator, target: target, ioBlocks: ioBlocks,
                          seconds: seconds)
        let loop = initiator.nport.loop
        let elapsed = await withCheckedContinuation { (c: CheckedContinuation<Double, Never>) in
            loop.execute { run.start(c) }
        }
        return figures(workload.name, latencies: run.slots.flatMap(\.latencies), errors: run.slots.reduce(0) { $0 + $1.errors },
                       elapsed: elapsed, bytesPerIO: ioBlocks * target.blockSize)
    }

    /// One workload's run on the initiator's loop: its slots, their requests and latencies
    /// (touched on the loop thread only).
    final class LoopRun: @unchecked Sendable {
        final class Slot: @unchecked Sendable {
            var latencies: [Int64] = []
            var errors = 0
            var started: UInt64 = 0
            var rng: UInt64
            var onDone: (@Sendable (Result<SCSIResult, InitiatorError>) -> Void)!
            init(_ i: Int) {
                rng = 0x9E37_79B9_7F4A_7C15 &* UInt64(i + 1)
                latencies.reserveCapacity(1 << 16)
            }
        }

        let workload: BenchWorkload
        let initiator: FCInitiator
        let target: BenchTarget
        let ioBlocks: Int
        let slotsCount: UInt64
        let pattern: [UInt8]
        let clock: any LoopClock
        var slots: [Slot] = []
        var sequential: UInt64 = 0
        var outstanding = 0
        var begin: UInt64 = 0
        var deadline: UInt64 = 0
        var finished: CheckedContinuation<Double, Never>?

        init(workload: BenchWorkload, initiator: FCInitiator, target: BenchTarget, ioBlocks: Int, seconds: Double) {
            self.workload = workload
            self.initiator = initiator
            self.target = target
            self.ioBlocks = ioBlocks
            slotsCount = max(1, target.blocks / UInt64(ioBlocks))
            pattern = [UInt8](repeating: 0xA5, count: ioBlocks * target.blockSize)
            clock = initiator.nport.loop.clock
            self.seconds = seconds
        }
        let seconds: Double

        func start(_ c: CheckedContinuation<Double, Never>) {
            finished = c
            begin = clock.now()
            deadline = begin &+ UInt64(seconds * 1e9)
            slots = (0..<workload.queueDepth).map { Slot($0) }
            // Strong captures (unowned ones cost a side-table check per call); the cycle is
            // broken when the run ends.
            for slot in slots {
                slot.onDone = { result in self.done(slot, result) }
            }
            for slot in slots { issue(slot) }
        }

        private func issue(_ slot: Slot) {
            let n: UInt64
            if workload.random {
                slot.rng ^= slot.rng << 13; slot.rng ^= slot.rng >> 7; slot.rng ^= slot.rng << 17
                n = slot.rng % slotsCount
            } else {
                n = sequential % slotsCount
                sequential &+= 1
            }
            let lba = n * UInt64(ioBlocks)
            let request: SCSIRequest = workload.operation == .read
                ? .read16(lun: target.lun, lba: lba, blocks: UInt32(ioBlocks), blockSize: target.blockSize)
                : .write16(lun: target.lun, lba: lba, data: pattern, blockSize: target.blockSize)
            outstanding += 1
            slot.started = clock.now()
            initiator.submit(request, target: target.id, completion: slot.onDone)
        }

        private func done(_ slot: Slot, _ result: Result<SCSIResult, InitiatorError>) {
            let loop = initiator.nport.loop
            // A command that failed without reaching the link (or ended by link loss seen
            // elsewhere) may complete on another thread: its slot's state is the loop's.
            guard loop.inEventLoop else { return loop.execute { [self] in done(slot, result) } }
            outstanding -= 1
            let now = clock.now()
            var stop = false
            switch result {
            case .success(let r) where r.status == .good:
                slot.latencies.append(Int64(now &- slot.started))
            case .success:
                slot.errors += 1
            case .failure(let e):
                slot.errors += 1
                if case .notLoggedIn = e { stop = true }
                if case .notOnline = e { stop = true }
            }
            if !stop && now < deadline {
                // After a failure the next command waits for the loop's next turn, so a command
                // that fails before it is sent cannot recurse here.
                if case .failure = result {
                    outstanding += 1
                    loop.execute { [self] in outstanding -= 1; issue(slot) }
                } else {
                    issue(slot)
                }
            } else if outstanding == 0, let c = finished {
                finished = nil
                for s in slots { s.onDone = nil }
                c.resume(returning: Double(now &- begin) / 1e9)
            }
        }
    }

    /// IOPS, MB/s and latency percentiles of `latencies` (nanoseconds, one per completed I/O).
    static func figures(_ workload: String, latencies: [Int64], errors: Int, elapsed: Double, bytesPerIO: Int)
        -> BenchFigures {
        let latencies = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let i = min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)
            return Double(latencies[max(0, i)]) / 1000
        }
        let ios = latencies.count
        return BenchFigures(workload: workload, ios: ios, errors: errors, seconds: elapsed,
                            iops: Double(ios) / elapsed,
                            megabytesPerSecond: Double(ios) * Double(bytesPerIO) / elapsed / 1e6,
                            p50: percentile(0.50), p99: percentile(0.99), p999: percentile(0.999))
    }

    /// Runs `workloads` against a `RelayReflector` N_Port started on the initiator's fabric
    /// for the purpose (the raw limit of the topology), then stops it.
    public static func limits(_ workloads: [BenchWorkload], initiator: FCInitiator, seconds: Double,
                              reflectorName: WWN = WWN(0x2FFF_0024_FFFC_0000 | UInt64.random(in: 1...0xFFFF)))
        async throws(InitiatorError) -> [BenchFigures] {
        let reflector = RelayReflector(portName: reflectorName, fabricPath: initiator.nport.configuration.fabricPath)
        reflector.start()
        defer { Task { await reflector.stop() } }
        do { try await reflector.waitOnline() } catch { throw .fabric("relay reflector did not come online: \(error)") }
        return try await limits(workloads, initiator: initiator, seconds: seconds, against: reflectorName)
    }

    /// Runs `workloads` against a relay reflector already on the fabric as `reflectorName`
    /// (e.g. `fcinit reflector` in its own process, so it does not share the initiator's CPU).
    public static func limits(_ workloads: [BenchWorkload], initiator: FCInitiator, seconds: Double,
                              against reflectorName: WWN) async throws(InitiatorError) -> [BenchFigures] {
        let id = try await initiator.login(to: reflectorName)
        let target = BenchTarget(id: id, lun: 0, blockSize: 512, blocks: 1 << 24)
        var out: [BenchFigures] = []
        for w in workloads { out.append(await run(w, initiator: initiator, target: target, seconds: seconds)) }
        await initiator.nport.logout(from: id)
        return out
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }

    /// A text table of `results`, each with its ratio to the matching figure of every limit,
    /// followed by each limit's own figures.
    public static func format(_ results: [BenchFigures], limits: [BenchLimit] = []) -> String {
        func f(_ v: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", v) }
        func row(_ r: BenchFigures) -> String {
            r.workload.padding(toLength: 20, withPad: " ", startingAt: 0)
                + f(r.iops).leftPad(10) + f(r.megabytesPerSecond, 1).leftPad(10)
                + f(r.p50, 1).leftPad(9) + f(r.p99, 1).leftPad(9) + f(r.p999, 1).leftPad(9)
                + String(r.errors).leftPad(8)
        }
        let header = "workload".padding(toLength: 20, withPad: " ", startingAt: 0)
            + "      IOPS      MB/s   p50 µs   p99 µs p99.9 µs  errors"
        var lines: [String] = []
        if !results.isEmpty {
            lines.append(header + limits.map { ("vs " + $0.name).leftPad(14) }.joined())
            for r in results {
                var line = row(r)
                for limit in limits {
                    if let ratio = limit.ratio(of: r) {
                        line += (f(ratio, 2) + "×").leftPad(14)
                    } else {
                        line += "-".leftPad(14)
                    }
                }
                lines.append(line)
            }
        }
        for limit in limits {
            if !lines.isEmpty { lines.append("") }
            lines.append("\(limit.name) limit: \(limit.summary)")
            lines.append(header)
            lines += limit.figures.map(row)
        }
        return lines.joined(separator: "\n")
    }
}

/// A limit the benchmark's figures are compared with: the same workloads run against less of
/// the stack.
public struct BenchLimit: Sendable, Codable, Equatable {
    /// A short name for the ratio column ("raw", "reflector").
    public var name: String
    /// What was measured.
    public var summary: String
    public var figures: [BenchFigures]

    public init(name: String, summary: String, figures: [BenchFigures]) {
        self.name = name
        self.summary = summary
        self.figures = figures
    }

    /// The raw socket relay: FCP's message pattern through three processes, no FC or SCSI work.
    public static func raw(_ figures: [BenchFigures]) -> BenchLimit {
        BenchLimit(name: "raw", summary: "the same message pattern relayed initiator → switch → target over "
                   + "the same Unix stream sockets by three processes, no FC or SCSI work (RawRelay)",
                   figures: figures)
    }

    /// The relay reflector: FC framing and the initiator's FCP code, no SCSI.
    public static func reflector(_ figures: [BenchFigures]) -> BenchLimit {
        BenchLimit(name: "reflector", summary: "the same initiator code against a relay reflector N_Port on "
                   + "the same fabric, FCP answered without SCSI", figures: figures)
    }

    /// `result`'s IOPS as a fraction of this limit's for the same workload.
    public func ratio(of result: BenchFigures) -> Double? {
        guard let l = figures.first(where: { $0.workload == result.workload }), l.iops > 0 else { return nil }
        return result.iops / l.iops
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? " " + self : String(repeating: " ", count: n - count) + self }
}

/// A counter shared between threads: `next()` returns the value before its increment (0, 1, …).
final class AtomicCounter: Sendable {
    private let value = Atomic<UInt64>(0)
    func next() -> UInt64 { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}
