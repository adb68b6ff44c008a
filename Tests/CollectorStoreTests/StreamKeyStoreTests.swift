import CollectorCore
import CollectorStore
import Foundation
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

/// Sidecar signing keys, kept by the index (SQLite and PostgreSQL): once a stream's sidecar
/// registered a key, only segments and heartbeats signed by one of the stream's keys are taken.
@Suite struct StreamKeyStoreTests {
    static let owner = IngestIdentity.staticToken.owner

    func register(_ store: CollectorStore, _ key: StreamSigningKey, stream: String, owner: String = owner, instance: String = "i-1") async throws -> KeyRegistrationOutcome {
        try await store.registerKey(KeyRegistration(instance: instance, namespace: "team-a", pod: "weather-7d9f-abcde", podUID: nil, publicKey: key.publicKey),
                                    stream: stream, owner: owner)
    }

    func beat(_ store: CollectorStore, _ stream: String, head: StreamHead?, signedBy key: StreamSigningKey?, notice: UInt64, instance: String = "i-1") async throws -> HeartbeatOutcome {
        let signature = key.map { NoticeSignature(notice: notice, signature: $0.sign(SignedMessage.heartbeat(stream: stream, instance: instance, notice: notice, head: head))) }
        return try await store.recordHeartbeat(
            Heartbeat(stream: stream, instance: instance, namespace: "team-a", pod: "weather-7d9f-abcde", podUID: nil, head: head, signature: signature, detail: nil, receivedAt: .now()),
            owner: Self.owner)
    }

    func rejection(_ outcome: IngestOutcome) -> IngestRejection? {
        if case .rejected(let r) = outcome { r } else { nil }
    }

    @Test(arguments: IndexBackend.available) func onceAKeyIsRegisteredOnlySegmentsItSignedAreStored(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let key = StreamSigningKey()
        var builder = StreamBuilder()
        builder.signingKey = key
        let stream = builder.stream
        // Signed before the key was registered: nothing to check it against yet.
        let s1 = builder.segment([note("one")])
        #expect(try await ingest(store, s1) == .stored(records: 1))
        #expect(try await register(store, key, stream: stream) == .registered(keys: 1))
        #expect(try await register(store, key, stream: stream) == .alreadyRegistered)

        // Unsigned: whoever wrote it does not hold the sidecar's key.
        var unsigned = builder
        unsigned.signingKey = nil
        let u2 = unsigned.segment([note("two, unsigned")])
        let refusedUnsigned = try #require(rejection(try await ingest(store, u2)))
        #expect(refusedUnsigned.status == 422 && refusedUnsigned.code == "unsigned")

        // Signed by another pod's key (registered for its own stream): not this stream's key.
        let otherPod = StreamSigningKey()
        #expect(try await register(store, otherPod, stream: "team-a.other-pod") == .registered(keys: 1))
        var stranger = builder
        stranger.signingKey = otherPod
        let refusedStranger = try #require(rejection(try await ingest(store, stranger.segment([note("two, other key")]))))
        #expect(refusedStranger.status == 403 && refusedStranger.code == "unknown_key" && refusedStranger.message.contains(otherPod.publicKey.keyID))

        // The genuine segment's signature copied onto other content.
        var genuineBuilder = builder
        let genuine = genuineBuilder.segment([note("two")])
        let trailer = try #require(genuine.bytes.withUnsafeBytes { SegmentParser.parse($0) }.trailer)
        var forger = builder
        forger.signingKey = nil
        let body = forger.segment([note("TWO")])
        let forgedBytes = Array(body.bytes[..<body.memberOffsets.last!]) + gzipMembers([String(decoding: RecordEncoder.encode(trailer), as: UTF8.self)])
        var forged = body
        forged.bytes = forgedBytes
        let refusedForged = try #require(rejection(try await ingest(store, forged)))
        #expect(refusedForged.status == 422 && refusedForged.code == "bad_signature")

        #expect(try await ingest(store, genuine) == .stored(records: 1))
        #expect(try await store.events(stream).map(\.kind) == ["bad_signature", "unsigned"], "newest first")
        #expect(try await store.segments(of: stream).map(\.sha256) == [s1.sha256, genuine.sha256])
    }

    @Test(arguments: IndexBackend.available) func aNewKeyPerSidecarStartAndTheChainContinues(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let first = StreamSigningKey(), second = StreamSigningKey()
        var builder = StreamBuilder()
        builder.signingKey = first
        #expect(try await register(store, first, stream: builder.stream) == .registered(keys: 1))
        let s1 = builder.segment([note("one")])
        builder.signingKey = second
        let s2 = builder.segment([note("two")])
        #expect(try await rejection(ingest(store, s2))?.code == "unknown_key", "not before the restarted sidecar registered its key")
        #expect(try await register(store, second, stream: builder.stream, instance: "i-2") == .registered(keys: 2))
        try await CollectorStoreTests.store([s1, s2], in: store)
        // A predecessor's key that never reached the collector, registered from the spool by a later sidecar.
        let predecessor = StreamSigningKey()
        #expect(try await store.registerKey(KeyRegistration(instance: "i-3", namespace: "team-a", pod: nil, podUID: nil, publicKey: predecessor.publicKey, inherited: true),
                                            stream: builder.stream, owner: Self.owner) == .registered(keys: 3))
        let keys = try await store.streamKeys(of: builder.stream)
        #expect(keys.map(\.keyID) == [first.publicKey.keyID, second.publicKey.keyID, predecessor.publicKey.keyID])
        #expect(keys.map(\.instance) == ["i-1", "i-2", "i-3"] && keys.map(\.source) == ["sidecar", "sidecar", "spool"])
        // Another identity cannot add a key to the stream.
        guard case .forbidden = try await register(store, StreamSigningKey(), stream: builder.stream, owner: "someone-else") else {
            Issue.record("another identity registered a key")
            return
        }
    }

    @Test(arguments: IndexBackend.available) func heartbeatsMustBeSignedAndNeverReplayed(_ index: IndexBackend) async throws {
        let store = try await index.open()
        let key = StreamSigningKey()
        let stream = "team-a.weather-7d9f-abcde"
        let head = StreamHead(segment: 3, sha256: String(repeating: "c", count: 64), records: 30)
        #expect(try await beat(store, stream, head: head, signedBy: nil, notice: 0) == .recorded([]), "no key yet: unsigned is fine")
        #expect(try await register(store, key, stream: stream) == .registered(keys: 1))

        guard case .refused(let unsigned) = try await beat(store, stream, head: head, signedBy: nil, notice: 0) else {
            Issue.record("an unsigned heartbeat was taken")
            return
        }
        #expect(unsigned.status == 422 && unsigned.code == "unsigned")
        #expect(try await beat(store, stream, head: head, signedBy: key, notice: 1) == .recorded([]))
        #expect(try await beat(store, stream, head: head, signedBy: key, notice: 2) == .recorded([]))
        guard case .refused(let replay) = try await beat(store, stream, head: head, signedBy: key, notice: 2) else {
            Issue.record("a replayed heartbeat was taken")
            return
        }
        #expect(replay.status == 409 && replay.code == "replayed_notice" && replay.message.contains("last accepted is 2"))
        guard case .refused(let other) = try await beat(store, stream, head: head, signedBy: StreamSigningKey(), notice: 3) else {
            Issue.record("a heartbeat signed by an unregistered key was taken")
            return
        }
        #expect(other.status == 403 && other.code == "unknown_key")
        // A signature of another head does not carry over.
        let signature = key.sign(SignedMessage.heartbeat(stream: stream, instance: "i-1", notice: 9, head: head))
        let tampered = StreamHead(segment: 4, sha256: head.sha256, records: 40)
        guard case .refused(let bad) = try await store.recordHeartbeat(
            Heartbeat(stream: stream, instance: "i-1", namespace: "team-a", pod: nil, podUID: nil, head: tampered,
                      signature: NoticeSignature(notice: 9, signature: signature), detail: nil, receivedAt: .now()), owner: Self.owner) else {
            Issue.record("a heartbeat with a tampered head was taken")
            return
        }
        #expect(bad.status == 422 && bad.code == "bad_signature")
        #expect(try await store.latestHead(of: stream)?.head == head, "no refused heartbeat told a head")
        #expect(try await store.events(stream).map(\.kind) == ["bad_signature", "replayed_notice", "unsigned"], "newest first")
    }
}
