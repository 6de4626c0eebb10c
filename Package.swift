// swift-tools-version:6.1
import PackageDescription

// Our own targets treat warnings as errors; dependencies build with their defaults.
let strictSettings: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"])]
let strictCSettings: [CSetting] = [.unsafeFlags(["-Wall", "-Wextra", "-Wpedantic", "-Wconversion", "-Werror"])]

let package = Package(
    name: "CycleRunner",
    // macOS 15 for the Synchronization module's Atomic and Mutex.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cycle-runner", targets: ["CycleRunner"]),
        .library(name: "Invoicing", targets: ["Invoicing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            path: "Sources/CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "Invoicing",
            dependencies: ["CLibXML2"],
            path: "Sources/Invoicing",
            swiftSettings: strictSettings
        ),
        // SHA-256 block compression in C: the x86 SHA instructions are not reachable from Swift.
        .target(name: "CSHA256", path: "Sources/CSHA256", cSettings: strictCSettings),
        .target(
            name: "CycleRunnerCore",
            dependencies: [
                "CSHA256",
                "Invoicing",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The system SQLite that GRDB links, for the one loop that reads rows byte by byte.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/CycleRunner",
            exclude: ["Main"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "CycleRunner",
            dependencies: [
                "CycleRunnerCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/CycleRunner/Main",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CycleRunnerTests",
            dependencies: [
                "CSHA256",
                "CycleRunnerCore",
                "Invoicing",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/CycleRunnerTests",
            // Input fixtures and golden HTML are read through #filePath, not bundled as resources.
            exclude: ["Fixtures", "Golden"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InvoicingTests",
            dependencies: [
                "Invoicing",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/InvoicingTests",
            // The golden XML files are read through #filePath, not bundled as resources.
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
    ]
)
