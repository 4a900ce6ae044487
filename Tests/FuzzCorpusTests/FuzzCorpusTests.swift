import Foundation
import FuzzTargets
import Testing

/// Replays the committed fuzz corpus and every saved crash input through the fuzz targets, so
/// a regression of a fixed bug (or a decoder that starts trapping on a seed) fails the normal
/// test run without a sanitizer build. The directories are found from this file's path.
@Suite struct FuzzCorpusTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    /// The regular files of `dir`; records an issue when it is missing or empty.
    static func files(_ dir: URL) -> [URL] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            Issue.record("\(dir.path) is missing")
            return []
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { !$0.hasPrefix(".") }.sorted()
        let urls = names.map { dir.appendingPathComponent($0) }.filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        }
        if urls.isEmpty { Issue.record("\(dir.path) holds no inputs") }
        return urls
    }

    static func replay(_ target: @escaping FuzzTarget, _ files: [URL]) async throws {
        let inputs = try files.map { [UInt8](try Data(contentsOf: $0)) }
        await onThread { for bytes in inputs { runFuzzTarget(target, bytes) } }
    }

    /// Runs `body` on a thread of its own: the cdb target blocks its caller while its command
    /// runs on the cooperative pool, so it must not be called from a pool thread.
    static func onThread(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let t = Thread {
                body()
                c.resume()
            }
            t.stackSize = 8 << 20
            t.start()
        }
    }

    @Test(arguments: fuzzTargets.map(\.name))
    func corpus(_ name: String) async throws {
        let target = try #require(fuzzTargets.first { $0.name == name }).run
        let files = Self.files(Self.fuzzDirectory.appendingPathComponent("corpus/\(name)"))
        #expect(!files.isEmpty)
        try await Self.replay(target, files)
    }

    /// Every crash input kept under Fuzz/regressions/<target>/ (a directory per target that
    /// had one; each must name a target and hold at least one input).
    @Test func regressions() async throws {
        let root = Self.fuzzDirectory.appendingPathComponent("regressions")
        let dirs = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        #expect(!dirs.isEmpty, "\(root.path) is missing or empty")
        var replayed = 0
        for name in dirs {
            guard let target = fuzzTargets.first(where: { $0.name == name })?.run else {
                Issue.record("Fuzz/regressions/\(name) names no fuzz target")
                continue
            }
            let files = Self.files(root.appendingPathComponent(name))
            try await Self.replay(target, files)
            replayed += files.count
        }
        #expect(replayed > 0)
    }

    /// The seeds the generator builds today still run clean (the corpus is generated from them).
    @Test(arguments: fuzzTargets.map(\.name))
    func generatedSeeds(_ name: String) async throws {
        let target = try #require(fuzzTargets.first { $0.name == name }).run
        let seeds = try #require(FuzzSeeds.all()[name])
        #expect(!seeds.isEmpty)
        await Self.onThread { for s in seeds { runFuzzTarget(target, s.bytes) } }
    }
}
