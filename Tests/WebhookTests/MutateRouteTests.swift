import AdmissionPatch
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import RecorderJSON
import Testing
import Webhook

/// `POST /mutate` through the real router: the AdmissionReview layer around the injector.
@Suite struct MutateRouteTests {
    let config = InjectionConfig(image: "mcp-recorder:test", collectorURL: "https://collector.mcp-recorder.svc:8443")

    func run<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        var logger = Logger(label: "webhook-tests")
        logger.logLevel = .critical
        let router = buildWebhookRouter(config: config, metrics: WebhookMetrics(), logger: logger)
        let app = Application(router: router, logger: logger)
        return try await app.test(.router, body)
    }

    static func review(_ object: JSONValue, kind: String, group: String = "", namespace: String = "team-a", operation: String = "CREATE") -> [UInt8] {
        let json: JSONValue = [
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": [
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": ["group": .string(group), "version": "v1", "kind": .string(kind)],
                "resource": ["group": .string(group), "version": "v1", "resource": "pods"],
                "namespace": .string(namespace), "operation": .string(operation),
                "userInfo": ["username": "admin"], "object": object, "dryRun": false,
            ],
        ]
        return Array(json.serialized().utf8)
    }

    static let optedInPod: JSONValue = [
        "apiVersion": "v1", "kind": "Pod",
        "metadata": ["name": "weather-1", "namespace": "team-a", "labels": ["mcp-recorder.io/inject": "true"]],
        "spec": ["containers": [["name": "app", "image": "example/mcp:1", "ports": [["containerPort": 8000, "protocol": "TCP"]]]]],
    ]

    func post(_ client: any TestClientProtocol, _ body: [UInt8]) async throws -> (status: HTTPResponse.Status, json: JSONValue?) {
        let response = try await client.execute(uri: "/mutate", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
        return (response.status, try? JSONParser.parse(Array(buffer: response.body)))
    }

    @Test func anOptedInPodGetsAJSONPatchThatInjectsTheRecorder() async throws {
        let (status, json) = try await run { try await post($0, Self.review(Self.optedInPod, kind: "Pod")) }
        #expect(status == .ok)
        let response = try #require(json?["response"])
        #expect(json?["apiVersion"]?.stringValue == "admission.k8s.io/v1")
        #expect(response["uid"]?.stringValue == "705ab4f5-6393-11e8-b7cc-42010a800002", "the uid is echoed")
        #expect(response["allowed"]?.boolValue == true)
        #expect(response["patchType"]?.stringValue == "JSONPatch")
        let patchText = try #require(response["patch"]?.stringValue.flatMap(Base64.decode))
        let patch = try #require(try JSONParser.parse(patchText).arrayValue)
        let patched = try JSONPatch.apply(patch, to: Self.optedInPod)
        #expect(patched["metadata"]?["annotations"]?["mcp-recorder.io/status"] != nil)
        let names = (patched["spec"]?["initContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            + (patched["spec"]?["containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        #expect(names.contains("mcp-recorder"), "\(names)")
        #expect(patched["spec"]?["containers"]?[0]?["name"]?.stringValue == "app", "the app stays the first container")
    }

    @Test func aPodWithoutOptInIsAllowedUnchangedWithTheReason() async throws {
        let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "plain"], "spec": ["containers": [["name": "app", "image": "x"]]]]
        let (status, json) = try await run { try await post($0, Self.review(pod, kind: "Pod")) }
        #expect(status == .ok)
        #expect(json?["response"]?["allowed"]?.boolValue == true)
        #expect(json?["response"]?["patch"] == nil)
        #expect(json?["response"]?["status"]?["message"]?.stringValue?.contains("not_opted_in") == true)
    }

    @Test func aDeploymentAnnotationBecomesATemplateLabel() async throws {
        let deployment: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": ["name": "weather", "annotations": ["mcp-recorder.io/inject": "true"]],
            "spec": ["selector": ["matchLabels": ["app": "weather"]],
                     "template": ["metadata": ["labels": ["app": "weather"]], "spec": ["containers": [["name": "app", "image": "x"]]]]],
        ]
        let (_, json) = try await run { try await post($0, Self.review(deployment, kind: "Deployment", group: "apps", operation: "UPDATE")) }
        let patchText = try #require(json?["response"]?["patch"]?.stringValue.flatMap(Base64.decode))
        let patched = try JSONPatch.apply(try #require(try JSONParser.parse(patchText).arrayValue), to: deployment)
        #expect(patched["spec"]?["template"]?["metadata"]?["labels"]?["mcp-recorder.io/inject"]?.stringValue == "true")
    }

    @Test(arguments: [
        ("not json {", "not JSON"),
        (#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"1"}}"#, "v1beta1"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#, "no \"request\""),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{}}"#, "not \"AdmissionReview\""),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"},"operation":"CREATE"}}"#, "uid"),
        ("[1,2,3]", "not a JSON object"),
    ])
    func aBodyThatIsNotAnAdmissionReviewIs400(body: String, expected: String) async throws {
        let (status, json) = try await run { try await post($0, Array(body.utf8)) }
        #expect(status == .badRequest)
        #expect(json?["error"]?.stringValue == "invalid_review")
        #expect(json?["message"]?.stringValue?.contains(expected) == true, "\(String(describing: json))")
    }

    @Test func aTenMegabyteBodyIs413() async throws {
        let huge = [UInt8](repeating: UInt8(ascii: " "), count: 10 << 20)
        let (status, json) = try await run { try await post($0, huge) }
        #expect(status == .contentTooLarge)
        #expect(json?["error"]?.stringValue == "too_large")
    }

    @Test(arguments: [
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"kind":"Pod"},"operation":"CREATE"}}"#, "request.object is missing"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"kind":"Pod"},"operation":"CREATE","object":null}}"#, "request.object is missing"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"kind":"Pod"},"operation":"CREATE","object":"a pod"}}"#, "request.object is JSON string, not an object"),
        (#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"apps","kind":"Deployment"},"operation":"UPDATE","object":[1]}}"#, "request.object is JSON array"),
    ])
    func aCreateOrUpdateWithoutAnObjectIs400SoTheFailurePolicyDecides(body: String, expected: String) async throws {
        let (status, json) = try await run { try await post($0, Array(body.utf8)) }
        #expect(status == .badRequest)
        #expect(json?["error"]?.stringValue == "invalid_review")
        #expect(json?["message"]?.stringValue?.contains(expected) == true, "\(String(describing: json))")
    }

    @Test func aDeleteWithoutAnObjectIsAllowedWithAMessage() async throws {
        let body = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u2","kind":{"kind":"Pod"},"operation":"DELETE","oldObject":{}}}"#
        let (status, json) = try await run { try await post($0, Array(body.utf8)) }
        #expect(status == .ok)
        #expect(json?["response"]?["uid"]?.stringValue == "u2")
        #expect(json?["response"]?["allowed"]?.boolValue == true)
        #expect(json?["response"]?["patch"] == nil)
        #expect(json?["response"]?["status"]?["message"]?.stringValue == "mcp-recorder: nothing to do for DELETE Pod")
    }

    @Test(arguments: ["/mutate/../healthz", "/%2e%2e/etc/passwd", "/nope"])
    func unknownOrTraversingPathsGetAJSONError(path: String) async throws {
        let (status, json) = try await run { client in
            let response = try await client.execute(uri: path, method: .get)
            return (response.status, try? JSONParser.parse(Array(buffer: response.body)))
        }
        #expect(status == (path == "/nope" ? .notFound : .badRequest))
        #expect(json?["error"]?.stringValue == (path == "/nope" ? "not_found" : "invalid_path"))
        #expect(json?["message"]?.stringValue?.isEmpty == false)
    }

    @Test func metricsCountDecisionsAndErrors() async throws {
        let text = try await run { client in
            _ = try await post(client, Self.review(Self.optedInPod, kind: "Pod"))
            _ = try await post(client, Array("nope".utf8))
            let response = try await client.execute(uri: "/metrics", method: .get)
            return String(buffer: response.body)
        }
        #expect(text.contains(#"mcp_recorder_webhook_requests_total{kind="Pod",decision="injected"} 1"#), "\(text)")
        #expect(text.contains(#"mcp_recorder_webhook_errors_total{error="invalid_review"} 1"#))
        #expect(text.contains("mcp_recorder_webhook_admission_duration_seconds"))
    }
}
