import AsyncHTTPClient
import CollectorCore
import CollectorStore
import Foundation
import ObjectStorage
import SegmentStore
import StorageTestServers
import Testing

/// The blob stores the store suites run against: files always, and a bucket in a real RADOS
/// Gateway where Ceph is installed (`.ci/run` installs it).
enum BlobBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case files, s3

    static var available: [BlobBackend] { RadosGatewayServer.available ? [.files, .s3] : [.files] }
    var testDescription: String { rawValue }
}

/// The indexes the store suites run against: SQLite always, and a database of its own in a real
/// PostgreSQL 15 where Debian's `postgresql-15` is installed (`.ci/run` installs it).
enum IndexBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static var available: [IndexBackend] { PostgresServer.available ? [.sqlite, .postgres] : [.sqlite] }
    var testDescription: String { rawValue }

    /// A new, empty index: `nil` is SQLite under the data directory; else the URL of a fresh PostgreSQL database.
    func makeDatabase(name: String = #function) throws -> String? {
        switch self {
        case .sqlite: nil
        case .postgres: try PostgresServer.shared().createDatabase(name)
        }
    }

    /// A store on a fresh index (and files under a fresh data directory).
    func open(grouping: SessionGrouping = .default, name: String = #function) async throws -> CollectorStore {
        let directory = temporaryDataDirectory(name)
        return try await CollectorStore(directory: directory, index: try await Self.index(try makeDatabase(name: name)), grouping: grouping)
    }

    static func index(_ url: String?) async throws -> (any IndexDatabase)? {
        guard let url else { return nil }
        let server = try PostgresServer.shared()
        return try await PostgresIndex(configuration: try PostgresIndexConfiguration.parse(url + "?sslmode=verify-full&sslrootcert=\(server.caFile)", readFile: { _ in [] }))
    }
}

/// One data directory and, for S3, one bucket of its own: a store opened on it, reopened on it,
/// and its objects seen and altered behind the store's back.
struct StoreSite: Sendable {
    let backend: BlobBackend
    let directory: String
    let s3: S3Client?
    /// The PostgreSQL database, when the index is there.
    let indexURL: String?

    static func make(_ backend: BlobBackend, _ index: IndexBackend = .sqlite, name: String = #function) async throws -> StoreSite {
        let directory = temporaryDataDirectory(name)
        let indexURL = try index.makeDatabase(name: name)
        guard backend == .s3 else { return StoreSite(backend: backend, directory: directory, s3: nil, indexURL: indexURL) }
        let gateway = try RadosGatewayServer.shared()
        let bucket = "store-" + UUID().uuidString.lowercased().prefix(18)
        let client = S3Client(configuration: S3Configuration(endpoint: gateway.endpoint, region: gateway.region, bucket: bucket,
                                                             credentials: StaticS3Credentials(.init(accessKeyID: gateway.accessKey, secretAccessKey: gateway.secretKey))),
                              http: .shared, clock: { Int64(Date().timeIntervalSince1970) })
        try await client.createBucket()
        return StoreSite(backend: backend, directory: directory, s3: client, indexURL: indexURL)
    }

    var blobs: any SegmentBlobStore {
        get throws {
            if let s3 { return S3SegmentBlobStore(client: s3, prefix: "recordings/") }
            return try FileSegmentBlobStore(directory: directory + "/segments")
        }
    }

    func open(grouping: SessionGrouping = .default) async throws -> CollectorStore {
        try await CollectorStore(directory: directory, index: try await IndexBackend.index(indexURL), blobs: blobs, grouping: grouping)
    }

    /// The objects of a stream, by key, as the blob store lists them (temporary files included).
    func keys(of stream: String) async throws -> [String] {
        try await blobs.inventory().map(\.key).filter { $0.hasPrefix(stream + "/") }.sorted()
    }

    /// Writes an object behind the store's back (a crash's leftover).
    func plant(_ key: String, _ bytes: [UInt8]) async throws {
        if let s3 {
            _ = try await s3.put("recordings/" + key, bytes)
        } else {
            try FileSystem.createDirectories(FileSystem.parent(of: directory + "/segments/" + key))
            try FileSystem.writeAtomically(bytes, to: directory + "/segments/" + key)
        }
    }

    /// Deletes an object behind the store's back (lost at rest).
    func destroy(_ key: String) async throws {
        if let s3 { try await s3.delete("recordings/" + key) } else { try FileSystem.remove(directory + "/segments/" + key) }
    }
}
