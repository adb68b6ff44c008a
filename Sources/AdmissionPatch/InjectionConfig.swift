import MCPParsing
import RecorderJSON

/// How the recorder comes to own the MCP server's port (brief §3).
public enum InjectionMode: String, Sendable, CaseIterable {
    /// An init container redirects incoming TCP for the app port to the sidecar (iptables,
    /// `NET_ADMIN`); the app is untouched.
    case redirect
    /// No privileges: the sidecar takes the app's port number and name, the app is told a new
    /// port through an environment variable.
    case portMove = "port-move"
}

/// Whether the sidecar is a native sidecar (an init container with `restartPolicy: Always`,
/// Kubernetes ≥ 1.29) or a classic extra container.
public enum NativeSidecarMode: String, Sendable, CaseIterable {
    case always = "true"
    case never = "false"
    /// Native when the cluster supports it (``InjectionConfig/clusterSupportsNativeSidecars``).
    case auto
}

/// What the sidecar keeps (`mcp-recorder sidecar --capture`).
public enum RecorderCapture: String, Sendable, CaseIterable {
    case full, metadata
}

/// What the sidecar does when its spool is full (`mcp-recorder sidecar --full-spool`).
public enum SpoolFullPolicy: String, Sendable, CaseIterable {
    case failClosed = "fail-closed"
    case dropOldest = "drop-oldest"
}

/// Where the sidecar finds the CA that the collector's certificate chains to.
public enum CollectorCASource: Sendable, Equatable {
    /// The image's system roots (a collector with a publicly trusted certificate).
    case systemRoots
    /// The PEM text itself, put into the sidecar's environment as `MCP_RECORDER_COLLECTOR_CA`
    /// (works in every namespace; nothing has to be copied there).
    case pem(String)
    /// A ConfigMap in the pod's namespace, mounted read-only at ``InjectionConfig/caDirectory``;
    /// `key` is the file name (for trust-manager and similar distributions).
    case configMap(name: String, key: String)
}

/// Kubernetes resource quantities (`"50m"`, `"64Mi"`) for a container; `nil` leaves one out.
public struct ResourceSettings: Sendable, Equatable {
    public var cpuRequest: String?
    public var memoryRequest: String?
    public var cpuLimit: String?
    public var memoryLimit: String?

    public init(cpuRequest: String? = nil, memoryRequest: String? = nil, cpuLimit: String? = nil, memoryLimit: String? = nil) {
        self.cpuRequest = cpuRequest
        self.memoryRequest = memoryRequest
        self.cpuLimit = cpuLimit
        self.memoryLimit = memoryLimit
    }

    /// The `resources` object of a container (`{}` when all are `nil`).
    var json: JSONValue {
        var requests: [JSONMember] = []
        if let cpuRequest { requests.append(JSONMember("cpu", .string(cpuRequest))) }
        if let memoryRequest { requests.append(JSONMember("memory", .string(memoryRequest))) }
        var limits: [JSONMember] = []
        if let cpuLimit { limits.append(JSONMember("cpu", .string(cpuLimit))) }
        if let memoryLimit { limits.append(JSONMember("memory", .string(memoryLimit))) }
        var members: [JSONMember] = []
        if !limits.isEmpty { members.append(JSONMember("limits", .object(limits))) }
        if !requests.isEmpty { members.append(JSONMember("requests", .object(requests))) }
        return .object(members)
    }

    /// Problems with the quantities, one sentence each.
    func problems(_ what: String) -> [String] {
        var problems: [String] = []
        for (name, value) in [("cpu request", cpuRequest), ("memory request", memoryRequest), ("cpu limit", cpuLimit), ("memory limit", memoryLimit)] {
            if let value, !Quantity.isValid(value) { problems.append("\(what) \(name) \"\(value)\" is not a Kubernetes quantity") }
        }
        return problems
    }
}

/// Everything the injector needs to know that is not in the object itself. The same value
/// drives the webhook (`mcp-recorder webhook`) and the offline `mcp-recorder inject`.
public struct InjectionConfig: Sendable {
    /// The `mcp-recorder` image (its entrypoint is the `mcp-recorder` binary).
    public var image: String
    /// `imagePullPolicy` of the injected containers; `nil` leaves it to Kubernetes.
    public var imagePullPolicy: String?
    /// The collector the sidecar ships to (`https://…`); empty: nothing is shipped.
    public var collectorURL: String
    public var collectorCA: CollectorCASource
    public var mode: InjectionMode
    /// Port-move mode: the app's environment variable that tells it its port (per pod:
    /// annotation `mcp-recorder.io/port-env`). Without one, port-move pods are skipped.
    public var portEnv: String?
    /// Port-move mode: the port the app is moved to (per pod: `mcp-recorder.io/moved-port`).
    public var movedPort: Int
    public var nativeSidecar: NativeSidecarMode
    /// What ``NativeSidecarMode/auto`` means: true on Kubernetes ≥ 1.29.
    public var clusterSupportsNativeSidecars: Bool
    /// Redirect mode: the port the sidecar listens on and the app port is redirected to.
    public var sidecarPort: Int
    /// The sidecar's admin endpoint (`/healthz`, `/readyz`, `/metrics`), probed by the kubelet.
    public var adminPort: Int
    /// The sidecar's resources (per pod: `mcp-recorder.io/cpu-request`, …).
    public var resources: ResourceSettings
    /// The resources of the `init-redirect` init container.
    public var initResources: ResourceSettings
    public var capture: RecorderCapture
    /// `sizeLimit` of the spool `emptyDir`, a Kubernetes quantity (`1Gi`). The sidecar's byte
    /// cap is 90 % of it, so the kubelet never evicts the pod for filling the volume.
    public var spoolSize: String
    public var fullSpoolPolicy: SpoolFullPolicy
    /// Audience of the projected ServiceAccount token the collector checks with TokenReview.
    public var tokenAudience: String
    public var tokenExpirationSeconds: Int
    /// Namespaces whose pods are never injected (the webhook adds its own).
    public var excludedNamespaces: Set<String>
    /// `terminationGracePeriodSeconds` is raised to at least this: the sidecar drains
    /// connections for 25 s and ships for 5 s after SIGTERM.
    public var minimumTerminationGracePeriodSeconds: Int
    /// Approval policies by namespace (`*`: every namespace), checked (``ApprovalPolicy``); a pod's
    /// sidecar gets its namespace's and `*`'s, plus its own `mcp-recorder.io/approval-policy`.
    public var approvalPolicies: [String: JSONValue] = [:]

    // Names of what is injected (a name already used in the pod gets a numeric suffix).
    public var sidecarName = "mcp-recorder"
    public var initContainerName = "mcp-recorder-init"
    public var spoolVolumeName = "mcp-recorder-spool"
    public var tokenVolumeName = "mcp-recorder-token"
    public var caVolumeName = "mcp-recorder-ca"
    public var upstreamAuthVolumeName = "mcp-recorder-upstream-auth"

    // Paths inside the sidecar.
    public static let spoolDirectory = "/var/run/mcp-recorder/spool"
    public static let tokenDirectory = "/var/run/secrets/mcp-recorder"
    public static let tokenFile = "token"
    public static let caDirectory = "/var/run/mcp-recorder/ca"
    /// Where the sidecar (and only the sidecar) sees the brokered credential's Secret.
    public static let upstreamAuthDirectory = "/var/run/mcp-recorder/upstream-auth"

    public static let defaultExcludedNamespaces: Set<String> = ["kube-system", "kube-public", "kube-node-lease"]

    public init(
        image: String,
        imagePullPolicy: String? = "IfNotPresent",
        collectorURL: String,
        collectorCA: CollectorCASource = .configMap(name: "mcp-recorder-ca", key: "ca.pem"),
        mode: InjectionMode = .redirect,
        portEnv: String? = nil,
        movedPort: Int = 15002,
        nativeSidecar: NativeSidecarMode = .auto,
        clusterSupportsNativeSidecars: Bool = true,
        sidecarPort: Int = 15001,
        adminPort: Int = 15020,
        resources: ResourceSettings = ResourceSettings(cpuRequest: "50m", memoryRequest: "64Mi", memoryLimit: "256Mi"),
        initResources: ResourceSettings = ResourceSettings(cpuRequest: "10m", memoryRequest: "16Mi", memoryLimit: "64Mi"),
        capture: RecorderCapture = .full,
        spoolSize: String = "1Gi",
        fullSpoolPolicy: SpoolFullPolicy = .failClosed,
        tokenAudience: String = "mcp-recorder",
        tokenExpirationSeconds: Int = 3600,
        excludedNamespaces: Set<String> = InjectionConfig.defaultExcludedNamespaces,
        minimumTerminationGracePeriodSeconds: Int = 45
    ) {
        self.image = image
        self.imagePullPolicy = imagePullPolicy
        self.collectorURL = collectorURL
        self.collectorCA = collectorCA
        self.mode = mode
        self.portEnv = portEnv
        self.movedPort = movedPort
        self.nativeSidecar = nativeSidecar
        self.clusterSupportsNativeSidecars = clusterSupportsNativeSidecars
        self.sidecarPort = sidecarPort
        self.adminPort = adminPort
        self.resources = resources
        self.initResources = initResources
        self.capture = capture
        self.spoolSize = spoolSize
        self.fullSpoolPolicy = fullSpoolPolicy
        self.tokenAudience = tokenAudience
        self.tokenExpirationSeconds = tokenExpirationSeconds
        self.excludedNamespaces = excludedNamespaces
        self.minimumTerminationGracePeriodSeconds = minimumTerminationGracePeriodSeconds
    }

    /// What is wrong with this configuration, one sentence per problem (empty: usable).
    public func problems() -> [String] {
        var problems: [String] = []
        if image.isEmpty { problems.append("the recorder image is empty") }
        for (name, port) in [("sidecar port", sidecarPort), ("admin port", adminPort), ("moved port", movedPort)] where !(1...65535).contains(port) {
            problems.append("the \(name) \(port) is not a TCP port (1–65535)")
        }
        if sidecarPort == adminPort { problems.append("the sidecar port and the admin port are both \(adminPort)") }
        if movedPort == adminPort { problems.append("the moved port and the admin port are both \(adminPort)") }
        if let portEnv, !Validation.isEnvName(portEnv) { problems.append("\"\(portEnv)\" is not an environment variable name") }
        if let size = Quantity.bytes(spoolSize) {
            if size < Quantity.minimumSpoolBytes { problems.append("the spool size \(spoolSize) is below the minimum of 16Mi") }
        } else {
            problems.append("the spool size \"\(spoolSize)\" is not a Kubernetes quantity")
        }
        problems += resources.problems("sidecar")
        problems += initResources.problems("init container")
        if tokenAudience.isEmpty { problems.append("the token audience is empty") }
        if tokenExpirationSeconds < 600 { problems.append("the token expiration must be at least 600 seconds (a Kubernetes minimum)") }
        if minimumTerminationGracePeriodSeconds < 0 { problems.append("the minimum termination grace period is negative") }
        if case .configMap(let name, let key) = collectorCA {
            if !Validation.isDNSSubdomain(name) { problems.append("\"\(name)\" is not a ConfigMap name") }
            if key.isEmpty || key.contains("/") { problems.append("\"\(key)\" is not a ConfigMap key usable as a file name") }
        }
        if case .pem(let text) = collectorCA, !text.contains("-----BEGIN CERTIFICATE-----") {
            problems.append("the collector CA is not PEM (no BEGIN CERTIFICATE line)")
        }
        return problems
    }

    /// The approval policies of `{"NAMESPACE": policy, "*": policy}`, every policy checked.
    public static func approvalPolicies(from json: JSONValue) -> Result<[String: JSONValue], ApprovalPolicyError> {
        guard case .object(let members) = json else { return .failure(ApprovalPolicyError("it must be a JSON object mapping namespaces to policies")) }
        var policies: [String: JSONValue] = [:]
        for member in members {
            guard member.key == "*" || Validation.isDNSLabel(member.key) else {
                return .failure(ApprovalPolicyError("\(member.key.debugDescription) is not a namespace name or *"))
            }
            do { _ = try ApprovalPolicy.parse(member.value) } catch {
                return .failure(ApprovalPolicyError("the policy of \(member.key): \(error.message)"))
            }
            policies[member.key] = member.value
        }
        return .success(policies)
    }

    /// Whether a Kubernetes version (`1.29`, `v1.33.2`, `1.30+`) runs native sidecars by
    /// default (SidecarContainers is beta and on from 1.29). `nil` when it cannot be read.
    public static func supportsNativeSidecars(kubernetesVersion: String) -> Bool? {
        var text = Substring(kubernetesVersion)
        if text.hasPrefix("v") { text = text.dropFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2,
            let major = Int(parts[0]),
            let minor = Int(parts[1].prefix(while: { $0.isNumber }))
        else { return nil }
        return major > 1 || (major == 1 && minor >= 29)
    }
}

/// The annotations and labels the recorder reads and writes.
public enum RecorderAnnotations {
    public static let prefix = "mcp-recorder.io/"
    /// Opt-in/opt-out: `"true"` / `"false"`. On a pod as label or annotation; on a workload as
    /// annotation (propagated to the pod template as the label).
    public static let inject = "mcp-recorder.io/inject"
    /// Written on an injected pod: JSON describing what was injected.
    public static let status = "mcp-recorder.io/status"
    /// Written on a pod template whose inject label was set from the workload's annotation.
    public static let propagated = "mcp-recorder.io/propagated"
    // Per-pod overrides.
    public static let mode = "mcp-recorder.io/mode"
    public static let port = "mcp-recorder.io/port"
    public static let portEnv = "mcp-recorder.io/port-env"
    public static let movedPort = "mcp-recorder.io/moved-port"
    public static let nativeSidecar = "mcp-recorder.io/native-sidecar"
    public static let capture = "mcp-recorder.io/capture"
    public static let spoolSize = "mcp-recorder.io/spool-size"
    public static let fullSpool = "mcp-recorder.io/full-spool"
    public static let cpuRequest = "mcp-recorder.io/cpu-request"
    public static let cpuLimit = "mcp-recorder.io/cpu-limit"
    public static let memoryRequest = "mcp-recorder.io/memory-request"
    public static let memoryLimit = "mcp-recorder.io/memory-limit"
    public static let image = "mcp-recorder.io/image"
    /// Credential brokering: a Secret in the pod's namespace whose value the sidecar adds to every
    /// forwarded request (mounted into the sidecar container only), the key in it, and the header.
    public static let upstreamAuthSecret = "mcp-recorder.io/upstream-auth-secret"
    public static let upstreamAuthSecretKey = "mcp-recorder.io/upstream-auth-secret-key"
    public static let upstreamAuthHeader = "mcp-recorder.io/upstream-auth-header"
    /// `"true"`: the sidecar removes the client's `Authorization` once its identity is recorded.
    public static let stripClientAuthorization = "mcp-recorder.io/strip-client-authorization"
    /// Approval of tool calls (`docs/approvals.md`): a policy as JSON, and a shorthand list of tools
    /// (names or globs, comma-separated) whose every call needs approval. They add to the namespace's policy.
    public static let approvalPolicy = "mcp-recorder.io/approval-policy"
    public static let approvalTools = "mcp-recorder.io/approval-tools"
    /// Kubernetes' own: the container `kubectl logs/exec` pick by default.
    public static let defaultContainer = "kubectl.kubernetes.io/default-container"
}
