import FCInitiator
import FCLink
import Foundation
import ProcessTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The raw socket relay that `fcinit bench` measures as its limit: three real processes.
@Suite("Raw socket relay limit", .serialized)
struct RawRelayTests {
    let fcinit = productsDirectory.appendingPathComponent("fcinit").path

    @Test func everyWorkloadCompletesWithItsData() throws {
        let topology = try RawRelay.Topology(executable: fcinit)
        defer { topology.stop() }
        for w in BenchWorkload.standard(sequentialDepth: 2) {
            let f = try RawRelay.run(w, switchPath: topology.switchPath, seconds: 0.15)
            // A read whose data fell short, or a message of an unexpected kind, counts as an error.
            #expect(f.errors == 0 && f.ios > 0 && f.p50 > 0, "\(f)")
            #expect(abs(f.megabytesPerSecond - f.iops * Double(w.blockBytes) / 1e6) < 0.01 * f.megabytesPerSecond + 0.1)
        }
    }

    /// A message with an impossible length ends that connection only; the processes keep serving.
    @Test func malformedMessageClosesOnlyItsConnection() throws {
        let topology = try RawRelay.Topology(executable: fcinit)
        defer { topology.stop() }
        for path in [topology.targetPath, topology.switchPath] {
            let fd = try UnixSocket.connect(path)
            var bad = [UInt8](repeating: 0, count: 64)
            bad[0] = 10  // shorter than the header itself
            #expect(bad.withUnsafeBytes { UnixSocket.writeAll(fd, $0) })
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var byte: UInt8 = 0
            #expect(recv(fd, &byte, 1, 0) == 0, "\(path) should close the connection")
            close(fd)
        }
        let w = BenchWorkload(name: "after", operation: .read, random: true, blockBytes: 4096, queueDepth: 4)
        let f = try RawRelay.run(w, switchPath: topology.switchPath, seconds: 0.1)
        #expect(f.errors == 0 && f.ios > 0)
    }

    /// The helper processes exit when the benchmark that started them goes away.
    @Test func helpersExitWithTheirLifeline() throws {
        let topology = try RawRelay.Topology(executable: fcinit)
        let pids = topology.processIdentifiers
        topology.stop()
        for pid in pids { #expect(kill(pid, 0) != 0) }
        #expect(!FileManager.default.fileExists(atPath: topology.switchPath))
    }
}
