/// The iptables rules that make the recorder own a pod's port in redirect mode.
///
/// In the pod's network namespace, TCP to `port` arriving from outside (PREROUTING:
/// Service, pod IP and kubelet probe traffic alike) is redirected to the sidecar's
/// `to` port. Locally generated traffic does not pass PREROUTING, so the sidecar's own
/// connection to `127.0.0.1:port` reaches the app. The rules live in a chain of their
/// own; every step is checked (`-C`, `-S`) before it is applied, so running the plan
/// again adds nothing. Pure: it only says which commands to run.
public struct RedirectPlan: Sendable, Equatable {
    public static let chain = "MCP_RECORDER_REDIRECT"

    public var port: Int
    public var to: Int
    /// Ports never redirected (`RETURN` before the redirect).
    public var exclude: [Int]

    public init(port: Int, to: Int, exclude: [Int] = []) throws(RedirectPlanError) {
        for (name, p) in [("--port", port), ("--to", to)] + exclude.map({ ("--exclude", $0) }) where !(1...65535).contains(p) {
            throw RedirectPlanError("\(name) \(p) is not a TCP port (1–65535)")
        }
        if port == to { throw RedirectPlanError("--port and --to are both \(port): traffic would loop back to the app") }
        if exclude.contains(port) { throw RedirectPlanError("--port \(port) is also excluded: nothing would be redirected") }
        self.port = port
        self.to = to
        self.exclude = exclude.filter { $0 != to }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// One idempotent step: run `check`; if it fails, run `apply`.
    public struct Step: Sendable, Equatable {
        /// iptables arguments that succeed when the step is already done.
        public var check: [String]
        public var apply: [String]
        public var description: String
    }

    public var steps: [Step] {
        let c = Self.chain
        var steps = [Step(check: ["-w", "-t", "nat", "-S", c], apply: ["-w", "-t", "nat", "-N", c], description: "chain \(c) in the nat table")]
        for x in exclude {
            let rule = [c, "-p", "tcp", "--dport", String(x), "-j", "RETURN"]
            steps.append(Step(check: ["-w", "-t", "nat", "-C"] + rule, apply: ["-w", "-t", "nat", "-A"] + rule, description: "leave TCP port \(x) alone"))
        }
        let redirect = [c, "-p", "tcp", "--dport", String(port), "-j", "REDIRECT", "--to-ports", String(to)]
        steps.append(Step(check: ["-w", "-t", "nat", "-C"] + redirect, apply: ["-w", "-t", "nat", "-A"] + redirect,
                          description: "redirect TCP port \(port) to \(to)"))
        let jump = ["PREROUTING", "-p", "tcp", "-j", c]
        steps.append(Step(check: ["-w", "-t", "nat", "-C"] + jump, apply: ["-w", "-t", "nat", "-A"] + jump,
                          description: "send incoming TCP (PREROUTING) through \(c)"))
        return steps
    }

    /// What iptables' error output means for the person reading the init container's log.
    public static func explain(stderr: String) -> String {
        let lower = stderr.lowercased()
        if lower.contains("permission denied") || lower.contains("operation not permitted") || lower.contains("you must be root") {
            return "iptables was refused: the init container needs the NET_ADMIN and NET_RAW capabilities (and to run as root)"
        }
        if lower.contains("can't initialize iptables table") || lower.contains("table does not exist") || lower.contains("could not fetch rule set") {
            return "the kernel's nat table is not available in this network namespace (missing iptable_nat / nf_tables support)"
        }
        if lower.contains("no chain/target/match by that name") && lower.contains("redirect") {
            return "the kernel has no REDIRECT target (xt_REDIRECT / nft redir)"
        }
        return stderr.trimmingCharacters()
    }
}

public struct RedirectPlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
