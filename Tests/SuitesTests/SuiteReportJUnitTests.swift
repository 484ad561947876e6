import BootTimeline
import Foundation
import ProjectFile
import Sandbox
import Testing
@testable import Suites

/// `ksand test --junit`, pinned: every kind of result (passed, failed expectation, budget breach with its blame,
/// timeout, no sandbox) renders to exactly its golden text.
@Suite struct SuiteReportJUnitTests {
    static let epoch = Date(timeIntervalSince1970: 0)

    /// Two suites: a budget breach (every run passed) and a wrong exit status with stderr.
    static func failures() throws -> SuiteReport {
        let md = try SuiteFile(parsing: "[budgets.tcg]\nshutdown = \"300ms\"\n[[test]]\nname = \"with-array\"\ncommand = \"true\"\n",
                               path: "/p/suites/md.toml")
        let smoke = try SuiteFile(parsing: "[[test]]\nname = \"status\"\ncommand = \"exit 1\"\n", path: "/p/suites/smoke.toml")
        let plan = TestPlan(suites: [md, smoke], projectBudgets: [:], base: SandboxSpec(command: []))
        let gap = ConsoleGap(seconds: 1.0, startsAt: 1.6875, before: "ksand: power-off", after: "ACPI: PM: Preparing")
        let phases: [Timeline.Phase: Double] = [.vmm: 0.25, .kernel: 1.125, .`init`: 0.125, .command: 0.125, .shutdown: 1.125,
                                                .teardown: 0.0625, .total: 3.5]
        let breach = TestRun(outcome: .completed(.exited(0)), status: 0, stdout: "", stderr: "", timeline: Timeline(phases: phases),
                             blame: Blame(boot: [], shutdown: [gap]), accelerator: "tcg", backend: "qemu", problems: [], console: [])
        let wrong = TestRun(outcome: .completed(.exited(1)), status: 1, stdout: "", stderr: "bad \"news\"\n",
                            timeline: Timeline(phases: [.vmm: 0.25]), blame: Blame(), accelerator: "tcg", backend: "qemu",
                            problems: ["exit status 1, expected 0"], console: [])
        return SuiteReport(results: [TestResult(item: plan.items[0], runs: [breach, breach], seconds: 6.5),
                                     TestResult(item: plan.items[1], runs: [wrong], seconds: 1.25)], seconds: 7.75)
    }

    @Test func aReportWithEveryKindOfTest() throws {
        #expect(try SuiteReportDocumentTests.report().junit(timestamp: Self.epoch) == Self.golden)
    }

    @Test func failuresInTwoSuites() throws {
        #expect(try Self.failures().junit(timestamp: Self.epoch) == Self.goldenFailures)
    }

    static let golden = #"""
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ksand" tests="3" failures="0" errors="2" time="10.500">
  <testsuite name="smoke" tests="3" failures="0" errors="2" skipped="0" time="9.750" timestamp="1970-01-01T00:00:00Z">
    <testcase classname="smoke" name="fast" time="2.500">
      <system-out>timeline (tcg):
  vmm           250 ms
  kernel       1125 ms
  init          125 ms
  command       125 ms
  shutdown      125 ms
  teardown       63 ms
  total        2000 ms
  (the guest clock saw 188 ms less than the host&apos;s total)
budget: boot 1500 ms ≤ budget 3000 ms
budget: shutdown 188 ms ≤ budget 300 ms</system-out>
    </testcase>
    <testcase classname="smoke" name="slow" time="7.250">
      <error message="run 2: timed out" type="sandbox">run 2: timed out
over budget: shutdown 1188 ms &gt; budget 300 ms (median of 2 runs)
largest shutdown gaps (kernel clock):
  1000 ms after &quot;ksand: power-off&quot; (the kernel&apos;s reboot notifiers and device shutdown run here), before &quot;ACPI: PM: Preparing&quot; [meanwhile: &quot;clocksource: Switched&quot;]</error>
      <system-out>timeline (tcg, median of 2 runs):
  vmm           250 ms
  kernel       1125 ms
  init          125 ms
  command       125 ms
  shutdown     1125 ms
  teardown       63 ms
  total        3000 ms
  (the guest clock saw 188 ms less than the host&apos;s total)
budget: boot 1500 ms ≤ budget 3000 ms
budget: shutdown 1188 ms &gt; budget 300 ms</system-out>
      <system-err>&lt;oops&gt; &amp; 
</system-err>
    </testcase>
    <testcase classname="smoke" name="slow" time="0.000">
      <error message="no kernel" type="sandbox">no kernel</error>
      <system-out>timeline (?):
  vmm              -
  kernel           -
  init             -
  command          -
  shutdown         -
  teardown         -
  total            -</system-out>
    </testcase>
  </testsuite>
</testsuites>

"""#

    static let goldenFailures = #"""
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ksand" tests="2" failures="2" errors="0" time="7.750">
  <testsuite name="md" tests="1" failures="1" errors="0" skipped="0" time="6.500" timestamp="1970-01-01T00:00:00Z">
    <testcase classname="md" name="with-array" time="6.500">
      <failure message="over budget: shutdown 1188 ms &gt; budget 300 ms (median of 2 runs)" type="budget">over budget: shutdown 1188 ms &gt; budget 300 ms (median of 2 runs)
largest shutdown gaps (kernel clock):
  1000 ms after &quot;ksand: power-off&quot; (the kernel&apos;s reboot notifiers and device shutdown run here), before &quot;ACPI: PM: Preparing&quot;</failure>
      <system-out>timeline (tcg, median of 2 runs):
  vmm           250 ms
  kernel       1125 ms
  init          125 ms
  command       125 ms
  shutdown     1125 ms
  teardown       63 ms
  total        3500 ms
  (the guest clock saw 688 ms less than the host&apos;s total)
budget: shutdown 1188 ms &gt; budget 300 ms</system-out>
    </testcase>
  </testsuite>
  <testsuite name="smoke" tests="1" failures="1" errors="0" skipped="0" time="1.250" timestamp="1970-01-01T00:00:00Z">
    <testcase classname="smoke" name="status" time="1.250">
      <failure message="exit status 1, expected 0" type="expectation">exit status 1, expected 0</failure>
      <system-out>timeline (tcg):
  vmm           250 ms
  kernel           -
  init             -
  command          -
  shutdown         -
  teardown         -
  total            -</system-out>
      <system-err>bad &quot;news&quot;
</system-err>
    </testcase>
  </testsuite>
</testsuites>

"""#
}
