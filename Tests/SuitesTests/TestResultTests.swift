import BootTimeline
import Foundation
import ProjectFile
import Sandbox
import Testing
@testable import Suites

@Suite struct TestResultTests {
    func item() throws -> TestPlan.Item {
        let suite = try SuiteFile(parsing: "[[test]]\nname = \"t\"\ncommand = \"true\"\n", path: "/p/suites/s.toml")
        let budgets = ["tcg": Budget(boot: 3, shutdown: 0.3)]
        return try #require(TestPlan(suites: [suite], projectBudgets: budgets, base: SandboxSpec(command: [])).items.first)
    }

    func run(_ outcome: SandboxResult.Outcome, problems: [String], phases: [Timeline.Phase: Double], backend: String = "qemu") -> TestRun {
        TestRun(outcome: outcome, status: nil, stdout: "", stderr: "", timeline: Timeline(phases: phases),
                blame: Blame(boot: [], shutdown: []), accelerator: "tcg", backend: backend, problems: problems, console: [])
    }

    /// The same measured shutdown passes on the backend whose own limit allows it, and fails on the other.
    @Test func aRunIsJudgedByTheLimitsOfTheBackendThatRanIt() throws {
        let suite = try SuiteFile(parsing: "[budgets.tcg.libvirt]\nshutdown = \"500ms\"\n[[test]]\nname = \"t\"\ncommand = \"true\"\n",
                                  path: "/p/suites/s.toml")
        let item = try #require(TestPlan(suites: [suite], projectBudgets: ["tcg": Budget(boot: 3, shutdown: 0.3)],
                                         base: SandboxSpec(command: [])).items.first)
        let phases: [Timeline.Phase: Double] = [.vmm: 0.3, .kernel: 0.5, .`init`: 0.1, .shutdown: 0.02, .teardown: 0.31]
        let onLibvirt = TestResult(item: item, runs: [run(.completed(.exited(0)), problems: [], phases: phases, backend: "libvirt")], seconds: 1)
        #expect(onLibvirt.budget == Budget(boot: 3, shutdown: 0.5))
        #expect(onLibvirt.passed)
        let onQEMU = TestResult(item: item, runs: [run(.completed(.exited(0)), problems: [], phases: phases)], seconds: 1)
        #expect(!onQEMU.passed)
        #expect(onQEMU.failures == ["over budget: shutdown 330 ms > budget 300 ms"])
    }

    @Test func anInterruptedRunIsNotAlsoReportedAsUnmeasuredBudgets() throws {
        let interrupted = run(.interrupted, problems: ["interrupted"], phases: [.vmm: 0.1, .kernel: 0.5, .`init`: 0.1])
        let result = TestResult(item: try item(), runs: [interrupted], seconds: 1)
        #expect(!result.passed)
        #expect(result.failures == ["interrupted"])
        #expect(result.blame().isEmpty)
    }

    @Test func aPassingRunWithoutAShutdownPhaseFailsItsBudgetByName() throws {
        let passing = run(.completed(.exited(0)), problems: [], phases: [.vmm: 0.1, .kernel: 0.5, .`init`: 0.1])
        let result = TestResult(item: try item(), runs: [passing], seconds: 1)
        #expect(!result.passed)
        #expect(result.failures == ["over budget: shutdown not measured (budget 300 ms)"])
    }
}
