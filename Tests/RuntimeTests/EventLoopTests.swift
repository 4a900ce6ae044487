#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Locking
import Runtime
import Testing

/// Waits (bounded) until `cond` holds.
func eventually(_ seconds: Double = 5, _ cond: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline { if cond() { return true }; usleep(1000) }
    return cond()
}

@Suite struct EventLoopTests {
    @Test func workFromManyThreadsRunsOnTheLoopInOrderPerThread() {
        let loop = EventLoop(name: "t")
        loop.start()
        defer { loop.stop() }
        let seen = Locked<[Int: [Int]]>([:])
        let offLoop = Locked(0)
        let group = DispatchGroup()
        for t in 0..<4 {
            group.enter()
            Thread {
                for i in 0..<500 {
                    loop.execute {
                        if !loop.inEventLoop || EventLoop.current !== loop { offLoop.withLock { $0 += 1 } }
                        seen.withLock { $0[t, default: []].append(i) }
                    }
                }
                group.leave()
            }.start()
        }
        group.wait()
        #expect(eventually { seen.withLock { $0.values.reduce(0) { $0 + $1.count } } == 2000 })
        #expect(offLoop.withLock { $0 } == 0)
        for t in 0..<4 { #expect(seen.withLock { $0[t] } == Array(0..<500)) }
        #expect(!loop.inEventLoop)
        #expect(EventLoop.current == nil)
    }

    @Test func timersFireInDeadlineOrderOnTheLoopClockAndCancelledOnesNever() {
        let clock = ManualClock()
        let loop = EventLoop(name: "t", clock: clock)
        loop.start()
        defer { loop.stop() }
        let fired = Locked<[String]>([])
        let t0 = clock.now()
        loop.schedule(at: t0 + 5_000_000) { fired.withLock { $0.append("5ms") } }
        loop.schedule(at: t0 + 1_000_000) { fired.withLock { $0.append("1ms") } }
        let cancelled = loop.schedule(at: t0 + 2_000_000) { fired.withLock { $0.append("2ms") } }
        loop.schedule(after: .seconds(3600)) { fired.withLock { $0.append("1h") } }
        loop.cancel(cancelled)
        loop.execute {}
        usleep(20_000)
        #expect(fired.withLock { $0 }.isEmpty, "nothing is due before the clock moves")
        clock.advance(by: .milliseconds(10))
        loop.execute {}   // the loop sleeps on the real clock's timeout; wake it to look again
        #expect(eventually { fired.withLock { $0 } == ["1ms", "5ms"] })
        // A timer added from a timer runs once it is due.
        loop.schedule(at: clock.now()) {
            loop.schedule(at: clock.now()) { fired.withLock { $0.append("nested") } }
        }
        #expect(eventually { fired.withLock { $0 }.last == "nested" })
        #expect(!fired.withLock { $0 }.contains("1h") && !fired.withLock { $0 }.contains("2ms"))
    }

    @Test func aReadableDescriptorRunsItsHandlerThenTheBatchEndHooks() {
        let loop = EventLoop(name: "t")
        loop.start()
        defer { loop.stop() }
        var pair: [Int32] = [0, 0]
        #expect(pipe(&pair) == 0)
        let fds = pair
        defer { close(fds[0]); close(fds[1]) }
        let order = Locked<[String]>([])
        loop.execute {
            _ = loop.register(fd: fds[0]) { events in
                var b = [UInt8](repeating: 0, count: 16)
                let n = read(fds[0], &b, 16)
                order.withLock { $0.append("read \(n)") }
            }
            _ = loop.addBatchEndHook {
                order.withLock { o in if o.last?.hasPrefix("read") == true { o.append("flush") } }
            }
        }
        usleep(10_000)
        #expect(write(fds[1], "abc", 3) == 3)
        #expect(eventually { order.withLock { $0 } == ["read 3", "flush"] })
    }

    /// Writes then reads a file through a loop's FileIO and checks the bytes; a read past the
    /// end of the file comes back short (io_uring) or zero-filled (the pool).
    func roundTrip(_ engine: FileIO.Engine) throws -> FileIO.Kind {
        let loop = EventLoop(name: "io", fileIO: engine)
        loop.start()
        defer { loop.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fileio-\(UUID().uuidString)").path
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd); unlink(path) }
        final class Waiter: FileIOCompletion, @unchecked Sendable {
            let results = Locked<[(UInt64, Int32)]>([])
            func fileIOCompleted(_ result: Int32, tag: UInt64) { results.withLock { $0.append((tag, result)) } }
        }
        let w = Waiter()
        let size = 256 << 10
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        let back = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { out.deallocate(); back.deallocate() }
        for i in 0..<size { out[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        nonisolated(unsafe) let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 2)
        defer { vectors.deallocate() }
        vectors[0] = iovec(iov_base: out.baseAddress, iov_len: size / 2)
        vectors[1] = iovec(iov_base: out.baseAddress! + size / 2, iov_len: size / 2)
        loop.execute { loop.files.submit(.write, fd: fd, vectors: vectors, count: 2, offset: 4096, w, tag: 1) }
        #expect(eventually { w.results.withLock { $0.count } == 1 })
        loop.execute { loop.files.submit(.datasync, fd: fd, vectors: nil, count: 0, offset: 0, w, tag: 2) }
        #expect(eventually { w.results.withLock { $0.count } == 2 })
        nonisolated(unsafe) let readVector = UnsafeMutablePointer<iovec>.allocate(capacity: 1)
        defer { readVector.deallocate() }
        readVector[0] = iovec(iov_base: back.baseAddress, iov_len: size)
        loop.execute { loop.files.submit(.read, fd: fd, vectors: readVector, count: 1, offset: 4096, w, tag: 3) }
        #expect(eventually { w.results.withLock { $0.count } == 3 })
        let results = w.results.withLock { $0 }
        #expect(results.map(\.0) == [1, 2, 3])
        #expect(results[0].1 == Int32(size) && results[1].1 == 0 && results[2].1 == Int32(size))
        #expect(memcmp(out.baseAddress!, back.baseAddress!, size) == 0)
        // Past the end: 4 KiB before it, the rest beyond.
        memset(back.baseAddress!, 0xFF, size)
        loop.execute { loop.files.submit(.read, fd: fd, vectors: readVector, count: 1, offset: UInt64(size), w, tag: 4) }
        #expect(eventually { w.results.withLock { $0.count } == 4 })
        let last = w.results.withLock { $0[3].1 }
        #expect(last == 4096 || last == Int32(size), "read across the end: \(last)")
        #expect(memcmp(out.baseAddress! + size - 4096, back.baseAddress!, 4096) == 0)
        let inFlight = Locked(-1)
        loop.execute { inFlight.withLock { $0 = loop.files.inFlight } }
        #expect(eventually { inFlight.withLock { $0 } == 0 }, "operations still in flight")
        return loop.files.kind
    }

    @Test func fileIOThroughIOUring() throws {
        let inUse = FileIO.engineInUse
        if inUse.kind != .uring {
            Issue.record("io_uring is refused on this machine (\(inUse.refusal ?? "?")): the event loops use the thread pool")
            return
        }
        #expect(try roundTrip(.automatic) == .uring)
    }

    @Test func fileIOThroughTheThreadPoolFallback() throws {
        #expect(try roundTrip(.threads) == .threads)
    }

    @Test func blockingRunsOffTheCallersThread() async {
        let caller = pthread_self()
        let other = await Blocking.run { pthread_equal(pthread_self(), caller) == 0 }
        #expect(other)
    }
}
