// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "mcp-recorder",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcp-recorder", targets: ["mcp-recorder"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        // System zlib (gzip members for segments).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),

        // Pure: a small ordered JSON value, parser and writer. No I/O.
        .target(name: "RecorderJSON"),

        // Pure: segment records, their JSON Lines encoding, gzip members,
        // rotation/fsync state machine, spool budget, verification rules. No I/O.
        .target(
            name: "SegmentFormat",
            dependencies: [
                "RecorderJSON", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // I/O: the segment writer (group commit, rotation, fsync, spool cap)
        // and the reader/verifier over files and directories.
        .target(name: "SegmentStore", dependencies: ["SegmentFormat", "RecorderJSON"]),

        // The command tree of the `mcp-recorder` binary.
        .target(
            name: "RecorderCLI",
            dependencies: [
                "SegmentStore", "SegmentFormat", "RecorderJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Thin executable.
        .executableTarget(name: "mcp-recorder", dependencies: ["RecorderCLI"]),

        // Benchmark driver for scripts/bench-segments.sh (not a test).
        .executableTarget(name: "segment-bench", dependencies: ["SegmentStore", "SegmentFormat"], path: "Sources/Benchmarks/segment-bench"),

        .testTarget(name: "RecorderJSONTests", dependencies: ["RecorderJSON"]),
        .testTarget(name: "SegmentFormatTests", dependencies: ["SegmentFormat", "RecorderJSON"]),
        .testTarget(name: "SegmentStoreTests", dependencies: ["SegmentStore", "SegmentFormat", "RecorderJSON"]),
        .testTarget(name: "RecorderCLITests", dependencies: ["mcp-recorder", "RecorderCLI", "SegmentStore", "SegmentFormat", "RecorderJSON"]),
    ],
    swiftLanguageModes: [.v6]
)
