import AdmissionPatch
import ArgumentParser
import RecorderJSON
import SegmentFormat
import SegmentStore

extension InjectionMode: ExpressibleByArgument {}
extension NativeSidecarMode: ExpressibleByArgument {}
extension RecorderCapture: ExpressibleByArgument {}
extension SpoolFullPolicy: ExpressibleByArgument {}

/// The injection settings shared by `mcp-recorder webhook` and `mcp-recorder inject`
/// (`@OptionGroup var injection: InjectionOptions`), mapped to an ``InjectionConfig``.
/// Per-pod annotations (`mcp-recorder.io/mode`, …) override most of them.
public struct InjectionOptions: ParsableArguments {
    public init() {}

    public static let defaultImage = "ghcr.io/mcp-recorder/mcp-recorder:\(RecorderVersion.current)"

    @Option(help: "The mcp-recorder image of the injected containers (its entrypoint must be the mcp-recorder binary; per pod: mcp-recorder.io/image).")
    var image = InjectionOptions.defaultImage

    @Option(help: "imagePullPolicy of the injected containers (Always, IfNotPresent, Never; empty: Kubernetes' default).")
    var imagePullPolicy = "IfNotPresent"

    @Option(help: "The collector the sidecars ship segments to (https://…; empty: nothing is shipped).")
    var collectorUrl = "https://mcp-recorder-collector.mcp-recorder.svc:8443"

    @Option(help: "ConfigMap, in each injected pod's namespace, holding the collector's CA; mounted into the sidecar (empty: no ConfigMap).")
    var collectorCaConfigmap = "mcp-recorder-ca"

    @Option(help: "Key of the CA certificate in that ConfigMap.")
    var collectorCaKey = "ca.pem"

    @Option(help: "PEM file with the collector's CA, given inline to each sidecar (MCP_RECORDER_COLLECTOR_CA): nothing to copy into namespaces. Wins over --collector-ca-configmap.")
    var collectorCaFile: String?

    @Option(help: "How the recorder owns the app's port: 'redirect' (iptables init container, NET_ADMIN) or 'port-move' (no privileges; the app is moved to --moved-port). Per pod: mcp-recorder.io/mode.")
    var mode: InjectionMode = .redirect

    @Option(help: "Port-move mode: the app's environment variable that tells it its port, e.g. PORT (per pod: mcp-recorder.io/port-env).")
    var portEnv: String?

    @Option(help: "Port-move mode: the port the app is moved to (per pod: mcp-recorder.io/moved-port).")
    var movedPort = 15002

    @Option(help: "Inject a native sidecar (an init container with restartPolicy: Always): 'true', 'false' or 'auto' (native on Kubernetes ≥ 1.29). Per pod: mcp-recorder.io/native-sidecar.")
    var nativeSidecar: NativeSidecarMode = .auto

    @Option(help: "The cluster's Kubernetes version (1.29, v1.33.1), for --native-sidecar auto (default: the webhook asks the API server; inject assumes ≥ 1.29).")
    var kubernetesVersion: String?

    @Option(help: "Redirect mode: the sidecar's port, to which the app's port is redirected.")
    var sidecarPort = 15001

    @Option(help: "The sidecar's admin port (/healthz, /readyz, /metrics), probed by the kubelet.")
    var adminPort = 15020

    @Option(help: "What the sidecars keep: 'full' or 'metadata' (per pod: mcp-recorder.io/capture).")
    var capture: RecorderCapture = .full

    @Option(help: "sizeLimit of the spool emptyDir, a Kubernetes quantity; the sidecar caps itself at 90% of it (per pod: mcp-recorder.io/spool-size).")
    var spoolSize = "1Gi"

    @Option(help: "When a spool is full: 'fail-closed' or 'drop-oldest' (per pod: mcp-recorder.io/full-spool).")
    var fullSpool: SpoolFullPolicy = .failClosed

    @Option(help: "Audience of the projected ServiceAccount token the sidecar shows the collector.")
    var tokenAudience = "mcp-recorder"

    @Option(help: "Lifetime of that token in seconds (the kubelet renews it; at least 600).")
    var tokenExpirationSeconds = 3600

    @Option(help: "The sidecar's CPU request (empty: none; per pod: mcp-recorder.io/cpu-request).")
    var sidecarCpuRequest = "50m"

    @Option(help: "The sidecar's memory request (empty: none; per pod: mcp-recorder.io/memory-request).")
    var sidecarMemoryRequest = "64Mi"

    @Option(help: "The sidecar's CPU limit (empty: none; per pod: mcp-recorder.io/cpu-limit).")
    var sidecarCpuLimit = ""

    @Option(help: "The sidecar's memory limit (empty: none; per pod: mcp-recorder.io/memory-limit).")
    var sidecarMemoryLimit = "256Mi"

    @Option(help: "Another namespace whose pods are never injected (repeatable; kube-system, kube-public and kube-node-lease always are).")
    var excludeNamespace: [String] = []

    @Option(help: "Raise an injected pod's terminationGracePeriodSeconds to at least this (the sidecar drains 25 s and ships 5 s on SIGTERM).")
    var minTerminationGracePeriod = 45

    @Option(help: ArgumentHelp("JSON file mapping namespaces ('*': every namespace) to approval policies (docs/approvals.md) given to their sidecars; a pod's mcp-recorder.io/approval-policy and approval-tools add to them.", valueName: "FILE"))
    var approvalPoliciesFile: String?

    public func validate() throws {
        if let kubernetesVersion = given(kubernetesVersion), InjectionConfig.supportsNativeSidecars(kubernetesVersion: kubernetesVersion) == nil {
            throw ValidationError("--kubernetes-version \"\(kubernetesVersion)\" is not a version like 1.29")
        }
        let problems = config(ca: .systemRoots, clusterSupportsNativeSidecars: true).problems()
        if let first = problems.first { throw ValidationError(first) }
    }

    /// The configuration these options describe. Reads --collector-ca-file.
    ///
    /// - Parameter detectedKubernetesVersion: the API server's version, when known; used for
    ///   `--native-sidecar auto` unless --kubernetes-version is given.
    public func makeConfig(detectedKubernetesVersion: String? = nil) throws -> InjectionConfig {
        var ca: CollectorCASource = .systemRoots
        if let file = given(collectorCaFile) {
            let bytes: [UInt8]
            do { bytes = try FileSystem.readFile(file) } catch { throw UsageError("--collector-ca-file: \(error)") }
            let pem = String(decoding: bytes, as: UTF8.self)
            guard pem.contains("-----BEGIN CERTIFICATE-----") else { throw UsageError("--collector-ca-file: \(file) holds no PEM certificate") }
            ca = .pem(pem)
        } else if !collectorCaConfigmap.isEmpty {
            ca = .configMap(name: collectorCaConfigmap, key: collectorCaKey)
        }
        let version = given(kubernetesVersion) ?? detectedKubernetesVersion
        let supports = version.flatMap { InjectionConfig.supportsNativeSidecars(kubernetesVersion: $0) } ?? true
        var config = config(ca: ca, clusterSupportsNativeSidecars: supports)
        if let problem = config.problems().first { throw UsageError(problem) }
        if let file = given(approvalPoliciesFile) { config.approvalPolicies = try Self.approvalPolicies(file: file) }
        return config
    }

    private func config(ca: CollectorCASource, clusterSupportsNativeSidecars: Bool) -> InjectionConfig {
        InjectionConfig(
            image: image,
            imagePullPolicy: given(imagePullPolicy),
            collectorURL: collectorUrl,
            collectorCA: ca,
            mode: mode,
            portEnv: given(portEnv),
            movedPort: movedPort,
            nativeSidecar: nativeSidecar,
            clusterSupportsNativeSidecars: clusterSupportsNativeSidecars,
            sidecarPort: sidecarPort,
            adminPort: adminPort,
            resources: ResourceSettings(
                cpuRequest: given(sidecarCpuRequest), memoryRequest: given(sidecarMemoryRequest),
                cpuLimit: given(sidecarCpuLimit), memoryLimit: given(sidecarMemoryLimit)),
            capture: capture,
            spoolSize: spoolSize,
            fullSpoolPolicy: fullSpool,
            tokenAudience: tokenAudience,
            tokenExpirationSeconds: tokenExpirationSeconds,
            excludedNamespaces: InjectionConfig.defaultExcludedNamespaces.union(excludeNamespace.filter { !$0.isEmpty }),
            minimumTerminationGracePeriodSeconds: minTerminationGracePeriod)
    }

    /// `{"NAMESPACE": policy, "*": policy}`, every policy checked.
    static func approvalPolicies(file: String) throws -> [String: JSONValue] {
        let json: JSONValue
        do { json = try JSONParser.parse(try FileSystem.readFile(file)) } catch {
            throw UsageError("--approval-policies-file: \(file) is not readable JSON: \(error)")
        }
        switch InjectionConfig.approvalPolicies(from: json) {
        case .success(let policies): return policies
        case .failure(let problem): throw UsageError("--approval-policies-file: \(file): \(problem.message)")
        }
    }

    private func given(_ value: String?) -> String? {
        guard let value, !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }
}
