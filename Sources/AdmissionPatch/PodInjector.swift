import MCPParsing
import RecorderJSON

/// The per-pod settings: the configuration with the pod's `mcp-recorder.io/…` annotations applied.
struct PodSettings {
    var mode: InjectionMode
    var portEnv: String?
    var movedPort: Int
    var native: Bool
    var capture: RecorderCapture
    var spoolSize: String
    var spoolBytes: Int
    var fullSpool: SpoolFullPolicy
    var resources: ResourceSettings
    var image: String
    /// Credential brokering: the Secret, its key and the header the sidecar adds.
    var upstreamAuth: (secret: String, key: String, header: String)?
    var stripClientAuthorization = false
    /// Approval policies for the sidecar (`--approval-policy`), as compact JSON: the configuration's
    /// for every namespace and for the pod's, then the pod's own; and its `--approval-tools`.
    var approvalPolicies: [String] = []
    var approvalTools: String?

    struct Invalid: Error {
        var message: String
    }

    init(config: InjectionConfig, annotations: [String: String], namespace: String?) throws(Invalid) {
        typealias A = RecorderAnnotations
        func value(_ key: String) -> String? {
            guard let v = annotations[key]?.trimmingSpaces, !v.isEmpty else { return nil }
            return v
        }
        func invalid(_ key: String, _ expected: String) -> Invalid {
            // JSON-quoted: the value is the pod author's and may hold line breaks (the message ends up in
            // warnings, events and `inject`'s YAML comments).
            Invalid(message: "\(key)=\(JSONValue.string(annotations[key] ?? "").serialized()) is not \(expected)")
        }

        mode = config.mode
        if let v = value(A.mode) {
            guard let m = InjectionMode(rawValue: v) else { throw invalid(A.mode, "redirect or port-move") }
            mode = m
        }
        portEnv = config.portEnv
        if let v = value(A.portEnv) {
            guard Validation.isEnvName(v) else { throw invalid(A.portEnv, "an environment variable name") }
            portEnv = v
        }
        movedPort = config.movedPort
        if let v = value(A.movedPort) {
            guard let p = Validation.portNumber(v) else { throw invalid(A.movedPort, "a port number (1–65535)") }
            movedPort = p
        }
        var nativeMode = config.nativeSidecar
        if let v = value(A.nativeSidecar) {
            guard let m = NativeSidecarMode(rawValue: v.lowercased()) else { throw invalid(A.nativeSidecar, "true, false or auto") }
            nativeMode = m
        }
        switch nativeMode {
        case .always: native = true
        case .never: native = false
        case .auto: native = config.clusterSupportsNativeSidecars
        }
        capture = config.capture
        if let v = value(A.capture) {
            guard let c = RecorderCapture(rawValue: v) else { throw invalid(A.capture, "full or metadata") }
            capture = c
        }
        spoolSize = config.spoolSize
        if let v = value(A.spoolSize) { spoolSize = v }
        guard let bytes = Quantity.bytes(spoolSize), bytes >= Quantity.minimumSpoolBytes else {
            throw invalid(A.spoolSize, "a quantity of at least 16Mi")
        }
        spoolBytes = bytes
        fullSpool = config.fullSpoolPolicy
        if let v = value(A.fullSpool) {
            guard let f = SpoolFullPolicy(rawValue: v) else { throw invalid(A.fullSpool, "fail-closed or drop-oldest") }
            fullSpool = f
        }
        resources = config.resources
        for (key, path) in [(A.cpuRequest, \ResourceSettings.cpuRequest), (A.memoryRequest, \.memoryRequest), (A.cpuLimit, \.cpuLimit), (A.memoryLimit, \.memoryLimit)] {
            guard let v = value(key) else { continue }
            guard Quantity.isValid(v) else { throw invalid(key, "a Kubernetes quantity") }
            resources[keyPath: path] = v
        }
        image = config.image
        if let v = value(A.image) {
            guard Validation.isImage(v) else { throw invalid(A.image, "an image reference") }
            image = v
        }
        if let secret = value(A.upstreamAuthSecret) {
            guard Validation.isDNSSubdomain(secret) else { throw invalid(A.upstreamAuthSecret, "a Secret name") }
            let key = value(A.upstreamAuthSecretKey) ?? "credential"
            guard key.utf8.count <= 253, !key.isEmpty, key != ".", key != "..",
                  key.utf8.allSatisfy({ Validation.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) else {
                throw invalid(A.upstreamAuthSecretKey, "a Secret key")
            }
            let header = value(A.upstreamAuthHeader) ?? "Authorization"
            guard Validation.isHeaderName(header) else { throw invalid(A.upstreamAuthHeader, "an HTTP header name") }
            upstreamAuth = (secret, key, header)
        } else if value(A.upstreamAuthSecretKey) != nil || value(A.upstreamAuthHeader) != nil {
            throw Invalid(message: "\(A.upstreamAuthSecretKey) and \(A.upstreamAuthHeader) need \(A.upstreamAuthSecret)")
        }
        if let v = value(A.stripClientAuthorization) {
            guard v == "true" || v == "false" else { throw invalid(A.stripClientAuthorization, "true or false") }
            stripClientAuthorization = v == "true"
        }
        for key in ["*", namespace].compactMap({ $0 }) {
            if let policy = config.approvalPolicies[key] { approvalPolicies.append(policy.serialized()) }
        }
        if let v = value(A.approvalPolicy) {
            do {
                let json = try JSONParser.parse(v)
                _ = try ApprovalPolicy.parse(json)
                approvalPolicies.append(json.serialized())
            } catch let error as ApprovalPolicyError {
                throw Invalid(message: "\(A.approvalPolicy) is not an approval policy: \(error.message)")
            } catch {
                throw invalid(A.approvalPolicy, "JSON")
            }
        }
        if let v = value(A.approvalTools) {
            guard (try? ApprovalPolicy.tools(v)) != nil else { throw invalid(A.approvalTools, "a comma-separated list of tool names or globs") }
            approvalTools = v
        }
    }
}

/// Injects the recorder into one pod.
enum PodInjector {
    static let statusVersion = 1

    struct Skip: Error {
        var reason: SkipReason
        var message: String
    }

    static func skipped(_ reason: SkipReason, _ message: String, warn: Bool = true, extra: [String] = []) -> InjectionOutcome {
        InjectionOutcome(
            patch: [], decision: .skipped(reason),
            warnings: extra + (warn ? ["mcp-recorder: not injected (\(reason.rawValue)): \(message)"] : []),
            summary: "not injected (\(reason.rawValue)): \(message)")
    }

    /// - Parameter ownerKind: the workload the pod comes from, when known (`Job` pods with a
    ///   classic sidecar never complete: a warning says so).
    static func inject(_ pod: JSONValue, namespace: String?, config: InjectionConfig, ownerKind: String? = nil) -> InjectionOutcome {
        typealias A = RecorderAnnotations
        guard case .object = pod, let spec = pod["spec"], case .object = spec,
            let containers = spec["containers"]?.arrayValue, !containers.isEmpty
        else {
            return skipped(.invalidObject, "the pod has no containers")
        }
        let metadata = pod["metadata"]
        let annotations = stringMap(metadata?["annotations"])
        let labels = stringMap(metadata?["labels"])

        // Opt-in, opt-out.
        var warnings: [String] = []
        let optIn = [("label", labels[A.inject]), ("annotation", annotations[A.inject])]
        for case let (what, value?) in optIn where !["true", "false"].contains(value.trimmingSpaces.lowercased()) {
            warnings.append("mcp-recorder: the \(what) \(A.inject)=\"\(value)\" is neither \"true\" nor \"false\"; ignored")
        }
        let values = optIn.compactMap { $0.1?.trimmingSpaces.lowercased() }
        if values.contains("false") {
            return skipped(.optedOut, "\(A.inject) is \"false\"", extra: warnings)
        }
        guard values.contains("true") else {
            return InjectionOutcome(decision: .skipped(.notOptedIn), warnings: warnings, summary: "not injected (not_opted_in): no \(A.inject)=true label or annotation")
        }
        if annotations[A.status] != nil || metadata?["annotations"]?[A.status] != nil {
            return skipped(.alreadyInjected, "\(A.status) is present; the pod is left as it is")
        }
        let namespace = namespace ?? metadata?["namespace"]?.stringValue
        if let namespace, config.excludedNamespaces.contains(namespace) {
            return skipped(.systemNamespace, "namespace \(namespace) is never injected")
        }
        if spec["hostNetwork"]?.boolValue == true {
            return skipped(.hostNetwork, "the pod uses the node's network (hostNetwork)")
        }
        if spec["os"]?["name"]?.stringValue == "windows" {
            return skipped(.windowsPod, "the recorder runs on Linux only")
        }
        let settings: PodSettings
        do {
            settings = try PodSettings(config: config, annotations: annotations, namespace: namespace)
        } catch {
            return skipped(.invalidAnnotation, error.message)
        }
        let app: AppPort
        switch PortSelection.select(containers: containers, annotation: annotations[A.port], defaultContainer: annotations[A.defaultContainer]) {
        case .success(let a): app = a
        case .failure(let failure): return skipped(failure.reason, failure.message)
        }

        // Ports in use in the pod's network namespace.
        let initContainers = spec["initContainers"]?.arrayValue ?? []
        let declared = PortSelection.declaredPorts(containers) + PortSelection.declaredPorts(initContainers)
        let usedNumbers = Set(declared.map(\.port))
        let listenPort: Int
        let upstreamPort: Int
        let recorderPorts: [(String, Int)]
        switch settings.mode {
        case .redirect:
            listenPort = config.sidecarPort
            upstreamPort = app.port
            recorderPorts = [("sidecar port", config.sidecarPort), ("admin port", config.adminPort)]
        case .portMove:
            guard settings.portEnv != nil else {
                return skipped(.missingPortEnv, "port-move mode needs \(A.portEnv): the environment variable that tells the app its port")
            }
            listenPort = app.port
            upstreamPort = settings.movedPort
            recorderPorts = [("moved port", settings.movedPort), ("admin port", config.adminPort)]
        }
        for (what, port) in recorderPorts where port == app.port || usedNumbers.contains(port) {
            return skipped(.portConflict, "the recorder's \(what) \(port) is already used in the pod")
        }

        // Names of what is added: a name already used gets a suffix.
        let ephemeral = spec["ephemeralContainers"]?.arrayValue ?? []
        var containerNames = Set((containers + initContainers + ephemeral).compactMap { $0["name"]?.stringValue })
        var volumeNames = Set((spec["volumes"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        var portNames = Set(declared.compactMap(\.name))
        func unique(_ base: String, in names: inout Set<String>, what: String) -> String {
            var name = base
            var n = 1
            while names.contains(name) {
                name = "\(base)-\(n)"
                n += 1
            }
            if name != base { warnings.append("mcp-recorder: the pod already has a \(what) named \(base); the recorder's is \(name)") }
            names.insert(name)
            return name
        }
        let sidecarName = unique(config.sidecarName, in: &containerNames, what: "container")
        let initName = settings.mode == .redirect ? unique(config.initContainerName, in: &containerNames, what: "container") : nil
        let spoolVolume = unique(config.spoolVolumeName, in: &volumeNames, what: "volume")
        let tokenVolume = unique(config.tokenVolumeName, in: &volumeNames, what: "volume")
        var caVolume: String?
        if case .configMap = config.collectorCA { caVolume = unique(config.caVolumeName, in: &volumeNames, what: "volume") }
        let authVolume = settings.upstreamAuth == nil ? nil : unique(config.upstreamAuthVolumeName, in: &volumeNames, what: "volume")

        if !settings.native && (ownerKind == "Job" || isJobPod(metadata)) {
            warnings.append("mcp-recorder: a classic sidecar keeps a Job's pod running after the job is done; use native sidecars (Kubernetes ≥ 1.29)")
        }
        if settings.native && !config.clusterSupportsNativeSidecars {
            warnings.append("mcp-recorder: native sidecar requested but the cluster may not support it (Kubernetes < 1.29)")
        }

        var builder = PatchBuilder(pod)
        let appPath = ["spec", "containers", String(app.containerIndex)]
        let appContainer = containers[app.containerIndex]

        // Port-move: the app moves, the sidecar takes its port number and name.
        var sidecarPorts: [JSONValue] = []
        if settings.mode == .portMove, let portEnv = settings.portEnv {
            // The sidecar's entry: the app's name and number, and its hostPort (a hostPort left on
            // the app's entry would lead to the app directly, unrecorded).
            var entry: [JSONMember] = []
            if let name = app.name { entry.append(JSONMember("name", .string(name))) }
            entry.append(JSONMember("containerPort", .int(app.port)))
            if let index = app.entryIndex {
                let entryPath = appPath + ["ports", String(index)]
                let original = appContainer["ports"]?[index]
                builder.set(entryPath + ["containerPort"], .int(settings.movedPort))
                if app.name != nil { builder.remove(entryPath + ["name"]) }
                for key in ["hostPort", "hostIP"] {
                    if let value = original?[key] {
                        entry.append(JSONMember(key, value))
                        builder.remove(entryPath + [key])
                    }
                }
            }
            let env = appContainer["env"]?.arrayValue ?? []
            let newValue = JSONValue.object([JSONMember("name", .string(portEnv)), JSONMember("value", .string(String(settings.movedPort)))])
            if let i = env.firstIndex(where: { $0["name"]?.stringValue == portEnv }) {
                let old = env[i]["value"]?.stringValue
                if old != String(app.port) && old != String(settings.movedPort) {
                    warnings.append("mcp-recorder: \(portEnv) in container \(app.containerName) was \(old.map { "\"\($0)\"" } ?? "set from a source") and is now \(settings.movedPort) (port-move mode)")
                }
                builder.set(appPath + ["env", String(i)], newValue)
            } else {
                builder.append(appPath + ["env"], newValue)
            }
            // Probes and hooks naming the port: the name is the sidecar's now, so they use the
            // number, which the sidecar serves and forwards.
            if let name = app.name {
                for (path, handler) in portReferences(appContainer) where handler["port"]?.stringValue == name {
                    builder.set(appPath + path + ["port"], .int(app.port))
                }
            }
            sidecarPorts.append(.object(entry))
            portNames.remove(app.name ?? "")
        } else {
            var entry: [JSONMember] = []
            if !portNames.contains("recorder-proxy") { entry.append(JSONMember("name", "recorder-proxy")) }
            entry.append(JSONMember("containerPort", .int(listenPort)))
            sidecarPorts.append(.object(entry))
        }
        var adminEntry: [JSONMember] = []
        if !portNames.contains("recorder-admin") { adminEntry.append(JSONMember("name", "recorder-admin")) }
        adminEntry.append(JSONMember("containerPort", .int(config.adminPort)))
        sidecarPorts.append(.object(adminEntry))

        // Metadata.
        if !settings.native && annotations[A.defaultContainer] == nil {
            builder.set(["metadata", "annotations", A.defaultContainer], .string(app.containerName))
        }
        var status: [JSONMember] = [
            JSONMember("version", .int(statusVersion)),
            JSONMember("mode", .string(settings.mode.rawValue)),
            JSONMember("native", .bool(settings.native)),
            JSONMember("container", .string(app.containerName)),
            JSONMember("port", .int(app.port)),
            JSONMember("listen", .int(listenPort)),
            JSONMember("upstream", .int(upstreamPort)),
        ]
        if settings.mode == .portMove, let portEnv = settings.portEnv { status.append(JSONMember("portEnv", .string(portEnv))) }
        status.append(JSONMember("sidecar", .string(sidecarName)))
        if let initName { status.append(JSONMember("init", .string(initName))) }
        status.append(JSONMember("volumes", .array(([spoolVolume, tokenVolume] + [caVolume, authVolume].compactMap { $0 }).map { .string($0) })))
        if !settings.approvalPolicies.isEmpty || settings.approvalTools != nil { status.append(JSONMember("approvals", true)) }
        if let auth = settings.upstreamAuth {
            status.append(JSONMember("upstreamAuth", .object([JSONMember("secret", .string(auth.secret)), JSONMember("header", .string(auth.header))])))
        }
        status.append(JSONMember("image", .string(settings.image)))
        builder.set(["metadata", "annotations", A.status], .string(JSONValue.object(status).serialized()))

        // Time to drain and ship on termination.
        let grace = spec["terminationGracePeriodSeconds"]?.int64Value
        if grace == nil || grace! < Int64(config.minimumTerminationGracePeriodSeconds) {
            builder.set(["spec", "terminationGracePeriodSeconds"], .int(config.minimumTerminationGracePeriodSeconds))
        }

        // Containers.
        if let initName {
            builder.insert(["spec", "initContainers"], at: 0, initContainer(name: initName, appPort: app.port, settings: settings, config: config))
        }
        let sidecar = sidecarContainer(
            name: sidecarName, settings: settings, config: config, listenPort: listenPort, upstreamPort: upstreamPort,
            ports: sidecarPorts, appImage: appContainer["image"]?.stringValue ?? "",
            volumes: (spool: spoolVolume, token: tokenVolume, ca: caVolume, upstreamAuth: authVolume))
        builder.append(["spec", settings.native ? "initContainers" : "containers"], sidecar)

        // Volumes.
        builder.append(["spec", "volumes"], .object([
            JSONMember("name", .string(spoolVolume)),
            JSONMember("emptyDir", .object([JSONMember("sizeLimit", .string(settings.spoolSize))])),
        ]))
        builder.append(["spec", "volumes"], .object([
            JSONMember("name", .string(tokenVolume)),
            JSONMember("projected", .object([
                JSONMember("sources", .array([.object([
                    JSONMember("serviceAccountToken", .object([
                        JSONMember("audience", .string(config.tokenAudience)),
                        JSONMember("expirationSeconds", .int(config.tokenExpirationSeconds)),
                        JSONMember("path", .string(InjectionConfig.tokenFile)),
                    ]))
                ])]))
            ])),
        ]))
        if let caVolume, case .configMap(let name, let key) = config.collectorCA {
            builder.append(["spec", "volumes"], .object([
                JSONMember("name", .string(caVolume)),
                JSONMember("configMap", .object([
                    JSONMember("name", .string(name)),
                    JSONMember("items", .array([.object([JSONMember("key", .string(key)), JSONMember("path", .string(key))])])),
                ])),
            ]))
        }
        // The brokered credential: a volume only the sidecar mounts (never the app's env or volumes).
        if let authVolume, let auth = settings.upstreamAuth {
            builder.append(["spec", "volumes"], .object([
                JSONMember("name", .string(authVolume)),
                JSONMember("secret", .object([
                    JSONMember("secretName", .string(auth.secret)),
                    JSONMember("items", .array([.object([JSONMember("key", .string(auth.key)), JSONMember("path", .string(auth.key))])])),
                ])),
            ]))
        }

        let how = [
            "\(settings.mode.rawValue) mode", settings.native ? "native sidecar" : "classic sidecar",
            "container \(app.containerName) port \(app.port)",
            settings.mode == .redirect ? "redirected to \(listenPort)" : "moved to \(settings.movedPort) (\(settings.portEnv ?? ""))",
        ].joined(separator: ", ")
        return InjectionOutcome(patch: builder.operations, decision: .injected, warnings: warnings, summary: "injected: \(how)")
    }

    /// A pod created by a Job controller.
    static func isJobPod(_ metadata: JSONValue?) -> Bool {
        if (metadata?["ownerReferences"]?.arrayValue ?? []).contains(where: { $0["kind"]?.stringValue == "Job" }) { return true }
        let labels = stringMap(metadata?["labels"])
        return labels["batch.kubernetes.io/job-name"] != nil || labels["job-name"] != nil
    }

    /// The handlers in a container that can name a port: `httpGet`/`tcpSocket`/`grpc` of its
    /// probes and lifecycle hooks, with their paths relative to the container.
    static func portReferences(_ container: JSONValue) -> [([String], JSONValue)] {
        var result: [([String], JSONValue)] = []
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            for handler in ["httpGet", "tcpSocket"] {
                if let h = container[probe]?[handler], case .object = h { result.append(([probe, handler], h)) }
            }
        }
        for hook in ["postStart", "preStop"] {
            for handler in ["httpGet", "tcpSocket"] {
                if let h = container["lifecycle"]?[hook]?[handler], case .object = h { result.append((["lifecycle", hook, handler], h)) }
            }
        }
        return result
    }

    static func initContainer(name: String, appPort: Int, settings: PodSettings, config: InjectionConfig) -> JSONValue {
        var members: [JSONMember] = [
            JSONMember("name", .string(name)),
            JSONMember("image", .string(settings.image)),
        ]
        if let policy = config.imagePullPolicy { members.append(JSONMember("imagePullPolicy", .string(policy))) }
        members += [
            JSONMember("args", ["init-redirect", .string("--port=\(appPort)"), .string("--to=\(config.sidecarPort)")]),
            JSONMember("resources", config.initResources.json),
            JSONMember("securityContext", [
                "allowPrivilegeEscalation": false,
                "capabilities": ["add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]],
                "privileged": false,
                // iptables takes its lock under /run.
                "readOnlyRootFilesystem": false,
                "runAsGroup": 0,
                "runAsNonRoot": false,
                "runAsUser": 0,
                "seccompProfile": ["type": "RuntimeDefault"],
            ]),
        ]
        return .object(members)
    }

    static func sidecarContainer(
        name: String, settings: PodSettings, config: InjectionConfig, listenPort: Int, upstreamPort: Int,
        ports: [JSONValue], appImage: String, volumes: (spool: String, token: String, ca: String?, upstreamAuth: String?)
    ) -> JSONValue {
        var args: [JSONValue] = [
            "sidecar",
            .string("--listen=0.0.0.0:\(listenPort)"),
            .string("--upstream=127.0.0.1:\(upstreamPort)"),
            .string("--admin-listen=0.0.0.0:\(config.adminPort)"),
            .string("--spool=\(InjectionConfig.spoolDirectory)"),
            .string("--spool-max-bytes=\(Quantity.spoolCap(forVolumeBytes: settings.spoolBytes))"),
            .string("--full-spool=\(settings.fullSpool.rawValue)"),
            .string("--capture=\(settings.capture.rawValue)"),
        ]
        if !config.collectorURL.isEmpty { args.append(.string("--collector=\(config.collectorURL)")) }
        if case .configMap(_, let key) = config.collectorCA { args.append(.string("--collector-ca=\(InjectionConfig.caDirectory)/\(key)")) }
        args.append(.string("--token-file=\(InjectionConfig.tokenDirectory)/\(InjectionConfig.tokenFile)"))
        if let auth = settings.upstreamAuth {
            args.append(.string("--upstream-auth-header-file=\(auth.header):\(InjectionConfig.upstreamAuthDirectory)/\(auth.key)"))
        }
        if settings.stripClientAuthorization { args.append("--strip-client-authorization") }
        for policy in settings.approvalPolicies { args.append(.string("--approval-policy=\(policy)")) }
        if let tools = settings.approvalTools { args.append(.string("--approval-tools=\(tools)")) }

        func field(_ name: String, _ path: String) -> JSONValue {
            ["name": .string(name), "valueFrom": ["fieldRef": ["fieldPath": .string(path)]]]
        }
        var env: [JSONValue] = [
            field("POD_NAME", "metadata.name"),
            field("POD_NAMESPACE", "metadata.namespace"),
            field("POD_UID", "metadata.uid"),
            field("NODE_NAME", "spec.nodeName"),
            field("POD_SERVICE_ACCOUNT", "spec.serviceAccountName"),
            ["name": "MCP_SERVER_IMAGE", "value": .string(appImage)],
        ]
        if case .pem(let pem) = config.collectorCA {
            env.append(["name": "MCP_RECORDER_COLLECTOR_CA", "value": .string(pem)])
        }
        var mounts: [JSONValue] = [
            ["name": .string(volumes.spool), "mountPath": .string(InjectionConfig.spoolDirectory)],
            ["name": .string(volumes.token), "mountPath": .string(InjectionConfig.tokenDirectory), "readOnly": true],
        ]
        if let ca = volumes.ca {
            mounts.append(["name": .string(ca), "mountPath": .string(InjectionConfig.caDirectory), "readOnly": true])
        }
        if let auth = volumes.upstreamAuth {
            mounts.append(["name": .string(auth), "mountPath": .string(InjectionConfig.upstreamAuthDirectory), "readOnly": true])
        }
        let readyz: JSONValue = ["path": "/readyz", "port": .int(config.adminPort)]

        var members: [JSONMember] = [
            JSONMember("name", .string(name)),
            JSONMember("image", .string(settings.image)),
        ]
        if let policy = config.imagePullPolicy { members.append(JSONMember("imagePullPolicy", .string(policy))) }
        if settings.native { members.append(JSONMember("restartPolicy", "Always")) }
        members += [
            JSONMember("args", .array(args)),
            JSONMember("ports", .array(ports)),
            JSONMember("env", .array(env)),
            JSONMember("resources", settings.resources.json),
            JSONMember("volumeMounts", .array(mounts)),
        ]
        if settings.native {
            // The app starts only once the recorder is ready to record.
            members.append(JSONMember("startupProbe", ["httpGet": readyz, "periodSeconds": 1, "failureThreshold": 60]))
        }
        members += [
            JSONMember("readinessProbe", ["httpGet": readyz, "periodSeconds": 5]),
            JSONMember("securityContext", [
                "allowPrivilegeEscalation": false,
                "capabilities": ["drop": ["ALL"]],
                "privileged": false,
                "readOnlyRootFilesystem": true,
                "runAsGroup": 65532,
                "runAsNonRoot": true,
                "runAsUser": 65532,
                "seccompProfile": ["type": "RuntimeDefault"],
            ]),
        ]
        return .object(members)
    }
}
