import CollectorCore
@testable import CollectorStore
import CollectorTestFixtures
import Foundation
import SegmentFormat
import StorageTestServers
import Testing

/// An embedded collector's store (SQLite and files) copied into a shared one (PostgreSQL and a
/// bucket): every session reads the same, and a second run copies nothing twice.
@Suite(.enabled(if: PostgresServer.available, "needs Debian's postgresql-15 (.ci/run installs it)"))
struct StoreMigrationTests {
    @Test func everySessionReadsTheSameAfterwardsAndASecondRunCopiesNothing() async throws {
        let d = try await Dataset.make(.sqlite)
        let source = d.store
        #expect(try await source.setLegalHold(d.a2, true))
        try await source.logAccess(AccessLogEntry(time: FixtureTime.t0, subject: "auditor", groups: ["sec"], method: "GET", path: "/v1/sessions", status: 200))
        var other = StreamBuilder(stream: Dataset.streamA)
        other.nextSegment = 1
        _ = try await ingest(source, other.segment([note("a different segment 1")]))  // a conflict event

        let site = try await StoreSite.make(RadosGatewayServer.available ? .s3 : .files, .postgres)
        let destination = try await site.open()
        let migration = StoreMigration(source: source, destination: destination, sourceName: "sqlite:\(source.directory)/index.sqlite")
        let first = try await migration.run()
        #expect(first.failures.isEmpty, "\(first.failures)")
        #expect(first.streams == 2 && first.copied == 4 && first.alreadyThere == 0 && first.logsCopied)

        let before = try await source.allSessions()
        #expect(try await destination.allSessions() == before)
        for summary in before {
            let a = try #require(try await source.session(summary.id))
            let b = try #require(try await destination.session(summary.id))
            #expect(a.summary == b.summary && a.exchanges == b.exchanges && a.calls == b.calls)
        }
        #expect(try await destination.session(d.a2)?.summary.legalHold == true)
        for stream in [Dataset.streamA, Dataset.streamB] {
            let from = try await source.segments(of: stream)
            let to = try await destination.segments(of: stream)
            #expect(from.map(\.sha256) == to.map(\.sha256) && from.map(\.receivedAt) == to.map(\.receivedAt))
            for (f, t) in zip(from, to) { #expect(try await source.bytes(of: f) == destination.bytes(of: t)) }
        }
        #expect(try await destination.accessLog(subject: "auditor", limit: 10).count == 1)
        #expect(try await destination.events(Dataset.streamA).map(\.kind).contains("conflict"))

        let second = try await migration.run()
        #expect(second.copied == 0 && second.alreadyThere == 4 && !second.logsCopied && second.failures.isEmpty)
        #expect(try await destination.accessLog(subject: "auditor", limit: 10).count == 1, "the access log is copied once")
    }

    @Test func aSourceSegmentAlteredAtRestIsReportedNotCopied() async throws {
        let sourceSite = try await StoreSite.make(.files)
        let source = try await sourceSite.open()
        var builder = StreamBuilder()
        try await CollectorStoreTests.store([builder.segment([note("one")]), builder.segment([note("two")])], in: source)
        let rows = try await source.segments(of: builder.stream)
        try await sourceSite.plant(rows[1].file, Array(try await source.bytes(of: rows[0])))  // segment 2 overwritten at rest
        let destination = try await StoreSite.make(.files, .postgres).open()
        let report = try await StoreMigration(source: source, destination: destination, sourceName: "test").run()
        #expect(report.copied == 1 && report.failures.count == 1)
        #expect(report.failures.first?.contains("segment 2") == true && report.failures.first?.contains("sha256") == true, "\(report.failures)")
        #expect(try await destination.segments(of: builder.stream).map(\.segment) == [1])
    }
}
