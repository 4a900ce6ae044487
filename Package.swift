// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-stmf",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "STMF", targets: ["STMF"]),
        .library(name: "SBD", targets: ["SBD"]),
        .executable(name: "stmfd", targets: ["stmfd"]),
        .executable(name: "stmfadm", targets: ["stmfadm"]),
        .executable(name: "sbdadm", targets: ["sbdadm"]),
        .executable(name: "fcinfo", targets: ["fcinfo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // C shims for Linux interfaces Swift's Glibc module does not expose cleanly
        // (fallocate punch-hole flags, block-device ioctls, sd_notify datagrams).
        .target(name: "CSystemShims", path: "CModules/CSystemShims"),

        // Dependency-free checksums (SHA-256) for exports and metadata.
        .target(name: "Checksum", path: "Sources/Checksum"),

        // The transport-agnostic framework: identifiers, views, sessions, tasks, UAs, TMFs.
        .target(name: "STMF", path: "Sources/STMF"),

        // The disk logical-unit provider (COMSTAR's stmf_sbd).
        .target(name: "SBD", dependencies: ["STMF", "CSystemShims"], path: "Sources/SBD"),

        // Fibre Channel port provider (FC-2/ELS/CT/FCP codecs and state machines).
        .target(name: "FCPort", dependencies: ["STMF"], path: "Sources/FCPort"),

        // HBA discovery through udev and driver alias tables.
        .target(name: "Udev", path: "Sources/Udev"),

        // The management API's wire types, shared by stmfd and the CLIs (no server code).
        .target(name: "STMFAPI", dependencies: ["STMF", "SBD"], path: "Sources/STMFAPI"),

        // HTTP/1.1 client over the API's Unix socket, used by the CLIs.
        .target(name: "STMFClient", dependencies: ["STMFAPI", "CSystemShims"], path: "Sources/STMFClient"),

        // The stmfd service: configuration store (SQLite), lifecycle, management API, metrics.
        .target(name: "STMFService", dependencies: [
            "STMF", "SBD", "STMFAPI", "Checksum", "CSystemShims",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], path: "Sources/STMFService"),

        // The COMSTAR command lines (stmfadm, sbdadm, fcinfo) as a library of commands.
        .target(name: "STMFCommands", dependencies: [
            "STMFAPI", "STMFClient", "STMF", "SBD",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/STMFCommands"),

        .executableTarget(name: "stmfd", dependencies: [
            "STMFService", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/stmfd"),
        .executableTarget(name: "stmfadm", dependencies: ["STMFCommands"], path: "Sources/stmfadm"),
        .executableTarget(name: "sbdadm", dependencies: ["STMFCommands"], path: "Sources/sbdadm"),
        .executableTarget(name: "fcinfo", dependencies: ["STMFCommands"], path: "Sources/fcinfo"),
        // Benchmarks that print figures (never timed assertions in tests).
        .executableTarget(name: "stmf-bench", dependencies: [
            "STMF", "SBD", "STMFAPI", "STMFClient",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/stmf-bench"),

        .testTarget(name: "STMFTests", dependencies: ["STMF", "Checksum"], path: "Tests/STMFTests"),
        .testTarget(name: "SBDTests", dependencies: ["SBD", "STMF"], path: "Tests/SBDTests"),
        .testTarget(name: "ServiceTests", dependencies: ["STMFService", "STMFClient", "STMFAPI", "STMF", "Checksum"],
                    path: "Tests/ServiceTests"),
        // Tests that need real HBAs; they skip themselves where there are none.
        .testTarget(name: "HardwareTests", dependencies: ["STMF"], path: "HardwareTests"),
    ],
    swiftLanguageModes: [.v6]
)
