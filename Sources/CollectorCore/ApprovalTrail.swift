/// How a step of a held call's decision trail reads, the same in the CLI and the web UI:
/// `held for approval (rule R, 60 s to decide)`, `approved by P: why (forwarded)`, ….
public enum ApprovalTrail {
    public static func sentence(state: String, rule: String?, decidedBy: String?, reason: String?, forwarded: Bool?, timeoutSeconds: Int?) -> String {
        let by = decidedBy.map { " by \($0)" } ?? ""
        let why = reason.map { ": \($0)" } ?? ""
        switch state {
        case "held":
            return "held for approval (rule \(rule ?? "-")\(timeoutSeconds.map { ", \($0) s to decide" } ?? ""))"
        case "approved":
            return "approved\(by)\(why)\(forwarded == true ? " (forwarded)" : "")"
        default:
            return "\(state)\(by)\(why)\(forwarded == true ? " (forwarded anyway: when_unreachable allow)" : " (not forwarded)")"
        }
    }
}
