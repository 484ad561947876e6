import BootTimeline

/// One silence in the console, as a report shows it.
public struct ConsoleGapNote: Codable, Equatable, Sendable {
    public var milliseconds: Double
    /// The line before the silence (its printk time left out, so the same line of two kernels compares equal).
    public var before: String
    public var after: String
    /// `1003 ms after "ksand: power-off" (...), before "..."`.
    public var line: String

    public init(milliseconds: Double, before: String, after: String, line: String) {
        self.milliseconds = milliseconds
        self.before = before
        self.after = after
        self.line = line
    }

    public init(_ gap: ConsoleGap) {
        self.init(milliseconds: gap.seconds * 1000, before: gap.before, after: gap.after, line: gap.blameLine)
    }
}

/// One boot of one test on one kernel: what it took and what went wrong.
public struct RunSample: Codable, Equatable, Sendable {
    /// vmm + kernel + init, in milliseconds; nil when not measured (the run failed before).
    public var bootMilliseconds: Double?
    /// shutdown + teardown, in milliseconds.
    public var shutdownMilliseconds: Double?
    /// What failed in this run; empty when it passed.
    public var problems: [String]
    /// The kernel panicked, hung, or never ran the command.
    public var bootFailed: Bool
    /// The largest console gaps of boot and of shutdown, largest first.
    public var bootGaps: [ConsoleGapNote]
    public var shutdownGaps: [ConsoleGapNote]
    /// The console's last lines, kept for a run that failed.
    public var consoleTail: [String]

    public init(bootMilliseconds: Double?, shutdownMilliseconds: Double?, problems: [String] = [], bootFailed: Bool = false,
                bootGaps: [ConsoleGapNote] = [], shutdownGaps: [ConsoleGapNote] = [], consoleTail: [String] = []) {
        self.bootMilliseconds = bootMilliseconds
        self.shutdownMilliseconds = shutdownMilliseconds
        self.problems = problems
        self.bootFailed = bootFailed
        self.bootGaps = bootGaps
        self.shutdownGaps = shutdownGaps
        self.consoleTail = consoleTail
    }
}

/// Boot or shutdown: the two durations a patch is judged on.
public enum TimedPhase: String, Codable, Sendable, CaseIterable {
    case boot, shutdown
}

/// Every run of one test on one kernel.
public struct TestMeasurement: Codable, Equatable, Sendable {
    /// `suite/test`, or `command` for `--command`.
    public var id: String
    /// The budgets for the accelerator the runs used, in milliseconds.
    public var bootBudgetMilliseconds: Double?
    public var shutdownBudgetMilliseconds: Double?
    public var runs: [RunSample]
    /// Set when the test could not be run at all.
    public var setupError: String?

    public init(id: String, bootBudgetMilliseconds: Double? = nil, shutdownBudgetMilliseconds: Double? = nil, runs: [RunSample],
                setupError: String? = nil) {
        self.id = id
        self.bootBudgetMilliseconds = bootBudgetMilliseconds
        self.shutdownBudgetMilliseconds = shutdownBudgetMilliseconds
        self.runs = runs
        self.setupError = setupError
    }

    public var passed: Bool { setupError == nil && !runs.isEmpty && runs.allSatisfy(\.problems.isEmpty) }
    public var bootFailed: Bool { runs.contains(where: \.bootFailed) }

    /// The measured values of `phase`, one per run that measured it.
    public func samples(_ phase: TimedPhase) -> [Double] {
        runs.compactMap { phase == .boot ? $0.bootMilliseconds : $0.shutdownMilliseconds }
    }

    public func median(_ phase: TimedPhase) -> Double? { BootTimeline.median(samples(phase)) }

    public func budget(_ phase: TimedPhase) -> Double? { phase == .boot ? bootBudgetMilliseconds : shutdownBudgetMilliseconds }

    /// Whether the median of `phase` is over its budget; nil when there is no budget or no measurement.
    public func overBudget(_ phase: TimedPhase) -> Bool? {
        guard let limit = budget(phase), let value = median(phase) else { return nil }
        return value > limit
    }

    /// The run whose `phase` is closest to the median: the one whose console gaps explain a typical run.
    public func representativeRun(_ phase: TimedPhase) -> RunSample? {
        guard let target = median(phase) else { return runs.first }
        return runs.min { abs(($0.value(phase) ?? .infinity) - target) < abs(($1.value(phase) ?? .infinity) - target) }
    }
}

extension RunSample {
    func value(_ phase: TimedPhase) -> Double? { phase == .boot ? bootMilliseconds : shutdownMilliseconds }
    func gaps(_ phase: TimedPhase) -> [ConsoleGapNote] { phase == .boot ? bootGaps : shutdownGaps }
}

/// Every test's runs on one kernel (one prefix of the series).
public struct PrefixMeasurement: Codable, Equatable, Sendable {
    /// `kvm` or `tcg`.
    public var accelerator: String
    public var tests: [TestMeasurement]

    public init(accelerator: String, tests: [TestMeasurement]) {
        self.accelerator = accelerator
        self.tests = tests
    }

    /// This measurement with `more` runs of the same tests added.
    public func adding(_ more: PrefixMeasurement) -> PrefixMeasurement {
        var result = self
        for extra in more.tests {
            if let index = result.tests.firstIndex(where: { $0.id == extra.id }) {
                result.tests[index].runs += extra.runs
                result.tests[index].setupError = result.tests[index].setupError ?? extra.setupError
            } else {
                result.tests.append(extra)
            }
        }
        return result
    }

    /// The fewest runs any test has.
    public var runsPerTest: Int { tests.map(\.runs.count).min() ?? 0 }

    /// The median of `phase` over every run of every test, for the report's table.
    public func pooledMedian(_ phase: TimedPhase) -> Double? { BootTimeline.median(tests.flatMap { $0.samples(phase) }) }

    public var failedTests: [TestMeasurement] { tests.filter { !$0.passed } }
    public var bootFailed: Bool { tests.contains(where: \.bootFailed) }
}
