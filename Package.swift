// swift-tools-version:6.0
import PackageDescription

/// Release builds of the modules on the command path skip Swift's run-time exclusivity checks
/// (each access to a class's stored property was a thread-local set insert: ~10% of a command's
/// CPU time); debug builds and the tests keep them.
let commandPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "swift-stmf",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "STMF", targets: ["STMF"]),
        .library(name: "SBD", targets: ["SBD"]),
        // The fuzz targets, for the libFuzzer package in Fuzz/.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
        .executable(name: "stmfd", targets: ["stmfd"]),
        .executable(name: "stmfadm", targets: ["stmfadm"]),
        .executable(name: "sbdadm", targets: ["sbdadm"]),
        .executable(name: "fcinfo", targets: ["fcinfo"]),
        .executable(name: "fcadm", targets: ["fcadm"]),
        .executable(name: "fcfabric", targets: ["fcfabric"]),
        .executable(name: "fcinit", targets: ["fcinit"]),
        // The LD_PRELOAD library `fcinit exec` puts under an unmodified SCSI tool.
        .library(name: "fcinit-sgshim", type: .dynamic, targets: ["CSGShim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Counts heap allocations for `stmf-bench io` (the command path must not allocate).
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
    ],
    targets: [
        // C shims for Linux interfaces Swift's Glibc module does not expose cleanly
        // (fallocate punch-hole flags, block-device ioctls, sd_notify datagrams).
        .target(name: "CSystemShims", path: "CModules/CSystemShims"),

        // The lock every module guards shared state with: Synchronization.Mutex, or a pthread
        // mutex ThreadSanitizer can see when built with -DSTMF_TSAN (scripts/tsan.sh).
        .target(name: "Locking", path: "Sources/Locking", swiftSettings: commandPath),

        // io_uring (Debian liburing-dev): a small C face of liburing for the event loops' file I/O.
        .target(name: "CURing", path: "CModules/CURing", linkerSettings: [.linkedLibrary("uring")]),

        // Every thread, event loop, timer and file-I/O engine of the product, with an injectable
        // clock. STMF, SBD, FCPort and the providers spawn nothing of their own.
        .target(name: "Runtime", dependencies: ["CSystemShims", "CURing", "Locking"], path: "Sources/Runtime",
                swiftSettings: commandPath),

        // Dependency-free checksums (SHA-256) for exports and metadata.
        .target(name: "Checksum", path: "Sources/Checksum"),

        // The transport-agnostic framework: identifiers, views, sessions, tasks, UAs, TMFs.
        .target(name: "STMF", dependencies: ["Locking"], path: "Sources/STMF", swiftSettings: commandPath),

        // The disk logical-unit provider (COMSTAR's stmf_sbd).
        // The SCSI pass-through LU provider: an existing SCSI device (Linux SCSI generic) as an
        // STMF LU, with reservations, port identities and port groups kept STMF's.
        .target(name: "CSG", path: "CModules/CSG"),
        .target(name: "PassThrough", dependencies: ["STMF", "Locking", "Runtime", "CSG"], path: "Sources/PassThrough"),
        .target(name: "SBD", dependencies: ["STMF", "Locking", "CSystemShims", "Runtime"], path: "Sources/SBD", swiftSettings: commandPath),

        // Fibre Channel protocol: FC-2 frames, ELS, BLS, CT/name server, FCP codecs and
        // login/exchange state machines. Pure: no sockets, no threads.
        .target(name: "FCPort", dependencies: ["STMF", "CCRC32"], path: "Sources/FCPort", swiftSettings: commandPath),
        // The frame CRC-32, folded with carry-less multiplication where the CPU allows.
        .target(name: "CCRC32", path: "CModules/CCRC32", cSettings: [.unsafeFlags(["-O2"])]),

        // The emulated link: FC frames over a Unix stream socket (ports <-> fcfabric).
        .target(name: "FCLink", dependencies: ["FCPort", "Locking", "Runtime"], path: "Sources/FCLink", swiftSettings: commandPath),

        // The emulated switch: F_Port login, name server, fabric controller, zoning, faults, pcap.
        .target(name: "FCFabric", dependencies: [
            "FCPort", "FCLink", "STMF", "Locking", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/FCFabric", swiftSettings: commandPath),

        // The FC port provider for STMF on the emulated fabric (COMSTAR's fct + qlt roles).
        .target(name: "FCTarget", dependencies: [
            "FCPort", "FCLink", "STMF", "Locking", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/FCTarget", swiftSettings: commandPath),

        // The emulated initiator HBA: fabric login, discovery, FCP exchanges, benchmarks.
        .target(name: "FCInitiator", dependencies: ["FCPort", "FCLink", "STMF", "Locking", "Runtime"], path: "Sources/FCInitiator", swiftSettings: commandPath),

        // The kernel's TCMU (target_core_user) uapi: struct layouts, offsets and constants taken
        // from <linux/target_core_user.h> with offsetof, and the acquire/release accesses of the
        // ring's head and tail.
        .target(name: "CTCMU", path: "CModules/CTCMU"),
        // The TCMU command ring as a pure state machine over the shared area, the uio device served on
        // an event loop, and the TCM-USER netlink events.
        // libnl-3 (Debian libnl-3-dev, libnl-genl-3-dev): the TCM-USER generic netlink family.
        .target(name: "CNetlink", path: "CModules/CNetlink", cSettings: [.unsafeFlags(["-I/usr/include/libnl3"])],
                linkerSettings: [.linkedLibrary("nl-genl-3"), .linkedLibrary("nl-3")]),
        .target(name: "TCMU", dependencies: ["CTCMU", "CNetlink", "STMF", "Runtime", "Locking"], path: "Sources/TCMU", swiftSettings: commandPath),

        // The kernel data path: STMF's views compiled into LIO configfs (tcm_loop, tcm_qla2xxx),
        // one TCMU device per LU, initiator and port, served on the runtime's loops.
        .target(name: "LinuxTarget", dependencies: ["TCMU", "STMF", "Runtime", "Locking"], path: "Sources/LinuxTarget"),

        // LD_PRELOAD library: a fake /dev/sg path whose SG_IO goes to an SGBridge socket.
        .target(name: "CSGShim", path: "CModules/CSGShim", linkerSettings: [.linkedLibrary("dl")]),

        // The Swift side of the SG_IO bridge: serves CDBs the preloaded shim forwards.
        .target(name: "SGBridge", dependencies: ["STMF", "Locking"], path: "Sources/SGBridge"),

        // libudev, found with pkg-config (Debian: libudev-dev).
        .systemLibrary(name: "CUdev", path: "CModules/CUdev", pkgConfig: "libudev", providers: [.apt(["libudev-dev"])]),
        // HBA discovery: FC ports from udev (fc_host, scsi_host, their PCI function and its bound
        // driver), driver alias tables, link statistics, hot-plug events.
        .target(name: "Udev", dependencies: ["CUdev", "Locking"], path: "Sources/Udev"),

        // The management API's wire types, shared by stmfd and the CLIs (no server code, no
        // provider: LU properties travel as the property bags providers check).
        .target(name: "STMFAPI", dependencies: ["STMF", "Checksum"], path: "Sources/STMFAPI"),

        // HTTP/1.1 client over the API's Unix socket, used by the CLIs.
        .target(name: "STMFClient", dependencies: ["STMFAPI", "CSystemShims"], path: "Sources/STMFClient"),

        // The stmfd service: configuration store (SQLite), lifecycle, management API, metrics,
        // and the registry of the providers it links (SBD, the emulated FC port, LIO through TCMU).
        .target(name: "STMFService", dependencies: [
            "STMF", "SBD", "Runtime", "STMFAPI", "Checksum", "CSystemShims", "FCTarget", "FCLink", "FCPort", "Udev", "LinuxTarget", "PassThrough",
            // Read-only: the fabric's control socket (symbolic names, counters for metrics).
            "FCFabric", "Locking",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], path: "Sources/STMFService"),

        // How the command lines run: illumos cmdparse's statuses, -V, options before the
        // subcommand, negative numbers as values.
        .target(name: "CLISupport", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CLISupport"),

        // The COMSTAR command lines (stmfadm, sbdadm, fcinfo) as a library of commands.
        .target(name: "STMFCommands", dependencies: [
            "STMFAPI", "STMFClient", "STMF", "FCLink", "Udev", "CLISupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/STMFCommands"),

        .executableTarget(name: "stmfd", dependencies: [
            "STMFService", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/stmfd"),
        .executableTarget(name: "stmfadm", dependencies: ["STMFCommands"], path: "Sources/stmfadm"),
        .executableTarget(name: "sbdadm", dependencies: ["STMFCommands"], path: "Sources/sbdadm"),
        .executableTarget(name: "fcinfo", dependencies: ["STMFCommands"], path: "Sources/fcinfo"),
        .executableTarget(name: "fcadm", dependencies: ["STMFCommands"], path: "Sources/fcadm"),
        .executableTarget(name: "fcfabric", dependencies: [
            "FCFabric", "FCLink", "FCPort", "CLISupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/fcfabric"),
        .executableTarget(name: "fcinit", dependencies: [
            "FCInitiator", "SGBridge", "FCPort", "FCLink", "STMF",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/fcinit"),
        // Benchmarks that print figures (never timed assertions in tests).
        .executableTarget(name: "stmf-bench", dependencies: [
            "STMF", "SBD", "STMFAPI", "STMFClient", "Locking",
            .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/stmf-bench"),

        // libFuzzer entry points, one function per decoder (the executables are in Fuzz/).
        .target(name: "FuzzTargets", dependencies: [
            "FCPort", "FCLink", "STMF", "SBD", "SGBridge", "STMFAPI", "Checksum", "TCMU", "CTCMU",
        ], path: "Sources/FuzzTargets"),

        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Locking"], path: "Tests/RuntimeTests"),
        .testTarget(name: "STMFTests", dependencies: ["STMF", "Locking", "Checksum"], path: "Tests/STMFTests"),
        .testTarget(name: "SBDTests", dependencies: ["SBD", "STMF", "Locking", "Runtime"], path: "Tests/SBDTests"),
        // Running the built executables from tests (shared by the process-level suites).
        .target(name: "ProcessTestSupport", path: "Tests/ProcessTestSupport"),
        .testTarget(name: "ServiceTests", dependencies: [
            "STMFService", "STMFClient", "STMFAPI", "STMF", "SBD", "Checksum", "ProcessTestSupport",
            // To move a version-1 fixture database's backing paths before stmfd migrates it.
            .product(name: "GRDB", package: "GRDB.swift"),
        ], path: "Tests/ServiceTests", exclude: ["Fixtures"]),
        .testTarget(name: "UdevTests", dependencies: ["Udev", "ProcessTestSupport"], path: "Tests/UdevTests",
                    exclude: ["Fixtures"]),
        .testTarget(name: "FCPortTests", dependencies: ["FCPort", "FCLink", "STMF"], path: "Tests/FCPortTests"),
        .testTarget(name: "TCMUTests", dependencies: ["TCMU", "CTCMU", "STMF"], path: "Tests/TCMUTests"),
        .testTarget(name: "SGBridgeTests", dependencies: ["SGBridge", "STMF", "SBD", "Locking"], path: "Tests/SGBridgeTests"),
        // End-to-end: fcfabric + stmfd + fcinit processes, sg3_utils, tshark.
        .testTarget(name: "FabricTests", dependencies: [
            "FCFabric", "FCTarget", "FCInitiator", "FCLink", "FCPort", "STMF", "SBD", "STMFClient", "STMFAPI",
            "ProcessTestSupport",
        ], path: "Tests/FabricTests"),
        // Replays Fuzz/corpus and Fuzz/regressions through the fuzz targets (no sanitizer needed).
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets"], path: "Tests/FuzzCorpusTests"),
        .testTarget(name: "PassThroughTests", dependencies: ["PassThrough", "STMF", "Runtime"], path: "Tests/PassThroughTests"),
        .testTarget(name: "LinuxTargetTests", dependencies: ["LinuxTarget", "TCMU", "STMF"], path: "Tests/LinuxTargetTests"),
        // The kernel data path in a QEMU guest (scripts/kernel/run-guest.sh): LIO, TCMU, tcm_loop.
        .testTarget(name: "KernelTests", dependencies: ["ProcessTestSupport"], path: "Tests/KernelTests", exclude: ["guest"]),
        // Tests that need real HBAs; they skip themselves where there are none.
        .testTarget(name: "HardwareTests", dependencies: ["STMF", "ProcessTestSupport"], path: "HardwareTests"),
    ],
    swiftLanguageModes: [.v6]
)
