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

/// One data directory and, for S3, one bucket of its own: a store opened on it, reopened on it,
/// and its objects seen and altered behind the store's back.
struct StoreSite: Sendable {
    let backend: BlobBackend
    let directory: String
    let s3: S3Client?

    static func make(_ backend: BlobBackend, name: String = #function) async throws -> StoreSite {
        let directory = temporaryDataDirectory(name)
        guard backend == .s3 else { return StoreSite(backend: backend, directory: directory, s3: nil) }
        let gateway = try RadosGatewayServer.shared()
        let bucket = "store-" + UUID().uuidString.lowercased().prefix(18)
        let client = S3Client(configuration: S3Configuration(endpoint: gateway.endpoint, region: gateway.region, bucket: bucket,
                                                             credentials: StaticS3Credentials(.init(accessKeyID: gateway.accessKey, secretAccessKey: gateway.secretKey))),
                              http: .shared, clock: { Int64(Date().timeIntervalSince1970) })
        try await client.createBucket()
        return StoreSite(backend: backend, directory: directory, s3: client)
    }

    var blobs: any SegmentBlobStore {
        get throws {
            if let s3 { return S3SegmentBlobStore(client: s3, prefix: "recordings/") }
            return try FileSegmentBlobStore(directory: directory + "/segments")
        }
    }

    func open(grouping: SessionGrouping = .default) async throws -> CollectorStore {
        try await CollectorStore(directory: directory, blobs: blobs, grouping: grouping)
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
