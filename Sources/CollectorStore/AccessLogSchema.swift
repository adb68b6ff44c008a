import GRDB
import SegmentStore

/// The access log's own SQLite database (`access-log.sqlite` beside `index.sqlite`).
///
/// SQLite has one writer per database file, and a read that must be logged before it is served
/// would otherwise queue behind every ingest transaction in flight (a default page took 400 ms
/// instead of 2 ms while sidecars uploaded). With a file of its own, a read waits only for other
/// reads' log entries. On PostgreSQL the access log stays a table of the index: its writers do not
/// exclude each other.
enum AccessLogSchema {
    static let fileName = "access-log.sqlite"

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE access_log(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, subject TEXT NOT NULL, groups TEXT NOT NULL,
                    method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL);
                CREATE INDEX access_log_subject ON access_log(subject, id);
                """)
        }
        return migrator
    }

    /// Moves the entries an older collector wrote into the index's `access_log` table to the access
    /// log's database, keeping their ids (so their order), in batches. Each batch is copied, then
    /// deleted from the index: a collector stopped in between copies it again, and the copy ignores
    /// ids it has.
    static func moveEntries(from index: any IndexDatabase, to accessLog: any IndexDatabase, batch: Int = 10_000) async throws {
        while true {
            let rows = try await index.read { db in
                try db.rows("SELECT id, time, subject, groups, method, path, status FROM access_log ORDER BY id LIMIT \(batch)")
            }
            guard let last = rows.last else { return }
            try await accessLog.write { db in
                for row in rows {
                    try db.execute("""
                        INSERT INTO access_log(id, time, subject, groups, method, path, status) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """, SQLArguments(row.values))
                }
            }
            let through: Int64 = last["id"]
            try await index.write { db in try db.execute("DELETE FROM access_log WHERE id <= ?", [through]) }
        }
    }
}

extension SQLiteIndex {
    /// The access log's database beside the SQLite index at `indexPath` (created if need be), with the
    /// entries an older collector wrote into `index` moved into it.
    public static func accessLog(besideIndexAt indexPath: String, movingEntriesFrom index: SQLiteIndex? = nil) async throws -> SQLiteIndex {
        let accessLog = try await SQLiteIndex(path: accessLogPath(besideIndexAt: indexPath), schema: AccessLogSchema.migrator())
        if let index { try await AccessLogSchema.moveEntries(from: index, to: accessLog) }
        return accessLog
    }

    /// Where ``accessLog(besideIndexAt:movingEntriesFrom:)`` keeps it.
    public static func accessLogPath(besideIndexAt indexPath: String) -> String {
        FileSystem.join(FileSystem.parent(of: indexPath), AccessLogSchema.fileName)
    }
}
