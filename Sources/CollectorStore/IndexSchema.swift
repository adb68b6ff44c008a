import GRDB


/// The SQLite index: streams and their segments, integrity events, MCP sessions with
/// their HTTP exchanges and JSON-RPC calls, the access log, and tool calls held for approval. Times are nanoseconds since the epoch.
enum IndexSchema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE streams(
                    stream TEXT PRIMARY KEY, namespace TEXT, pod TEXT, pod_uid TEXT, service_account TEXT,
                    owner TEXT NOT NULL, created_at INTEGER NOT NULL);
                CREATE TABLE segments(
                    stream TEXT NOT NULL, segment INTEGER NOT NULL, sha256 TEXT NOT NULL, prev_sha256 TEXT,
                    bytes INTEGER NOT NULL, records INTEGER NOT NULL, first_seq INTEGER, last_seq INTEGER,
                    first_time INTEGER, last_time INTEGER, received_at INTEGER NOT NULL, file TEXT NOT NULL,
                    PRIMARY KEY(stream, segment));
                CREATE TABLE integrity_events(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, stream TEXT NOT NULL,
                    segment INTEGER, kind TEXT NOT NULL, message TEXT NOT NULL);
                CREATE INDEX integrity_events_stream ON integrity_events(stream, id);
                CREATE TABLE sessions(
                    id TEXT PRIMARY KEY, stream TEXT NOT NULL, session_key TEXT NOT NULL, mcp_session TEXT,
                    namespace TEXT, pod TEXT, first_time INTEGER NOT NULL, last_time INTEGER NOT NULL,
                    exchanges INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0,
                    tool_calls INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
                    legal_hold INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX sessions_recent ON sessions(last_time DESC, id DESC);
                CREATE INDEX sessions_namespace ON sessions(namespace, last_time DESC);
                CREATE INDEX sessions_mcp ON sessions(mcp_session);
                CREATE TABLE session_subjects(session_id TEXT NOT NULL, subject TEXT NOT NULL, PRIMARY KEY(session_id, subject));
                CREATE INDEX session_subjects_subject ON session_subjects(subject);
                CREATE TABLE session_segments(session_id TEXT NOT NULL, stream TEXT NOT NULL, segment INTEGER NOT NULL,
                    PRIMARY KEY(session_id, stream, segment));
                CREATE INDEX session_segments_segment ON session_segments(stream, segment);
                CREATE TABLE exchanges(
                    stream TEXT NOT NULL, conn TEXT NOT NULL, exchange INTEGER NOT NULL, session_id TEXT NOT NULL,
                    first_seq INTEGER NOT NULL, request_time INTEGER, method TEXT, target TEXT, subject TEXT, identity TEXT,
                    response_time INTEGER, status INTEGER, end_time INTEGER, incomplete INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY(stream, conn, exchange));
                CREATE INDEX exchanges_session ON exchanges(session_id, first_seq);
                CREATE TABLE calls(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, stream TEXT NOT NULL,
                    conn TEXT NOT NULL, exchange INTEGER NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL,
                    rpc_id TEXT, method TEXT, tool TEXT, request TEXT, subject TEXT,
                    response_seq INTEGER, response_time INTEGER, response TEXT, error_code INTEGER, error_message TEXT,
                    is_error INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX calls_session ON calls(session_id, seq);
                CREATE INDEX calls_tool ON calls(tool, session_id);
                CREATE INDEX calls_pending ON calls(stream, rpc_id) WHERE response_seq IS NULL;
                CREATE TABLE access_log(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, subject TEXT NOT NULL, groups TEXT NOT NULL,
                    method TEXT NOT NULL, path TEXT NOT NULL, status INTEGER NOT NULL);
                CREATE INDEX access_log_subject ON access_log(subject, id);
                """)
        }
        migrator.registerMigration("v2: segments expired by retention keep their row") { db in
            // The row (number, SHA-256, last seq) is the stream's chain watermark: without it the next
            // upload after retention would look like it follows missing segments.
            try db.execute(sql: "ALTER TABLE segments ADD COLUMN expired INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v3: sessions without an MCP session id are grouped by caller, client and trace") { db in
            // Sessions indexed before keep `grouping` NULL: they were grouped by connection.
            try db.execute(sql: """
                ALTER TABLE sessions ADD COLUMN grouping TEXT;
                ALTER TABLE sessions ADD COLUMN caller TEXT;
                ALTER TABLE sessions ADD COLUMN client TEXT;
                ALTER TABLE sessions ADD COLUMN trace_id TEXT;
                UPDATE sessions SET grouping = 'mcp_session' WHERE session_key LIKE 'mcp:%';
                CREATE INDEX sessions_caller ON sessions(stream, caller, last_time DESC) WHERE grouping IN ('caller', 'trace');
                CREATE TABLE connections(stream TEXT NOT NULL, conn TEXT NOT NULL, peer TEXT, open_time INTEGER,
                    PRIMARY KEY(stream, conn));
                """)
        }
        migrator.registerMigration("v4: tool calls held for approval") { db in
            try db.execute(sql: """
                CREATE TABLE approvals(
                    id TEXT PRIMARY KEY, stream TEXT NOT NULL, instance TEXT NOT NULL, namespace TEXT, pod TEXT,
                    conn TEXT NOT NULL, exchange INTEGER NOT NULL, mcp_session TEXT, caller TEXT, tool TEXT NOT NULL,
                    rpc_id TEXT, rule TEXT NOT NULL, arguments TEXT, requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
                    state TEXT NOT NULL, decided_by TEXT, decided_at INTEGER, reason TEXT);
                CREATE INDEX approvals_state ON approvals(state, requested_at DESC);
                CREATE INDEX approvals_stream ON approvals(stream, state);
                CREATE TABLE approval_events(
                    stream TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, conn TEXT NOT NULL, exchange INTEGER NOT NULL,
                    approval TEXT NOT NULL, state TEXT NOT NULL, tool TEXT NOT NULL, rule TEXT NOT NULL, rpc_id TEXT,
                    decided_by TEXT, reason TEXT, forwarded INTEGER, timeout_seconds INTEGER, PRIMARY KEY(stream, seq));
                CREATE INDEX approval_events_exchange ON approval_events(stream, conn, exchange);
                """)
        }
        migrator.registerMigration("v5: sidecar heartbeats") { db in
            try db.execute(sql: """
                CREATE TABLE heartbeats(
                    stream TEXT PRIMARY KEY, instance TEXT NOT NULL, namespace TEXT, pod TEXT, pod_uid TEXT, detail TEXT,
                    received_at INTEGER NOT NULL);
                """)
        }
        migrator.registerMigration("v6: stream heads told by sidecars") { db in
            try db.execute(sql: StoreHeads.schema(integer: "INTEGER"))
        }
        migrator.registerMigration("v7: sidecar signing keys") { db in
            try db.execute(sql: StoreKeys.schema(integer: "INTEGER"))
        }
        migrator.registerMigration("v8: the Merkle log of stored segments and its checkpoints") { db in
            try db.execute(sql: StoreCheckpoints.schema(integer: "INTEGER"))
        }
        return migrator
    }
}
