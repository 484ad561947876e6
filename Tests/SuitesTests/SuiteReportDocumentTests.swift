import BootTimeline
import Foundation
import ProjectFile
import Sandbox
import Testing
@testable import Suites

/// `ksand test --json`, pinned: a report encodes to exactly its golden text (the same as JSONSerialization wrote
/// before, plus the fields added since), which decodes back to the same document; a report from before those fields
/// still decodes.
@Suite struct SuiteReportDocumentTests {
    static func report() throws -> SuiteReport {
        let suite = try SuiteFile(parsing: "[[test]]\nname = \"fast\"\ncommand = \"true\"\n[[test]]\nname = \"slow\"\ncommand = \"true\"\n",
                                  path: "/p/suites/smoke.toml")
        let plan = TestPlan(suites: [suite], projectBudgets: ["tcg": Budget(boot: 3, shutdown: 0.3)], base: SandboxSpec(command: []))
        let gap = ConsoleGap(seconds: 1.0, startsAt: 1.6875, before: "ksand: power-off", after: "ACPI: PM: Preparing",
                             interjections: ["clocksource: Switched"])
        func run(_ status: Int32?, _ problems: [String], _ phases: [Timeline.Phase: Double], stderr: String = "") -> TestRun {
            TestRun(outcome: status.map { .completed(.exited($0)) } ?? .timedOut(seconds: 5), status: status, stdout: "", stderr: stderr,
                    timeline: Timeline(phases: phases),
                    blame: Blame(boot: [ConsoleGap(seconds: 0.5, startsAt: 0.25, before: "a", after: "b")], shutdown: [gap]),
                    accelerator: "tcg", backend: "qemu", problems: problems, console: [])
        }
        let slowPhases: [Timeline.Phase: Double] = [.vmm: 0.25, .kernel: 1.125, .`init`: 0.125, .command: 0.125, .shutdown: 1.125, .teardown: 0.0625, .total: 3.0]
        let fastPhases: [Timeline.Phase: Double] = [.vmm: 0.25, .kernel: 1.125, .`init`: 0.125, .command: 0.125, .shutdown: 0.125, .teardown: 0.0625, .total: 2.0]
        // One passes; one breaches its shutdown budget (blame) and times out once; one could not be set up.
        let fast = TestResult(item: plan.items[0], runs: [run(0, [], fastPhases)], seconds: 2.5)
        let slow = TestResult(item: plan.items[1], runs: [run(0, [], slowPhases), run(nil, ["timed out"], [.vmm: 0.25], stderr: "<oops> & \u{1}\n")], seconds: 7.25)
        let setup = TestResult(item: plan.items[1], runs: [], setupError: "no kernel", seconds: 0)
        return SuiteReport(results: [fast, slow, setup], seconds: 10.5)
    }

    func text(_ data: Data) -> String { String(decoding: data, as: UTF8.self) }

    @Test func aReportWithEveryKindOfTest() throws {
        let report = try Self.report()
        #expect(text(report.json()) == Self.golden)
        let document = try JSONDecoder().decode(SuiteReport.Document.self, from: Data(Self.golden.utf8))
        #expect(document == report.document)
        #expect(document.tests[1].blame?["shutdown"]?.first?.interjections == ["clocksource: Switched"])
        #expect(document.tests[1].runs[1].status == nil)
        #expect(document.tests[2].accelerator == nil && document.tests[2].blame == nil)
    }

    /// A report written before `kind`, `shard`, `position`, `setupError` and `stderr` existed still reads, with those nil.
    @Test func aReportFromBeforeShards() throws {
        let document = try JSONDecoder().decode(SuiteReport.Document.self, from: Data(Self.goldenBeforeShards.utf8))
        var expected = try Self.report().document
        expected.kind = nil
        for index in expected.tests.indices {
            expected.tests[index].position = nil
            expected.tests[index].setupError = nil
            for run in expected.tests[index].runs.indices { expected.tests[index].runs[run].stderr = nil }
        }
        #expect(document == expected)
    }

    /// A shard's report says which shard of which plan, and each test where it stands in the whole plan.
    @Test func aShardsReport() throws {
        let whole = try Self.report()
        let shard = try Shard(parsing: "2/3")
        let report = SuiteReport(results: [whole.results[1]], seconds: 7.5, shard: shard, planned: 5)
        let document = report.document
        #expect(document.shard == SuiteReport.Document.ShardRecord(index: 2, count: 3, planned: 5))
        #expect(document.tests.map(\.position) == [1])
        let json = try #require(try JSONSerialization.jsonObject(with: report.json()) as? [String: Any])
        #expect(json["shard"] as? [String: Int] == ["index": 2, "count": 3, "planned": 5])
        #expect(json["kind"] as? String == "ksand-test")
        #expect(try JSONDecoder().decode(SuiteReport.Document.self, from: report.json()) == document)
        #expect(!report.passed)

        // A shard the plan gives no tests passes; a whole run with none does not.
        #expect(SuiteReport(results: [], seconds: 0, shard: try Shard(parsing: "6/6"), planned: 5).passed)
        #expect(!SuiteReport(results: [], seconds: 0, shard: try Shard(parsing: "5/6"), planned: 5).passed)
        #expect(!SuiteReport(results: [], seconds: 0).passed)
    }

    /// Rendered from the document, the JUnit of a report read back from its JSON is the report's own.
    @Test func theJSONCarriesEverythingTheJUnitShows() throws {
        for report in [try Self.report(), try SuiteReportJUnitTests.failures()] {
            let read = try JSONDecoder().decode(SuiteReport.Document.self, from: report.json())
            #expect(read.junit(timestamp: SuiteReportJUnitTests.epoch) == report.junit(timestamp: SuiteReportJUnitTests.epoch))
        }
    }

    @Test func anEmptyReport() throws {
        let report = SuiteReport(results: [], seconds: 0)
        #expect(text(report.json()) == Self.empty)
        #expect(try JSONDecoder().decode(SuiteReport.Document.self, from: Data(Self.empty.utf8)) == report.document)
    }

    static let golden = #"""
{
  "counts" : {
    "failed" : 2,
    "total" : 3
  },
  "kind" : "ksand-test",
  "passed" : false,
  "seconds" : 10.5,
  "tests" : [
    {
      "accelerator" : "tcg",
      "boot" : 1.5,
      "budgets" : [
        {
          "limit" : 3,
          "measured" : 1.5,
          "metric" : "boot",
          "passed" : true
        },
        {
          "limit" : 0.3,
          "measured" : 0.1875,
          "metric" : "shutdown",
          "passed" : true
        }
      ],
      "failures" : [

      ],
      "name" : "fast",
      "passed" : true,
      "phases" : {
        "command" : 0.125,
        "init" : 0.125,
        "kernel" : 1.125,
        "shutdown" : 0.125,
        "teardown" : 0.0625,
        "total" : 2,
        "vmm" : 0.25
      },
      "position" : 0,
      "runs" : [
        {
          "passed" : true,
          "phases" : {
            "command" : 0.125,
            "init" : 0.125,
            "kernel" : 1.125,
            "shutdown" : 0.125,
            "teardown" : 0.0625,
            "total" : 2,
            "vmm" : 0.25
          },
          "problems" : [

          ],
          "status" : 0
        }
      ],
      "seconds" : 2.5,
      "shutdown" : 0.1875,
      "suite" : "smoke"
    },
    {
      "accelerator" : "tcg",
      "blame" : {
        "shutdown" : [
          {
            "after" : "ACPI: PM: Preparing",
            "at" : 1.6875,
            "before" : "ksand: power-off",
            "hint" : "the kernel's reboot notifiers and device shutdown run here",
            "interjections" : [
              "clocksource: Switched"
            ],
            "seconds" : 1
          }
        ]
      },
      "boot" : 1.5,
      "budgets" : [
        {
          "limit" : 3,
          "measured" : 1.5,
          "metric" : "boot",
          "passed" : true
        },
        {
          "limit" : 0.3,
          "measured" : 1.1875,
          "metric" : "shutdown",
          "passed" : false
        }
      ],
      "failures" : [
        "run 2: timed out",
        "over budget: shutdown 1188 ms > budget 300 ms (median of 2 runs)"
      ],
      "name" : "slow",
      "passed" : false,
      "phases" : {
        "command" : 0.125,
        "init" : 0.125,
        "kernel" : 1.125,
        "shutdown" : 1.125,
        "teardown" : 0.0625,
        "total" : 3,
        "vmm" : 0.25
      },
      "position" : 1,
      "runs" : [
        {
          "passed" : true,
          "phases" : {
            "command" : 0.125,
            "init" : 0.125,
            "kernel" : 1.125,
            "shutdown" : 1.125,
            "teardown" : 0.0625,
            "total" : 3,
            "vmm" : 0.25
          },
          "problems" : [

          ],
          "status" : 0
        },
        {
          "passed" : false,
          "phases" : {
            "vmm" : 0.25
          },
          "problems" : [
            "timed out"
          ],
          "stderr" : "<oops> & \u0001\n"
        }
      ],
      "seconds" : 7.25,
      "shutdown" : 1.1875,
      "suite" : "smoke"
    },
    {
      "budgets" : [

      ],
      "failures" : [
        "no kernel"
      ],
      "name" : "slow",
      "passed" : false,
      "phases" : {

      },
      "position" : 1,
      "runs" : [

      ],
      "seconds" : 0,
      "setupError" : "no kernel",
      "suite" : "smoke"
    }
  ]
}
"""#

    /// What `ksand test --json` wrote before reports had `kind`, `shard`, `position`, `setupError` and `stderr`.
    static let goldenBeforeShards = #"""
{
  "counts" : {
    "failed" : 2,
    "total" : 3
  },
  "passed" : false,
  "seconds" : 10.5,
  "tests" : [
    {
      "accelerator" : "tcg",
      "boot" : 1.5,
      "budgets" : [
        {
          "limit" : 3,
          "measured" : 1.5,
          "metric" : "boot",
          "passed" : true
        },
        {
          "limit" : 0.3,
          "measured" : 0.1875,
          "metric" : "shutdown",
          "passed" : true
        }
      ],
      "failures" : [

      ],
      "name" : "fast",
      "passed" : true,
      "phases" : {
        "command" : 0.125,
        "init" : 0.125,
        "kernel" : 1.125,
        "shutdown" : 0.125,
        "teardown" : 0.0625,
        "total" : 2,
        "vmm" : 0.25
      },
      "runs" : [
        {
          "passed" : true,
          "phases" : {
            "command" : 0.125,
            "init" : 0.125,
            "kernel" : 1.125,
            "shutdown" : 0.125,
            "teardown" : 0.0625,
            "total" : 2,
            "vmm" : 0.25
          },
          "problems" : [

          ],
          "status" : 0
        }
      ],
      "seconds" : 2.5,
      "shutdown" : 0.1875,
      "suite" : "smoke"
    },
    {
      "accelerator" : "tcg",
      "blame" : {
        "shutdown" : [
          {
            "after" : "ACPI: PM: Preparing",
            "at" : 1.6875,
            "before" : "ksand: power-off",
            "hint" : "the kernel's reboot notifiers and device shutdown run here",
            "interjections" : [
              "clocksource: Switched"
            ],
            "seconds" : 1
          }
        ]
      },
      "boot" : 1.5,
      "budgets" : [
        {
          "limit" : 3,
          "measured" : 1.5,
          "metric" : "boot",
          "passed" : true
        },
        {
          "limit" : 0.3,
          "measured" : 1.1875,
          "metric" : "shutdown",
          "passed" : false
        }
      ],
      "failures" : [
        "run 2: timed out",
        "over budget: shutdown 1188 ms > budget 300 ms (median of 2 runs)"
      ],
      "name" : "slow",
      "passed" : false,
      "phases" : {
        "command" : 0.125,
        "init" : 0.125,
        "kernel" : 1.125,
        "shutdown" : 1.125,
        "teardown" : 0.0625,
        "total" : 3,
        "vmm" : 0.25
      },
      "runs" : [
        {
          "passed" : true,
          "phases" : {
            "command" : 0.125,
            "init" : 0.125,
            "kernel" : 1.125,
            "shutdown" : 1.125,
            "teardown" : 0.0625,
            "total" : 3,
            "vmm" : 0.25
          },
          "problems" : [

          ],
          "status" : 0
        },
        {
          "passed" : false,
          "phases" : {
            "vmm" : 0.25
          },
          "problems" : [
            "timed out"
          ]
        }
      ],
      "seconds" : 7.25,
      "shutdown" : 1.1875,
      "suite" : "smoke"
    },
    {
      "budgets" : [

      ],
      "failures" : [
        "no kernel"
      ],
      "name" : "slow",
      "passed" : false,
      "phases" : {

      },
      "runs" : [

      ],
      "seconds" : 0,
      "suite" : "smoke"
    }
  ]
}
"""#

    static let empty = #"""
{
  "counts" : {
    "failed" : 0,
    "total" : 0
  },
  "kind" : "ksand-test",
  "passed" : false,
  "seconds" : 0,
  "tests" : [

  ]
}
"""#
}
