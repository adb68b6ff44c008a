import ArgumentParser
import MCPParsing
import RecorderJSON
import SegmentStore

/// The approval policy options of `sidecar` and `dev`.
struct ApprovalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Tool calls that need a person's approval before they are forwarded: the policy as JSON, or a file holding it (docs/approvals.md). Repeatable: the rules add up; the shortest timeout_seconds and the stricter when_unreachable win.",
        valueName: "JSON|FILE"))
    var approvalPolicy: [String] = []

    @Option(help: ArgumentHelp(
        "Shorthand for a policy rule: tools (names or globs with * and ?, comma-separated) whose every call needs approval. Repeatable.",
        valueName: "TOOLS"))
    var approvalTools: [String] = []

    /// The combined policy, or `nil` when none is given.
    func policy() throws -> ApprovalPolicy? {
        var combined: ApprovalPolicy?
        func add(_ policy: ApprovalPolicy) { combined = combined.map { $0.adding(policy) } ?? policy }
        for source in approvalPolicy {
            let text: String
            if source.drop(while: { $0 == " " || $0 == "\n" }).hasPrefix("{") {
                text = source
            } else {
                do { text = String(decoding: try FileSystem.readFile(source), as: UTF8.self) } catch {
                    throw ValidationError("--approval-policy: \(source) is neither JSON nor a readable file: \(error)")
                }
            }
            do {
                add(try ApprovalPolicy.parse(try JSONParser.parse(text)))
            } catch let error as ApprovalPolicyError {
                throw ValidationError("--approval-policy: \(error.message)")
            } catch {
                throw ValidationError("--approval-policy: not JSON: \(error)")
            }
        }
        for list in approvalTools {
            do { add(try ApprovalPolicy.tools(list)) } catch { throw ValidationError("--approval-tools: \(error.message)") }
        }
        return combined
    }

    func validate() throws { _ = try policy() }
}
