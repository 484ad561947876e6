/// How a patch's runs compare with its parent's, in milliseconds: the medians, how far apart they are, and the
/// rank test that says whether the difference is more than noise.
public struct SampleComparison: Equatable, Sendable, Codable {
    /// The parent's runs (the baseline) and the patch's runs, in milliseconds, as measured.
    public var baselineMilliseconds: [Double]
    public var candidateMilliseconds: [Double]
    public var baselineMedian: Double
    public var candidateMedian: Double
    /// Candidate median − baseline median: positive when the patch is slower.
    public var medianDifference: Double
    /// The difference as a fraction of the baseline median (0.05 is 5 % slower); nil when the baseline median is 0.
    public var relativeChange: Double?
    /// The Hodges–Lehmann estimate of the shift: the median of every candidate − baseline difference. Less moved
    /// by one odd run than the difference of medians, with few runs.
    public var hodgesLehmannShift: Double
    /// The test of candidate against baseline (its U is the candidate's).
    public var test: MannWhitneyU

    /// Compares the samples; nil when either is empty or holds a value that is not finite.
    public init?(baselineMilliseconds baseline: [Double], candidateMilliseconds candidate: [Double]) {
        guard let test = MannWhitneyU(candidate, baseline) else { return nil }
        self.baselineMilliseconds = baseline
        self.candidateMilliseconds = candidate
        self.baselineMedian = Self.median(baseline)
        self.candidateMedian = Self.median(candidate)
        self.medianDifference = candidateMedian - baselineMedian
        self.relativeChange = baselineMedian == 0 ? nil : medianDifference / baselineMedian
        self.hodgesLehmannShift = Self.median(candidate.flatMap { c in baseline.map { c - $0 } })
        self.test = test
    }

    /// Compares durations (see ``init(baselineMilliseconds:candidateMilliseconds:)``).
    public init?(baseline: [Duration], candidate: [Duration]) {
        self.init(baselineMilliseconds: baseline.map(Self.milliseconds), candidateMilliseconds: candidate.map(Self.milliseconds))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }

    /// The middle value; the mean of the two middle ones for an even count.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
