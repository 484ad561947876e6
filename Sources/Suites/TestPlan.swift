import BootTimeline
import ProjectFile
import Sandbox

/// What `ksand test` runs: the tests of some suite files, each with its sandbox and its budgets resolved.
public struct TestPlan: Sendable {
    /// One test, ready to run.
    public struct Item: Sendable {
        /// The suite file's name (`smoke` for suites/smoke.toml).
        public var suite: String
        public var test: SuiteTest
        /// Budgets by accelerator and by backend on an accelerator (``BudgetKey``): the project's, overridden by the
        /// suite's, overridden by the test's.
        public var budgets: [String: Budget]
        /// The sandbox the test boots (a fresh one per run).
        public var spec: SandboxSpec
        /// How it starts: the test's choice, else its suite's, else cold where a boot budget applies (the boot is
        /// what it measures) and from the snapshot otherwise.
        public var start: Timeline.Start = .cold
        /// Where the test stands in the whole plan (0-based, after the filter, before sharding): suites in the order
        /// given, tests in file order.
        public var position: Int

        /// `suite/test`.
        public var id: String { "\(suite)/\(test.name)" }
    }

    /// The tests to run: the whole plan, or the shard's part of it.
    public var items: [Item]
    /// Runs per test; budgets are judged on the medians.
    public var repeats: Int
    /// The part of the whole plan this one runs; nil for all of it.
    public var shard: Shard?
    /// How many tests the whole plan holds (every shard's).
    public var planned: Int
    /// What starts each test's VM.
    public var backend: any SandboxBackend = QEMUDirectBackend()

    /// The tests of `suites` (only those whose `suite/name` contains `filter`, when given; then only `shard`'s part
    /// of them, when given). `base` carries the kernel and the sandbox defaults; a test adds its command,
    /// environment, kernel arguments and timeout.
    public init(suites: [SuiteFile], projectBudgets: [String: Budget], base: SandboxSpec, repeats: Int = 1, filter: String? = nil,
                shard: Shard? = nil) {
        self.repeats = max(1, repeats)
        self.shard = shard
        var items: [Item] = []
        for suite in suites {
            for test in suite.tests {
                let budgets = BudgetKey.merge([projectBudgets, suite.budgets, test.budgets])
                var spec = base
                spec.command = SetupScript.command(test.command, setup: test.setup)
                spec.environment.merge(test.environment) { _, new in new }
                spec.kernelArguments += test.kernelArguments
                spec.timeout = test.timeout ?? base.timeout ?? TestPlan.defaultTimeout
                spec.forwardStdin = false
                if let user = test.user { (spec.uid, spec.gid) = (user.uid, user.gid) }
                var item = Item(suite: suite.name, test: test, budgets: budgets, spec: spec, position: items.count)
                item.start = test.start ?? suite.start ?? (budgets.values.contains { $0.boot != nil } ? .cold : .snapshot)
                if let filter, !item.id.contains(filter) { continue }
                items.append(item)
            }
        }
        planned = items.count
        self.items = shard?.select(items) ?? items
    }

    /// A test that sets no timeout is stopped after this many seconds, so one hung guest cannot hang the suite.
    public static let defaultTimeout = 300.0
}

/// Runs a test's setup steps before its command in the same sandbox.
///
/// The steps run one by one under /bin/sh with their stdout sent to stderr, so the command's stdout is all the
/// test compares; the first failing step ends the run with status 125 and a line naming it.
public enum SetupScript {
    public static let failureStatus: Int32 = 125
    public static let failurePrefix = "ksand-setup: step "

    public static func command(_ argv: [String], setup: [String]) -> [String] {
        guard !setup.isEmpty else { return argv }
        let script = """
            n=$1; shift; i=0
            while [ "$i" -lt "$n" ]; do
              i=$((i + 1))
              /bin/sh -c "$1" >&2 || { s=$?; echo "\(failurePrefix)$i failed with status $s: $1" >&2; exit \(failureStatus); }
              shift
            done
            exec "$@"
            """
        return ["/bin/sh", "-c", script, "ksand-setup", String(setup.count)] + setup + argv
    }

    /// The setup failure line in a run's stderr, when a step failed.
    public static func failure(status: Int32, stderr: String) -> String? {
        guard status == failureStatus else { return nil }
        return stderr.split(separator: "\n").last { $0.hasPrefix(failurePrefix) }.map { String($0.dropFirst("ksand-setup: ".count)) }
    }
}
