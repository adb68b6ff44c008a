import RecorderJSON

/// Whether an injected pod's MCP server can be reached without passing the recorder.
///
/// The collector connects to the pod as any client would, with the header
/// `X-MCP-Recorder-Probe: NONCE`, which the sidecar answers itself (echoing the nonce) and
/// records. Redirect mode: the app's port must reach the recorder (the iptables redirect is
/// installed). Port-move mode: the original port must reach the recorder, and the port the
/// app was moved to must not answer from outside the pod (else anyone in the cluster can
/// call the app directly, unrecorded).
public enum BypassCheck {
    public static let header = "X-MCP-Recorder-Probe"

    public enum Expectation: String, Sendable {
        /// The recorder answers the probe.
        case recorder
        /// Nothing answers from outside the pod.
        case closed
    }

    public struct Target: Sendable, Equatable {
        public var port: Int
        public var expectation: Expectation
        public var what: String
    }

    public enum Observation: Sendable, Equatable {
        case recorderAnswered
        /// Something else answered (the app itself), with this HTTP status.
        case otherAnswered(Int)
        case refused
        case failed(String)
    }

    public enum State: String, Sendable {
        /// Every way in passes the recorder.
        case recorded
        /// The app answers without the recorder.
        case bypassable
        /// The pod could not be probed (no IP, unreachable, not HTTP).
        case unchecked
    }

    /// What to probe, from the webhook's `mcp-recorder.io/status` annotation.
    public static func targets(injection: JSONValue) -> [Target] {
        guard let mode = injection["mode"]?.stringValue, let port = injection["port"]?.intValue else { return [] }
        switch mode {
        case "redirect":
            return [Target(port: port, expectation: .recorder, what: "the app's port \(port) (redirected to the recorder)")]
        case "port-move":
            var targets = [Target(port: injection["listen"]?.intValue ?? port, expectation: .recorder, what: "the original port \(injection["listen"]?.intValue ?? port) (the recorder's)")]
            if let moved = injection["upstream"]?.intValue { targets.append(Target(port: moved, expectation: .closed, what: "the app's moved port \(moved)")) }
            return targets
        default:
            return []
        }
    }

    /// The verdict over what the probes saw, with a sentence saying why.
    public static func verdict(_ results: [(Target, Observation)]) -> (state: State, detail: String) {
        guard !results.isEmpty else { return (.unchecked, "the pod's injection status names no port to probe") }
        var bypasses: [String] = [], unchecked: [String] = [], fine: [String] = []
        for (target, observation) in results {
            switch (target.expectation, observation) {
            case (.recorder, .recorderAnswered): fine.append("\(target.what) reaches the recorder")
            case (.recorder, .otherAnswered(let status)): bypasses.append("\(target.what) is answered without the recorder (HTTP \(status)): the redirect is not in place")
            case (.recorder, .refused): unchecked.append("\(target.what) refused the connection")
            case (.recorder, .failed(let why)): unchecked.append("\(target.what): \(why)")
            case (.closed, .refused): fine.append("\(target.what) is closed from outside the pod")
            case (.closed, .recorderAnswered): fine.append("\(target.what) reaches the recorder")
            case (.closed, .otherAnswered(let status)): bypasses.append("\(target.what) answers from outside the pod (HTTP \(status)): clients can skip the recorder (bind the app to 127.0.0.1 or block the port with a NetworkPolicy)")
            case (.closed, .failed(let why)): unchecked.append("\(target.what): \(why)")
            }
        }
        if !bypasses.isEmpty { return (.bypassable, bypasses.joined(separator: "; ")) }
        if !unchecked.isEmpty { return (.unchecked, unchecked.joined(separator: "; ")) }
        return (.recorded, fine.joined(separator: "; "))
    }
}
