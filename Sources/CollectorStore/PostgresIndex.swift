import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// The shared index for several collector replicas: PostgreSQL through postgres-nio's
/// connection pool.
///
/// Each transaction leases a connection and runs its body on a thread of NIO's blocking pool,
/// where every statement waits for its answer; the store's SQL is the same as on SQLite.
/// Write transactions that decide about one stream take a transaction-scoped advisory lock
/// on it, so two replicas never decide about the same stream at once.
public final class PostgresIndex: IndexDatabase {
    public let configuration: PostgresIndexConfiguration
    public var dialect: SQLDialect { .postgres }
    public var description: String { "PostgreSQL at \(configuration.host):\(configuration.port)/\(configuration.database)" }
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger

    public init(configuration: PostgresIndexConfiguration, logger: Logger = Logger(label: "mcp-recorder.index")) async throws {
        self.configuration = configuration
        self.logger = logger
        var clientConfiguration = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: try configuration.tls.postgres())
        clientConfiguration.options.maximumConnections = configuration.maximumConnections
        clientConfiguration.options.minimumConnections = 0
        // One connection first: a wrong address, password or certificate fails here at once, with
        // the reason (the pool would keep retrying in the background).
        let tlsConfiguration = try configuration.tls.niossl()
        do {
            let probe = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: configuration.host, port: configuration.port, username: configuration.username, password: configuration.password,
                    database: configuration.database, tls: try tlsConfiguration.map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable),
                id: 0, logger: logger)
            try await probe.close()
        } catch let error as PSQLError {
            let reason = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? "\(error.code)"
            throw IndexConfigurationError("cannot connect to the PostgreSQL index at \(configuration.host):\(configuration.port)/\(configuration.database): \(reason)")
        }
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            try await PostgresSchema.migrate(self)
        } catch {
            runner.cancel()
            throw error
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any IndexConnection) throws -> T) async throws -> T {
        try await transaction(readOnly: true, body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any IndexConnection) throws -> T) async throws -> T {
        try await transaction(readOnly: false, body)
    }

    /// Threads that wait for PostgreSQL's answers, one per transaction in flight. Not NIO's shared
    /// pool: that has one thread per core, which would let only that many transactions run at once
    /// while each mostly waits on the network.
    static let blockingPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    func transaction<T: Sendable>(readOnly: Bool, _ body: @escaping @Sendable (any IndexConnection) throws -> T) async throws -> T {
        let logger = self.logger
        return try await client.withConnection { connection in
            try await Self.blockingPool.runIfActive {
                let statements = PostgresBlockingConnection(connection: connection, logger: logger)
                try statements.execute(readOnly ? "BEGIN READ ONLY" : "BEGIN")
                do {
                    let result = try body(statements)
                    try statements.execute("COMMIT")
                    return result
                } catch {
                    _ = try? statements.execute("ROLLBACK")
                    throw error
                }
            }
        }
    }

    public func close() async {
        runner.cancel()
        _ = await runner.value
    }
}

/// Where the PostgreSQL index is and how to reach it (`--index-url postgres://…`).
public struct PostgresIndexConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var maximumConnections: Int

    public enum TLSMode: Sendable, Equatable {
        case disable
        /// `sslmode=require`: encrypted, the server's certificate not checked.
        case require
        /// `sslmode=verify-full`: the certificate must chain to these CAs (PEM file; `nil`: the system's) and name the host.
        case verifyFull(caFile: String?)
    }

    public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .disable, maximumConnections: Int = 16) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.maximumConnections = maximumConnections
    }

    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full&sslrootcert=FILE]`.
    /// The password can also come from a file (`passwordFile`), which wins.
    public static func parse(_ url: String, passwordFile: String? = nil, readFile: (String) throws -> [UInt8]) throws -> PostgresIndexConfiguration {
        guard let scheme = ["postgres://", "postgresql://"].first(where: url.hasPrefix) else {
            throw IndexConfigurationError("the index URL must start with postgres://, not \(url.prefix(16))…")
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var query: [String: String] = [:]
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                query[String(parts[0])] = parts.count > 1 ? percentDecoded(parts[1]) : ""
            }
            rest = rest[..<q]
        }
        guard let at = rest.lastIndex(of: "@") else { throw IndexConfigurationError("the index URL needs a user: postgres://USER@HOST/DATABASE") }
        let userInfo = rest[..<at]
        let hostPart = rest[rest.index(after: at)...]
        let userParts = userInfo.split(separator: ":", maxSplits: 1)
        guard let user = userParts.first.map(percentDecoded), !user.isEmpty else { throw IndexConfigurationError("the index URL needs a user") }
        var password = userParts.count > 1 ? percentDecoded(userParts[1]) : nil
        guard let slash = hostPart.firstIndex(of: "/") else { throw IndexConfigurationError("the index URL needs a database: postgres://USER@HOST/DATABASE") }
        let database = percentDecoded(hostPart[hostPart.index(after: slash)...])
        guard !database.isEmpty else { throw IndexConfigurationError("the index URL needs a database name after the host") }
        let authority = hostPart[..<slash]
        var host = String(authority)
        var port = 5432
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw IndexConfigurationError("the index URL's port is not a number from 1 to 65535")
            }
            port = p
            host = String(authority[..<colon])
        }
        host = String(host.trimming { $0 == "[" || $0 == "]" })
        guard !host.isEmpty else { throw IndexConfigurationError("the index URL needs a host") }
        if let passwordFile {
            password = String(String(decoding: try readFile(passwordFile), as: UTF8.self).trimming { " \n\r\t".contains($0) })
        }
        let tls: TLSMode
        switch query["sslmode"] ?? "verify-full" {
        case "disable": tls = .disable
        case "require": tls = .require
        case "verify-full": tls = .verifyFull(caFile: query["sslrootcert"])
        case let other: throw IndexConfigurationError("sslmode \(other) is not supported: use disable, require or verify-full")
        }
        return PostgresIndexConfiguration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    static func percentDecoded<S: StringProtocol>(_ text: S) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%"), utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

public struct IndexConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension PostgresIndexConfiguration.TLSMode {
    /// The TLS client configuration, or `nil` for a plain connection.
    func niossl() throws -> TLSConfiguration? {
        switch self {
        case .disable:
            return nil
        case .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return tls
        case .verifyFull(let caFile):
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let caFile {
                do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) } catch {
                    throw IndexConfigurationError("sslrootcert \(caFile): \(error)")
                }
            }
            return tls
        }
    }

    func postgres() throws -> PostgresClient.Configuration.TLS {
        try niossl().map { .require($0) } ?? .disable
    }
}

/// Statements on a leased connection, each waited for (only on a thread that may block).
struct PostgresBlockingConnection: IndexConnection {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    func rows(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        return try result.rows.map { row in
            var names: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                names.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return SQLRow(names: names, values: values)
        }
    }

    func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    func lockStream(_ stream: String) throws {
        _ = try run("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [stream])
    }

    func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let v): bindings.append(v)
            case .real(let v): bindings.append(v)
            case .text(let v): bindings.append(PostgresText.encode(v))
            }
        }
        let query = PostgresQuery(unsafeSQL: PostgresPlaceholders.numbered(sql), binds: bindings)
        let future: EventLoopFuture<PostgresQueryResult> = connection.query(query, logger: logger)
        do {
            return try future.wait()
        } catch let error as PSQLError {
            throw PostgresStatementError(error, sql: sql)
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric:
            let text = try cell.decode(String.self)
            if let v = Int64(text) { return .integer(v) }
            return .real(Double(text) ?? 0)
        default: return .text(PostgresText.decode(try cell.decode(String.self)))
        }
    }
}

/// PostgreSQL's text cannot hold U+0000, which recorded values (a token's claims, a grouping key's
/// separators) can: text is stored with U+0000 as U+E000 "0" and U+E000 itself doubled, and read
/// back exactly. Equality, prefixes and the order of ordinary text are unchanged.
enum PostgresText {
    static let escape: Unicode.Scalar = "\u{E000}"

    static func encode(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\u{0}" || $0 == escape }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\u{0}": out.append(escape); out.append("0")
            case escape: out.append(escape); out.append(escape)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    static func decode(_ text: String) -> String {
        guard text.unicodeScalars.contains(escape) else { return text }
        var out = String.UnicodeScalarView()
        var pending = false
        for scalar in text.unicodeScalars {
            if pending {
                out.append(scalar == "0" ? "\u{0}" : scalar)
                pending = false
            } else if scalar == escape {
                pending = true
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}

/// SQLite's placeholders in PostgreSQL's spelling: `?` → `$1`, `$2`, …; `?N` → `$N`; nothing
/// inside quoted literals or identifiers changes.
enum PostgresPlaceholders {
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quote: Character?
        var chars = Array(sql)[...]
        while let c = chars.popFirst() {
            if let q = quote {
                out.append(c)
                if c == q { quote = nil }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                out.append(c)
            case "?":
                var digits = ""
                while let d = chars.first, d.isASCII, d.isNumber {
                    digits.append(d)
                    chars = chars.dropFirst()
                }
                if digits.isEmpty {
                    out += "$\(next)"
                    next += 1
                } else {
                    out += "$" + digits
                }
            default:
                out.append(c)
            }
        }
        return out
    }
}

/// A statement PostgreSQL refused, or a connection that failed: the server's SQLSTATE and message
/// and the statement's beginning (never its arguments, which may be recorded values).
public struct PostgresStatementError: Error, CustomStringConvertible {
    public let sqlState: String?
    public let message: String
    public let statement: String

    init(_ error: PSQLError, sql: String) {
        sqlState = error.serverInfo?[.sqlState]
        message = error.serverInfo?[.message] ?? "\(error.code)"
        statement = String(sql.split(whereSeparator: \.isNewline).map { $0.trimmingPrefix(while: \.isWhitespace) }.joined(separator: " ").prefix(160))
    }

    public var description: String {
        "PostgreSQL\(sqlState.map { " \($0)" } ?? ""): \(message) (in: \(statement))"
    }
}


extension StringProtocol {
    /// Without the leading and trailing characters that match.
    func trimming(while matches: (Character) -> Bool) -> SubSequence {
        let start = firstIndex { !matches($0) } ?? endIndex
        let end = lastIndex { !matches($0) }.map(index(after:)) ?? start
        return self[start..<end]
    }
}
