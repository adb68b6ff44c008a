@testable import CollectorStore
import Foundation
import StorageTestServers
import Testing

/// What only the PostgreSQL index has: its URL, its text encoding, its placeholders, TLS, and
/// decisions made by two replicas at once.
struct PostgresIndexTests {
    @Test func urlsParseWithTheirSSLModeAndBadOnesSayWhy() throws {
        let full = try PostgresIndexConfiguration.parse("postgres://rec%40der:p%2Fss@db.example:6543/recordings?sslmode=verify-full&sslrootcert=/ca.pem", readFile: { _ in [] })
        #expect(full == PostgresIndexConfiguration(host: "db.example", port: 6543, username: "rec@der", password: "p/ss", database: "recordings", tls: .verifyFull(caFile: "/ca.pem")))
        let fromFile = try PostgresIndexConfiguration.parse("postgresql://recorder@[::1]/idx?sslmode=disable", passwordFile: "/secret", readFile: { _ in Array("s3cret\n".utf8) })
        #expect(fromFile.host == "::1" && fromFile.port == 5432 && fromFile.password == "s3cret" && fromFile.tls == .disable)
        #expect(try PostgresIndexConfiguration.parse("postgres://u@h/d", readFile: { _ in [] }).tls == .verifyFull(caFile: nil), "verify-full unless told otherwise")
        let bad: [(String, String)] = [
            ("mysql://u@h/d", "must start with postgres://"), ("postgres://h/d", "needs a user"), ("postgres://u@h", "needs a database"),
            ("postgres://u@h:99999/d", "port"), ("postgres://u@h/d?sslmode=prefer", "sslmode prefer is not supported"), ("postgres://u@/d", "needs a host"),
        ]
        for (url, reason) in bad {
            #expect(throws: IndexConfigurationError.self, "\(url)") { try PostgresIndexConfiguration.parse(url, readFile: { _ in [] }) }
            do { _ = try PostgresIndexConfiguration.parse(url, readFile: { _ in [] }) } catch { #expect("\(error)".contains(reason), "\(url): \(error)") }
        }
    }

    @Test func placeholdersAreNumberedOutsideQuotes() {
        #expect(PostgresPlaceholders.numbered("SELECT ? , '?' , \"a?\" FROM t WHERE a = ? AND b = ?2") == "SELECT $1 , '?' , \"a?\" FROM t WHERE a = $2 AND b = $2")
    }

    @Test func textWithNULRoundTripsAndOrdinaryTextIsUntouched() {
        for text in ["plain", "caller:a\u{0}client\u{0}12", "\u{E000}0", "\u{0}\u{301}", "\u{E000}\u{E000}\u{0}"] {
            #expect(PostgresText.decode(PostgresText.encode(text)) == text)
            #expect(!PostgresText.encode(text).unicodeScalars.contains("\u{0}"))
        }
        #expect(PostgresText.encode("plain") == "plain")
    }

    @Test(.enabled(if: PostgresServer.available, "needs Debian's postgresql-15 (.ci/run installs it)"))
    func verifyFullRefusesAnUntrustedServerAndAStatementErrorNamesTheStatementNotItsValues() async throws {
        let server = try PostgresServer.shared()
        let url = try server.createDatabase("tls")
        // The server's certificate is signed by the test CA, not by any the system trusts.
        await #expect(throws: (any Error).self) {
            _ = try await PostgresIndex(configuration: try PostgresIndexConfiguration.parse(url + "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt", readFile: { _ in [] }))
        }
        let index = try await PostgresIndex(configuration: try PostgresIndexConfiguration.parse(url + "?sslmode=verify-full&sslrootcert=\(server.caFile)", readFile: { _ in [] }))
        let ssl = try await index.read { db in try db.value(Bool.self, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") }
        #expect(ssl == true)
        let error = await #expect(throws: PostgresStatementError.self) {
            try await index.write { db in try db.execute("INSERT INTO streams(stream, owner, created_at) VALUES (?, ?, ?)", ["secret-value", nil, 1]) }
        }
        #expect(error?.sqlState == "23502" && error?.statement.hasPrefix("INSERT INTO streams") == true && error?.description.contains("secret-value") == false)
        // A second collector on the same database finds the schema in place.
        let again = try await PostgresIndex(configuration: try PostgresIndexConfiguration.parse(url + "?sslmode=require", readFile: { _ in [] }))
        #expect(try await again.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM mcp_recorder_schema") } == PostgresSchema.migrations.count)
        await again.close()
        await index.close()
    }
}
