import AsyncHTTPClient
import CollectorCore
import CollectorStore
import Logging
import NIOCore
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

/// Where a checkpoint is pushed: appended as a JSON line to a file, or POSTed to a URL.
public enum CheckpointTarget: Sendable, Equatable, CustomStringConvertible {
    case file(String)
    case webhook(String)

    /// `file:PATH`, or an `https://` (or `http://`) URL.
    public init?(argument: String) {
        if argument.hasPrefix("file:"), argument.count > 5 {
            self = .file(String(argument.dropFirst(5)))
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
        }
    }
}

/// Signs a checkpoint every interval when the log grew, and pushes it to the configured targets.
public struct CheckpointService: Service {
    let store: CollectorStore
    let key: StreamSigningKey
    let configuration: CheckpointConfiguration
    let logger: Logger

    public init(store: CollectorStore, key: StreamSigningKey, configuration: CheckpointConfiguration, logger: Logger) {
        self.store = store
        self.key = key
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await pass(http)
                try await Task.sleep(for: configuration.interval)
            }
        }
        // A last one on the way out, so the newest segments are in a signed checkpoint.
        await pass(http)
        try? await http.shutdown()
    }

    func pass(_ http: HTTPClient) async {
        do {
            guard let checkpoint = try await store.makeCheckpoint(key: key, origin: configuration.origin) else { return }
            logger.info("checkpoint signed", metadata: ["tree_size": "\(checkpoint.treeSize)", "root_hash": "\(Hex.encode(checkpoint.rootHash))"])
            for target in configuration.push { await push(checkpoint, to: target, http) }
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
