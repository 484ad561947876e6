import ProjectFile
import Sandbox
import SandboxProtocol

/// One boot of one test: what the command did and what the timeline measured.
public struct TestRun: Sendable {
    public var outcome: SandboxResult.Outcome
    /// The command's status as a shell reports it (128 + n for a signal); nil when it never ended.
    public var status: Int32?
    public var stdout: String
    public var stderr: String
    public var timeline: Timeline
    public var blame: Blame
    public var accelerator: String
    /// The backend that ran it (`qemu`, `libvirt`).
    public var backend: String
    /// What failed in this run (outcome, status, output, setup, host checks); empty when it passed.
    public var problems: [String]
    /// The run's console lines (for saving a log), host-timestamped.
    public var console: [ConsoleLine]

    public var passed: Bool { problems.isEmpty }
}

/// A test's verdict over its runs: every run must pass, and each budget must hold on the median of the runs.
public struct TestResult: Sendable {
    public var item: TestPlan.Item
    public var runs: [TestRun]
    public var budgetChecks: [BudgetCheck]
    /// The per-phase median timeline over the runs.
    public var timeline: Timeline
    /// Set when the test could not be run at all (the sandbox could not be prepared).
    public var setupError: String?
    /// Wall time of all the test's runs, in seconds.
    public var seconds: Double

    public init(item: TestPlan.Item, runs: [TestRun], setupError: String? = nil, seconds: Double) {
        self.item = item
        self.runs = runs
        self.setupError = setupError
        self.seconds = seconds
        timeline = Timeline.median(of: runs.map(\.timeline))
        budgetChecks = runs.isEmpty ? [] : (Self.budget(of: item, runs: runs) ?? Budget()).check(runs.map(\.timeline))
    }

    public var accelerator: String? { runs.first?.accelerator }
    /// The limits the runs are judged against: the test's for its accelerator on its backend.
    public var budget: Budget? { Self.budget(of: item, runs: runs) }

    static func budget(of item: TestPlan.Item, runs: [TestRun]) -> Budget? {
        runs.first.flatMap { BudgetKey.budget(in: item.budgets, accelerator: $0.accelerator, backend: $0.backend) }
    }
    public var passed: Bool { setupError == nil && !runs.isEmpty && runs.allSatisfy(\.passed) && budgetChecks.allSatisfy(\.passed) }
    public var breaches: [BudgetCheck] { budgetChecks.filter { !$0.passed } }

    /// Every reason the test failed, each once: run problems (with the run number when repeated), then breaches.
    public var failures: [String] {
        var reasons: [String] = []
        if let setupError { reasons.append(setupError) }
        for (index, run) in runs.enumerated() {
            for problem in run.problems {
                let line = runs.count > 1 ? "run \(index + 1): \(problem)" : problem
                if !reasons.contains(line) { reasons.append(line) }
            }
        }
        reasons += reportedBreaches.map { "over budget: \($0.description)" + (runs.count > 1 ? " (median of \(runs.count) runs)" : "") }
        return reasons
    }

    /// The breaches worth a reason: a budget whose phases were not measured because a run failed (interrupted, timed
    /// out, never booted) only repeats that failure; it is named only when every run otherwise passed.
    var reportedBreaches: [BudgetCheck] {
        let runsPassed = runs.allSatisfy(\.passed)
        return breaches.filter { $0.measured != nil || runsPassed }
    }

    /// The largest console gaps behind each breached budget, from the run closest to the median of that metric.
    public func blame(top: Int = 3) -> [(BudgetCheck.Metric, [ConsoleGap])] {
        reportedBreaches.compactMap { check in
            guard let run = representativeRun(for: check.metric) else { return nil }
            let gaps = check.metric == .boot ? run.blame.boot : run.blame.shutdown
            return (check.metric, Array(gaps.prefix(top)))
        }
    }

    func representativeRun(for metric: BudgetCheck.Metric) -> TestRun? {
        let value: (TestRun) -> Double? = { metric == .boot ? $0.timeline.boot : $0.timeline.shutdownTotal }
        guard let target = median(runs.compactMap(value)) else { return runs.first }
        return runs.min { abs((value($0) ?? .infinity) - target) < abs((value($1) ?? .infinity) - target) }
    }
}

/// The whole `ksand test` run, or one shard of it.
public struct SuiteReport: Sendable {
    public var results: [TestResult]
    public var seconds: Double
    /// The part of the plan this run covered (`--shard K/N`); nil for the whole plan.
    public var shard: Shard?
    /// How many tests the whole plan holds (every shard's).
    public var planned: Int

    public init(results: [TestResult], seconds: Double, shard: Shard? = nil, planned: Int? = nil) {
        self.results = results
        self.seconds = seconds
        self.shard = shard
        self.planned = planned ?? results.count
    }

    public var failed: [TestResult] { results.filter { !$0.passed } }
    /// Every test passed, and there was one at least, unless this is a shard the plan gives none (a CI matrix
    /// larger than the plan).
    public var passed: Bool { failed.isEmpty && (!results.isEmpty || isEmptyShard) }
    /// A shard the plan has no tests for.
    public var isEmptyShard: Bool { shard.map { $0.size(of: planned) == 0 } ?? false }
}
