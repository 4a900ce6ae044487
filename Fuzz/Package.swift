// swift-tools-version:5.4
import Foundation
import PackageDescription

// libFuzzer executables over the parent package's FuzzTargets, one per target. Built only
// with the fuzzer and address sanitizers (scripts/fuzz.sh):
//
//     swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
//         --package-path Fuzz --scratch-path .build-fuzz
//
// libFuzzer supplies `main`; each executable only defines LLVMFuzzerTestOneInput. The tools
// version stays below 5.5 on purpose: from 5.5 on SwiftPM renames an executable's entry point
// to `<module>_main` and links `main` to it, which -parse-as-library leaves undefined (the
// link fails); before 5.5 it leaves `main` alone and libFuzzer's is used.
// A path dependency's identity is its directory's name (the clone's, whatever it is called).
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let fuzzTargets = ["frame", "els", "ct", "bls", "fcp", "cdb", "sgbridge", "api", "export", "metadata", "tcmu"]

let package = Package(
    name: "swift-stmf-fuzz",
    dependencies: [.package(path: "..")],
    targets: fuzzTargets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: [.product(name: "FuzzTargets", package: parent)],
                          path: "Sources/fuzz-\(name)")
    } + [
        // Writes the seed corpus (a libFuzzer binary too, so the one build above makes it).
        .executableTarget(name: "fuzz-seeds", dependencies: [.product(name: "FuzzTargets", package: parent)],
                          path: "Sources/fuzz-seeds"),
    ],
    swiftLanguageVersions: [.v5]
)
