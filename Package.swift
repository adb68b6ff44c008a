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
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.24.0"),
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

        // Pure: MCP traffic understanding — SSE, JSON-RPC, bearer tokens, redaction. No I/O.
        .target(
            name: "MCPParsing",
            dependencies: [
                "RecorderJSON", "SegmentFormat",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // Pure: the passive HTTP/1 parser and the per-connection recording state
        // machine that turns bytes into records and forwarding actions. No I/O.
        .target(
            name: "ProxyCore",
            dependencies: [
                "MCPParsing", "SegmentFormat", "RecorderJSON",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // I/O: the sidecar — SwiftNIO proxy, admin endpoint, metrics, OIDC keys, lifecycle.
        .target(
            name: "RecorderProxy",
            dependencies: [
                "ProxyCore", "MCPParsing", "SegmentStore", "SegmentFormat", "RecorderJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),

        // The command tree of the `mcp-recorder` binary.
        .target(
            name: "RecorderCLI",
            dependencies: [
                "RecorderProxy", "SegmentStore", "SegmentFormat", "RecorderJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Thin executable.
        .executableTarget(name: "mcp-recorder", dependencies: ["RecorderCLI"]),

        // Benchmark driver for scripts/bench-segments.sh (not a test).
        .executableTarget(name: "segment-bench", dependencies: ["SegmentStore", "SegmentFormat"], path: "Sources/Benchmarks/segment-bench"),

        // HTTP backend for scripts/bench-proxy.sh (not a test).
        .executableTarget(name: "bench-backend", dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")], path: "Sources/Benchmarks/bench-backend"),

        .testTarget(name: "RecorderJSONTests", dependencies: ["RecorderJSON"]),
        .testTarget(name: "SegmentFormatTests", dependencies: ["SegmentFormat", "RecorderJSON"]),
        .testTarget(name: "SegmentStoreTests", dependencies: ["SegmentStore", "SegmentFormat", "RecorderJSON"]),
        .testTarget(name: "MCPParsingTests", dependencies: ["MCPParsing", "RecorderJSON", "SegmentFormat"]),
        .testTarget(
            name: "ProxyCoreTests",
            dependencies: ["ProxyCore", "MCPParsing", "SegmentFormat", "RecorderJSON", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "RecorderProxyTests",
            dependencies: [
                "RecorderProxy", "ProxyCore", "SegmentStore", "SegmentFormat", "RecorderJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RecorderCLITests", dependencies: ["mcp-recorder", "RecorderCLI", "SegmentStore", "SegmentFormat", "RecorderJSON"]),
    ],
    swiftLanguageModes: [.v6]
)
