import Foundation
import KsandFoundation
import ProjectFile
import Sandbox

extension SuiteReport {
    /// The report as JSON (`ksand test --json FILE`): per test its verdict, failures, median phases (seconds), budget
    /// checks, the blame behind each breach, and each run's status, phases and stderr. Empty when it cannot be
    /// encoded (a measurement that is not a finite number).
    public func json() -> Data {
        (try? JSONDocument.prettyPrinted(document)) ?? Data()
    }

    /// The values of ``json()``.
    public var document: Document {
        Document(passed: passed, seconds: seconds, tests: results.map(Document.Test.init),
                 counts: Document.Counts(total: results.count, failed: failed.count),
                 shard: shard.map { Document.ShardRecord(index: $0.index, count: $0.count, planned: planned) })
    }

    /// A `ksand test` run as its JSON report: `kind` (`ksand-test`), `passed`, `seconds`, `tests` and `counts`; `shard`
    /// only for one shard of a plan (`--shard K/N`).
    ///
    /// It holds everything the JUnit report is rendered from, so the report of a whole run and the merge of its
    /// shards' reports (`ksand report merge`) give the same JUnit. Documents written before `kind`, `shard`,
    /// `position`, `setupError` and `stderr` existed still decode (those are nil).
    public struct Document: Codable, Equatable, Sendable {
        /// `ksand-test`; nil in documents written before it existed (see ``ReportKind``).
        public var kind: String?
        public var passed: Bool
        public var seconds: Double
        public var tests: [Test]
        public var counts: Counts
        /// Which shard of which plan the run covered; nil for a whole run.
        public var shard: ShardRecord?

        public init(passed: Bool, seconds: Double, tests: [Test], counts: Counts, shard: ShardRecord? = nil, kind: String? = ReportKind.test) {
            self.kind = kind
            self.passed = passed
            self.seconds = seconds
            self.tests = tests
            self.counts = counts
            self.shard = shard
        }

        public struct Counts: Codable, Equatable, Sendable {
            public var total: Int
            public var failed: Int

            public init(total: Int, failed: Int) {
                self.total = total
                self.failed = failed
            }
        }

        /// `"shard": {"index": K, "count": N, "planned": T}`: shard K of N of a plan of T tests (every shard's).
        /// Plain numbers, as read from a file: ``shard`` checks them.
        public struct ShardRecord: Codable, Equatable, Sendable {
            public var index: Int
            public var count: Int
            public var planned: Int

            public init(index: Int, count: Int, planned: Int) {
                self.index = index
                self.count = count
                self.planned = planned
            }

            /// The shard, when `index` and `count` make one.
            public var shard: Shard? { try? Shard(index: index, count: count) }
        }

        /// One test: `suite`, `name`, `position` (0-based, in the whole plan), `passed`, `failures`, `seconds` (wall
        /// time of its runs), `phases` (medians), `budgets`, `runs`; `accelerator`, `boot` and `shutdown` when known,
        /// `blame` (metric → largest gaps) only when a budget was breached, `setupError` only when a sandbox could
        /// not be started.
        public struct Test: Codable, Equatable, Sendable {
            public var suite: String
            public var name: String
            public var position: Int?
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
            public var setupError: String?

            public init(suite: String, name: String, position: Int? = nil, passed: Bool, failures: [String], seconds: Double,
                        phases: [String: Double], budgets: [BudgetResult], runs: [Run], accelerator: String? = nil, boot: Double? = nil,
                        shutdown: Double? = nil, blame: [String: [ConsoleGap]]? = nil, setupError: String? = nil) {
                self.suite = suite
                self.name = name
                self.position = position
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
                self.setupError = setupError
            }

            /// `suite/name`.
            public var id: String { "\(suite)/\(name)" }

            init(_ result: TestResult) {
                let blame = Dictionary(result.blame().map { ($0.0.rawValue, $0.1) }) { _, last in last }
                self.init(
                    suite: result.item.suite, name: result.item.test.name, position: result.item.position, passed: result.passed,
                    failures: result.failures, seconds: result.seconds, phases: result.timeline.phasesBySeconds,
                    budgets: result.budgetChecks.map {
                        BudgetResult(metric: $0.metric.rawValue, limit: $0.limit, measured: $0.measured, passed: $0.passed)
                    },
                    runs: result.runs.map {
                        Run(passed: $0.passed, problems: $0.problems, start: $0.timeline.start == .snapshot ? .snapshot : nil, phases: $0.timeline.phasesBySeconds, status: $0.status,
                            stderr: $0.stderr.isEmpty ? nil : String($0.stderr.suffix(Run.stderrLimit)))
                    },
                    accelerator: result.accelerator, boot: result.timeline.boot, shutdown: result.timeline.shutdownTotal,
                    blame: blame.isEmpty ? nil : blame, setupError: result.setupError)
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

        /// One run: `passed`, its `problems`, `start` (`snapshot` when it started from one, absent when it booted),
        /// `phases`, the command's `status` when it ended (absent when the
        /// sandbox stopped it, or it never ran: a panic, boot failure, timeout or interrupt), and its `stderr`
        /// (the last ``stderrLimit`` characters) when it wrote any.
        public struct Run: Codable, Equatable, Sendable {
            public var passed: Bool
            public var problems: [String]
            public var start: Timeline.Start?
            public var phases: [String: Double]
            public var status: Int32?
            public var stderr: String?

            /// How much of a run's stderr the report keeps, from its end: what JUnit's `<system-err>` shows.
            public static let stderrLimit = 8000

            public init(
                passed: Bool, problems: [String], start: Timeline.Start? = nil, phases: [String: Double], status: Int32?, stderr: String? = nil
            ) {
                self.passed = passed
                self.problems = problems
                self.start = start
                self.phases = phases
                self.status = status
                self.stderr = stderr
            }
        }
    }
}
