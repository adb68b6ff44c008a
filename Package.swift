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
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.3.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.20.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
    ],
    targets: [
        // System gzip codecs for segment members: zlib (also the reader's inflate), ISA-L's igzip
        // (the writer's default encoder) and libdeflate (Debian: zlib1g-dev, libisal-dev, libdeflate-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CIsal", path: "Sources/CIsal"),
        .systemLibrary(name: "CLibdeflate", path: "Sources/CLibdeflate"),

        // A pthread-backed `Locked<Value>` (a lock ThreadSanitizer can see, unlike Mutex on Linux).
        .target(name: "Locking"),

        // Pure: a small ordered JSON value, parser and writer. No I/O.
        .target(name: "RecorderJSON"),

        // Pure: segment records, their JSON Lines encoding, gzip members,
        // rotation/fsync state machine, spool budget, verification rules. No I/O.
        .target(
            name: "SegmentFormat",
            dependencies: [
                "RecorderJSON", "CZlib", "CIsal", "CLibdeflate",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // I/O: the segment writer (group commit, rotation, fsync, spool cap)
        // and the reader/verifier over files and directories.
        .target(name: "SegmentStore", dependencies: ["SegmentFormat", "RecorderJSON", "Locking"]),

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
                "MCPParsing", "SegmentFormat", "RecorderJSON", "Locking",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // I/O: OpenID Connect for every component — the issuer's keys (JWKS, refreshed on
        // rotation) and bearer-token verification, shared by the sidecar and the collector.
        .target(
            name: "Identity",
            dependencies: [
                "MCPParsing", "RecorderJSON", "Locking",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),

        // I/O: the sidecar — SwiftNIO proxy, admin endpoint, metrics, lifecycle.
        .target(
            name: "RecorderProxy",
            dependencies: [
                "Identity", "ProxyCore", "MCPParsing", "SegmentStore", "SegmentFormat", "RecorderJSON", "Locking", "Shipping",
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

        // Pure: what the collector decides — upload verification, index facts from
        // records, read authorization, session timelines, replay comparison. No I/O.
        .target(name: "CollectorCore", dependencies: ["SegmentFormat", "RecorderJSON", "MCPParsing", .product(name: "Crypto", package: "swift-crypto")]),

        // I/O: the collector's storage — segment blobs (files or an S3 bucket) and the index (SQLite or PostgreSQL).
        .target(
            name: "CollectorStore",
            dependencies: [
                "CollectorCore", "SegmentFormat", "SegmentStore", "RecorderJSON", "Locking", "ObjectStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),

        // I/O: the collector's HTTPS service — ingest, read API, authentication, retention.
        .target(
            name: "Collector",
            dependencies: [
                "CollectorCore", "CollectorStore", "Identity", "SegmentFormat", "SegmentStore", "RecorderJSON", "MCPParsing", "TLSSupport", "HTTPServerSupport", "Locking", "ObjectStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),

        // I/O: what the HTTPS servers (collector, webhook) share: JSON error bodies for every
        // 4xx/5xx, including the framework's own answers to bytes its HTTP decoder refused.
        .target(
            name: "HTTPServerSupport",
            dependencies: [
                "RecorderJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // TLS material: PEM loading and a self-signed CA for `dev` and tests.
        .target(
            name: "TLSSupport",
            dependencies: [
                "Locking",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),

        // I/O: the admission webhook's HTTPS server around AdmissionPatch.
        .target(
            name: "Webhook",
            dependencies: [
                "AdmissionPatch", "RecorderJSON", "TLSSupport", "HTTPServerSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // Pure: the iptables rules `init-redirect` installs, and how to read what is there.
        .target(name: "NetworkRedirect"),

        // Pure: the injection core of `webhook` and `inject` — pod injection, workload opt-in
        // propagation, JSON Patch (RFC 6902) and JSON Pointer. No I/O.
        .target(name: "AdmissionPatch", dependencies: ["RecorderJSON", "MCPParsing"]),

        // I/O: S3-compatible object storage — AWS Signature V4 (pure) and a client over AsyncHTTPClient.
        .target(
            name: "ObjectStorage",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // I/O: the shipper — uploads sealed segments to the collector over HTTPS, in order, durably.
        .target(
            name: "Shipping",
            dependencies: [
                "SegmentFormat", "SegmentStore", "TLSSupport", "Locking", "RecorderJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The command tree of the `mcp-recorder` binary.
        .target(
            name: "RecorderCLI",
            dependencies: [
                "RecorderProxy", "Identity", "Shipping", "Collector", "TLSSupport", "NetworkRedirect", "AdmissionPatch", "Webhook", "CollectorCore", "SegmentStore", "SegmentFormat", "RecorderJSON", "Locking", "ObjectStorage", "CollectorStore",
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Thin executable. Release builds on Linux link it so that a process maps fewer pages of it
        // (docs/performance.md, "Idle RSS"): no dynamic symbol table of every Swift symbol
        // (`--static-swift-stdlib` adds `-export-dynamic`; nothing looks symbols up in it), and
        // lld's packed relative relocations (DT_RELR, glibc 2.36) instead of 3.7 MiB of RELA
        // entries that the dynamic loader reads at every start.
        .executableTarget(
            name: "mcp-recorder",
            dependencies: ["RecorderCLI"],
            linkerSettings: [
                .unsafeFlags(
                    ["-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),

        // Benchmark driver for scripts/bench-segments.sh (not a test).
        .executableTarget(name: "segment-bench", dependencies: ["SegmentStore", "SegmentFormat"], path: "Sources/Benchmarks/segment-bench"),

        // Bearer-token verification, Identity's verifier next to jwt-kit 5's (scripts/bench-jws.sh; not a test).
        .executableTarget(
            name: "jws-bench",
            dependencies: [
                "Identity", "MCPParsing", "RecorderJSON",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Benchmarks/jws-bench"
        ),

        // Encoder comparison on real segment batches for scripts/bench-compressors.sh (not a test).
        .executableTarget(name: "compressor-bench", dependencies: ["SegmentStore", "SegmentFormat", "RecorderJSON"], path: "Sources/Benchmarks/compressor-bench"),

        // Per-exchange allocations and CPU of the sidecar's pure core and writer, for scripts/bench-proxy.sh
        // (not a test); CMallocCounter interposes malloc in that one executable.
        .target(name: "CMallocCounter", path: "Sources/Benchmarks/CMallocCounter"),
        .executableTarget(name: "proxy-bench", dependencies: ["CMallocCounter", "ProxyCore", "MCPParsing", "SegmentStore", "SegmentFormat", "RecorderJSON", .product(name: "NIOCore", package: "swift-nio")], path: "Sources/Benchmarks/proxy-bench"),

        // HTTP backend for scripts/bench-proxy.sh (not a test).
        .executableTarget(name: "bench-backend", dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")], path: "Sources/Benchmarks/bench-backend"),

        // Segment generator, uploader and read-latency client for scripts/bench-collector.sh (not a test).
        .executableTarget(name: "collector-bench", dependencies: ["CollectorCore", "CollectorStore", "SegmentStore", "SegmentFormat", "RecorderJSON", "TLSSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl")], path: "Sources/Benchmarks/collector-bench"),

        // libFuzzer targets of the parsers (Tests/Fuzz): built and run by scripts/fuzz.sh with
        // -sanitize=fuzzer,address; a normal build compiles a stub that names the targets.
        .executableTarget(
            name: "mcp-recorder-fuzz",
            dependencies: [
                "ProxyCore", "MCPParsing", "SegmentFormat", "RecorderJSON", "AdmissionPatch", "CollectorCore", "CollectorTestFixtures", "CLibFuzzer",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/Fuzz/Targets"
        ),
        .target(name: "CLibFuzzer", path: "Tests/Fuzz/CLibFuzzer"),

        .testTarget(name: "RecorderJSONTests", dependencies: ["RecorderJSON", "TestRandom"]),
        // A seeded random generator shared by tests.
        .target(name: "TestRandom", path: "Tests/TestRandom"),
        .testTarget(name: "SegmentFormatTests", dependencies: ["SegmentFormat", "RecorderJSON", "TestRandom"]),
        .testTarget(name: "SegmentStoreTests", dependencies: ["SegmentStore", "SegmentFormat", "RecorderJSON", "Locking"]),
        .testTarget(name: "MCPParsingTests", dependencies: ["MCPParsing", "RecorderJSON", "SegmentFormat", "TestRandom"]),
        .testTarget(
            name: "ProxyCoreTests",
            dependencies: ["ProxyCore", "MCPParsing", "SegmentFormat", "RecorderJSON", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "RecorderProxyTests",
            dependencies: [
                "RecorderProxy", "ProxyCore", "SegmentStore", "SegmentFormat", "RecorderJSON", "ServerTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IdentityTests",
            dependencies: [
                "Identity", "MCPParsing", "RecorderJSON", "ServerTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Realistic recorded segments (chained, with MCP traffic) shared by the collector's test targets.
        .target(name: "CollectorTestFixtures", dependencies: ["SegmentFormat", "RecorderJSON"], path: "Tests/CollectorTestFixtures"),
        // A raw-socket HTTP client for tests of the servers' edge (bytes no client library sends).
        .target(
            name: "ServerTestSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/ServerTestSupport"
        ),
        // Real storage servers for tests: Ceph's RADOS Gateway (S3).
        .target(name: "StorageTestServers", path: "Tests/StorageTestServers"),
        .testTarget(name: "CollectorCoreTests", dependencies: ["CollectorCore", "CollectorTestFixtures", "SegmentFormat", "RecorderJSON"]),
        .testTarget(
            name: "CollectorStoreTests",
            dependencies: [
                "CollectorStore", "CollectorCore", "CollectorTestFixtures", "SegmentFormat", "SegmentStore", "RecorderJSON", "ObjectStorage", "StorageTestServers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Collector", "CollectorCore", "CollectorStore", "CollectorTestFixtures", "ServerTestSupport", "SegmentFormat", "SegmentStore", "RecorderJSON", "Identity", "MCPParsing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ObjectStorageTests",
            dependencies: [
                "ObjectStorage", "StorageTestServers", "ServerTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ShippingTests",
            dependencies: [
                "TestRandom",
                "Shipping", "TLSSupport", "SegmentStore", "SegmentFormat", "RecorderJSON", "Locking",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "WebhookTests",
            dependencies: [
                "Webhook", "AdmissionPatch", "RecorderJSON", "ServerTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "NetworkRedirectTests", dependencies: ["NetworkRedirect"]),
        .testTarget(
            name: "AdmissionPatchTests",
            dependencies: ["AdmissionPatch", "RecorderCLI", "RecorderJSON", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "RecorderCLITests", dependencies: ["mcp-recorder", "RecorderCLI", "SegmentStore", "SegmentFormat", "RecorderJSON"]),
    ],
    swiftLanguageModes: [.v6]
)
