import ArgumentParser
import Collector
import CollectorCore
import CollectorStore
import Logging
import SegmentStore
import ServiceLifecycle

/// `mcp-recorder collector migrate`: copies an embedded collector's recordings into shared storage.
struct CollectorMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a collector's recordings to other storage, losing none (e.g. SQLite + files → PostgreSQL + S3).",
        discussion: """
            Every stored segment is read from the source, checked against the SHA-256 it was stored with and the \
            segment checks, and stored in the destination as its sidecar uploaded it, so every session reads the same \
            there (exports are byte-identical). Stream owners, the rows of segments retention removed, legal holds, held \
            calls, heartbeats, the access log and integrity events are copied too. Idempotent and resumable: run it again \
            after an interruption; segments already there are skipped. Stop the source collector first. Exit status 1 \
            when a segment could not be copied (each is named).
            """
    )

    @Option(help: "The source: sqlite:INDEX.sqlite,fs:SEGMENTS-DIR (a collector's --data holds index.sqlite and segments/).")
    var from: String

    @Option(help: "The destination: postgres:URL,s3:BUCKET (or sqlite:PATH, fs:DIR); the S3 endpoint and keys come from --s3-*.")
    var to: String

    @OptionGroup var s3: S3Options

    @Option(help: "File with the destination PostgreSQL password.")
    var indexPasswordFile: String?

    @Option(help: "The idle gap the source collector grouped sessions by (its --session-idle-gap).")
    var sessionIdleGap = DurationOption(SessionGrouping.defaultIdleGap, text: "5m")

    @Option(help: "Log level.")
    var logLevel = "info"

    /// `index` and `segments` parts of `--from`/`--to`.
    struct Location: Equatable {
        var index: String?
        var indexKind: String?
        var segments: String?
        var segmentsKind: String?
    }

    static func location(_ text: String, option: String) throws -> Location {
        var location = Location()
        for part in text.split(separator: ",") {
            guard let colon = part.firstIndex(of: ":") else { throw ValidationError("\(option): \(part) is not KIND:WHERE") }
            let kind = String(part[..<colon]), value = String(part[part.index(after: colon)...])
            guard !value.isEmpty else { throw ValidationError("\(option): \(kind): says nowhere") }
            switch kind {
            case "sqlite", "postgres":
                guard location.index == nil else { throw ValidationError("\(option): two indexes") }
                location.index = value
                location.indexKind = kind
            case "fs", "s3":
                guard location.segments == nil else { throw ValidationError("\(option): two segment stores") }
                location.segments = value
                location.segmentsKind = kind
            default:
                throw ValidationError("\(option): \(kind) is not sqlite, postgres, fs or s3")
            }
        }
        guard location.index != nil, location.segments != nil else {
            throw ValidationError("\(option) needs an index (sqlite:PATH or postgres:URL) and a segment store (fs:DIR or s3:BUCKET)")
        }
        return location
    }

    func validate() throws {
        let source = try Self.location(from, option: "--from")
        _ = try Self.location(to, option: "--to")
        guard source.indexKind == "sqlite", source.segmentsKind == "fs" else {
            throw ValidationError("--from must be sqlite:PATH,fs:DIR (an embedded collector's data)")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \"\(logLevel)\"") }
    }

    func run() async throws {
        let logger = bootstrapLogging(label: "mcp-recorder.migrate", level: logLevel)
        let source = try Self.location(from, option: "--from")
        let destination = try Self.location(to, option: "--to")
        guard FileSystem.type(of: source.index!) == .file else { throw UsageError("--from: no SQLite index at \(source.index!)") }
        guard FileSystem.type(of: source.segments!) == .directory else { throw UsageError("--from: no segments directory at \(source.segments!)") }
        let grouping = SessionGrouping(idleGap: sessionIdleGap.duration)

        // The source's access log is the file beside its index (an older collector kept it in the index).
        let sourceIndex = try await SQLiteIndex(path: source.index!)
        let sourceAccessLogPath = SQLiteIndex.accessLogPath(besideIndexAt: source.index!)
        let sourceAccessLog = FileSystem.type(of: sourceAccessLogPath) == .file ? try await SQLiteIndex.accessLog(besideIndexAt: source.index!) : nil
        let sourceStore = try await CollectorStore(
            directory: FileSystem.parent(of: source.index!), index: sourceIndex, accessLog: sourceAccessLog,
            blobs: try FileSegmentBlobStore(directory: source.segments!), grouping: grouping, reconciling: false)

        let index: IndexChoice = destination.indexKind == "postgres"
            ? try IndexOptions.postgres(destination.index!, passwordFile: indexPasswordFile, readFile: { try FileSystem.readFile($0) })
            : .sqlite
        let storage = destination.segmentsKind == "s3"
            ? try s3.storage("s3", bucket: destination.segments!, environment: ProcessEnvironment.current)
            : .files
        let (blobs, storageServices) = try await storage.open()
        let (openedIndex, indexServices) = try await index.open(logger: logger)
        // Given an index and a blob store, the store writes nothing to its directory (the source's is never touched).
        let directory = destination.indexKind == "sqlite" ? FileSystem.parent(of: destination.index!) : FileSystem.parent(of: source.index!)
        let destinationIndex: any IndexDatabase
        var destinationAccessLog: (any IndexDatabase)?
        if let openedIndex {
            destinationIndex = openedIndex
        } else {
            let sqlite = try await SQLiteIndex(path: destination.index!)
            destinationIndex = sqlite
            destinationAccessLog = try await SQLiteIndex.accessLog(besideIndexAt: destination.index!, movingEntriesFrom: sqlite)
        }
        let destinationBlobs: any SegmentBlobStore = try blobs ?? FileSegmentBlobStore(directory: destination.segments!)
        let destinationStore = try await CollectorStore(directory: directory, index: destinationIndex, accessLog: destinationAccessLog,
                                                        blobs: destinationBlobs, grouping: grouping)
        logger.info("migrating", metadata: ["from": "\(sourceStore.index.description), \(sourceStore.blobs.description)",
                                            "to": "\(destinationIndex.description), \(destinationBlobs.description)"])
        let report = try await StoreMigration(source: sourceStore, destination: destinationStore, sourceName: "sqlite:\(source.index!)").run { line in
            logger.info("\(line)")
        }
        await sourceStore.index.close()
        for service in storageServices + indexServices {
            await (service as? any ClosingService)?.close()
        }
        if openedIndex == nil { await destinationIndex.close() }
        print("\(report.streams) streams: \(report.copied) segments copied, \(report.alreadyThere) already there, "
              + "\(report.failures.count) failed; logs \(report.logsCopied ? "copied" : "already copied")")
        for failure in report.failures { print("FAILED \(failure)") }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }
}
