import AdmissionPatch
import RecorderJSON

/// AdmissionReview → patch. Invariants: every patch applies to the object it was made
/// for; injection is idempotent (the patched object, injected again, needs no patch).
enum AdmissionFuzz {
    static let config = InjectionConfig(image: "mcp-recorder:fuzz", collectorURL: "https://collector.mcp-recorder.svc:8443")

    static func run(_ bytes: [UInt8]) {
        guard case .success(let review) = AdmissionReview.decode(bytes),
              let operation = AdmissionOperation(rawValue: review.operation), let object = review.object else { return }
        let outcome = Injector.inject(object, kind: review.kind, namespace: review.namespace, operation: operation, config: config)
        guard !outcome.patch.isEmpty else { return }
        let patched: JSONValue
        do {
            patched = try JSONPatch.apply(outcome.patch, to: object)
        } catch {
            fatalError("invariant broken: the webhook's patch does not apply to its object: \(error)")
        }
        let again = Injector.inject(patched, kind: review.kind, namespace: review.namespace, operation: operation, config: config)
        if review.kind == "Pod" { invariant(again.patch.isEmpty, "injecting an injected pod changed it again") }
        if let repatched = try? JSONPatch.apply(again.patch, to: patched), review.kind != "Pod" {
            let third = Injector.inject(repatched, kind: review.kind, namespace: review.namespace, operation: operation, config: config)
            invariant(third.patch.isEmpty, "injection of \(review.kind) did not settle")
        }
    }
}
