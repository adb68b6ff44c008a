import RecorderJSON

/// The admission operation of the request being answered.
public enum AdmissionOperation: String, Sendable {
    case create = "CREATE"
    case update = "UPDATE"
}

/// What the injector did with an object.
public enum Decision: Sendable, Equatable {
    /// A pod received the recorder.
    case injected
    /// A workload's pod template received the inject label (from the workload's annotation).
    case propagated
    /// A workload's pod template lost the inject label the recorder had put there.
    case removed
    /// Nothing to do (a workload without the annotation, an unchanged workload, …).
    case unchanged
    /// A pod that was not injected, and why.
    case skipped(SkipReason)

    /// `injected`, `propagated`, `removed`, `unchanged` or `skipped` (for metrics and logs).
    public var name: String {
        switch self {
        case .injected: "injected"
        case .propagated: "propagated"
        case .removed: "removed"
        case .unchanged: "unchanged"
        case .skipped: "skipped"
        }
    }

    /// The skip reason, if skipped.
    public var reason: SkipReason? {
        if case .skipped(let reason) = self { return reason }
        return nil
    }
}

/// Why a pod was not injected. The raw value is the metrics label.
public enum SkipReason: String, Sendable, CaseIterable {
    /// Neither label nor annotation `mcp-recorder.io/inject: "true"`.
    case notOptedIn = "not_opted_in"
    /// `mcp-recorder.io/inject: "false"` (label or annotation).
    case optedOut = "opted_out"
    /// The status annotation is present: injected before (re-invocation, or the output of `inject`).
    case alreadyInjected = "already_injected"
    /// `hostNetwork: true`: a redirect or a moved port would change the node's network.
    case hostNetwork = "host_network"
    /// A namespace the recorder never injects into (kube-system, …, its own).
    case systemNamespace = "system_namespace"
    /// No TCP port could be chosen as the MCP server's.
    case noPort = "no_port"
    /// The object is not a kind the injector handles (only for `inject`'s notes; the webhook
    /// is not registered for other kinds).
    case unsupportedKind = "unsupported_kind"
    /// An operation the injector does not act on for this kind (a pod UPDATE).
    case unsupportedOperation = "unsupported_operation"
    /// The recorder's ports are already used in the pod.
    case portConflict = "port_conflict"
    /// Port-move mode without an environment variable to tell the app its new port.
    case missingPortEnv = "missing_port_env"
    /// An `mcp-recorder.io/…` annotation with a value that cannot be used.
    case invalidAnnotation = "invalid_annotation"
    /// The pod has no containers (not a pod the API server would accept).
    case invalidObject = "invalid_object"
    /// `spec.os.name: windows`: the recorder image and iptables are Linux only.
    case windowsPod = "windows_pod"
}

/// The answer for one object: the JSON Patch (RFC 6902) to send back, what was decided,
/// and the warnings for the admission response (shown by kubectl).
public struct InjectionOutcome: Sendable {
    /// RFC 6902 operations, against the object as it was received. Empty: no change.
    public var patch: [JSONValue]
    public var decision: Decision
    public var warnings: [String]
    /// One line for people: what was done, or why not.
    public var summary: String

    public init(patch: [JSONValue] = [], decision: Decision, warnings: [String] = [], summary: String = "") {
        self.patch = patch
        self.decision = decision
        self.warnings = warnings
        self.summary = summary
    }
}

/// The injection core shared by `mcp-recorder webhook` and `mcp-recorder inject`. Pure:
/// the object's raw JSON in, a JSON Patch out. The object is only read, never decoded into
/// partial types and re-encoded, so fields the recorder does not know are never lost.
public enum Injector {
    /// Where the pod template is, for each workload kind the injector propagates the opt-in for.
    public static let podTemplatePaths: [String: [String]] = [
        "Deployment": ["spec", "template"],
        "StatefulSet": ["spec", "template"],
        "DaemonSet": ["spec", "template"],
        "Job": ["spec", "template"],
        "CronJob": ["spec", "jobTemplate", "spec", "template"],
    ]

    /// Decides what to do with one admitted object.
    ///
    /// - Pods (`CREATE`): the recorder is injected when the pod opts in.
    /// - Deployments, StatefulSets, DaemonSets, CronJobs (`CREATE`, `UPDATE`) and
    ///   Jobs (`CREATE`; a Job's template cannot change later): the opt-in annotation is
    ///   propagated to the pod template as the inject label, or that label removed.
    /// - Anything else: `.skipped(.unsupportedKind)`, no patch.
    public static func inject(_ object: JSONValue, kind: String, namespace: String?, operation: AdmissionOperation, config: InjectionConfig) -> InjectionOutcome {
        if kind == "Pod" {
            guard operation == .create else {
                return InjectionOutcome(decision: .skipped(.unsupportedOperation), summary: "pods are only injected when created")
            }
            return PodInjector.inject(object, namespace: namespace, config: config)
        }
        guard let templatePath = podTemplatePaths[kind] else {
            return InjectionOutcome(decision: .skipped(.unsupportedKind), summary: "\(kind) is passed through")
        }
        if kind == "Job" && operation == .update {
            return InjectionOutcome(decision: .unchanged, summary: "a Job's pod template cannot change after creation")
        }
        return WorkloadPropagation.propagate(object, templatePath: templatePath)
    }

    /// The recorder injected into a workload's pod template, as the pod webhook would inject
    /// each pod created from it (the patch's paths point into the template). `inject` uses it
    /// to show what will run; the webhook itself never changes templates beyond the label.
    public static func injectTemplate(_ object: JSONValue, kind: String, namespace: String?, config: InjectionConfig) -> InjectionOutcome {
        guard let templatePath = podTemplatePaths[kind] else {
            return InjectionOutcome(decision: .skipped(.unsupportedKind), summary: "\(kind) has no pod template")
        }
        guard let template = object.value(at: templatePath), case .object = template else {
            return InjectionOutcome(decision: .skipped(.invalidObject), summary: "no pod template at \(JSONPointer.encode(templatePath))")
        }
        // The pod the controller would create: the template's metadata and spec.
        var members: [JSONMember] = []
        if let metadata = template["metadata"] { members.append(JSONMember("metadata", metadata)) }
        if let spec = template["spec"] { members.append(JSONMember("spec", spec)) }
        let namespace = namespace ?? object["metadata"]?["namespace"]?.stringValue
        var outcome = PodInjector.inject(.object(members), namespace: namespace, config: config, ownerKind: kind == "CronJob" ? "Job" : kind)
        outcome.patch = PatchBuilder.prefixed(outcome.patch, with: templatePath)
        return outcome
    }

    /// `mcp-recorder inject`'s view of one manifest object: the workload rules applied as the
    /// webhook applies them on `CREATE`, then the pod template injected as each of its pods
    /// will be — the object as it will run. Lists (`kind: List`, `…List`) are rendered item
    /// by item; other kinds come back unchanged.
    public static func render(_ object: JSONValue, defaultNamespace: String, config: InjectionConfig) -> RenderedObject {
        let kind = object["kind"]?.stringValue ?? ""
        let name = object["metadata"]?["name"]?.stringValue ?? object["metadata"]?["generateName"]?.stringValue.map { $0 + "*" } ?? "(no name)"
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? defaultNamespace
        let subject = "\(kind.isEmpty ? "(no kind)" : kind) \(namespace)/\(name)"
        if kind.hasSuffix("List"), case .array(let items) = object["items"] {
            var notes: [RenderNote] = []
            var rendered: [JSONValue] = []
            for item in items {
                let result = render(item, defaultNamespace: defaultNamespace, config: config)
                rendered.append(result.object)
                notes += result.notes
            }
            var result = object
            try? result.replace(.array(rendered), at: ["items"])
            return RenderedObject(object: result, notes: notes)
        }
        if kind == "Pod" {
            let outcome = inject(object, kind: kind, namespace: namespace, operation: .create, config: config)
            return RenderedObject(object: applying(outcome.patch, to: object), notes: [RenderNote(subject: subject, outcome: outcome)])
        }
        guard podTemplatePaths[kind] != nil else {
            return RenderedObject(object: object, notes: [])
        }
        let workload = inject(object, kind: kind, namespace: namespace, operation: .create, config: config)
        let afterWorkload = applying(workload.patch, to: object)
        let template = injectTemplate(afterWorkload, kind: kind, namespace: namespace, config: config)
        return RenderedObject(
            object: applying(template.patch, to: afterWorkload),
            notes: [RenderNote(subject: subject, outcome: workload), RenderNote(subject: "\(subject) pod template", outcome: template)])
    }

    private static func applying(_ patch: [JSONValue], to object: JSONValue) -> JSONValue {
        guard !patch.isEmpty else { return object }
        do {
            return try JSONPatch.apply(patch, to: object)
        } catch {
            preconditionFailure("the injector's patch does not apply to its own object: \(error)")
        }
    }
}

/// One object rendered by ``Injector/render(_:defaultNamespace:config:)``.
public struct RenderedObject: Sendable {
    public var object: JSONValue
    /// What was decided, per object and pod template (empty for kinds passed through).
    public var notes: [RenderNote]

    public init(object: JSONValue, notes: [RenderNote]) {
        self.object = object
        self.notes = notes
    }
}

public struct RenderNote: Sendable {
    /// `Deployment tools/weather`, `Deployment tools/weather pod template`, `Pod tools/x`.
    public var subject: String
    public var outcome: InjectionOutcome

    public init(subject: String, outcome: InjectionOutcome) {
        self.subject = subject
        self.outcome = outcome
    }
}

/// Deployments and friends: the workload's `mcp-recorder.io/inject` annotation becomes the
/// pod template's label (what the pod webhook's objectSelector matches, and a change of the
/// template rolls the pods).
enum WorkloadPropagation {
    static func propagate(_ object: JSONValue, templatePath: [String]) -> InjectionOutcome {
        let key = RecorderAnnotations.inject
        let metadataPath = templatePath + ["metadata"]
        let workloadValue = stringMap(object["metadata"]?["annotations"])[key]
        let templateAnnotations = stringMap(object.value(at: metadataPath + ["annotations"]))
        let templateLabels = stringMap(object.value(at: metadataPath + ["labels"]))
        let templateValue = templateAnnotations[key]
        let label = templateLabels[key]
        let marked = templateAnnotations[RecorderAnnotations.propagated] == "true"
        var warnings: [String] = []
        for (what, value) in [("the workload's annotation", workloadValue), ("the pod template's annotation", templateValue)] {
            if let value, !["true", "false"].contains(value.lowercased()) {
                warnings.append("mcp-recorder: \(what) \(key)=\"\(value)\" is neither \"true\" nor \"false\"; ignored")
            }
        }
        let values = [workloadValue, templateValue].compactMap { $0?.lowercased() }
        let wanted = values.contains("true") && !values.contains("false")
        var builder = PatchBuilder(object)

        if wanted {
            switch label?.lowercased() {
            case nil:
                builder.set(metadataPath + ["labels", key], "true")
                if !marked { builder.set(metadataPath + ["annotations", RecorderAnnotations.propagated], "true") }
                return InjectionOutcome(
                    patch: builder.operations, decision: .propagated, warnings: warnings,
                    summary: "pod template labelled \(key)=true, so its pods are recorded")
            case "true":
                return InjectionOutcome(decision: .unchanged, warnings: warnings, summary: "pod template already labelled \(key)=true")
            default:
                warnings.append("mcp-recorder: the pod template's label \(key)=\"\(label!)\" is kept; its pods are not recorded")
                return InjectionOutcome(decision: .unchanged, warnings: warnings, summary: "pod template label \(key)=\"\(label!)\" kept")
            }
        }
        guard marked else {
            let summary = label?.lowercased() == "true"
                ? "the pod template's own label \(key)=true is left as it is"
                : "no \(key)=true annotation; the pod template is left as it is"
            return InjectionOutcome(decision: .unchanged, warnings: warnings, summary: summary)
        }
        // The recorder set the label: take it back.
        let selectorLabels = stringMap(object.value(at: Array(templatePath.dropLast()) + ["selector", "matchLabels"]))
        if label?.lowercased() == "true" {
            if selectorLabels[key] != nil {
                warnings.append("mcp-recorder: the selector matches on \(key), so the pod template's label is kept")
            } else {
                builder.removeMember(metadataPath + ["labels"], key)
            }
        }
        builder.removeMember(metadataPath + ["annotations"], RecorderAnnotations.propagated)
        return InjectionOutcome(
            patch: builder.operations, decision: .removed, warnings: warnings,
            summary: "pod template label \(key) removed, so new pods are not recorded")
    }
}

/// The string-valued members of an object (labels, annotations); the first of repeated keys.
func stringMap(_ value: JSONValue?) -> [String: String] {
    guard case .object(let members) = value else { return [:] }
    var map: [String: String] = [:]
    for member in members where map[member.key] == nil {
        if let s = member.value.stringValue { map[member.key] = s }
    }
    return map
}
