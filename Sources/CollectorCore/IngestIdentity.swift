import SegmentFormat

/// Who is uploading, as the ingest authentication established it.
public struct IngestIdentity: Sendable, Equatable {
    /// The name a stream is bound to: `system:serviceaccount:NS:SA` (plus `/pod/NAME` when the
    /// token is pod-bound), or `static-token` for the shared dev token.
    public var owner: String
    /// Set for Kubernetes identities: the header's pod must match them.
    public var namespace: String?
    public var serviceAccount: String?
    public var podName: String?
    public var podUID: String?

    public init(owner: String, namespace: String? = nil, serviceAccount: String? = nil, podName: String? = nil, podUID: String? = nil) {
        self.owner = owner
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.podName = podName
        self.podUID = podUID
    }

    /// The identity of the static shared ingest token.
    public static let staticToken = IngestIdentity(owner: "static-token")

    /// A Kubernetes ServiceAccount identity from a TokenReview's user info:
    /// username `system:serviceaccount:NS:SA`, and `authentication.kubernetes.io/pod-name` / `pod-uid` extras.
    public static func serviceAccount(username: String, podName: String?, podUID: String?) -> IngestIdentity? {
        let parts = username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount", !parts[2].isEmpty, !parts[3].isEmpty else { return nil }
        let owner = podName.map { "\(username)/pod/\($0)" } ?? username
        return IngestIdentity(owner: owner, namespace: String(parts[2]), serviceAccount: String(parts[3]), podName: podName, podUID: podUID)
    }

    /// Why this identity may not upload a segment with this header (`nil`: it may).
    /// A pod may only write segments that name it: same namespace, service account and pod.
    public func refusal(for header: SegmentHeader) -> String? {
        guard let namespace else { return nil }
        if header.pod.namespace != namespace {
            return "the token belongs to namespace \(namespace) but the segment was recorded in namespace \(header.pod.namespace ?? "(none)")"
        }
        if let mine = serviceAccount, header.pod.serviceAccount != mine {
            return "the token belongs to service account \(mine) but the segment names service account \(header.pod.serviceAccount ?? "(none)")"
        }
        if let podName, header.pod.name != podName {
            return "the token is bound to pod \(podName) but the segment was recorded by pod \(header.pod.name ?? "(none)")"
        }
        return nil
    }
}
