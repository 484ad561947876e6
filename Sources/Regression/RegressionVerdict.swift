/// When a difference between a patch's runs and its parent's counts: how unlikely it must be as noise, and how big
/// it must be to matter.
///
/// The defaults are what a kernel engineer reading a boot-time report would accept: significant at 5 %, and at
/// least 10 ms *and* 5 % slower. Both effect sizes must be met, so that 10 ms on a 4 s shutdown (0.25 %) and 8 % on
/// a 40 ms phase (3 ms) are both below notice; set either to 0 to judge by the other alone.
public struct RegressionThresholds: Equatable, Sendable, Codable {
    /// A p-value below this is significant.
    public var alpha: Double
    /// Up to this p-value (from alpha on), a difference big enough to matter is ``RegressionVerdict/uncertain``:
    /// more runs may make it significant. Above it, the difference is noise. It is compared with the rank test's
    /// own p-value, before the correction for many comparisons: judging a patch by more phases and tests makes it
    /// harder to call slower, not quicker to stop adding runs.
    public var uncertainBelow: Double
    /// The smallest change of the median that matters, in milliseconds.
    public var minimumMilliseconds: Double
    /// The smallest change of the median that matters, as a fraction of the parent's median (0.05 is 5 %).
    public var minimumRelative: Double

    public init(alpha: Double = 0.05, uncertainBelow: Double = 0.2, minimumMilliseconds: Double = 10, minimumRelative: Double = 0.05) {
        self.alpha = alpha
        self.uncertainBelow = uncertainBelow
        self.minimumMilliseconds = minimumMilliseconds
        self.minimumRelative = minimumRelative
    }

    public static let `default` = RegressionThresholds()

    /// The fewest runs on each side (the same number on both) whose best case can be significant at `alpha`.
    public var fewestRuns: Int { fewestRuns(comparisons: 1) }

    /// The fewest runs on each side whose best case can be significant at `alpha` when it is one of `comparisons`
    /// judged together (Bonferroni: each p-value is multiplied by their number).
    public func fewestRuns(comparisons: Int) -> Int {
        let family = Double(max(1, comparisons))
        var runs = 1
        while MannWhitneyU.smallestPValue(runs, runs) * family >= alpha && runs < 1000 { runs += 1 }
        return runs
    }
}

/// Whether a patch made a duration (boot, shutdown) slower than its parent did, with the numbers behind it.
public struct RegressionVerdict: Equatable, Sendable, Codable {
    public enum Outcome: String, Equatable, Sendable, Codable {
        /// Significantly slower, by at least the minimum effect.
        case slower
        /// Significantly faster, by at least the minimum effect.
        case faster
        /// No difference that is both significant and big enough to matter.
        case same
        /// Not decided: too few runs to ever be significant, or a difference big enough to matter with a p-value
        /// near alpha. Add runs and compare again.
        case uncertain
    }

    public var outcome: Outcome
    /// Why, in a sentence with the numbers, for reports.
    public var reason: String
    /// For ``Outcome/uncertain``: how many runs each side should have before comparing again.
    public var suggestedRuns: Int?
    public var comparison: SampleComparison
    public var thresholds: RegressionThresholds
    /// How many comparisons were judged together with this one (the phases and tests of one patch); nil or 1 for
    /// one on its own. Reports written before it have none.
    public var comparisons: Int?
    /// The p-value the verdict was judged by: the rank test's, multiplied by ``comparisons`` (at most 1).
    public var adjustedPValue: Double { min(1, comparison.test.pValue * Double(max(1, comparisons ?? 1))) }

    /// Judges `comparison` against `thresholds`, as one of `comparisons` judged together.
    ///
    /// A patch is slower when any of its phases, in any of its tests, is: each comparison made is one more chance
    /// for noise to look significant. Bonferroni's correction (each p-value times the number of comparisons) keeps
    /// the chance that a patch that changes nothing is called slower at `alpha`, however many phases and tests it
    /// is measured by.
    public init(_ comparison: SampleComparison, thresholds: RegressionThresholds = .default, comparisons: Int = 1) {
        self.comparison = comparison
        self.thresholds = thresholds
        self.comparisons = comparisons > 1 ? comparisons : nil
        let family = max(1, comparisons)
        let (n, m) = (comparison.baselineMilliseconds.count, comparison.candidateMilliseconds.count)
        let p = min(1, comparison.test.pValue * Double(family))
        let difference = comparison.medianDifference
        let direction = difference > 0 ? "slower" : "faster"
        let change = Self.describe(difference, comparison.relativeChange)
        let bigEnough = abs(difference) >= thresholds.minimumMilliseconds
            && (comparison.relativeChange.map { abs($0) >= thresholds.minimumRelative } ?? true)
        let smallest = min(1, MannWhitneyU.smallestPValue(n, m) * Double(family))
        let rawText = "p = \(Self.format(comparison.test.pValue, digits: 4)) (\(comparison.test.method.rawValue), \(n) vs \(m) runs)"
        let pText = family == 1 ? rawText : "\(rawText), \(Self.format(p, digits: 4)) for \(family) comparisons"
        let smallestText = family == 1 ? "the smallest p-value is \(Self.format(smallest, digits: 4))"
            : "the smallest p-value for \(family) comparisons is \(Self.format(smallest, digits: 4))"
        if smallest >= thresholds.alpha {
            let runs = max(thresholds.fewestRuns(comparisons: family), n, m)
            outcome = .uncertain
            suggestedRuns = runs
            reason = "\(n) vs \(m) runs can never be significant at alpha \(Self.format(thresholds.alpha, digits: 3)) "
                + "(\(smallestText)); median \(change); run each side at least \(runs) times"
        } else if p < thresholds.alpha && bigEnough {
            outcome = difference > 0 ? .slower : .faster
            suggestedRuns = nil
            reason = "\(direction): median \(change), \(pText)"
        } else if p < thresholds.alpha {
            outcome = .same
            suggestedRuns = nil
            reason = "a significant but small change: median \(change), under the minimum of "
                + "\(Self.format(thresholds.minimumMilliseconds, digits: 1)) ms and \(Self.format(thresholds.minimumRelative * 100, digits: 1)) %; \(pText)"
        } else if comparison.test.pValue < thresholds.uncertainBelow && bigEnough {
            outcome = .uncertain
            // Twice the runs is the usual next step: the p-value of a real shift falls quickly with more runs.
            suggestedRuns = 2 * max(n, m)
            reason = "maybe \(direction): median \(change), but \(pText) is not below alpha \(Self.format(thresholds.alpha, digits: 3)); "
                + "run each side \(2 * max(n, m)) times"
        } else {
            outcome = .same
            suggestedRuns = nil
            reason = "no significant change: median \(change), \(pText)"
        }
    }

    /// `+12.3 ms (+4.1 %)`.
    static func describe(_ difference: Double, _ relative: Double?) -> String {
        let sign = difference >= 0 ? "+" : "−"
        let percent = relative.map { " (\($0 >= 0 ? "+" : "−")\(format(abs($0) * 100, digits: 1)) %)" } ?? ""
        return "\(sign)\(format(abs(difference), digits: 1)) ms\(percent)"
    }

    /// `value` with at most `digits` digits after the point, trailing zeros dropped.
    public static func format(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if text.contains("e") { return text }
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }
}
