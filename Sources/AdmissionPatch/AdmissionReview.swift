import RecorderJSON

/// One `admission.k8s.io/v1` AdmissionReview request, as far as injection needs it.
/// The object stays raw JSON: it is never decoded into partial types.
public struct AdmissionRequest: Sendable, Equatable {
    public var uid: String
    /// `request.kind.kind`: `Pod`, `Deployment`, …
    public var kind: String
    public var group: String
    public var operation: String
    public var namespace: String?
    public var name: String?
    /// `request.object`; `nil` for DELETE.
    public var object: JSONValue?
    public var dryRun: Bool
}

/// Why a body is not an AdmissionReview this webhook can answer (HTTP 400).
public struct AdmissionReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Decoding requests and encoding responses of `admission.k8s.io/v1` AdmissionReview. Pure.
public enum AdmissionReview {
    public static let apiVersion = "admission.k8s.io/v1"

    public static func decode(_ body: [UInt8]) -> Result<AdmissionRequest, AdmissionReviewError> {
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { return .failure(AdmissionReviewError("the body is not JSON: \(error)")) }
        guard case .object = json else { return .failure(AdmissionReviewError("the body is not a JSON object")) }
        guard json["kind"]?.stringValue == "AdmissionReview" else {
            return .failure(AdmissionReviewError("kind is \(json["kind"].map { $0.serialized() } ?? "missing"), not \"AdmissionReview\""))
        }
        guard json["apiVersion"]?.stringValue == apiVersion else {
            return .failure(AdmissionReviewError("apiVersion is \(json["apiVersion"].map { $0.serialized() } ?? "missing"); this webhook speaks \(apiVersion) only (set admissionReviewVersions: [\"v1\"])"))
        }
        guard let request = json["request"], case .object = request else {
            return .failure(AdmissionReviewError("the AdmissionReview has no \"request\" object"))
        }
        guard let uid = request["uid"]?.stringValue, !uid.isEmpty else {
            return .failure(AdmissionReviewError("request.uid is missing"))
        }
        guard let kind = request["kind"]?["kind"]?.stringValue, let operation = request["operation"]?.stringValue else {
            return .failure(AdmissionReviewError("request.kind.kind or request.operation is missing"))
        }
        let object: JSONValue? = request["object"].flatMap { $0.isNull ? JSONValue?.none : .some($0) }
        if operation == "CREATE" || operation == "UPDATE" {
            // Without the object there is nothing to inspect: allowing it would let the workload run
            // unrecorded under a misleading reason. A 400 hands the decision to the failurePolicy.
            guard let object else {
                return .failure(AdmissionReviewError("request.object is missing: a \(operation) review of \(kind) must carry the object to inspect"))
            }
            guard case .object = object else {
                return .failure(AdmissionReviewError("request.object is JSON \(object.typeName), not an object: a \(operation) review of \(kind) must carry the object to inspect"))
            }
        }
        return .success(AdmissionRequest(
            uid: uid, kind: kind, group: request["kind"]?["group"]?.stringValue ?? "", operation: operation,
            namespace: request["namespace"]?.stringValue, name: request["name"]?.stringValue,
            object: object, dryRun: request["dryRun"]?.boolValue ?? false))
    }

    /// An allowing response; with a JSON Patch when `patch` is not empty.
    public static func allow(uid: String, patch: [JSONValue], warnings: [String], message: String? = nil) -> JSONValue {
        var response: [JSONMember] = [JSONMember("uid", .string(uid)), JSONMember("allowed", true)]
        if !patch.isEmpty {
            response.append(JSONMember("patchType", "JSONPatch"))
            response.append(JSONMember("patch", .string(Base64.encode(Array(JSONValue.array(patch).serialized().utf8)))))
        }
        if let message { response.append(JSONMember("status", .object([JSONMember("message", .string(message))]))) }
        if !warnings.isEmpty { response.append(JSONMember("warnings", .array(warnings.map { .string($0) }))) }
        return .object([
            JSONMember("apiVersion", .string(apiVersion)), JSONMember("kind", "AdmissionReview"),
            JSONMember("response", .object(response)),
        ])
    }
}
