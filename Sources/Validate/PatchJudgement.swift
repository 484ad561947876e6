import KernelBuild
import Regression

/// How one phase of one test compares between the parent's kernel and the patch's.
public struct TimingComparison: Codable, Equatable, Sendable {
    public var test: String
    public var phase: TimedPhase
    public var parentMedianMilliseconds: Double
    public var patchMedianMilliseconds: Double
    public var outcome: RegressionVerdict.Outcome
    /// The rank test's sentence, with the numbers.
    public var reason: String
    public var pValue: Double
    public var parentRuns: Int
    public var patchRuns: Int
    /// For ``RegressionVerdict/Outcome/uncertain``: the runs each side should have before comparing again.
    public var suggestedRuns: Int?
    /// For a phase that got slower: the console gap of the patch's typical run that grew most, against the
    /// parent's gap after the same line.
    public var blame: String?
    /// How many comparisons of the patch were judged together (its tests times their phases): the p-value was
    /// multiplied by it before it met alpha. Nil for one on its own, and in reports written before it.
    public var comparisons: Int?
}

/// A budget the patch's kernel does not meet (median of its runs).
public struct BudgetNote: Codable, Equatable, Sendable {
    public var test: String
    public var phase: TimedPhase
    public var limitMilliseconds: Double
    public var measuredMilliseconds: Double
    /// Whether the parent met it: false means the breach came with an earlier patch (and is not this one's verdict);
    /// nil when there is no parent to compare with.
    public var parentMet: Bool?
}

/// A test that failed on the patch's kernel, with what went wrong.
public struct TestFailureNote: Codable, Equatable, Sendable {
    public var test: String
    public var reasons: [String]
    /// The console's last lines from a failed run.
    public var consoleTail: [String]
    /// Whether the test failed on the parent's kernel too.
    public var failedOnParent: Bool
    /// Whether the kernel panicked, hung or never ran the test's command (boot-failed, not tests-failed); nil in
    /// reports written before it.
    public var bootFailed: Bool?

    public init(test: String, reasons: [String], consoleTail: [String] = [], failedOnParent: Bool = false, bootFailed: Bool? = nil) {
        self.test = test
        self.reasons = reasons
        self.consoleTail = consoleTail
        self.failedOnParent = failedOnParent
        self.bootFailed = bootFailed
    }
}

/// A patch's kernel judged against its parent's: the verdicts and the evidence for each.
public struct PatchJudgement: Codable, Equatable, Sendable {
    /// Worst first; `[.pass]` when nothing is wrong.
    public var verdicts: [PatchVerdict]
    /// Warnings in files the patch touches that the parent's build did not print.
    public var newWarnings: [BuildDiagnostic]
    public var failures: [TestFailureNote]
    public var timing: [TimingComparison]
    public var breaches: [BudgetNote]

    public var verdict: PatchVerdict { verdicts.first ?? .pass }

    /// Comparisons that need more runs before they decide, with the runs each side should have.
    public var undecided: [TimingComparison] { timing.filter { $0.outcome == .uncertain } }

    /// Judges `candidate`'s kernel and runs against `reference`'s (nil: no parent, so only what needs none: boot,
    /// tests, budgets). `touched` are the files whose new warnings count (those the patch, or the patches since the
    /// reference, change).
    public static func judge(
        candidate: (kernel: BuiltPrefix, measurement: PrefixMeasurement),
        reference: (kernel: BuiltPrefix, measurement: PrefixMeasurement)?,
        touched: Set<String>, thresholds: RegressionThresholds
    ) -> PatchJudgement {
        var verdicts: Set<PatchVerdict> = []
        let warnings = BuildDiagnostic.new(in: candidate.kernel.diagnostics.filter { $0.severity == .warning },
                                           comparedWith: reference?.kernel.diagnostics ?? [], files: touched)
        if reference != nil && !warnings.isEmpty { verdicts.insert(.newWarnings) }

        var failures: [TestFailureNote] = []
        for test in candidate.measurement.tests where !test.passed {
            verdicts.insert(test.bootFailed ? .bootFailed : .testsFailed)
            let parentTest = reference?.measurement.tests.first { $0.id == test.id }
            var reasons = test.setupError.map { [$0] } ?? []
            for (number, run) in test.runs.enumerated() {
                for problem in run.problems {
                    let line = test.runs.count > 1 ? "run \(number + 1): \(problem)" : problem
                    if !reasons.contains(line) { reasons.append(line) }
                }
            }
            failures.append(TestFailureNote(test: test.id, reasons: reasons,
                                            consoleTail: test.runs.first { !$0.problems.isEmpty }?.consoleTail ?? [],
                                            failedOnParent: parentTest.map { !$0.passed } ?? false, bootFailed: test.bootFailed))
        }

        var timing: [TimingComparison] = []
        var breaches: [BudgetNote] = []
        var compared: [(test: TestMeasurement, parent: TestMeasurement, phase: TimedPhase, comparison: SampleComparison)] = []
        for test in candidate.measurement.tests {
            let parentTest = reference?.measurement.tests.first { $0.id == test.id }
            for phase in TimedPhase.allCases {
                if let limit = test.budget(phase), let measured = test.median(phase), measured > limit {
                    let parentMet = parentTest.map { $0.overBudget(phase) == false }
                    breaches.append(BudgetNote(test: test.id, phase: phase, limitMilliseconds: limit, measuredMilliseconds: measured, parentMet: parentMet))
                    if parentMet != false { verdicts.insert(.budgetBreached) }
                }
                guard let parentTest, let comparison = SampleComparison(baselineMilliseconds: parentTest.samples(phase),
                                                                        candidateMilliseconds: test.samples(phase)) else { continue }
                compared.append((test, parentTest, phase, comparison))
            }
        }
        // Every phase of every test is one more chance for noise to look like a regression: they are judged together.
        for (test, parentTest, phase, comparison) in compared {
            let regression = RegressionVerdict(comparison, thresholds: thresholds, comparisons: compared.count)
            if regression.outcome == .slower { verdicts.insert(.regressed) }
            timing.append(TimingComparison(
                test: test.id, phase: phase, parentMedianMilliseconds: comparison.baselineMedian,
                patchMedianMilliseconds: comparison.candidateMedian, outcome: regression.outcome, reason: regression.reason,
                pValue: comparison.test.pValue, parentRuns: comparison.baselineMilliseconds.count,
                patchRuns: comparison.candidateMilliseconds.count, suggestedRuns: regression.suggestedRuns,
                blame: regression.outcome == .slower ? blame(phase, patch: test, parent: parentTest) : nil,
                comparisons: regression.comparisons))
        }
        let ordered = verdicts.sorted()
        return PatchJudgement(verdicts: ordered.isEmpty ? [.pass] : ordered, newWarnings: warnings, failures: failures, timing: timing,
                              breaches: breaches)
    }

    /// The gap of the patch's typical run that grew most against the parent's gap after the same line.
    static func blame(_ phase: TimedPhase, patch: TestMeasurement, parent: TestMeasurement) -> String? {
        guard let patchRun = patch.representativeRun(phase) else { return nil }
        let parentGaps = parent.representativeRun(phase)?.gaps(phase) ?? []
        let grown = patchRun.gaps(phase).map { gap -> (gap: ConsoleGapNote, parent: Double?) in
            (gap, parentGaps.first { $0.before == gap.before }?.milliseconds)
        }.max { ($0.gap.milliseconds - ($0.parent ?? 0)) < ($1.gap.milliseconds - ($1.parent ?? 0)) }
        guard let grown else { return nil }
        let parentText = grown.parent.map { "the parent's: \(Int($0.rounded())) ms" } ?? "the parent's typical run has no such gap"
        return "\(grown.gap.line); \(parentText)"
    }
}
