import CollectorCore
@testable import CollectorStore
import Foundation
import CollectorTestFixtures
import Testing

/// The access log on SQLite: a database of its own, so a read is logged without waiting for ingest.
@Suite struct AccessLogStoreTests {
    @Test func aReadIsLoggedWhileAnIngestTransactionHoldsTheIndexWriter() async throws {
        let store = try await CollectorStore(directory: temporaryDataDirectory())
        let held = AsyncGate()
        let release = Gate()
        // An index write transaction that does not end until the access log entry is written.
        let writer = Task {
            try await store.index.write { db in
                try db.execute("INSERT INTO integrity_events(time, stream, segment, kind, message) VALUES (1, 's', NULL, 'damaged', 'held')")
                held.open()
                #expect(release.wait(seconds: 20), "the access log entry was not written while the index writer was busy")
            }
        }
        await held.wait()
        let entry = AccessLogEntry(time: FixtureTime.t0, subject: "alice", groups: ["sre"], method: "GET", path: "/v1/sessions", status: 200)
        try await store.logAccess(entry)
        #expect(try await store.accessLog(subject: "alice", limit: 10) == [entry])
        release.open()
        try await writer.value
        #expect(FileManager.default.fileExists(atPath: store.directory + "/" + AccessLogSchema.fileName))
    }

    @Test func entriesAnOlderCollectorWroteIntoTheIndexMoveToTheAccessLogInOrder() async throws {
        let directory = temporaryDataDirectory()
        let old = try await SQLiteIndex(path: directory + "/index.sqlite")
        try await old.write { db in
            for (i, subject) in ["alice", "bob", "carol"].enumerated() {
                try db.execute("INSERT INTO access_log(time, subject, groups, method, path, status) VALUES (?, ?, '', 'GET', ?, 200)",
                               [Int64(i), subject, "/v1/sessions/\(i)"])
            }
        }
        await old.close()

        // Batches of 2: the move takes two rounds.
        let index = try await SQLiteIndex(path: directory + "/index.sqlite")
        let accessLog = try await SQLiteIndex(path: directory + "/" + AccessLogSchema.fileName, schema: AccessLogSchema.migrator())
        try await AccessLogSchema.moveEntries(from: index, to: accessLog, batch: 2)
        #expect(try await index.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM access_log") } == 0)
        await index.close()
        await accessLog.close()

        let store = try await CollectorStore(directory: directory)
        try await store.logAccess(AccessLogEntry(time: FixtureTime.t0, subject: "dave", groups: [], method: "GET", path: "/v1/streams", status: 200))
        #expect(try await store.accessLog(subject: nil, limit: 10).map(\.subject) == ["dave", "carol", "bob", "alice"])
    }

    @Test func aMoveStoppedBeforeItsDeleteIsRepeatedWithoutDuplicates() async throws {
        let directory = temporaryDataDirectory()
        let index = try await SQLiteIndex(path: directory + "/index.sqlite")
        let accessLog = try await SQLiteIndex(path: directory + "/" + AccessLogSchema.fileName, schema: AccessLogSchema.migrator())
        try await index.write { db in
            try db.execute("INSERT INTO access_log(time, subject, groups, method, path, status) VALUES (1, 'alice', '', 'GET', '/a', 200)")
        }
        // The copy of a batch committed, its delete did not.
        let rows = try await index.read { db in try db.rows("SELECT id, time, subject, groups, method, path, status FROM access_log") }
        try await accessLog.write { db in
            try db.execute("INSERT INTO access_log(id, time, subject, groups, method, path, status) VALUES (?, ?, ?, ?, ?, ?, ?)", SQLArguments(rows[0].values))
        }
        try await AccessLogSchema.moveEntries(from: index, to: accessLog)
        #expect(try await accessLog.read { db in try db.values(String.self, "SELECT subject FROM access_log") } == ["alice"])
        #expect(try await index.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM access_log") } == 0)
    }
}

/// A one-shot signal a blocking transaction body (on GRDB's queue, never the test's threads) waits for.
final class Gate: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func open() { semaphore.signal() }
    func wait(seconds: Double) -> Bool { semaphore.wait(timeout: .now() + seconds) == .success }
}

/// A one-shot signal the test awaits without blocking a thread of the shared pool.
final class AsyncGate: @unchecked Sendable {
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func open() {
        lock.lock()
        isOpen = true
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if isOpen {
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}
