import Foundation
import Locking
import Runtime
import Testing
@testable import SBD
@testable import STMF

/// A file LU's READ and WRITE on the command path: started on an event loop, queued on the
/// loop's io_uring ring (or its fallback pool), completed on that loop; bytes checked against
/// the file itself.
@Suite struct FileDataPathTests {
    final class Sink: TaskCompletionSink, @unchecked Sendable {
        let done = Locked<[(TaskResponse, Bool)]>([])
        let loop: EventLoop
        init(loop: EventLoop) { self.loop = loop }
        func taskCompleted(_ task: LUTask, _ response: TaskResponse) {
            done.withLock { $0.append((response, loop.inEventLoop)) }
        }
    }

    func waitFor(_ sink: Sink, count: Int) async -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if sink.done.withLock({ $0.count }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return false
    }

    func run(engine: FileIO.Engine) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sbd-loop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var p = SBDProperties()
        p.size = 4 << 20
        p.writeCacheDisabled = true   // every write is followed by an fdatasync
        let lu = try SBDLogicalUnit.create(properties: p, backing: .path(dir.appendingPathComponent("lu.img").path))
        lu.attach(FakeServices())
        let loop = EventLoop(name: "sbd", fileIO: engine)
        loop.start()
        defer { loop.stop() }
        let sink = Sink(loop: loop)
        let nexus = makeNexus()
        let data = pattern(64 << 10, seed: 9)
        let out = IOBuffer(copying: data)
        let back = IOBuffer(capacity: 64 << 10)
        let write = SCSITask()
        write.cdb = CDB(write10(100, 128)); write.direction = .write; write.expectedTransferLength = data.count; write.dataOut = out
        let read = SCSITask()
        read.cdb = CDB(read10(100, 128)); read.direction = .read; read.expectedTransferLength = data.count; read.dataIn = back
        let starts = Locked<[String]>([])
        @Sendable func lt(_ t: SCSITask) -> LUTask {
            LUTask(cdb: t.cdb, lun: 0, nexus: nexus, attribute: .simple, tag: 1, dataOut: t.dataOut, dataIn: t.dataIn,
                   dataInLimit: t.dataIn?.capacity ?? 0, expectedTransferLength: t.expectedTransferLength,
                   direction: t.direction).completing(into: sink)
        }
        loop.execute {
            starts.withLock { $0.append(lu.start(lt(write)).isPending ? "pending" : "done") }
        }
        #expect(await waitFor(sink, count: 1))
        loop.execute {
            starts.withLock { $0.append(lu.start(lt(read)).isPending ? "pending" : "done") }
        }
        #expect(await waitFor(sink, count: 2))
        #expect(starts.withLock { $0 } == ["pending", "pending"])
        let done = sink.done.withLock { $0 }
        #expect(done.allSatisfy { $0.0.status == .good && $0.1 }, "completed GOOD on the loop: \(done)")
        #expect(done.map(\.0.dataLength) == [data.count, data.count])
        #expect(back.array(data.count) == data)
        // The bytes are in the file at the LU's data offset.
        let file = try Data(contentsOf: dir.appendingPathComponent("lu.img"))
        let offset = Int(lu.file!.dataOffset) + 100 * 512
        #expect(Array(file[offset..<(offset + data.count)]) == data)
        // Off a loop the same commands take the async path and still work.
        let r = await lu.execute(lt(read))
        #expect(r.status == .good)
    }

    @Test func readAndWriteThroughIOUring() async throws {
        guard FileIO.engineInUse.kind == .uring else {
            Issue.record("io_uring refused here: \(FileIO.engineInUse.refusal ?? "?")")
            return
        }
        try await run(engine: .automatic)
    }

    @Test func readAndWriteThroughTheFallbackPool() async throws {
        try await run(engine: .threads)
    }
}

extension TaskStart {
    var isPending: Bool { if case .pending = self { return true } else { return false } }
}
