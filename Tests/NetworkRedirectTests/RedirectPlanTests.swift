import NetworkRedirect
import Testing

@Suite struct RedirectPlanTests {
    @Test func stepsCreateTheChainExcludeThenRedirectThenJump() throws {
        let plan = try RedirectPlan(port: 8080, to: 15001, exclude: [15020, 15020, 15001])
        #expect(plan.exclude == [15020], "duplicates and the sidecar's own port are dropped")
        let steps = plan.steps
        #expect(steps.map(\.apply) == [
            ["-w", "-t", "nat", "-N", "MCP_RECORDER_REDIRECT"],
            ["-w", "-t", "nat", "-A", "MCP_RECORDER_REDIRECT", "-p", "tcp", "--dport", "15020", "-j", "RETURN"],
            ["-w", "-t", "nat", "-A", "MCP_RECORDER_REDIRECT", "-p", "tcp", "--dport", "8080", "-j", "REDIRECT", "--to-ports", "15001"],
            ["-w", "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "-j", "MCP_RECORDER_REDIRECT"],
        ])
        // Every rule is checked with the same arguments it is added with (-C instead of -A).
        for step in steps.dropFirst() {
            #expect(step.check == step.apply.map { $0 == "-A" ? "-C" : $0 })
        }
        #expect(steps[0].check == ["-w", "-t", "nat", "-S", "MCP_RECORDER_REDIRECT"])
    }

    @Test(arguments: [(0, 15001, "--port 0"), (8080, 70000, "--to 70000"), (8080, 8080, "loop"), (8080, 15001, "excluded")])
    func refusesPlansThatCannotWork(port: Int, to: Int, expected: String) {
        #expect(throws: RedirectPlanError.self) {
            _ = try RedirectPlan(port: port, to: to, exclude: expected == "excluded" ? [8080] : [])
        }
        do {
            _ = try RedirectPlan(port: port, to: to, exclude: expected == "excluded" ? [8080] : [])
        } catch {
            #expect(error.message.contains(expected) || (expected == "loop" && error.message.contains("loop")) || (expected == "excluded" && error.message.contains("excluded")))
        }
    }

    @Test func explainsMissingCapabilities() {
        #expect(RedirectPlan.explain(stderr: "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n").contains("NET_ADMIN"))
        #expect(RedirectPlan.explain(stderr: "iptables: Operation not permitted.").contains("NET_ADMIN"))
        #expect(RedirectPlan.explain(stderr: "something else\n") == "something else")
    }
}
