import GRDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SegmentStore

/// The embedded index: SQLite through GRDB, WAL, every commit synced. (Also the access log's
/// database of its own, with ``AccessLogSchema``.)
public final class SQLiteIndex: IndexDatabase {
    public let path: String
    public var dialect: SQLDialect { .sqlite }
    public var description: String { "SQLite at \(path)" }
    let pool: DatabasePool

    public convenience init(path: String) async throws {
        try await self.init(path: path, schema: IndexSchema.migrator())
    }

    init(path: String, schema: DatabaseMigrator) async throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // A 201 promises the segment survives a power failure: every commit is synced (GRDB's
        // WAL default, NORMAL, syncs only at checkpoints, and reconciliation would then delete a
        // stored blob whose row was lost while the sidecar has already deleted its copy).
        pool = try DatabasePool(path: path, configuration: configuration)
        // (On the pool's one writer connection, after GRDB's own WAL setup, which sets NORMAL.)
        try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try schema.migrate(pool)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any IndexConnection) throws -> T) async throws -> T {
        try await pool.read { db in try body(GRDBConnection(db: db)) }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any IndexConnection) throws -> T) async throws -> T {
        try await pool.write { db in try body(GRDBConnection(db: db, cachesStatements: true)) }
    }

    public func close() async {
        try? pool.close()
    }
}

struct GRDBConnection: IndexConnection {
    let db: Database
    /// Whether statements are compiled once per connection and reused (the writer's: ingest runs
    /// the same few dozen statements for every segment, and compiling them was 29 % of its CPU).
    /// Readers compile each time: their SQL varies with the query's filters and page size.
    var cachesStatements = false
    var dialect: SQLDialect { .sqlite }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        let rows: [Row]
        if let statement = try cachedStatement(sql) {
            rows = try Row.fetchAll(statement, arguments: Self.arguments(arguments))
        } else {
            rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))
        }
        return rows.map { row in
            SQLRow(names: Array(row.columnNames), values: row.databaseValues.map(Self.value))
        }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        if let statement = try cachedStatement(sql) {
            try statement.execute(arguments: Self.arguments(arguments))
        } else {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
        }
        return db.changesCount
    }

    /// The connection's compiled statement for `sql`, or `nil` when statements are not cached
    /// here or `sql` may hold several statements (GRDB compiles only one; `execute(sql:)` runs all).
    private func cachedStatement(_ sql: String) throws -> Statement? {
        guard cachesStatements, !Self.mayHoldSeveralStatements(sql) else { return nil }
        return try db.cachedStatement(sql: sql)
    }

    func lockStream(_ stream: String) throws {}

    /// Whether `sql` has a `;` (memchr: this runs for every statement the writer executes).
    static func mayHoldSeveralStatements(_ sql: String) -> Bool {
        var sql = sql
        return sql.withUTF8 { utf8 in utf8.baseAddress.map { memchr($0, Int32(UInt8(ascii: ";")), utf8.count) != nil } ?? false }
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        // Through GRDB's initializer for optional existentials: the one for a sequence of concrete
        // values maps with a key path, which the runtime resolves for every statement (8 % of
        // ingest CPU).
        StatementArguments(arguments.values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .integer(let v): v
            case .real(let v): v
            case .text(let v): v
            }
        })
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let v): .integer(v)
        case .double(let v): .real(v)
        case .string(let v): .text(v)
        case .blob(let data): .text(String(decoding: data, as: UTF8.self))
        }
    }
}
