import CollectorCore
import RecorderJSON
import SegmentFormat
import CollectorTestFixtures
import Testing

private func parsePolicy(_ text: String) throws(AccessConfigError) -> AccessPolicy {
    try AccessPolicy.parse(Array(text.utf8))
}

@Suite struct AccessPolicyTests {
    @Test func parsesTheDocumentedExample() throws {
        let policy = try parsePolicy(#"{"groups": {"team-a-security": ["team-a"], "auditors": ["*"]}, "admin_groups": ["mcp-recorder-admins"]}"#)
        #expect(policy.groups == ["team-a-security": ["team-a"], "auditors": ["*"]])
        #expect(policy.adminGroups == ["mcp-recorder-admins"])
    }

    @Test func refusesMalformedConfigs() {
        let bad: [(String, String)] = [
            ("not json", "not JSON"),
            ("[]", "JSON object"),
            (#"{"groups": ["team-a"]}"#, "\"groups\""),
            (#"{"groups": {"g": "team-a"}}"#, "group \"g\""),
            (#"{"groups": {"g": ["team-a", 3]}}"#, "group \"g\""),
            (#"{"admin_groups": "admins"}"#, "admin_groups"),
            (#"{"admin_groups": [null]}"#, "admin_groups"),
            (#"{"groups": {}, "admins": ["x"]}"#, "unknown key \"admins\""),
        ]
        for (text, fragment) in bad {
            do {
                _ = try parsePolicy(text)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.contains(fragment), "\(text): \(error)")
            }
        }
    }

    @Test func readersGetTheNamespacesOfTheirGroups() throws {
        let policy = try parsePolicy(#"{"groups": {"team-a-security": ["team-a"], "team-b-security": ["team-b", "team-b2"], "auditors": ["*"]}, "admin_groups": ["mcp-recorder-admins"]}"#)
        let a = policy.reader(subject: "alice", groups: ["team-a-security", "unrelated"])
        #expect(a.scope == .namespaces(["team-a"]))
        #expect(!a.admin)
        #expect(a.mayRead(namespace: "team-a"))
        #expect(!a.mayRead(namespace: "team-b"))
        #expect(!a.mayRead(namespace: nil))
        let ab = policy.reader(subject: "x", groups: ["team-a-security", "team-b-security"])
        #expect(ab.scope == .namespaces(["team-a", "team-b", "team-b2"]))
        let auditor = policy.reader(subject: "audrey", groups: ["auditors"])
        #expect(auditor.scope == .all)
        #expect(!auditor.admin)
        #expect(auditor.mayRead(namespace: nil))
        let admin = policy.reader(subject: "root", groups: ["mcp-recorder-admins"])
        #expect(admin.admin)
        #expect(admin.scope == .all)
        let nobody = policy.reader(subject: "eve", groups: [])
        #expect(nobody.scope == .namespaces([]))
        #expect(!nobody.mayRead(namespace: "team-a"))
        #expect(Reader.administrator().admin)
        #expect(Reader.administrator().scope == .all)
    }
}

@Suite struct SessionQueryTests {
    @Test func parsesEveryFilter() throws {
        let q = try SessionQuery.parse([
            ("namespace", "team-a"), ("pod", "weather-1"), ("subject", "alice"), ("mcp_session", "s1"), ("tool", "add"),
            ("client", "mcp/2.3.0"), ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"), ("since", "2026-11-25T10:00:00Z"), ("until", "2026-11-25T11:00:00.5+01:00"), ("has_error", "true"), ("limit", "500"),
        ]).get()
        #expect(q.namespace == "team-a")
        #expect(q.pod == "weather-1")
        #expect(q.subject == "alice")
        #expect(q.mcpSession == "s1")
        #expect(q.tool == "add")
        #expect(q.client == "mcp/2.3.0")
        #expect(q.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(q.since == FixtureTime.t0)
        #expect(q.until == FixtureTime.at("2026-11-25T10:00:00.500000Z"))
        #expect(q.hasError == true)
        #expect(q.limit == 500)
        #expect(try SessionQuery.parse([]).get() == SessionQuery())
        #expect(SessionQuery().limit == 50)
        #expect(try SessionQuery.parse([("has_error", "false")]).get().hasError == false)
    }

    @Test func refusesBadValuesAndUnknownParameters() {
        for (name, value) in [
            ("since", "yesterday"), ("until", "2026-13-01T00:00:00Z"), ("since", "1764064800"),
            ("limit", "0"), ("limit", "501"), ("limit", "-1"), ("limit", "ten"),
            ("has_error", "yes"), ("cursor", "garbage"), ("cursor", "12.XYZ"), ("cursor", "abc.0123"), ("cursor", "5."),
            ("namespaces", "team-a"), ("Tool", "add"), ("", ""),
            ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"), ("trace_id", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        ] {
            guard case .failure(let error) = SessionQuery.parse([(name, value)]) else {
                Issue.record("accepted \(name)=\(value)")
                continue
            }
            #expect(!error.message.isEmpty)
        }
        if case .failure(let error) = SessionQuery.parse([("namespce", "x")]) {
            #expect(error.message.contains("namespce"))
        }
    }

    @Test func cursorsRoundTrip() throws {
        let cursor = SessionQuery.Cursor(lastTime: FixtureTime.t0.nanosecondsSinceEpoch, id: "0123456789abcdef0123456789abcdef")
        #expect(SessionQuery.Cursor(token: cursor.token) == cursor)
        let q = try SessionQuery.parse([("cursor", cursor.token)]).get()
        #expect(q.after == cursor)
        let negative = SessionQuery.Cursor(lastTime: -5, id: "ab")
        #expect(SessionQuery.Cursor(token: negative.token) == negative)
    }

    @Test func sessionIDs() {
        let id = SessionID.make(stream: "team-a.weather", key: SessionID.key(mcpSession: "s1", conn: "c1"))
        #expect(SessionID.isValid(id))
        #expect(id.count == 32)
        #expect(id == SessionID.make(stream: "team-a.weather", key: "mcp:s1"))
        #expect(id != SessionID.make(stream: "team-a.other", key: "mcp:s1"))
        #expect(SessionID.key(mcpSession: nil, conn: "c9") == "conn:c9")
        #expect(!SessionID.isValid(id.uppercased()))
        #expect(!SessionID.isValid("../../etc/passwd"))
        #expect(!SessionID.isValid(String(id.dropLast())))
    }
}

@Suite struct RetentionPeriodTests {
    @Test func parsesUnits() {
        #expect(RetentionPeriod.parse("90d") == Int64(7_776_000))
        #expect(RetentionPeriod.parse("12h") == Int64(43_200))
        #expect(RetentionPeriod.parse("30m") == 1_800)
        #expect(RetentionPeriod.parse("3600s") == 3_600)
    }

    @Test func refusesNonsense() {
        for text in ["", "d", "90", "0d", "-1d", "1.5d", "90 d", "90D", "1w", "abc", "9223372036854775807d", "200000000000000d"] {
            #expect(RetentionPeriod.parse(text) == nil, "\(text)")
        }
    }
}

@Suite struct IngestIdentityTests {
    let header = SegmentHeader(stream: "team-a.weather-7d9f-abcde", segment: 1, firstSeq: 1, previousSHA256: nil, time: FixtureTime.t0,
                               writer: "mcp-recorder 0.1.0", pod: PodIdentity(namespace: "team-a", name: "weather-7d9f-abcde", serviceAccount: "weather"))

    @Test func serviceAccountUsernames() throws {
        let plain = try #require(IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: nil, podUID: nil))
        #expect(plain.owner == "system:serviceaccount:team-a:weather")
        #expect(plain.namespace == "team-a")
        #expect(plain.serviceAccount == "weather")
        #expect(plain.podName == nil)
        let bound = try #require(IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-7d9f-abcde", podUID: "uid-1"))
        #expect(bound.owner == "system:serviceaccount:team-a:weather/pod/weather-7d9f-abcde")
        #expect(bound.podUID == "uid-1")
        for bad in ["alice", "system:serviceaccount:team-a", "system:serviceaccount::weather", "system:serviceaccount:team-a:", "system:node:node-1:x",
                    "system:serviceaccount:a:b:c", "kube:serviceaccount:team-a:weather"] {
            #expect(IngestIdentity.serviceAccount(username: bad, podName: nil, podUID: nil) == nil, "\(bad)")
        }
    }

    @Test func aPodMayOnlyWriteSegmentsThatNameIt() throws {
        let bound = try #require(IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: "weather-7d9f-abcde", podUID: nil))
        #expect(bound.refusal(for: header) == nil)
        #expect(IngestIdentity.staticToken.refusal(for: header) == nil)

        var otherNamespace = header
        otherNamespace.pod.namespace = "team-b"
        #expect(bound.refusal(for: otherNamespace)?.contains("namespace") == true)
        var noNamespace = header
        noNamespace.pod.namespace = nil
        #expect(bound.refusal(for: noNamespace) != nil)
        var otherSA = header
        otherSA.pod.serviceAccount = "billing"
        #expect(bound.refusal(for: otherSA)?.contains("service account") == true)
        var otherPod = header
        otherPod.pod.name = "weather-7d9f-zzzzz"
        #expect(bound.refusal(for: otherPod)?.contains("pod") == true)
        // A token that is not pod-bound does not check the pod name.
        let unbound = try #require(IngestIdentity.serviceAccount(username: "system:serviceaccount:team-a:weather", podName: nil, podUID: nil))
        #expect(unbound.refusal(for: otherPod) == nil)
        #expect(unbound.refusal(for: otherSA) != nil)
    }
}
