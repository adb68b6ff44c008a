import AsyncHTTPClient
import CollectorCore
import CollectorStore
import Locking
import Logging
import NIOCore
import ObjectStorage
import RecorderJSON
import SegmentFormat
import SegmentStore
import ServiceLifecycle

/// How the collector signs checkpoints of its Merkle log, and where it sends them.
public struct CheckpointConfiguration: Sendable {
    /// The Ed25519 key (a file of 64 hex digits: the raw 32-byte private key). `nil`: `DATA/checkpoint.key`,
    /// generated on first start.
    public var keyFile: String?
    /// Names the log in every checkpoint.
    public var origin: String
    /// How often a checkpoint is signed (when the log grew).
    public var interval: Duration
    /// Second places each new checkpoint goes to, so a rewrite of the collector's own store shows.
    public var push: [CheckpointTarget]

    public init(keyFile: String? = nil, origin: String = "mcp-recorder", interval: Duration = .seconds(60), push: [CheckpointTarget] = []) {
        self.keyFile = keyFile
        self.origin = origin
        self.interval = interval
        self.push = push
    }

    /// Reads the key file, or `DATA/checkpoint.key` (generated, mode 0600, if missing).
    public func loadKey(dataDirectory: String) throws -> StreamSigningKey {
        let path = keyFile ?? FileSystem.join(dataDirectory, "checkpoint.key")
        if keyFile == nil, (try? FileSystem.readFile(path)) == nil {
            let key = StreamSigningKey()
            try FileSystem.createDirectories(dataDirectory)
            try FileSystem.writeAtomically(Array((Hex.encode(key.rawPrivateKey) + "\n").utf8), to: path, mode: 0o600)
            return key
        }
        let text = String(decoding: try FileSystem.readFile(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let raw = Hex.decode(text), let key = StreamSigningKey(rawPrivateKey: raw) else {
            throw CheckpointKeyError("\(path) must hold an Ed25519 private key as 64 hex digits")
        }
        return key
    }
}

public struct CheckpointKeyError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Where a checkpoint is pushed: appended as a JSON line to a file, POSTed to a URL, or put as an
/// object `PREFIX<tree size>.json` into the collector's own bucket (`--storage s3`).
public enum CheckpointTarget: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case webhook(String)
    case bucket(prefix: String)

    /// `file:PATH`, `s3:PREFIX`, or an `https://` (or `http://`) URL.
    public init?(argument: String) {
        if argument.hasPrefix("file:"), argument.count > 5 {
            self = .file(String(argument.dropFirst(5)))
        } else if argument.hasPrefix("s3:"), argument.count > 3 {
            self = .bucket(prefix: String(argument.dropFirst(3)))
        } else if argument.hasPrefix("https://") || argument.hasPrefix("http://") {
            self = .webhook(argument)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file:\(path)"
        case .webhook(let url): url
        case .bucket(let prefix): "s3:\(prefix)"
        }
    }
}

/// Signs a checkpoint every interval when the log grew, and pushes it to the configured targets.
public struct CheckpointService: Service {
    let store: CollectorStore
    let key: StreamSigningKey
    let configuration: CheckpointConfiguration
    /// The segments' bucket, for `s3:` targets.
    let bucket: S3Client?
    let logger: Logger

    public init(store: CollectorStore, key: StreamSigningKey, configuration: CheckpointConfiguration, bucket: S3Client? = nil, logger: Logger) {
        self.store = store
        self.key = key
        self.configuration = configuration
        self.bucket = bucket
        self.logger = logger
    }

    /// The bucket `s3:` targets put checkpoints into: the segments' own, under another prefix than
    /// theirs (start-up reconciliation removes objects under the segments' prefix that no row names).
    public static func bucket(for targets: [CheckpointTarget], blobs: any SegmentBlobStore) throws -> S3Client? {
        let prefixes = targets.compactMap { if case .bucket(let p) = $0 { p } else { nil } }
        guard !prefixes.isEmpty else { return nil }
        guard let s3 = blobs as? S3SegmentBlobStore else {
            throw CheckpointKeyError("--checkpoint-push s3:PREFIX needs --storage s3: checkpoints go to the segments' bucket")
        }
        for prefix in prefixes where s3.prefix.isEmpty || prefix.hasPrefix(s3.prefix) {
            throw CheckpointKeyError("--checkpoint-push s3:\(prefix) must be outside the segments' --s3-prefix \"\(s3.prefix)\" (and that prefix must be set): objects there that name no segment are removed at start-up")
        }
        return s3.client
    }

    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let pushed = Locked<UInt64>(0)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass(http, pushed: pushed)
                try await Task.sleep(for: configuration.interval)
            }
        }
        // A last one on the way out, so the newest segments are in a signed checkpoint.
        await pass(http, pushed: pushed)
        try? await http.shutdown()
    }

    func pass(_ http: HTTPClient, pushed: Locked<UInt64>) async {
        do {
            if let made = try await store.makeCheckpoint(key: key, origin: configuration.origin) {
                logger.info("checkpoint signed", metadata: ["tree_size": "\(made.treeSize)", "root_hash": "\(Hex.encode(made.rootHash))"])
            }
            // The newest, also one signed on request (POST /v1/checkpoints), goes out once per process.
            guard !configuration.push.isEmpty, let latest = try await store.checkpoint(),
                  latest.treeSize > pushed.withLock({ $0 }) else { return }
            for target in configuration.push { await push(latest, to: target, http) }
            pushed.withLock { $0 = latest.treeSize }
        } catch {
            logger.error("checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    func push(_ checkpoint: Checkpoint, to target: CheckpointTarget, _ http: HTTPClient) async {
        let line = checkpoint.json.serialized()
        do {
            switch target {
            case .file(let path):
                try FileSystem.appendDurably(Array((line + "\n").utf8), to: path)
            case .bucket(let prefix):
                guard let bucket else { throw CheckpointKeyError("no bucket") }
                let key = prefix + String(repeating: "0", count: max(0, 20 - String(checkpoint.treeSize).count)) + "\(checkpoint.treeSize).json"
                _ = try await bucket.put(key, Array(line.utf8), ifNoneMatch: true)
            case .webhook(let url):
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: line))
                let response = try await http.execute(request, timeout: .seconds(10))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                guard (200..<300).contains(response.status.code) else { throw CheckpointKeyError("the webhook answered \(response.status.code)") }
            }
        } catch {
            logger.error("checkpoint not pushed", metadata: ["target": "\(target)", "tree_size": "\(checkpoint.treeSize)", "error": "\(error)"])
        }
    }
}
