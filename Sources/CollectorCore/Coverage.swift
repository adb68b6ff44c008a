import RecorderJSON
import SegmentFormat

/// What should be recorded against what is: the opted-in workloads and pods the Kubernetes
/// API knows, and the streams and heartbeats the collector has from them. Pure: the
/// observations come in, one verdict per pod goes out.
public enum Coverage {
    /// An opted-in-or-not Deployment or StatefulSet.
    public struct Workload: Sendable, Equatable {
        public var kind: String
        public var namespace: String
        public var name: String
        public var optedIn: Bool
        public var selector: LabelSelector?

        public init(kind: String, namespace: String, name: String, optedIn: Bool, selector: LabelSelector?) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.optedIn = optedIn
            self.selector = selector
        }

        /// From a Deployment or StatefulSet object: opted in by its annotation, or its template's label or annotation
        /// (`"false"` anywhere opts out).
        public static func from(_ object: JSONValue, kind: String) -> Workload? {
            guard let namespace = object["metadata"]?["namespace"]?.stringValue, let name = object["metadata"]?["name"]?.stringValue else { return nil }
            let values = [
                object["metadata"]?["annotations"]?[Coverage.injectKey], object["spec"]?["template"]?["metadata"]?["labels"]?[Coverage.injectKey],
                object["spec"]?["template"]?["metadata"]?["annotations"]?[Coverage.injectKey],
            ].compactMap { $0?.stringValue }
            return Workload(kind: kind, namespace: namespace, name: name, optedIn: values.contains("true") && !values.contains("false"),
                            selector: object["spec"]?["selector"].flatMap(LabelSelector.init(json:)))
        }
    }

    /// A pod as the API server has it.
    public struct Pod: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var uid: String?
        public var phase: String?
        public var labels: [String: String]
        /// Opted in by its own label or annotation.
        public var optedIn: Bool
        public var optedOut: Bool
        /// The webhook's `mcp-recorder.io/status` annotation, when it injected the pod.
        public var injection: JSONValue?
        public var podIP: String?
        public var deleting: Bool

        public init(namespace: String, name: String, uid: String?, phase: String?, labels: [String: String], optedIn: Bool, optedOut: Bool,
                    injection: JSONValue?, podIP: String?, deleting: Bool = false) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.phase = phase
            self.labels = labels
            self.optedIn = optedIn
            self.optedOut = optedOut
            self.injection = injection
            self.podIP = podIP
            self.deleting = deleting
        }

        public static func from(_ object: JSONValue) -> Pod? {
            let metadata = object["metadata"]
            guard let namespace = metadata?["namespace"]?.stringValue, let name = metadata?["name"]?.stringValue else { return nil }
            var labels: [String: String] = [:]
            for member in metadata?["labels"]?.objectValue ?? [] { if let v = member.value.stringValue { labels[member.key] = v } }
            let marks = [metadata?["labels"]?[Coverage.injectKey], metadata?["annotations"]?[Coverage.injectKey]].compactMap { $0?.stringValue }
            let status = metadata?["annotations"]?[Coverage.statusKey]?.stringValue.flatMap { try? JSONParser.parse($0) }
            return Pod(namespace: namespace, name: name, uid: metadata?["uid"]?.stringValue, phase: object["status"]?["phase"]?.stringValue,
                       labels: labels, optedIn: marks.contains("true"), optedOut: marks.contains("false"), injection: status,
                       podIP: object["status"]?["podIP"]?.stringValue, deleting: metadata?["deletionTimestamp"] != nil)
        }
    }

    /// What the collector has from one stream.
    public struct Stream: Sendable, Equatable {
        public var stream: String
        public var namespace: String?
        public var pod: String?
        public var podUID: String?
        /// The newest segment received, or heartbeat.
        public var lastSegmentAt: RecordTime?
        public var lastHeartbeatAt: RecordTime?
        /// Integrity events on the stream (broken or skipped chain, conflicts, damage).
        public var integrityEvents: Int
        public var lastIntegrityEvent: String?

        public init(stream: String, namespace: String?, pod: String?, podUID: String?, lastSegmentAt: RecordTime?, lastHeartbeatAt: RecordTime?,
                    integrityEvents: Int = 0, lastIntegrityEvent: String? = nil) {
            self.stream = stream
            self.namespace = namespace
            self.pod = pod
            self.podUID = podUID
            self.lastSegmentAt = lastSegmentAt
            self.lastHeartbeatAt = lastHeartbeatAt
            self.integrityEvents = integrityEvents
            self.lastIntegrityEvent = lastIntegrityEvent
        }

        var lastContact: RecordTime? {
            [lastSegmentAt, lastHeartbeatAt].compactMap { $0 }.max { $0.nanosecondsSinceEpoch < $1.nanosecondsSinceEpoch }
        }
    }

    public enum State: String, Sendable, CaseIterable {
        /// Injected, in contact within the staleness limit, chain intact.
        case recording
        /// Opted in, but the webhook did not inject it (down when the pod was created, or skipped it).
        case notInjected = "not_injected"
        /// Injected, but nothing (no segment, no heartbeat) has come from it lately, or ever.
        case notShipping = "not_shipping"
        /// Shipping, but its stream has integrity events (a broken or skipped chain, a conflict, damage).
        case chainGaps = "chain_gaps"
        /// Not running (pending, finished, being deleted): nothing to record now.
        case notRunning = "not_running"

        public var isProblem: Bool { self == .notInjected || self == .notShipping || self == .chainGaps }
    }

    public struct PodVerdict: Sendable, Equatable {
        public var namespace: String
        public var pod: String
        public var workload: String?
        public var state: State
        public var reason: String
        public var stream: String?
        public var lastContact: RecordTime?
        public var mode: String?
        /// For the bypass check: where the pod is, and what the webhook injected.
        public var podIP: String?
        public var injection: JSONValue?
        /// Filled in by the bypass check, when it ran.
        public var bypass: (state: BypassCheck.State, detail: String)?

        public static func == (a: Self, b: Self) -> Bool {
            a.namespace == b.namespace && a.pod == b.pod && a.workload == b.workload && a.state == b.state && a.reason == b.reason
                && a.stream == b.stream && a.lastContact == b.lastContact && a.mode == b.mode && a.bypass?.state == b.bypass?.state
                && a.bypass?.detail == b.bypass?.detail
        }
    }

    public static let injectKey = "mcp-recorder.io/inject"
    public static let statusKey = "mcp-recorder.io/status"

    /// One verdict per pod that should be recorded (opted in itself or through its workload),
    /// ordered by namespace and name.
    public static func assess(workloads: [Workload], pods: [Pod], streams: [Stream], now: RecordTime, staleAfterSeconds: Int64) -> [PodVerdict] {
        var verdicts: [PodVerdict] = []
        let optedWorkloads = workloads.filter(\.optedIn)
        for pod in pods.sorted(by: { ($0.namespace, $0.name) < ($1.namespace, $1.name) }) {
            let workload = optedWorkloads.first { $0.namespace == pod.namespace && ($0.selector?.matches(pod.labels) ?? false) }
            guard !pod.optedOut, pod.optedIn || workload != nil || pod.injection != nil else { continue }
            let name = workload.map { "\($0.kind)/\($0.name)" }
            func verdict(_ state: State, _ reason: String, stream: Stream? = nil) -> PodVerdict {
                PodVerdict(namespace: pod.namespace, pod: pod.name, workload: name, state: state, reason: reason, stream: stream?.stream,
                           lastContact: stream?.lastContact, mode: pod.injection?["mode"]?.stringValue, podIP: pod.podIP, injection: pod.injection)
            }
            if pod.deleting || (pod.phase != nil && pod.phase != "Running") {
                verdicts.append(verdict(.notRunning, pod.deleting ? "the pod is being deleted" : "the pod is \(pod.phase!)"))
                continue
            }
            guard pod.injection != nil else {
                let why = workload != nil && !pod.optedIn
                    ? "\(name!) is opted in but its pod has no recorder: created before the opt-in reached the template, or while the webhook was down (restart the workload)"
                    : "the pod is opted in but has no recorder: the webhook was down when it was created, or skipped it (see the pod's events)"
                verdicts.append(verdict(.notInjected, why))
                continue
            }
            let candidates = streams.filter { s in
                if let uid = pod.uid, let streamUID = s.podUID { return uid == streamUID }
                return s.namespace == pod.namespace && s.pod == pod.name
            }
            guard let stream = candidates.max(by: { ($0.lastContact?.nanosecondsSinceEpoch ?? 0) < ($1.lastContact?.nanosecondsSinceEpoch ?? 0) }),
                let contact = stream.lastContact
            else {
                verdicts.append(verdict(.notShipping, "injected, but the collector has never heard from its sidecar"))
                continue
            }
            let age = (now.nanosecondsSinceEpoch - contact.nanosecondsSinceEpoch) / 1_000_000_000
            if age > staleAfterSeconds {
                verdicts.append(verdict(.notShipping, "injected, but nothing from its sidecar for \(age) s (last at \(contact.rfc3339))", stream: stream))
            } else if stream.integrityEvents > 0 {
                verdicts.append(verdict(.chainGaps, "\(stream.integrityEvents) integrity event(s) on stream \(stream.stream)\(stream.lastIntegrityEvent.map { ", the last: \($0)" } ?? "")", stream: stream))
            } else {
                verdicts.append(verdict(.recording, "in contact \(age) s ago", stream: stream))
            }
        }
        return verdicts
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`).
public struct LabelSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var key: String
        public var op: String
        public var values: [String]
    }

    public var matchLabels: [String: String]
    public var expressions: [Requirement]

    public init?(json: JSONValue) {
        guard case .object = json else { return nil }
        var labels: [String: String] = [:]
        for member in json["matchLabels"]?.objectValue ?? [] {
            guard let v = member.value.stringValue else { return nil }
            labels[member.key] = v
        }
        var requirements: [Requirement] = []
        for expression in json["matchExpressions"]?.arrayValue ?? [] {
            guard let key = expression["key"]?.stringValue, let op = expression["operator"]?.stringValue else { return nil }
            requirements.append(Requirement(key: key, op: op, values: (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        matchLabels = labels
        expressions = requirements
    }

    /// An empty selector matches nothing here: a workload always has one, and an empty one is a mistake.
    public func matches(_ labels: [String: String]) -> Bool {
        guard !matchLabels.isEmpty || !expressions.isEmpty else { return false }
        for (key, value) in matchLabels where labels[key] != value { return false }
        for requirement in expressions {
            let value = labels[requirement.key]
            switch requirement.op {
            case "In": guard let value, requirement.values.contains(value) else { return false }
            case "NotIn": if let value, requirement.values.contains(value) { return false }
            case "Exists": guard value != nil else { return false }
            case "DoesNotExist": guard value == nil else { return false }
            default: return false
            }
        }
        return true
    }
}
