import CollectorCore
import RecorderJSON
import SegmentFormat
import Testing

@Suite struct CoverageTests {
    static let now = RecordTime(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
    static func ago(_ seconds: Int64) -> RecordTime { RecordTime(nanosecondsSinceEpoch: now.nanosecondsSinceEpoch - seconds * 1_000_000_000) }

    static func deployment(_ name: String, annotation: String? = nil, templateLabel: String? = nil) -> JSONValue {
        var metadata: [JSONMember] = [JSONMember("name", .string(name)), JSONMember("namespace", "team-a")]
        if let annotation { metadata.append(JSONMember("annotations", .object([JSONMember("mcp-recorder.io/inject", .string(annotation))]))) }
        var templateLabels: [JSONMember] = [JSONMember("app", .string(name))]
        if let templateLabel { templateLabels.append(JSONMember("mcp-recorder.io/inject", .string(templateLabel))) }
        return .object([
            JSONMember("metadata", .object(metadata)),
            JSONMember("spec", .object([
                JSONMember("selector", ["matchLabels": ["app": .string(name)]]),
                JSONMember("template", .object([JSONMember("metadata", .object([JSONMember("labels", .object(templateLabels))]))])),
            ])),
        ])
    }

    static func pod(_ name: String, app: String, uid: String, injected: Bool, label: Bool = false, phase: String = "Running") -> JSONValue {
        var labels: [JSONMember] = [JSONMember("app", .string(app))]
        if label { labels.append(JSONMember("mcp-recorder.io/inject", "true")) }
        var annotations: [JSONMember] = []
        if injected { annotations.append(JSONMember("mcp-recorder.io/status", #"{"version":1,"mode":"redirect","port":8080}"#)) }
        return .object([
            JSONMember("metadata", .object([JSONMember("name", .string(name)), JSONMember("namespace", "team-a"), JSONMember("uid", .string(uid)),
                                            JSONMember("labels", .object(labels)), JSONMember("annotations", .object(annotations))])),
            JSONMember("status", .object([JSONMember("phase", .string(phase)), JSONMember("podIP", "10.0.0.7")])),
        ])
    }

    @Test func eachPodThatShouldBeRecordedGetsAVerdictWithAReason() throws {
        let workloads = [
            Coverage.Workload.from(Self.deployment("weather", annotation: "true"), kind: "Deployment")!,
            Coverage.Workload.from(Self.deployment("billing", templateLabel: "true"), kind: "Deployment")!,
            Coverage.Workload.from(Self.deployment("plain"), kind: "Deployment")!,
        ]
        let pods = [
            Self.pod("weather-1", app: "weather", uid: "u1", injected: true),   // recording
            Self.pod("weather-2", app: "weather", uid: "u2", injected: false),  // workload opted in, pod not injected
            Self.pod("billing-1", app: "billing", uid: "u3", injected: true, label: true),  // stopped shipping
            Self.pod("billing-2", app: "billing", uid: "u4", injected: true, label: true),  // chain gaps
            Self.pod("billing-3", app: "billing", uid: "u5", injected: true, label: true),  // never heard of
            Self.pod("plain-1", app: "plain", uid: "u6", injected: false),                  // not opted in: not listed
            Self.pod("weather-3", app: "weather", uid: "u7", injected: false, phase: "Pending"),
        ].compactMap(Coverage.Pod.from)
        let streams = [
            Coverage.Stream(stream: "team-a.weather-1.u1", namespace: "team-a", pod: "weather-1", podUID: "u1", lastSegmentAt: Self.ago(300), lastHeartbeatAt: Self.ago(5)),
            Coverage.Stream(stream: "team-a.billing-1.u3", namespace: "team-a", pod: "billing-1", podUID: "u3", lastSegmentAt: Self.ago(400), lastHeartbeatAt: nil),
            Coverage.Stream(stream: "team-a.billing-2.u4", namespace: "team-a", pod: "billing-2", podUID: "u4", lastSegmentAt: Self.ago(2), lastHeartbeatAt: nil,
                            integrityEvents: 1, lastIntegrityEvent: "chain_broken: segment 4 does not follow segment 2"),
            // An older pod of the same name (another UID) is not this pod.
            Coverage.Stream(stream: "team-a.weather-2.zz", namespace: "team-a", pod: "weather-2", podUID: "zz", lastSegmentAt: Self.ago(1), lastHeartbeatAt: nil),
        ]
        let verdicts = Coverage.assess(workloads: workloads, pods: pods, streams: streams, now: Self.now, staleAfterSeconds: 60)
        let byPod = Dictionary(uniqueKeysWithValues: verdicts.map { ($0.pod, $0) })
        #expect(verdicts.map(\.pod) == ["billing-1", "billing-2", "billing-3", "weather-1", "weather-2", "weather-3"])
        #expect(byPod["weather-1"]?.state == .recording && byPod["weather-1"]?.stream == "team-a.weather-1.u1")
        #expect(byPod["weather-2"]?.state == .notInjected && byPod["weather-2"]?.workload == "Deployment/weather")
        #expect(byPod["weather-2"]?.reason.contains("webhook was down") == true)
        #expect(byPod["billing-1"]?.state == .notShipping && byPod["billing-1"]?.reason.contains("for 400 s") == true)
        #expect(byPod["billing-2"]?.state == .chainGaps && byPod["billing-2"]?.reason.contains("chain_broken") == true)
        #expect(byPod["billing-3"]?.state == .notShipping && byPod["billing-3"]?.reason.contains("never heard") == true)
        #expect(byPod["weather-3"]?.state == .notRunning && byPod["weather-3"]?.state.isProblem == false)
    }

    @Test func anOptOutWinsAndSelectorsFollowKubernetes() throws {
        let optedOut = Coverage.Workload.from(Self.deployment("x", annotation: "true", templateLabel: "false"), kind: "Deployment")!
        #expect(!optedOut.optedIn)
        let selector = try #require(LabelSelector(json: try JSONParser.parse(#"""
            {"matchLabels": {"app": "a"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]},
             {"key": "canary", "operator": "DoesNotExist"}, {"key": "env", "operator": "NotIn", "values": ["dev"]}]}
            """#)))
        #expect(selector.matches(["app": "a", "tier": "api"]))
        #expect(!selector.matches(["app": "a", "tier": "db"]))
        #expect(!selector.matches(["app": "a", "tier": "api", "canary": "1"]))
        #expect(!selector.matches(["app": "a", "tier": "api", "env": "dev"]))
        #expect(!(LabelSelector(json: .object([]))!.matches(["app": "a"])), "an empty selector selects nothing")
    }
}

@Suite struct BypassCheckTests {
    @Test func whatIsProbedFollowsTheInjectionMode() throws {
        let redirect = BypassCheck.targets(injection: try JSONParser.parse(#"{"mode": "redirect", "port": 8080, "listen": 15001, "upstream": 8080}"#))
        #expect(redirect.map(\.port) == [8080] && redirect.map(\.expectation) == [.recorder])
        let moved = BypassCheck.targets(injection: try JSONParser.parse(#"{"mode": "port-move", "port": 8080, "listen": 8080, "upstream": 15002}"#))
        #expect(moved.map(\.port) == [8080, 15002] && moved.map(\.expectation) == [.recorder, .closed])
        #expect(BypassCheck.targets(injection: ["mode": "sideways"]).isEmpty)
    }

    @Test func theVerdictNamesTheWayAroundTheRecorder() throws {
        let moved = BypassCheck.targets(injection: try JSONParser.parse(#"{"mode": "port-move", "port": 8080, "listen": 8080, "upstream": 15002}"#))
        #expect(BypassCheck.verdict([(moved[0], .recorderAnswered), (moved[1], .refused)]).state == .recorded)
        let open = BypassCheck.verdict([(moved[0], .recorderAnswered), (moved[1], .otherAnswered(200))])
        #expect(open.state == .bypassable && open.detail.contains("moved port 15002 answers from outside the pod"))
        let redirect = BypassCheck.targets(injection: try JSONParser.parse(#"{"mode": "redirect", "port": 8080}"#))
        let missing = BypassCheck.verdict([(redirect[0], .otherAnswered(404))])
        #expect(missing.state == .bypassable && missing.detail.contains("the redirect is not in place"))
        #expect(BypassCheck.verdict([(redirect[0], .failed("timed out"))]).state == .unchecked)
        #expect(BypassCheck.verdict([]).state == .unchecked)
    }
}
