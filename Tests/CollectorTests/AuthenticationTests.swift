@testable import Collector
import CollectorCore
import Foundation
import RecorderJSON
import Testing

private func review(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

/// A TokenReview response as kube-apiserver 1.30 returns it for a pod's projected token.
private let podBoundReview = #"""
{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
 "spec":{"token":"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.e30.c2ln","audiences":["mcp-recorder"]},
 "status":{"authenticated":true,
   "user":{"username":"system:serviceaccount:team-a:weather","uid":"9a3f6c1e-2b4d-4e8f-a1c3-5d7e9f0b2c4d",
     "groups":["system:serviceaccounts","system:serviceaccounts:team-a","system:authenticated"],
     "extra":{"authentication.kubernetes.io/credential-id":["JTI=5a1d2f3e-0c4b-4a6e-9f8d-7b2c1e0d3a5f"],
              "authentication.kubernetes.io/node-name":["node-a3"],
              "authentication.kubernetes.io/node-uid":["0d1c2b3a-4f5e-6d7c-8b9a-0f1e2d3c4b5a"],
              "authentication.kubernetes.io/pod-name":["weather-7d9f-abcde"],
              "authentication.kubernetes.io/pod-uid":["3b0c5f4e-9a61-4d1c-8f2e-6a7b1c9d0e42"]}},
   "audiences":["mcp-recorder"]}}
"""#

@Suite struct TokenReviewTests {
    @Test func aPodBoundServiceAccountToken() throws {
        let result = TokenReviewAuthenticator.interpret(try review(podBoundReview), audience: "mcp-recorder")
        guard case .accepted(let identity) = result else {
            Issue.record("not accepted: \(result)")
            return
        }
        #expect(identity.owner == "system:serviceaccount:team-a:weather/pod/weather-7d9f-abcde")
        #expect(identity.namespace == "team-a")
        #expect(identity.serviceAccount == "weather")
        #expect(identity.podName == "weather-7d9f-abcde")
        #expect(identity.podUID == "3b0c5f4e-9a61-4d1c-8f2e-6a7b1c9d0e42")
    }

    @Test func aServiceAccountTokenWithoutPodBinding() throws {
        let result = TokenReviewAuthenticator.interpret(try review(#"""
            {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","status":{"authenticated":true,
             "user":{"username":"system:serviceaccount:team-b:billing","uid":"u","groups":["system:serviceaccounts"]},"audiences":["mcp-recorder"]}}
            """#), audience: "mcp-recorder")
        #expect(result == .accepted(IngestIdentity(owner: "system:serviceaccount:team-b:billing", namespace: "team-b", serviceAccount: "billing")))
    }

    @Test func aTokenForAnotherAudience() throws {
        // An audience-aware API server that still says authenticated, for its own audience only.
        let other = TokenReviewAuthenticator.interpret(try review(#"""
            {"status":{"authenticated":true,"user":{"username":"system:serviceaccount:team-a:weather"},"audiences":["https://kubernetes.default.svc.cluster.local"]}}
            """#), audience: "mcp-recorder")
        guard case .rejected(let why) = other else { Issue.record("accepted: \(other)"); return }
        #expect(why.contains("mcp-recorder"))
        // No audiences in the status: per the TokenReview API, the token is valid for the API server's
        // audiences, not necessarily ours (an API server that is not audience-aware).
        let unaware = TokenReviewAuthenticator.interpret(try review(#"""
            {"status":{"authenticated":true,"user":{"username":"system:serviceaccount:team-a:weather"}}}
            """#), audience: "mcp-recorder")
        guard case .rejected = unaware else { Issue.record("accepted without a compatible audience: \(unaware)"); return }
        let empty = TokenReviewAuthenticator.interpret(try review(#"""
            {"status":{"authenticated":true,"user":{"username":"system:serviceaccount:team-a:weather"},"audiences":[]}}
            """#), audience: "mcp-recorder")
        guard case .rejected = empty else { Issue.record("accepted with empty audiences: \(empty)"); return }
    }

    @Test func aTokenThatIsNotAuthenticated() throws {
        let result = TokenReviewAuthenticator.interpret(try review(#"""
            {"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},
             "spec":{"token":"x","audiences":["mcp-recorder"]},
             "status":{"user":{},"error":"[invalid bearer token, service account token has expired]"}}
            """#), audience: "mcp-recorder")
        guard case .rejected(let why) = result else { Issue.record("accepted: \(result)"); return }
        #expect(why.contains("expired"))
        let explicit = TokenReviewAuthenticator.interpret(try review(#"{"status":{"authenticated":false}}"#), audience: "mcp-recorder")
        guard case .rejected = explicit else { Issue.record("accepted: \(explicit)"); return }
        let garbage = TokenReviewAuthenticator.interpret(try review(#"{"kind":"Status","status":"Failure","code":403}"#), audience: "mcp-recorder")
        guard case .rejected = garbage else { Issue.record("accepted: \(garbage)"); return }
    }

    @Test func usersThatAreNotServiceAccounts() throws {
        for username in ["alice@example.com", "system:node:node-a3", "system:serviceaccount:team-a", "system:admin"] {
            let result = TokenReviewAuthenticator.interpret(try review(#"""
                {"status":{"authenticated":true,"user":{"username":"\#(username)","groups":["system:authenticated"]},"audiences":["mcp-recorder"]}}
                """#), audience: "mcp-recorder")
            guard case .rejected = result else { Issue.record("accepted \(username): \(result)"); continue }
        }
        let noUser = TokenReviewAuthenticator.interpret(try review(#"{"status":{"authenticated":true,"audiences":["mcp-recorder"]}}"#), audience: "mcp-recorder")
        guard case .rejected = noUser else { Issue.record("accepted without a user: \(noUser)"); return }
    }
}

@Suite struct IngestAuthenticatorTests {
    @Test func staticTokenAndChain() async {
        let shared = StaticIngestAuthenticator(token: "s3cret")
        #expect(await shared.authenticate(token: "s3cret") == .accepted(.staticToken))
        guard case .rejected = await shared.authenticate(token: "s3cret ") else { Issue.record("accepted a different token"); return }
        guard case .rejected = await shared.authenticate(token: "") else { Issue.record("accepted an empty token"); return }

        let table = TableIngestAuthenticator(table: [IngestTokens.podA: IngestTokens.identityA])
        let chain = IngestAuthenticatorChain([shared, table])
        #expect(await chain.authenticate(token: "s3cret") == .accepted(.staticToken))
        #expect(await chain.authenticate(token: IngestTokens.podA) == .accepted(IngestTokens.identityA))
        guard case .rejected = await chain.authenticate(token: "nope") else { Issue.record("accepted"); return }
        // An unreachable TokenReview is reported as such (503, retried), not as a bad token.
        guard case .unavailable = await chain.authenticate(token: IngestTokens.unavailable) else { Issue.record("not unavailable"); return }
        guard case .rejected = await IngestAuthenticatorChain([]).authenticate(token: "x") else { Issue.record("accepted with nothing configured"); return }
    }
}

@Suite struct KubernetesClientConfigTests {
    @Test func inCluster() throws {
        let config = try KubernetesClientConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        #expect(config.server == "https://10.96.0.1:443")
        #expect(config.tokenFile == "/var/run/secrets/kubernetes.io/serviceaccount/token")
        let v6 = try KubernetesClientConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"])
        #expect(v6.server == "https://[fd00::1]:443")
        #expect(throws: KubernetesConfigError.self) { try KubernetesClientConfig.inCluster(environment: [:]) }
    }

    @Test func kubeconfigCurrentContext() throws {
        let dir = NSTemporaryDirectory() + "mcp-recorder-kubeconfig-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "-----BEGIN CERTIFICATE-----\nfile\n-----END CERTIFICATE-----\n".write(toFile: dir + "/ca.crt", atomically: true, encoding: .utf8)
        try "  rotated-token\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: kind-dev
            clusters:
            - name: prod
              cluster:
                server: https://prod.example.com:6443
            - name: kind-dev
              cluster:
                server: https://127.0.0.1:40123
                certificate-authority-data: \(Data("CA-PEM".utf8).base64EncodedString())
            contexts:
            - name: prod
              context: {cluster: prod, user: prod-admin}
            - name: kind-dev
              context: {cluster: kind-dev, user: kind-dev}
            users:
            - name: prod-admin
              user: {token: prod-token}
            - name: kind-dev
              user:
                token: static-token
            """
        try yaml.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
        let config = try KubernetesClientConfig.load(kubeconfig: dir + "/config")
        #expect(config.server == "https://127.0.0.1:40123")
        #expect(config.caPEM == Array("CA-PEM".utf8))
        #expect(config.token == "static-token")
        #expect(config.tokenFile == nil)
        #expect(config.currentToken() == "static-token")

        let withFiles = """
            current-context: c
            clusters: [{name: k, cluster: {server: "https://k:6443", certificate-authority: ca.crt}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users: [{name: u, user: {tokenFile: token}}]
            """
        try withFiles.write(toFile: dir + "/config2", atomically: true, encoding: .utf8)
        let second = try KubernetesClientConfig.load(kubeconfig: dir + "/config2")
        #expect(second.caPEM.map { String(decoding: $0, as: UTF8.self) }?.contains("file") == true)
        // Relative paths are relative to the kubeconfig, as kubectl reads them.
        #expect(second.tokenFile == dir + "/token")
        #expect(second.currentToken() == "rotated-token")

        try "not: [valid".write(toFile: dir + "/bad", atomically: true, encoding: .utf8)
        #expect(throws: KubernetesConfigError.self) { try KubernetesClientConfig.load(kubeconfig: dir + "/bad") }
        #expect(throws: KubernetesConfigError.self) { try KubernetesClientConfig.load(kubeconfig: dir + "/missing") }
        try "current-context: x\nclusters: []\n".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        #expect(throws: KubernetesConfigError.self) { try KubernetesClientConfig.load(kubeconfig: dir + "/empty") }
    }
}
