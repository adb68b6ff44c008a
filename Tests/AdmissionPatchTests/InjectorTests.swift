import RecorderJSON
import Testing

@testable import AdmissionPatch

private func json(_ text: String) -> JSONValue {
    try! JSONParser.parse(text)
}

let testConfig = InjectionConfig(image: "recorder:test", collectorURL: "https://collector:8443")

/// A pod with these annotations (JSON object text), labels and spec (JSON object text).
func pod(annotations: String = "{}", labels: String = #"{"mcp-recorder.io/inject":"true"}"#, spec: String = #"{"containers":[{"name":"app","image":"app:1","ports":[{"containerPort":8080}]}]}"#, namespace: String = "tools") -> JSONValue {
    json(#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"\#(namespace)","labels":\#(labels),"annotations":\#(annotations)},"spec":\#(spec)}"#)
}

func injectPod(_ object: JSONValue, config: InjectionConfig = testConfig, namespace: String? = nil) -> InjectionOutcome {
    Injector.inject(object, kind: "Pod", namespace: namespace, operation: .create, config: config)
}

@Suite struct PortSelectionTests {
    func select(_ containers: String, annotation: String? = nil, defaultContainer: String? = nil) -> Result<AppPort, PortSelection.Failure> {
        PortSelection.select(containers: json(containers).arrayValue!, annotation: annotation, defaultContainer: defaultContainer)
    }

    @Test func theOnlyTCPPort() throws {
        let r = try select(#"[{"name":"a","ports":[{"containerPort":53,"protocol":"UDP"},{"containerPort":8080,"name":"web"}]}]"#).get()
        #expect(r == AppPort(containerIndex: 0, containerName: "a", port: 8080, name: "web", entryIndex: 1))
    }

    @Test func mcpBeforeHttpAmongSeveral() throws {
        let containers = #"[{"name":"a","ports":[{"containerPort":80,"name":"http"},{"containerPort":9090,"name":"metrics"}]},{"name":"b","ports":[{"containerPort":8000,"name":"mcp"}]}]"#
        #expect(try select(containers).get().port == 8000)
        #expect(try select(containers).get().containerName == "b")
        let noMCP = #"[{"name":"a","ports":[{"containerPort":80,"name":"http"},{"containerPort":9090,"name":"metrics"}]}]"#
        #expect(try select(noMCP).get().port == 80)
    }

    @Test func ambiguousOrNoPortsFail() {
        guard case .failure(let f) = select(#"[{"name":"a","ports":[{"containerPort":1},{"containerPort":2}]}]"#) else { Issue.record("chose a port"); return }
        #expect(f.reason == .noPort)
        #expect(f.message.contains("1, 2"))
        guard case .failure(let g) = select(#"[{"name":"a"}]"#) else { Issue.record("chose a port"); return }
        #expect(g.reason == .noPort)
        guard case .failure(let h) = select(#"[{"name":"a","ports":[{"containerPort":53,"protocol":"UDP"}]}]"#) else { Issue.record("chose UDP"); return }
        #expect(h.reason == .noPort)
    }

    @Test func annotationByNumberOrName() throws {
        let containers = #"[{"name":"a","ports":[{"containerPort":80,"name":"http"}]},{"name":"b","ports":[{"containerPort":3000,"name":"api"}]}]"#
        #expect(try select(containers, annotation: "3000").get().containerName == "b")
        #expect(try select(containers, annotation: " api ").get().port == 3000)
        // A number nobody declares: the default container, else the first.
        let undeclared = try select(containers, annotation: "7000", defaultContainer: "b").get()
        #expect(undeclared == AppPort(containerIndex: 1, containerName: "b", port: 7000, name: nil, entryIndex: nil))
        #expect(try select(containers, annotation: "7000").get().containerIndex == 0)
        guard case .failure(let f) = select(containers, annotation: "grpc") else { Issue.record("found grpc"); return }
        #expect(f.reason == .noPort)
        for bad in ["0", "70000", "Http!", "-x"] {
            guard case .failure(let g) = select(containers, annotation: bad) else { Issue.record("accepted \(bad)"); continue }
            #expect(g.reason == .invalidAnnotation)
        }
    }
}

@Suite struct PodInjectionTests {
    @Test func injectsAndIsIdempotent() throws {
        let original = pod()
        let first = injectPod(original)
        #expect(first.decision == .injected)
        #expect(first.warnings.isEmpty)
        let injected = try JSONPatch.apply(first.patch, to: original)
        let second = injectPod(injected)
        #expect(second.decision == .skipped(.alreadyInjected))
        #expect(second.patch.isEmpty)
        // The status annotation says what was injected.
        let status = json(injected["metadata"]!["annotations"]!["mcp-recorder.io/status"]!.stringValue!)
        #expect(status["mode"] == "redirect")
        #expect(status["native"] == true)
        #expect(status["port"] == 8080)
        #expect(status["listen"] == 15001)
        #expect(status["sidecar"] == "mcp-recorder")
    }

    @Test func annotationKeysAreEscapedInPaths() {
        let paths = injectPod(pod(annotations: #"{"team":"x"}"#)).patch.compactMap { $0["path"]?.stringValue }
        #expect(paths.contains("/metadata/annotations/mcp-recorder.io~1status"))
        #expect(!paths.contains { $0.contains("mcp-recorder.io/") })
    }

    @Test func missingArraysAndObjectsAreCreatedFirst() throws {
        let bare = json(#"{"apiVersion":"v1","kind":"Pod","spec":{"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}}"#)
        // Opted in by the namespace-less pod's … nothing: add a label to opt in but no annotations object.
        var object = bare
        try object.add(json(#"{"labels":{"mcp-recorder.io/inject":"true"}}"#), at: ["metadata"])
        let outcome = injectPod(object, namespace: "tools")
        #expect(outcome.decision == .injected)
        let ops = outcome.patch.map { ($0["op"]!.stringValue!, $0["path"]!.stringValue!) }
        #expect(ops.first! == ("add", "/metadata/annotations"))
        #expect(ops.contains { $0 == ("add", "/spec/initContainers") })
        #expect(ops.contains { $0 == ("add", "/spec/initContainers/-") })
        #expect(ops.contains { $0 == ("add", "/spec/volumes") })
        #expect(ops.filter { $0 == ("add", "/spec/volumes/-") }.count == 2)
        let result = try JSONPatch.apply(outcome.patch, to: object)
        #expect(result["spec"]!["initContainers"]!.arrayValue!.map { $0["name"]!.stringValue! } == ["mcp-recorder-init", "mcp-recorder"])
        #expect(result["spec"]!["volumes"]!.arrayValue!.count == 3)
    }

    @Test func existingInitContainersKeepTheirPlace() throws {
        let object = pod(spec: #"{"initContainers":[{"name":"setup","image":"s"}],"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}"#)
        let result = try JSONPatch.apply(injectPod(object).patch, to: object)
        #expect(result["spec"]!["initContainers"]!.arrayValue!.map { $0["name"]!.stringValue! } == ["mcp-recorder-init", "setup", "mcp-recorder"])
    }

    @Test func classicSidecarSetsTheDefaultContainer() throws {
        var config = testConfig
        config.nativeSidecar = .never
        let result = try JSONPatch.apply(injectPod(pod(), config: config).patch, to: pod())
        #expect(result["metadata"]!["annotations"]!["kubectl.kubernetes.io/default-container"] == "app")
        #expect(result["spec"]!["containers"]!.arrayValue!.map { $0["name"]!.stringValue! } == ["app", "mcp-recorder"])
        #expect(result["spec"]!["containers"]![1]!["restartPolicy"] == nil)
        #expect(result["spec"]!["containers"]![1]!["startupProbe"] == nil)
        // auto follows the cluster.
        config.nativeSidecar = .auto
        config.clusterSupportsNativeSidecars = false
        #expect(try JSONPatch.apply(injectPod(pod(), config: config).patch, to: pod())["spec"]!["containers"]!.arrayValue!.count == 2)
    }

    @Test func jobPodsWithAClassicSidecarGetAWarning() {
        var config = testConfig
        config.nativeSidecar = .never
        let object = pod(labels: #"{"mcp-recorder.io/inject":"true","batch.kubernetes.io/job-name":"j"}"#)
        #expect(injectPod(object, config: config).warnings.contains { $0.contains("Job") })
        #expect(injectPod(object).warnings.isEmpty)
    }

    @Test func terminationGracePeriodIsRaisedNotLowered() throws {
        let short = pod(spec: #"{"terminationGracePeriodSeconds":10,"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}"#)
        #expect(try JSONPatch.apply(injectPod(short).patch, to: short)["spec"]!["terminationGracePeriodSeconds"] == 45)
        let long = pod(spec: #"{"terminationGracePeriodSeconds":300,"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}]}]}"#)
        #expect(try JSONPatch.apply(injectPod(long).patch, to: long)["spec"]!["terminationGracePeriodSeconds"] == 300)
    }

    @Test func portMoveRenumbersSetsEnvAndRewritesNamedProbes() throws {
        let object = pod(annotations: #"{"mcp-recorder.io/mode":"port-move","mcp-recorder.io/port-env":"PORT"}"#, spec: #"""
            {"containers":[{"name":"app","image":"a","ports":[{"name":"http","containerPort":8080}],
              "readinessProbe":{"httpGet":{"path":"/h","port":"http"}},"livenessProbe":{"tcpSocket":{"port":8080}}}]}
            """#)
        let outcome = injectPod(object)
        #expect(outcome.decision == .injected)
        let result = try JSONPatch.apply(outcome.patch, to: object)
        let app = result["spec"]!["containers"]![0]!
        #expect(app["ports"]!.serialized() == #"[{"containerPort":15002}]"#)
        #expect(app["env"]!.serialized() == #"[{"name":"PORT","value":"15002"}]"#)
        #expect(app["readinessProbe"]!["httpGet"]!["port"] == 8080)
        #expect(app["livenessProbe"]!["tcpSocket"]!["port"] == 8080)
        let sidecar = result["spec"]!["initContainers"]!.arrayValue!.last!
        #expect(sidecar["ports"]![0]!.serialized() == #"{"name":"http","containerPort":8080}"#)
        #expect(sidecar["args"]!.arrayValue!.contains("--listen=0.0.0.0:8080"))
        #expect(sidecar["args"]!.arrayValue!.contains("--upstream=127.0.0.1:15002"))
        #expect(result["spec"]!["initContainers"]!.arrayValue!.count == 1, "no init-redirect in port-move mode")
    }

    @Test func portMoveTakesTheHostPortAlong() throws {
        let object = pod(annotations: #"{"mcp-recorder.io/mode":"port-move","mcp-recorder.io/port-env":"PORT"}"#,
                         spec: #"{"containers":[{"name":"app","image":"a","ports":[{"containerPort":8080,"hostPort":80,"protocol":"TCP"}]}]}"#)
        let result = try JSONPatch.apply(injectPod(object).patch, to: object)
        #expect(result["spec"]!["containers"]![0]!["ports"]!.serialized() == #"[{"containerPort":15002,"protocol":"TCP"}]"#)
        #expect(result["spec"]!["initContainers"]![0]!["ports"]![0]!.serialized() == #"{"containerPort":8080,"hostPort":80}"#)
    }

    @Test func portMoveReplacesAnEnvValueWithAWarning() throws {
        let object = pod(annotations: #"{"mcp-recorder.io/mode":"port-move","mcp-recorder.io/port-env":"PORT"}"#,
                         spec: #"{"containers":[{"name":"app","image":"a","env":[{"name":"X","value":"1"},{"name":"PORT","value":"9999"}],"ports":[{"containerPort":8080}]}]}"#)
        let outcome = injectPod(object)
        #expect(outcome.warnings.contains { $0.contains("PORT") && $0.contains("9999") })
        let env = try JSONPatch.apply(outcome.patch, to: object)["spec"]!["containers"]![0]!["env"]!
        #expect(env.serialized() == #"[{"name":"X","value":"1"},{"name":"PORT","value":"15002"}]"#)
    }

    @Test func nameCollisionsGetSuffixes() throws {
        let object = pod(spec: #"{"containers":[{"name":"mcp-recorder","image":"a","ports":[{"containerPort":80,"name":"recorder-admin"}]}],"initContainers":[{"name":"mcp-recorder-1","image":"b"}],"volumes":[{"name":"mcp-recorder-spool","emptyDir":{}}]}"#)
        let outcome = injectPod(object)
        #expect(outcome.decision == .injected)
        #expect(outcome.warnings.count == 2)
        let result = try JSONPatch.apply(outcome.patch, to: object)
        let names = result["spec"]!["initContainers"]!.arrayValue!.map { $0["name"]!.stringValue! }
        #expect(names == ["mcp-recorder-init", "mcp-recorder-1", "mcp-recorder-2"])
        #expect(result["spec"]!["volumes"]!.arrayValue!.map { $0["name"]!.stringValue! } == ["mcp-recorder-spool", "mcp-recorder-spool-1", "mcp-recorder-token", "mcp-recorder-ca"])
        let sidecar = result["spec"]!["initContainers"]![2]!
        #expect(sidecar["volumeMounts"]![0]!["name"] == "mcp-recorder-spool-1")
        // The admin port's name is taken: the recorder's entry goes without one.
        #expect(sidecar["ports"]![1]!.serialized() == #"{"containerPort":15020}"#)
    }

    @Test func perPodOverrides() throws {
        let object = pod(annotations: #"""
            {"mcp-recorder.io/capture":"metadata","mcp-recorder.io/spool-size":"64Mi","mcp-recorder.io/full-spool":"drop-oldest",
             "mcp-recorder.io/cpu-limit":"500m","mcp-recorder.io/image":"mirror/recorder:1","mcp-recorder.io/native-sidecar":"false"}
            """#)
        let result = try JSONPatch.apply(injectPod(object).patch, to: object)
        let sidecar = result["spec"]!["containers"]![1]!
        #expect(sidecar["image"] == "mirror/recorder:1")
        let args = sidecar["args"]!.arrayValue!.compactMap(\.stringValue)
        #expect(args.contains("--capture=metadata"))
        #expect(args.contains("--full-spool=drop-oldest"))
        #expect(args.contains("--spool-max-bytes=57MiB"))
        #expect(sidecar["resources"]!["limits"]!["cpu"] == "500m")
        #expect(result["spec"]!["volumes"]![0]!["emptyDir"]!["sizeLimit"] == "64Mi")
    }

    @Test func inlineCAGoesIntoTheEnvironment() throws {
        var config = testConfig
        config.collectorCA = .pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        let result = try JSONPatch.apply(injectPod(pod(), config: config).patch, to: pod())
        let sidecar = result["spec"]!["initContainers"]!.arrayValue!.last!
        #expect(sidecar["env"]!.arrayValue!.last!["name"] == "MCP_RECORDER_COLLECTOR_CA")
        #expect(!sidecar["args"]!.arrayValue!.contains { $0.stringValue?.hasPrefix("--collector-ca") == true })
        #expect(result["spec"]!["volumes"]!.arrayValue!.count == 2)
        config.collectorCA = .systemRoots
        #expect(try JSONPatch.apply(injectPod(pod(), config: config).patch, to: pod())["spec"]!["volumes"]!.arrayValue!.count == 2)
    }

    @Test func fieldsTheInjectorDoesNotKnowSurvive() throws {
        let object = pod(spec: #"{"futureField":{"z":1,"a":[1.50,"x"]},"containers":[{"name":"app","image":"a","ports":[{"containerPort":80}],"unknown":true}],"overhead":{"cpu":"1"}}"#)
        let result = try JSONPatch.apply(injectPod(object).patch, to: object)
        #expect(result["spec"]!["futureField"]!.serialized() == #"{"z":1,"a":[1.50,"x"]}"#)
        #expect(result["spec"]!["containers"]![0]!["unknown"] == true)
        #expect(result["spec"]!["overhead"]!.serialized() == #"{"cpu":"1"}"#)
    }

    /// One object per skip reason; the test fails when a reason is added without a sample.
    @Test func everySkipReason() {
        var portMove = testConfig
        portMove.mode = .portMove
        let samples: [(SkipReason, InjectionOutcome)] = [
            (.notOptedIn, injectPod(pod(labels: "{}"))),
            (.optedOut, injectPod(pod(annotations: #"{"mcp-recorder.io/inject":"false"}"#))),
            (.alreadyInjected, injectPod(pod(annotations: #"{"mcp-recorder.io/status":"{}"}"#))),
            (.hostNetwork, injectPod(pod(spec: #"{"hostNetwork":true,"containers":[{"name":"a","ports":[{"containerPort":80}]}]}"#))),
            (.systemNamespace, injectPod(pod(namespace: "kube-system"))),
            (.noPort, injectPod(pod(spec: #"{"containers":[{"name":"a"}]}"#))),
            (.unsupportedKind, Injector.inject(json(#"{"kind":"Service"}"#), kind: "Service", namespace: "x", operation: .create, config: testConfig)),
            (.unsupportedOperation, Injector.inject(pod(), kind: "Pod", namespace: "x", operation: .update, config: testConfig)),
            (.portConflict, injectPod(pod(spec: #"{"containers":[{"name":"a","ports":[{"containerPort":80}]},{"name":"b","ports":[{"containerPort":15020,"protocol":"UDP"}]}]}"#))),
            (.missingPortEnv, injectPod(pod(), config: portMove)),
            (.invalidAnnotation, injectPod(pod(annotations: #"{"mcp-recorder.io/mode":"sideways"}"#))),
            (.invalidObject, injectPod(json(#"{"kind":"Pod","metadata":{"labels":{"mcp-recorder.io/inject":"true"}},"spec":{"containers":[]}}"#))),
            (.windowsPod, injectPod(pod(spec: #"{"os":{"name":"windows"},"containers":[{"name":"a","ports":[{"containerPort":80}]}]}"#))),
        ]
        for (reason, outcome) in samples {
            #expect(outcome.decision == .skipped(reason), "\(reason): \(outcome.summary)")
            #expect(outcome.patch.isEmpty)
            #expect(outcome.decision.reason == reason)
            #expect(outcome.decision.name == "skipped")
            // Skips are reported as warnings, except the everyday ones.
            let silent: Set<SkipReason> = [.notOptedIn, .unsupportedKind, .unsupportedOperation]
            #expect(outcome.warnings.isEmpty == silent.contains(reason), "\(reason) warnings: \(outcome.warnings)")
            if !silent.contains(reason) { #expect(outcome.warnings.allSatisfy { $0.contains(reason.rawValue) }) }
        }
        #expect(Set(samples.map(\.0)) == Set(SkipReason.allCases))
    }

    @Test func redirectPortConflicts() {
        // The app itself on the sidecar's port.
        let onSidecarPort = pod(spec: #"{"containers":[{"name":"a","ports":[{"containerPort":15001}]}]}"#)
        #expect(injectPod(onSidecarPort).decision == .skipped(.portConflict))
        // In port-move mode 15001 is free, but the moved port must be.
        let moved = pod(annotations: #"{"mcp-recorder.io/mode":"port-move","mcp-recorder.io/port-env":"PORT"}"#, spec: #"{"containers":[{"name":"a","ports":[{"containerPort":15001}]}]}"#)
        #expect(injectPod(moved).decision == .injected)
        let movedClash = pod(annotations: #"{"mcp-recorder.io/mode":"port-move","mcp-recorder.io/port-env":"PORT","mcp-recorder.io/port":"8080"}"#,
                             spec: #"{"containers":[{"name":"a","ports":[{"containerPort":8080}]},{"name":"b","ports":[{"containerPort":15002}]}]}"#)
        let outcome = injectPod(movedClash)
        #expect(outcome.decision == .skipped(.portConflict))
        #expect(outcome.warnings.first?.contains("15002") == true)
    }

    @Test func invalidAnnotationsNameTheAnnotation() {
        for (key, value) in [("mcp-recorder.io/capture", "everything"), ("mcp-recorder.io/spool-size", "1Mi"), ("mcp-recorder.io/spool-size", "lots"),
                             ("mcp-recorder.io/full-spool", "panic"), ("mcp-recorder.io/cpu-request", "fast"), ("mcp-recorder.io/port-env", "1PORT"),
                             ("mcp-recorder.io/moved-port", "99999"), ("mcp-recorder.io/native-sidecar", "maybe"), ("mcp-recorder.io/image", "a b")] {
            let outcome = injectPod(pod(annotations: JSONValue.object([JSONMember(key, .string(value))]).serialized()))
            #expect(outcome.decision == .skipped(.invalidAnnotation), "\(key)=\(value)")
            #expect(outcome.warnings.first?.contains(key) == true)
        }
    }

    @Test func optInValues() {
        #expect(injectPod(pod(annotations: #"{"mcp-recorder.io/inject":"true"}"#, labels: "{}")).decision == .injected)
        #expect(injectPod(pod(labels: #"{"mcp-recorder.io/inject":"True"}"#)).decision == .injected)
        let odd = injectPod(pod(labels: #"{"mcp-recorder.io/inject":"yes"}"#))
        #expect(odd.decision == .skipped(.notOptedIn))
        #expect(odd.warnings.count == 1)
        // "false" wins over "true".
        #expect(injectPod(pod(annotations: #"{"mcp-recorder.io/inject":"true"}"#, labels: #"{"mcp-recorder.io/inject":"false"}"#)).decision == .skipped(.optedOut))
        // The webhook's namespace parameter wins over the object's.
        #expect(injectPod(pod(namespace: "tools"), namespace: "kube-system").decision == .skipped(.systemNamespace))
    }
}

@Suite struct WorkloadTests {
    func deployment(annotations: String = "{}", templateLabels: String = #"{"app":"x"}"#, templateAnnotations: String? = nil, selector: String = #"{"app":"x"}"#) -> JSONValue {
        let ta = templateAnnotations.map { #","annotations":\#($0)"# } ?? ""
        return json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","annotations":\#(annotations)},"spec":{"selector":{"matchLabels":\#(selector)},"template":{"metadata":{"labels":\#(templateLabels)\#(ta)},"spec":{"containers":[{"name":"a","image":"a","ports":[{"containerPort":80}]}]}}}}"#)
    }

    func run(_ object: JSONValue, kind: String = "Deployment", _ operation: AdmissionOperation = .update) throws -> (InjectionOutcome, JSONValue) {
        let outcome = Injector.inject(object, kind: kind, namespace: "tools", operation: operation, config: testConfig)
        return (outcome, try JSONPatch.apply(outcome.patch, to: object))
    }

    @Test func annotationBecomesTheTemplateLabel() throws {
        let (outcome, result) = try run(deployment(annotations: #"{"mcp-recorder.io/inject":"true"}"#), .create)
        #expect(outcome.decision == .propagated)
        #expect(result["spec"]!["template"]!["metadata"]!.serialized() == #"{"labels":{"app":"x","mcp-recorder.io/inject":"true"},"annotations":{"mcp-recorder.io/propagated":"true"}}"#)
        // Again: nothing to do.
        let (again, _) = try run(result)
        #expect(again.decision == .unchanged)
        #expect(again.patch.isEmpty)
        // Removed: label and marker go, nothing else changes.
        var removed = result
        try removed.replace(.object([]), at: ["metadata", "annotations"])
        let (undo, back) = try run(removed)
        #expect(undo.decision == .removed)
        #expect(back["spec"]!["template"]! == deployment()["spec"]!["template"]!)
        // "false" removes too.
        try removed.replace(json(#"{"mcp-recorder.io/inject":"false"}"#), at: ["metadata", "annotations"])
        #expect(try run(removed).0.decision == .removed)
    }

    @Test func theTemplateAnnotationCountsToo() throws {
        let (outcome, result) = try run(deployment(templateAnnotations: #"{"mcp-recorder.io/inject":"true"}"#), .create)
        #expect(outcome.decision == .propagated)
        #expect(result["spec"]!["template"]!["metadata"]!["labels"]!["mcp-recorder.io/inject"] == "true")
    }

    @Test func labelsTheRecorderDidNotSetAreLeftAlone() throws {
        let userLabel = deployment(templateLabels: #"{"app":"x","mcp-recorder.io/inject":"true"}"#)
        #expect(try run(userLabel).0.decision == .unchanged)
        let userFalse = deployment(annotations: #"{"mcp-recorder.io/inject":"true"}"#, templateLabels: #"{"app":"x","mcp-recorder.io/inject":"false"}"#)
        let (outcome, _) = try run(userFalse)
        #expect(outcome.decision == .unchanged)
        #expect(outcome.warnings.count == 1)
        // A selector on the label: the label must stay, the marker goes.
        let selected = deployment(templateLabels: #"{"app":"x","mcp-recorder.io/inject":"true"}"#, templateAnnotations: #"{"mcp-recorder.io/propagated":"true","keep":"me"}"#, selector: #"{"app":"x","mcp-recorder.io/inject":"true"}"#)
        let (kept, result) = try run(selected)
        #expect(kept.decision == .removed)
        #expect(kept.warnings.count == 1)
        #expect(result["spec"]!["template"]!["metadata"]!.serialized() == #"{"labels":{"app":"x","mcp-recorder.io/inject":"true"},"annotations":{"keep":"me"}}"#)
    }

    @Test func jobsOnlyOnCreateAndCronJobsByTheirJobTemplate() throws {
        let job = json(#"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","annotations":{"mcp-recorder.io/inject":"true"}},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"a"}]}}}}"#)
        let (created, result) = try run(job, kind: "Job", .create)
        #expect(created.decision == .propagated)
        #expect(result["spec"]!["template"]!["metadata"]!["labels"]!["mcp-recorder.io/inject"] == "true")
        #expect(try run(job, kind: "Job", .update).0.decision == .unchanged)
        let cron = json(#"{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c","annotations":{"mcp-recorder.io/inject":"true"}},"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a"}]}}}}}}"#)
        let (c, cr) = try run(cron, kind: "CronJob")
        #expect(c.decision == .propagated)
        #expect(cr["spec"]!["jobTemplate"]!["spec"]!["template"]!["metadata"]!["labels"]!["mcp-recorder.io/inject"] == "true")
    }

    @Test func injectTemplatePrefixesThePodPatch() throws {
        let (_, propagated) = try run(deployment(annotations: #"{"mcp-recorder.io/inject":"true"}"#), .create)
        let outcome = Injector.injectTemplate(propagated, kind: "Deployment", namespace: "tools", config: testConfig)
        #expect(outcome.decision == .injected)
        #expect(outcome.patch.allSatisfy { $0["path"]!.stringValue!.hasPrefix("/spec/template/") })
        let result = try JSONPatch.apply(outcome.patch, to: propagated)
        #expect(result["spec"]!["template"]!["spec"]!["initContainers"]!.arrayValue!.count == 2)
        #expect(Injector.injectTemplate(result, kind: "Deployment", namespace: "tools", config: testConfig).decision == .skipped(.alreadyInjected))
    }

    @Test func renderHandlesListsAndPassesOtherKindsThrough() {
        let list = json(#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}},\#(pod().serialized())]}"#)
        let rendered = Injector.render(list, defaultNamespace: "default", config: testConfig)
        #expect(rendered.object["items"]![0] == list["items"]![0])
        #expect(rendered.object["items"]![1]!["spec"]!["initContainers"] != nil)
        #expect(rendered.notes.count == 1)
        #expect(rendered.notes[0].subject == "Pod tools/p")
    }
}

@Suite struct ConfigTests {
    @Test func quantities() {
        #expect(Quantity.bytes("1Gi") == 1 << 30)
        #expect(Quantity.bytes("512Mi") == 512 << 20)
        #expect(Quantity.bytes("1.5Gi") == 3 << 29)
        #expect(Quantity.bytes("500M") == 500_000_000)
        #expect(Quantity.bytes("2e3") == 2000)
        #expect(Quantity.bytes("1000") == 1000)
        #expect(Quantity.bytes("-1Gi") == nil)
        for valid in ["100m", "0.5", "1", "64Mi", "1E", "1.5e-3"] { #expect(Quantity.isValid(valid), "\(valid)") }
        for invalid in ["", "abc", "1GB", "1 Gi", "Mi", ".", "1..2", "1e"] { #expect(!Quantity.isValid(invalid), "\(invalid)") }
        #expect(Quantity.spoolCap(forVolumeBytes: 1 << 30) == "921MiB")
        #expect(Quantity.spoolCap(forVolumeBytes: 16 << 20) == "14MiB")
    }

    @Test func nativeSidecarVersions() {
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "1.29") == true)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "v1.33.2") == true)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "1.30+") == true)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "1.28") == false)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "v1.20.15") == false)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "2.0") == true)
        #expect(InjectionConfig.supportsNativeSidecars(kubernetesVersion: "latest") == nil)
    }

    @Test func configProblems() {
        #expect(testConfig.problems().isEmpty)
        var bad = testConfig
        bad.image = ""
        bad.spoolSize = "1Mi"
        bad.adminPort = bad.sidecarPort
        bad.resources.cpuRequest = "lots"
        bad.tokenExpirationSeconds = 60
        bad.collectorCA = .configMap(name: "Bad_Name", key: "a/b")
        #expect(bad.problems().count == 7)
    }

    @Test func validationHelpers() {
        #expect(Validation.isPortName("http"))
        #expect(Validation.isPortName("recorder-admin"))
        #expect(!Validation.isPortName("recorder-admin-x"))
        #expect(!Validation.isPortName("8080"))
        #expect(!Validation.isPortName("a--b"))
        #expect(Validation.isEnvName("FASTMCP_PORT"))
        #expect(!Validation.isEnvName("9PORT"))
        #expect(!Validation.isEnvName("A=B"))
    }
}
