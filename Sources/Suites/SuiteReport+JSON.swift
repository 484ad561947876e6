import Foundation
import ProjectFile
import Sandbox

extension SuiteReport {
    /// The report as JSON (`ksand test --json FILE`): per test its verdict, failures, median phases (seconds), budget
    /// checks, the blame behind each breach, and each run's status and phases. Empty when it cannot be encoded (a
    /// measurement that is not a finite number).
    public func json() -> Data {
        (try? JSONDocument.prettyPrinted(document)) ?? Data()
    }

    /// The values of ``json()``.
    public var document: Document {
        Document(passed: passed, seconds: seconds, tests: results.map(Document.Test.init),
                 counts: Document.Counts(total: results.count, failed: failed.count))
    }

    /// A `ksand test` run as its JSON report: `passed`, `seconds`, `tests` and `counts`.
    public struct Document: Codable, Equatable, Sendable {
        public var passed: Bool
        public var seconds: Double
        public var tests: [Test]
        public var counts: Counts

        public init(passed: Bool, seconds: Double, tests: [Test], counts: Counts) {
            self.passed = passed
            self.seconds = seconds
            self.tests = tests
            self.counts = counts
        }

        public struct Counts: Codable, Equatable, Sendable {
            public var total: Int
            public var failed: Int

            public init(total: Int, failed: Int) {
                self.total = total
                self.failed = failed
            }
        }

        /// One test: `suite`, `name`, `passed`, `failures`, `seconds` (wall time of its runs), `phases` (medians),
        /// `budgets`, `runs`; `accelerator`, `boot` and `shutdown` when known, `blame` (metric → largest gaps) only
        /// when a budget was breached.
        public struct Test: Codable, Equatable, Sendable {
            public var suite: String
            public var name: String
            public var passed: Bool
            public var failures: [String]
            public var seconds: Double
            public var phases: [String: Double]
            public var budgets: [BudgetResult]
            public var runs: [Run]
            public var accelerator: String?
            public var boot: Double?
            public var shutdown: Double?
            public var blame: [String: [ConsoleGap]]?

            public init(suite: String, name: String, passed: Bool, failures: [String], seconds: Double, phases: [String: Double],
                        budgets: [BudgetResult], runs: [Run], accelerator: String? = nil, boot: Double? = nil,
                        shutdown: Double? = nil, blame: [String: [ConsoleGap]]? = nil) {
                self.suite = suite
                self.name = name
                self.passed = passed
                self.failures = failures
                self.seconds = seconds
                self.phases = phases
                self.budgets = budgets
                self.runs = runs
                self.accelerator = accelerator
                self.boot = boot
                self.shutdown = shutdown
                self.blame = blame
            }

            init(_ result: TestResult) {
                let blame = Dictionary(result.blame().map { ($0.0.rawValue, $0.1) }) { _, last in last }
                self.init(
                    suite: result.item.suite, name: result.item.test.name, passed: result.passed, failures: result.failures,
                    seconds: result.seconds, phases: result.timeline.phasesBySeconds,
                    budgets: result.budgetChecks.map {
                        BudgetResult(metric: $0.metric.rawValue, limit: $0.limit, measured: $0.measured, passed: $0.passed)
                    },
                    runs: result.runs.map { Run(passed: $0.passed, problems: $0.problems, phases: $0.timeline.phasesBySeconds, status: $0.status) },
                    accelerator: result.accelerator, boot: result.timeline.boot, shutdown: result.timeline.shutdownTotal,
                    blame: blame.isEmpty ? nil : blame)
            }
        }

        /// One budget check: its `metric` (`boot` or `shutdown`), `limit` and `measured` value (seconds; absent when
        /// not measured), and whether it `passed`.
        public struct BudgetResult: Codable, Equatable, Sendable {
            public var metric: String
            public var limit: Double
            public var measured: Double?
            public var passed: Bool

            public init(metric: String, limit: Double, measured: Double?, passed: Bool) {
                self.metric = metric
                self.limit = limit
                self.measured = measured
                self.passed = passed
            }
        }

        /// One run: `passed`, its `problems`, `phases`, and the command's `status` when it ended.
        public struct Run: Codable, Equatable, Sendable {
            public var passed: Bool
            public var problems: [String]
            public var phases: [String: Double]
            public var status: Int32?

            public init(passed: Bool, problems: [String], phases: [String: Double], status: Int32?) {
                self.passed = passed
                self.problems = problems
                self.phases = phases
                self.status = status
            }
        }
    }
}
