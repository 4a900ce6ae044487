// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-stmf",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "STMF", targets: ["STMF"]),
        .library(name: "SBD", targets: ["SBD"]),
    ],
    targets: [
        // C shims for Linux interfaces Swift's Glibc module does not expose cleanly
        // (fallocate punch-hole flags, block-device ioctls).
        .target(name: "CSystemShims", path: "CModules/CSystemShims"),

        // The transport-agnostic framework: identifiers, views, sessions, tasks, UAs, TMFs.
        .target(name: "STMF", path: "Sources/STMF"),

        // The disk logical-unit provider (COMSTAR's stmf_sbd).
        .target(name: "SBD", dependencies: ["STMF", "CSystemShims"], path: "Sources/SBD"),

        // Fibre Channel port provider (FC-2/ELS/CT/FCP codecs and state machines).
        .target(name: "FCPort", dependencies: ["STMF"], path: "Sources/FCPort"),

        // HBA discovery through udev and driver alias tables.
        .target(name: "Udev", path: "Sources/Udev"),

        .testTarget(name: "STMFTests", dependencies: ["STMF"], path: "Tests/STMFTests"),
        .testTarget(name: "SBDTests", dependencies: ["SBD", "STMF"], path: "Tests/SBDTests"),
        // Tests that need real HBAs; they skip themselves where there are none.
        .testTarget(name: "HardwareTests", dependencies: ["STMF"], path: "HardwareTests"),
    ],
    swiftLanguageModes: [.v6]
)
