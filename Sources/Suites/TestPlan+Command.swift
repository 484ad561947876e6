import ProjectFile
import Sandbox

extension TestPlan {
    /// A plan of one test: `command` (an argv) on `base`'s sandbox, expected to exit 0, judged against
    /// `projectBudgets`. Its id is `command/command`; `ksand validate --command` runs it.
    public init(command: [String], user: (uid: UInt32, gid: UInt32)? = nil, projectBudgets: [String: Budget], base: SandboxSpec, repeats: Int = 1) {
        var test = SuiteTest(name: "command", command: command)
        test.user = user
        var spec = base
        spec.command = command
        spec.timeout = base.timeout ?? TestPlan.defaultTimeout
        spec.forwardStdin = false
        if let user { (spec.uid, spec.gid) = (user.uid, user.gid) }
        self.init(suites: [], projectBudgets: [:], base: base, repeats: repeats)
        items = [Item(suite: "command", test: test, budgets: BudgetKey.merge([projectBudgets]), spec: spec, position: 0)]
        planned = 1
    }

    /// The same tests on another kernel, `repeats` runs each.
    public func on(kernel: String, repeats: Int) -> TestPlan {
        var plan = self
        plan.repeats = max(1, repeats)
        for index in plan.items.indices { plan.items[index].spec.kernel = kernel }
        return plan
    }
}
