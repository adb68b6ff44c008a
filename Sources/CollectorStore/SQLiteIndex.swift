import GRDB
import GRDBSQLite
import RecorderJSON
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
            try Self.bind(arguments, to: statement)
            rows = try Row.fetchAll(statement)
        } else {
            rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments))
        }
        return rows.map { row in
            SQLRow(names: Array(row.columnNames), values: row.databaseValues.map(Self.value))
        }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        if let statement = try cachedStatement(sql) {
            try Self.bind(arguments, to: statement)
            try statement.execute()
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

    /// Binds the arguments of a cached statement with SQLite's own calls. GRDB's way (an
    /// existential per value, then a recursive generic binding per execution) was 5 % of ingest.
    /// GRDB is told the statement is bound (with no arguments of its own), so it resets it before
    /// stepping and keeps these bindings; text is copied by SQLite (`SQLITE_TRANSIENT`).
    static func bind(_ arguments: SQLArguments, to statement: Statement) throws {
        statement.setUncheckedArguments(StatementArguments())
        let handle = statement.sqliteStatement
        guard Int(sqlite3_bind_parameter_count(handle)) == arguments.values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE,
                                message: "\(arguments.values.count) arguments for \(sqlite3_bind_parameter_count(handle)) placeholders", sql: statement.sql)
        }
        for (i, value) in arguments.values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let v): code = sqlite3_bind_int64(handle, index, v)
            case .real(let v): code = sqlite3_bind_double(handle, index, v)
            case .text(var v):
                // SQLite copies the text before the call returns (SQLITE_TRANSIENT).
                let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
                if v.isEmpty {
                    code = sqlite3_bind_text(handle, index, "", 0, transient)  // '' (a null pointer would bind NULL)
                } else {
                    code = v.withUTF8 { utf8 in
                        utf8.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient) }
                    }
                }
            }
            guard code == SQLITE_OK else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding argument \(index)", sql: statement.sql)
            }
        }
    }

    /// Whether `sql` has a `;` (memchr: this runs for every statement the writer executes).
    static func mayHoldSeveralStatements(_ sql: String) -> Bool {
        var sql = sql
        return sql.withUTF8 { $0.firstIndex(of: UInt8(ascii: ";"), from: 0) != nil }
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
