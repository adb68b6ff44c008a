import CollectorCore
import Identity
import SegmentFormat

/// Signed-in browsers and sign-ins in progress, held server-side in memory.
///
/// The browser holds only a random session id in an `HttpOnly` cookie; the store keeps its
/// SHA-256, the ``Reader`` it signed in as and the CSRF token its forms must carry. A session
/// ends at sign-out, after ``lifetime`` from sign-in, or after ``idleTimeout`` without a request.
/// A collector restart signs everyone out.
public actor WebSessionStore {
    public struct Session: Sendable, Equatable {
        public var reader: Reader
        /// Every state-changing request of this session must carry it (form field `csrf`).
        public var csrfToken: String
        var created: ContinuousClock.Instant
        var lastSeen: ContinuousClock.Instant
    }

    public let lifetime: Duration
    public let idleTimeout: Duration
    /// Sign-ins started at the identity provider but not finished are dropped after this.
    public static let signInTimeout: Duration = .seconds(600)
    static let maximumSessions = 10_000
    static let maximumPendingSignIns = 10_000

    private var sessions: [String: Session] = [:]
    private var pending: [String: (signIn: AuthorizationCodeFlow.PendingSignIn, started: ContinuousClock.Instant)] = [:]
    private let clock: @Sendable () -> ContinuousClock.Instant

    public init(lifetime: Duration = .seconds(8 * 3600), idleTimeout: Duration = .seconds(3600),
                clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.lifetime = lifetime
        self.idleTimeout = idleTimeout
        self.clock = clock
    }

    /// Starts a session; returns the cookie value (the session id) and the session.
    public func create(reader: Reader) -> (cookie: String, session: Session) {
        let now = clock()
        prune(now)
        if sessions.count >= Self.maximumSessions, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            sessions[oldest] = nil
        }
        let id = AuthorizationCodeFlow.randomToken()
        let session = Session(reader: reader, csrfToken: AuthorizationCodeFlow.randomToken(), created: now, lastSeen: now)
        sessions[Self.key(id)] = session
        return (id, session)
    }

    /// The live session of a cookie value (and it is seen now), or `nil`.
    public func session(cookie: String) -> Session? {
        let key = Self.key(cookie)
        guard var session = sessions[key] else { return nil }
        let now = clock()
        guard !expired(session, now) else {
            sessions[key] = nil
            return nil
        }
        session.lastSeen = now
        sessions[key] = session
        return session
    }

    public func end(cookie: String) {
        sessions[Self.key(cookie)] = nil
    }

    /// Remembers a sign-in sent to the identity provider, under its `state`.
    public func begin(_ signIn: AuthorizationCodeFlow.PendingSignIn) {
        let now = clock()
        pending = pending.filter { now - $0.value.started < Self.signInTimeout }
        if pending.count >= Self.maximumPendingSignIns, let oldest = pending.min(by: { $0.value.started < $1.value.started })?.key {
            pending[oldest] = nil
        }
        pending[signIn.state] = (signIn, now)
    }

    /// The sign-in of `state`, once: a replayed callback finds nothing.
    public func finish(state: String) -> AuthorizationCodeFlow.PendingSignIn? {
        guard let entry = pending.removeValue(forKey: state), clock() - entry.started < Self.signInTimeout else { return nil }
        return entry.signIn
    }

    var count: Int { sessions.count }

    private func expired(_ session: Session, _ now: ContinuousClock.Instant) -> Bool {
        now - session.created >= lifetime || now - session.lastSeen >= idleTimeout
    }

    private func prune(_ now: ContinuousClock.Instant) {
        sessions = sessions.filter { !expired($0.value, now) }
    }

    static func key(_ cookie: String) -> String {
        SegmentHash.hex(Array(cookie.utf8))
    }
}
