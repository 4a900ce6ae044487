import ArgumentParser
import Foundation
import Locking
import MallocInterposerSwift
import SBD
import STMF

/// The per-command path in one process, as a port provider drives it: a pooled `SCSITask`
/// submitted to an STMF session, executed by an SBD LU, completed — 4 KiB READ(10)s (and
/// WRITE(10)s) at random LBAs. Prints IOPS, CPU time per command (the threads' own CPU clocks)
/// and heap allocations per command (ordo-one's malloc interposer, linked into this binary),
/// and each figure's ratio to the aim measured in the same run.
struct CommandPath: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "io", abstract: "4 KiB reads and writes through STMF to an SBD LU, in process.")
    @Option(help: "Seconds per workload.") var seconds = 3.0
    @Option(help: "Queue depths to run (comma-separated); depth N is spread over the machine's cores.")
    var depths = "1,32"
    @Flag(help: "Exit 1 unless the steady-state command path allocates nothing (a check for the test suite).")
    var checkAllocations = false
    @Option(help: "Commands per allocation-counting pass.") var countCommands = 20_000

    /// Takes what STMF reports for pending tasks (none, for a RAM LU).
    final class CountingPort: TaskPort, @unchecked Sendable {
        let pending = Locked(0)
        func transferData(_ task: SCSITask) { task.session?.dataTransferred(task, ok: true) }
        func sendStatus(_ task: SCSITask, _ response: TaskResponse) { pending.withLock { $0 += 1 } }
        func abort(_ task: SCSITask) {}
    }

    final class NullPort: PortProvider {
        func online() async throws {}
        func offline() async {}
    }

    struct Rig {
        let session: Session
        let blocks: UInt32
    }

    func rig(size: UInt64 = 256 << 20) throws -> Rig {
        let stmf = STMF()
        let target = try PortIdentifier(parsing: "wwn.5000000000000001")
        let port = try stmf.registerTargetPort(target, provider: NullPort())
        try blockingAwait { try await stmf.setTargetPortState(target, online: true) }
        var p = SBDProperties()
        p.size = size
        let lu = try SBDLogicalUnit.create(properties: p, backing: .ram)
        try stmf.registerLogicalUnit(lu)
        try blockingAwait { try await stmf.setLogicalUnitState(lu.guid, online: true) }
        try stmf.updateViews { (v: inout ViewConfiguration) throws(ViewError) in try v.addViewEntry(lu: lu.guid, lun: 0) }
        let session = try port.createSession(initiator: try PortIdentifier(parsing: "wwn.2100000000000001"), taskPort: CountingPort())
        let t = SCSITask()
        t.cdb = CDB([0, 0, 0, 0, 0, 0])
        _ = session.submit(t)   // the power-on unit attention
        // Every block written once, so reads copy real chunks (not the zero fill of holes).
        let w = Worker(session: session, blocks: UInt32(size / 512 / 8), seed: 1, write: true)
        for lba in stride(from: UInt32(0), to: UInt32(size / 512), by: 2048) { w.run(lba: lba, blocks: 2048) }
        return Rig(session: session, blocks: UInt32(size / 512 / 8))
    }

    /// One thread's share of the queue: `depth` pooled tasks used in turn.
    final class Worker: @unchecked Sendable {
        let session: Session
        let tasks: [SCSITask]
        let buffers: [IOBuffer]
        let blocks: UInt32
        let write: Bool
        var lba: UInt32
        var tag: UInt64
        var commands = 0
        var cpuNanoseconds: UInt64 = 0

        init(session: Session, blocks: UInt32, seed: UInt32, depth: Int = 1, write: Bool = false) {
            self.session = session
            self.blocks = blocks
            self.write = write
            lba = seed &* 7919
            tag = UInt64(seed) << 40
            tasks = (0..<depth).map { _ in SCSITask() }
            buffers = (0..<depth).map { _ in
                let b = IOBuffer(capacity: 1 << 20)
                memset(b.bytes.baseAddress!, 0x5A, b.capacity)
                b.count = b.capacity
                return b
            }
        }

        /// One command on the next task of the pool.
        @inline(__always)
        func run(lba l: UInt32, blocks n: UInt16 = 8) {
            let i = commands % tasks.count
            let t = tasks[i], b = buffers[i]
            t.prepareForReuse()
            tag &+= 1
            t.tag = tag
            t.lunField = 0
            var raw: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (write ? 0x2A : 0x28, 0, UInt8(l >> 24), UInt8((l >> 16) & 0xFF), UInt8((l >> 8) & 0xFF), UInt8(l & 0xFF),
                 0, UInt8(n >> 8), UInt8(n & 0xFF), 0)
            t.cdb = withUnsafeBytes(of: &raw) { CDB($0) }
            t.expectedTransferLength = Int(n) * 512
            if write { t.direction = .write; t.dataOut = b } else { t.direction = .read; t.dataIn = b }
            guard case let .done(r) = session.submit(t), r.status == .good else { fatalError("command failed") }
            commands += 1
        }

        func loop(until deadline: Double) {
            let cpu0 = threadCPU()
            while now() < deadline {
                for _ in 0..<512 {
                    lba = (lba &* 1103515245 &+ 12345) % blocks
                    run(lba: lba * 8)
                }
            }
            cpuNanoseconds = threadCPU() - cpu0
        }
    }

    func run() throws {
        let r = try rig()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if checkAllocations {
            let (reads, writes) = allocationsPerCommand(r)
            print("steady state: \(fmt(reads, 4)) allocations per READ, \(fmt(writes, 4)) per WRITE (\(countCommands) commands each)")
            if reads > 0 || writes > 0 { throw ExitCode(1) }
            return
        }
        print("command path: 4 KiB commands through STMF to an SBD RAM LU, in process, \(cores) cores")
        for write in [false, true] {
            for qd in depths.split(separator: ",").compactMap({ Int($0) }) {
                let threads = min(qd, cores)
                let workers = (0..<threads).map { i in
                    Worker(session: r.session, blocks: r.blocks, seed: UInt32(i + 1), depth: qd / threads + (i < qd % threads ? 1 : 0), write: write)
                }
                let deadline = now() + seconds
                let start = now()
                let done = DispatchGroup()
                for w in workers {
                    done.enter()
                    Thread { w.loop(until: deadline); done.leave() }.start()
                }
                done.wait()
                let elapsed = now() - start
                let commands = workers.reduce(0) { $0 + $1.commands }
                let cpu = workers.reduce(UInt64(0)) { $0 + $1.cpuNanoseconds }
                let iops = Double(commands) / elapsed
                let aim = 1e6 * Double(threads)
                print("  \(write ? "WRITE" : "READ ") QD\(qd) (\(threads) thread\(threads == 1 ? "" : "s")): \(fmt(iops / 1000, 1))k IOPS, " +
                      "\(fmt(Double(cpu) / Double(max(commands, 1)), 0)) ns CPU per command; " +
                      "ratio to 1,000,000/s per core used: \(fmt(iops / aim, 2))")
            }
        }
        let (reads, writes) = allocationsPerCommand(r)
        print("  heap allocations per command in steady state: READ \(fmt(reads, 4)), WRITE \(fmt(writes, 4)) (malloc interposer, \(countCommands) each)")
    }

    /// Allocations per command after a warm-up, counted by the malloc interposer on this thread.
    func allocationsPerCommand(_ r: Rig) -> (Double, Double) {
        func count(write: Bool) -> Double {
            let w = Worker(session: r.session, blocks: r.blocks, seed: 99, depth: 4, write: write)
            for i in 0..<2_000 { w.run(lba: UInt32(i % Int(r.blocks)) * 8) }   // warm-up: dictionaries and pools at size
            MallocInterposerSwift.initialize()
            MallocInterposerSwift.hook()
            for i in 0..<countCommands { w.run(lba: UInt32((i &* 7919) % Int(r.blocks)) * 8) }
            MallocInterposerSwift.unhook()
            return Double(MallocInterposerSwift.getStatistics().mallocCount) / Double(countCommands)
        }
        return (count(write: false), count(write: true))
    }
}

/// The calling thread's CPU time in nanoseconds.
func threadCPU() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Runs async set-up code from synchronous code (the benchmark's own threads do the work).
func blockingAwait(_ body: @escaping @Sendable () async throws -> Void) throws {
    let result = Locked<Result<Void, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body(); result.withLock { $0 = .success(()) } } catch { result.withLock { $0 = .failure(error) } }
        done.signal()
    }
    done.wait()
    try result.withLock { $0 }!.get()
}
