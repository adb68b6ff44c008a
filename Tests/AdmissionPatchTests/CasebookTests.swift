import Foundation
import RecorderJSON
import Testing
import Yams

@testable import AdmissionPatch
@testable import RecorderCLI

/// The casebook in `webhook/cases`: every case runs through the webhook path (AdmissionReview
/// → `Injector.inject` → JSON Patch applied) and through `inject` (the command's own
/// function), both compared with `expected.yaml`; then the output is injected again and
/// must not change. `MCP_RECORDER_UPDATE_GOLDENS=1` rewrites the expected files.
enum Casebook {
    static let webhookDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("webhook")
    static let casesDirectory = webhookDirectory.appendingPathComponent("cases")
    static let updating = ProcessInfo.processInfo.environment["MCP_RECORDER_UPDATE_GOLDENS"] == "1"

    static let input = "input.yaml"
    static let expected = "expected.yaml"
    static let config = "config.yaml"

    /// The case directories, sorted.
    static func caseNames() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: casesDirectory.path)) ?? []
        return entries.filter { isDirectory(casesDirectory.appendingPathComponent($0)) }.sorted()
    }

    static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    static func read(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    /// What a case runs with: flags (webhook/defaults.yaml, then the case's config.yaml), the
    /// namespace for objects without one, and the operation of the webhook path.
    struct Settings {
        var arguments: [String] = []
        var namespace = "default"
        var operation = AdmissionOperation.create
        /// Files of the case directory named by flags (`collector-ca-file: ca.pem`).
        var files: [String] = []
        var config: InjectionConfig
    }

    static func settings(_ name: String) throws -> Settings {
        let directory = casesDirectory.appendingPathComponent(name)
        var merged: [JSONMember] = []
        for url in [webhookDirectory.appendingPathComponent("defaults.yaml"), directory.appendingPathComponent(config)]
        where FileManager.default.fileExists(atPath: url.path) {
            guard let document = try ManifestYAML.documents(try read(url)).first else { continue }
            guard case .object(let members) = document else { throw CasebookError("\(url.path) is not a mapping") }
            for member in members {
                if let i = merged.firstIndex(where: { $0.key == member.key }) { merged[i] = member } else { merged.append(member) }
            }
        }
        var arguments: [String] = []
        var namespace = "default"
        var operation = AdmissionOperation.create
        var files: [String] = []
        for member in merged {
            let values: [JSONValue] = member.value.arrayValue ?? [member.value]
            let texts = values.map { value -> String in
                switch value {
                case .string(let s): s
                case .null: ""
                default: value.serialized()
                }
            }
            switch member.key {
            case "namespace": namespace = texts.first ?? namespace
            case "operation":
                guard let op = AdmissionOperation(rawValue: texts.first ?? "") else { throw CasebookError("\(name): operation must be CREATE or UPDATE") }
                operation = op
            default:
                for text in texts {
                    if member.key.hasSuffix("-file") {
                        files.append(text)
                        arguments.append("--\(member.key)=\(directory.appendingPathComponent(text).path)")
                    } else {
                        arguments.append("--\(member.key)=\(text)")
                    }
                }
            }
        }
        let options = try InjectionOptions.parse(arguments)
        return Settings(arguments: arguments, namespace: namespace, operation: operation, files: files, config: try options.makeConfig())
    }
}

struct CasebookError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The webhook path, as the API server drives it: an AdmissionReview v1 request around the
/// object, `Injector.inject` on what is decoded from it, an AdmissionReview response with the
/// base64 JSON Patch, and that patch applied to the object. For a workload, the pod its
/// controller then creates from the (patched) template goes through the pod webhook the same
/// way, and the result is put back into the template — so the output shows what runs.
enum WebhookPath {
    static let resources: [String: (group: String, version: String, resource: String)] = [
        "Pod": ("", "v1", "pods"),
        "Deployment": ("apps", "v1", "deployments"),
        "StatefulSet": ("apps", "v1", "statefulsets"),
        "DaemonSet": ("apps", "v1", "daemonsets"),
        "Job": ("batch", "v1", "jobs"),
        "CronJob": ("batch", "v1", "cronjobs"),
    ]

    static func admit(_ object: JSONValue, namespace: String, operation: AdmissionOperation, config: InjectionConfig) throws -> JSONValue {
        let kind = object["kind"]?.stringValue ?? ""
        if kind.hasSuffix("List"), case .array(let items) = object["items"] {
            var result = object
            try result.replace(.array(try items.map { try admit($0, namespace: namespace, operation: operation, config: config) }), at: ["items"])
            return result
        }
        // The webhook is registered for pods and the workload kinds only.
        guard resources[kind] != nil else { return object }
        let namespace = object["metadata"]?["namespace"]?.stringValue ?? namespace
        var result = try review(object, kind: kind, namespace: namespace, operation: kind == "Pod" ? .create : operation, config: config).object
        if let templatePath = Injector.podTemplatePaths[kind], case .object(var template) = result.value(at: templatePath) {
            var pod: [JSONMember] = [JSONMember("apiVersion", "v1"), JSONMember("kind", "Pod")]
            for key in ["metadata", "spec"] { if let v = template.first(where: { $0.key == key })?.value { pod.append(JSONMember(key, v)) } }
            let created = try review(.object(pod), kind: "Pod", namespace: namespace, operation: .create, config: config).object
            for key in ["metadata", "spec"] {
                guard let value = created[key] else { continue }
                if let i = template.firstIndex(where: { $0.key == key }) { template[i].value = value } else { template.append(JSONMember(key, value)) }
            }
            try result.replace(.object(template), at: templatePath)
        }
        return result
    }

    /// One admission round trip; returns the patched object and the decoded response.
    static func review(_ object: JSONValue, kind: String, namespace: String, operation: AdmissionOperation, config: InjectionConfig) throws -> (object: JSONValue, response: JSONValue) {
        let (group, version, resource) = resources[kind]!
        let uid = UUID().uuidString.lowercased()
        let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(kind)]
        let gvr: JSONValue = ["group": .string(group), "version": .string(version), "resource": .string(resource)]
        var request: [JSONMember] = [
            JSONMember("uid", .string(uid)),
            JSONMember("kind", gvk), JSONMember("resource", gvr),
            JSONMember("requestKind", gvk), JSONMember("requestResource", gvr),
        ]
        if let name = object["metadata"]?["name"]?.stringValue { request.append(JSONMember("name", .string(name))) }
        request += [
            JSONMember("namespace", .string(namespace)),
            JSONMember("operation", .string(operation.rawValue)),
            JSONMember("userInfo", ["username": "system:serviceaccount:kube-system:replicaset-controller", "groups": ["system:serviceaccounts", "system:authenticated"]]),
            JSONMember("object", object),
            JSONMember("oldObject", operation == .update ? object : .null),
            JSONMember("dryRun", false),
            JSONMember("options", ["apiVersion": "meta.k8s.io/v1", "kind": .string(operation == .create ? "CreateOptions" : "UpdateOptions")]),
        ]
        let wire = JSONValue.object([
            JSONMember("apiVersion", "admission.k8s.io/v1"), JSONMember("kind", "AdmissionReview"), JSONMember("request", .object(request)),
        ]).serialized()

        // The server side: decode what arrived, decide, answer.
        let received = try JSONParser.parse(wire)
        guard let req = received["request"], let receivedObject = req["object"], let receivedKind = req["kind"]?["kind"]?.stringValue,
            let op = req["operation"]?.stringValue.flatMap(AdmissionOperation.init(rawValue:))
        else { throw CasebookError("malformed AdmissionReview") }
        let outcome = Injector.inject(receivedObject, kind: receivedKind, namespace: req["namespace"]?.stringValue, operation: op, config: config)
        var response: [JSONMember] = [JSONMember("uid", req["uid"] ?? .null), JSONMember("allowed", true)]
        if !outcome.patch.isEmpty {
            response.append(JSONMember("patchType", "JSONPatch"))
            response.append(JSONMember("patch", .string(Base64.encode(Array(JSONValue.array(outcome.patch).serialized().utf8)))))
        }
        if !outcome.warnings.isEmpty { response.append(JSONMember("warnings", .array(outcome.warnings.map { .string($0) }))) }
        let answer = try JSONParser.parse(JSONValue.object([
            JSONMember("apiVersion", "admission.k8s.io/v1"), JSONMember("kind", "AdmissionReview"), JSONMember("response", .object(response)),
        ]).serialized())

        // The API server applies the patch.
        guard answer["response"]?["uid"]?.stringValue == uid else { throw CasebookError("uid not echoed") }
        guard let patchText = answer["response"]?["patch"]?.stringValue else { return (object, answer) }
        guard let bytes = Base64.decode(patchText), case .array(let operations) = try JSONParser.parse(bytes) else {
            throw CasebookError("the patch is not base64 JSON")
        }
        return (try JSONPatch.apply(operations, to: object), answer)
    }
}

@Suite struct CasebookTests {
    @Test func casebookLayout() throws {
        let names = Casebook.caseNames()
        #expect(names.count >= 15, "the casebook needs at least 15 cases")
        // Nothing but case directories under cases/.
        for entry in try FileManager.default.contentsOfDirectory(atPath: Casebook.casesDirectory.path) {
            #expect(Casebook.isDirectory(Casebook.casesDirectory.appendingPathComponent(entry)), "webhook/cases/\(entry) is not a case directory")
        }
        let readme = try Casebook.read(Casebook.webhookDirectory.appendingPathComponent("README.md"))
        for name in names {
            #expect(name.range(of: #"^[0-9]{2}-[a-z0-9-]+$"#, options: .regularExpression) != nil, "case \(name) is not named NN-name")
            let directory = Casebook.casesDirectory.appendingPathComponent(name)
            let files = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
            #expect(files.contains(Casebook.input), "case \(name) has no \(Casebook.input)")
            if !Casebook.updating {
                #expect(files.contains(Casebook.expected), "case \(name) has no golden \(Casebook.expected); run the tests with MCP_RECORDER_UPDATE_GOLDENS=1")
            }
            let settings = try Casebook.settings(name)
            let known = Set([Casebook.input, Casebook.expected, Casebook.config] + settings.files)
            for file in files.subtracting(known) {
                Issue.record("webhook/cases/\(name)/\(file) is used by no case (a stray golden or input?)")
            }
            if !readme.contains(name) { Issue.record("webhook/README.md does not describe case \(name)") }
        }
    }

    @Test(arguments: Casebook.caseNames())
    func casebookCase(_ name: String) throws {
        let directory = Casebook.casesDirectory.appendingPathComponent(name)
        let settings = try Casebook.settings(name)
        let config = settings.config
        let inputText = try Casebook.read(directory.appendingPathComponent(Casebook.input))
        let expectedURL = directory.appendingPathComponent(Casebook.expected)

        // (b) `inject`: the command's own function, in process.
        let cli = try ManifestInjection.inject(yaml: inputText, defaultNamespace: settings.namespace, config: config)
        if Casebook.updating {
            try cli.text.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        guard FileManager.default.fileExists(atPath: expectedURL.path) else {
            Issue.record("case \(name) has no golden; run with MCP_RECORDER_UPDATE_GOLDENS=1")
            return
        }
        let expectedText = try Casebook.read(expectedURL)
        let expected = try ManifestYAML.documents(expectedText)
        if cli.text != expectedText {
            Issue.record("inject output of \(name) differs from the golden (MCP_RECORDER_UPDATE_GOLDENS=1 rewrites it):\n\(firstDifference(cli.text, expectedText))")
        }

        // (a) the webhook path.
        let input = try ManifestYAML.documents(inputText)
        let admitted = try input.map { try WebhookPath.admit($0, namespace: settings.namespace, operation: settings.operation, config: config) }
        #expect(admitted.count == expected.count)
        for (got, want) in zip(admitted, expected) where got != want {
            Issue.record("webhook path of \(name) differs from the golden:\n\(firstDifference(try ManifestYAML.emit(got), try ManifestYAML.emit(want)))")
        }

        // (c) a second injection changes nothing, on both paths.
        let again = try ManifestInjection.inject(yaml: expectedText, defaultNamespace: settings.namespace, config: config)
        #expect(try ManifestYAML.documents(again.text) == expected, "injecting \(name)'s output again changed it")
        for note in again.notes {
            let fine: Bool = switch note.outcome.decision {
            case .unchanged, .skipped: true
            default: false
            }
            #expect(fine && note.outcome.patch.isEmpty, "second injection of \(name): \(note.subject) → \(note.outcome.decision) \(note.outcome.summary)")
        }
        for document in expected {
            let readmitted = try WebhookPath.admit(document, namespace: settings.namespace, operation: .update, config: config)
            #expect(readmitted == document, "the webhook changes \(name)'s output again")
            let kind = document["kind"]?.stringValue ?? ""
            if kind == "Pod" || Injector.podTemplatePaths[kind] != nil {
                let namespace = document["metadata"]?["namespace"]?.stringValue ?? settings.namespace
                let outcome = Injector.inject(document, kind: kind, namespace: namespace, operation: kind == "Pod" ? .create : .update, config: config)
                #expect(outcome.patch.isEmpty, "re-invocation on \(name)'s output patches: \(outcome.patch)")
            }
        }
    }

    /// The first line where two texts differ, with a little context.
    func firstDifference(_ a: String, _ b: String) -> String {
        let x = a.split(separator: "\n", omittingEmptySubsequences: false)
        let y = b.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(x.count, y.count) where (i < x.count ? x[i] : nil) != (i < y.count ? y[i] : nil) {
            let got = i < x.count ? String(x[i]) : "(end)"
            let want = i < y.count ? String(y[i]) : "(end)"
            return "line \(i + 1):\n  got:      \(got)\n  expected: \(want)"
        }
        return "(same lines)"
    }
}
