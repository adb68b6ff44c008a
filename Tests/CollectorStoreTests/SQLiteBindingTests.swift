import CollectorStore
import Foundation
import Testing

/// The SQLite writer binds its cached statements' arguments itself: every kind of value goes in
/// and comes back (read through GRDB's own binding) as it was.
@Suite struct SQLiteBindingTests {
    @Test func everyKindOfValueRoundTripsThroughTheWritersBindings() async throws {
        let index = try await SQLiteIndex(path: temporaryDataDirectory() + "/index.sqlite")
        let values: [SQLValue] = [.null, .integer(.min), .integer(.max), .integer(0), .real(-1.5), .text(""), .text("Zürich → 東京 😀"),
                                  .text(String(repeating: "long text ", count: 2_000))]
        try await index.write { db in
            try db.execute("CREATE TABLE t(i INTEGER PRIMARY KEY, v)")
            for (i, value) in values.enumerated() {
                // The same statement each time: compiled once, bound anew.
                try db.execute("INSERT INTO t(i, v) VALUES (?, ?)", SQLArguments([.integer(Int64(i)), value]))
            }
            // Numbered placeholders, one used twice.
            try db.execute("UPDATE t SET v = ?2 WHERE i = ?1 AND ?2 IS NOT NULL", [Int64(3), Int64(7)])
        }
        var expected = values
        expected[3] = .integer(7)
        let stored = try await index.read { db in try db.rows("SELECT v FROM t ORDER BY i").map { $0.values[0] } }
        #expect(stored == expected)
        // Inside the writer, reading back through the cached statements.
        let again = try await index.write { db in try db.rows("SELECT v FROM t WHERE i >= ? ORDER BY i", [Int64(0)]).map { $0.values[0] } }
        #expect(again == expected)
        // NULL and '' stay apart.
        #expect(try await index.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM t WHERE v = ''") } == 1)
    }

    @Test func aWrongNumberOfArgumentsIsAnErrorThatSaysSo() async throws {
        let index = try await SQLiteIndex(path: temporaryDataDirectory() + "/index.sqlite")
        await #expect {
            try await index.write { db in
                try db.execute("CREATE TABLE IF NOT EXISTS t(a, b)")
                try db.execute("INSERT INTO t(a, b) VALUES (?, ?)", [Int64(1)])
            }
        } throws: { error in
            "\(error)".contains("1 arguments for 2 placeholders")
        }
        #expect(try await index.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM sqlite_master WHERE name = 't'") } == 0,
                "the transaction rolled back")
    }
}
