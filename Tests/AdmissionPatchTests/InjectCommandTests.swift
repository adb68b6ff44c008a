import AdmissionPatch
import ArgumentParser
import RecorderJSON
import Testing

@testable import RecorderCLI

@Suite struct ManifestYAMLTests {
    @Test func keepsKeyOrderAndTypes() throws {
        let docs = try ManifestYAML.documents("""
            zeta: 1
            alpha: "2"
            mid: [true, yes, "on", null, ~, 0755, 0x1F, 1_000, 1.50, .inf, 2024-01-02, "", 'x']
            """)
        #expect(docs.count == 1)
        #expect(docs[0].serialized() == #"{"zeta":1,"alpha":"2","mid":[true,true,"on",null,null,493,31,1000,1.50,".inf","2024-01-02","","x"]}"#)
    }

    @Test func multiDocumentAndEmptyDocuments() throws {
        let docs = try ManifestYAML.documents("---\n---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n")
        #expect(docs.map { $0.serialized() } == [#"{"a":1}"#, #"{"b":2}"#])
        #expect(try ManifestYAML.documents("").isEmpty)
    }

    @Test func mergeKeysAndAnchors() throws {
        let docs = try ManifestYAML.documents("""
            base: &b {x: 1, y: 2}
            derived:
              <<: *b
              y: 3
            """)
        #expect(docs[0]["derived"]!.serialized() == #"{"y":3,"x":1}"#)
    }

    @Test func errors() {
        #expect(throws: ManifestYAML.Error.self) { try ManifestYAML.documents("a: [1, 2") }
        #expect(throws: ManifestYAML.Error.self) { try ManifestYAML.documents("a: 1\na: 2\n") }
        #expect(throws: ManifestYAML.Error.self) { try ManifestYAML.documents("? [a]\n: 1\n") }
    }

    @Test func emitsWhatReadsBackTheSame() throws {
        let value = try JSONParser.parse(#"""
            {"s":["true","8080","1.5","null","","~","yes","y","N","0755","2024-01-02","- x","a: b","#c","plain text","multi\nline\n","trailing  ","ünïcode"],
             "n":[1,-2,1.50,1e3],"b":[true,false],"z":null,"e":{},"l":[],"k":{"8080":1,"true":2,"a/b":3}}
            """#)
        let text = try ManifestYAML.emit(value)
        #expect(try ManifestYAML.documents(text) == [value])
        #expect(text.contains("\"8080\""))
        #expect(text.contains("multi: |") == false)
        #expect(text.contains("|\n"))
    }
}

@Suite struct InjectionOptionsTests {
    @Test func defaults() throws {
        let config = try InjectionOptions.parse([]).makeConfig()
        #expect(config.mode == .redirect)
        #expect(config.nativeSidecar == .auto)
        #expect(config.clusterSupportsNativeSidecars)
        #expect(config.collectorCA == .configMap(name: "mcp-recorder-ca", key: "ca.pem"))
        #expect(config.resources == ResourceSettings(cpuRequest: "50m", memoryRequest: "64Mi", cpuLimit: nil, memoryLimit: "256Mi"))
        #expect(config.excludedNamespaces == InjectionConfig.defaultExcludedNamespaces)
        #expect(config.problems().isEmpty)
    }

    @Test func flagsMapToTheConfig() throws {
        let config = try InjectionOptions.parse([
            "--image", "r:1", "--mode", "port-move", "--port-env", "PORT", "--native-sidecar", "auto", "--kubernetes-version", "1.28",
            "--capture", "metadata", "--spool-size", "2Gi", "--full-spool", "drop-oldest", "--sidecar-cpu-limit", "1",
            "--sidecar-memory-limit", "", "--exclude-namespace", "mcp-recorder", "--collector-ca-configmap", "", "--image-pull-policy", "",
        ]).makeConfig()
        #expect(config.image == "r:1")
        #expect(config.imagePullPolicy == nil)
        #expect(config.mode == .portMove)
        #expect(config.portEnv == "PORT")
        #expect(!config.clusterSupportsNativeSidecars)
        #expect(config.capture == .metadata)
        #expect(config.spoolSize == "2Gi")
        #expect(config.fullSpoolPolicy == .dropOldest)
        #expect(config.resources.cpuLimit == "1")
        #expect(config.resources.memoryLimit == nil)
        #expect(config.excludedNamespaces.contains("mcp-recorder"))
        #expect(config.excludedNamespaces.contains("kube-system"))
        #expect(config.collectorCA == .systemRoots)
    }

    @Test func theDetectedVersionIsUsedUnlessAFlagSaysOtherwise() throws {
        #expect(try !InjectionOptions.parse([]).makeConfig(detectedKubernetesVersion: "v1.27.3").clusterSupportsNativeSidecars)
        #expect(try InjectionOptions.parse(["--kubernetes-version", "1.30"]).makeConfig(detectedKubernetesVersion: "v1.27.3").clusterSupportsNativeSidecars)
    }

    @Test func badValuesAreUsageErrors() {
        for args in [["--mode", "sideways"], ["--spool-size", "huge"], ["--kubernetes-version", "latest"], ["--native-sidecar", "maybe"],
                     ["--port-env", "9X"], ["--admin-port", "15001"], ["--image", ""], ["--token-expiration-seconds", "10"]] {
            #expect(throws: (any Error).self, "\(args)") { try InjectionOptions.parse(args) }
        }
        #expect(throws: (any Error).self) { try InjectionOptions.parse(["--collector-ca-file", "/nonexistent/ca.pem"]).makeConfig() }
    }

    @Test func everyOptionHasAnEnvironmentVariable() {
        let arguments = EnvironmentOptions.apply(
            to: ["inject", "-f", "x.yaml"], root: MCPRecorderCommand.self,
            environment: ["MCP_RECORDER_IMAGE": "env:1", "MCP_RECORDER_MODE": "port-move", "MCP_RECORDER_SIDECAR_CPU_REQUEST": "10m", "MCP_RECORDER_NAMESPACE": "ns"])
        #expect(arguments.contains("--image=env:1"))
        #expect(arguments.contains("--mode=port-move"))
        #expect(arguments.contains("--sidecar-cpu-request=10m"))
        #expect(arguments.contains("--namespace=ns"))
    }

    @Test func injectCommandParses() throws {
        let command = try MCPRecorderCommand.parseAsRoot(["inject", "-f", "-", "--mode", "port-move", "--port-env", "PORT"])
        let inject = try #require(command as? InjectCommand)
        #expect(inject.filename == "-")
        #expect(try inject.injection.makeConfig().mode == .portMove)
    }
}

@Suite struct ManifestInjectionTests {
    @Test func commentsSayWhatWasDone() throws {
        let config = InjectionConfig(image: "r:1", collectorURL: "https://c")
        let result = try ManifestInjection.inject(yaml: """
            apiVersion: v1
            kind: Pod
            metadata: {name: p, labels: {mcp-recorder.io/inject: "true"}}
            spec: {hostNetwork: true, containers: [{name: a, image: a, ports: [{containerPort: 80}]}]}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: s}
            stringData: {k: v}
            """, defaultNamespace: "ns", config: config)
        #expect(result.text.hasPrefix("# mcp-recorder: Pod ns/p: not injected (host_network)"))
        #expect(!result.text.contains("#   warning:"), "a skip's warning repeats its summary and is not printed twice")
        #expect(result.notes[0].outcome.warnings.count == 1)
        #expect(result.text.contains("---\napiVersion: v1\nkind: Secret\n"))
        let quiet = try ManifestInjection.inject(yaml: "kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n", defaultNamespace: "ns", config: config, comments: false)
        #expect(quiet.text == "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n")
    }
}
