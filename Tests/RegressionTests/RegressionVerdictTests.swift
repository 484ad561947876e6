import Foundation
import Testing
@testable import Regression

@Suite struct RegressionVerdictTests {
    func verdict(_ baseline: [Double], _ candidate: [Double], _ thresholds: RegressionThresholds = .default) throws -> RegressionVerdict {
        RegressionVerdict(try #require(SampleComparison(baselineMilliseconds: baseline, candidateMilliseconds: candidate)), thresholds: thresholds)
    }

    static let parent = [412.5, 408.1, 415.3, 420.9, 409.7, 411.2, 418.4, 410.0]

    @Test func aClearSlowdownIsSlower() throws {
        // The 8 vs 7 case of the scipy references: p = 0.0021756 (exact), the median 411.85 → 424.9 ms.
        let result = try verdict(Self.parent, [425.1, 419.8, 431.0, 422.6, 428.3, 417.5, 424.9], RegressionThresholds(minimumRelative: 0.03))
        #expect(result.outcome == .slower)
        #expect(abs(result.comparison.medianDifference - 13.05) < 1e-9)  // shown as 13 ms: 13.05 is 13.0499… in binary
        #expect(result.reason == "slower: median +13 ms (+3.2 %), p = 0.0022 (exact, 8 vs 7 runs)")
        #expect(result.suggestedRuns == nil)
    }

    @Test func significantButUnderTheMinimumEffectIsSame() throws {
        // The same runs against the default 5 %: 3.2 % is not enough.
        let result = try verdict(Self.parent, [425.1, 419.8, 431.0, 422.6, 428.3, 417.5, 424.9])
        #expect(result.outcome == .same)
        #expect(result.reason.hasPrefix("a significant but small change: median +13 ms (+3.2 %), under the minimum of 10 ms and 5 %"))
    }

    @Test func aClearSpeedupIsFaster() throws {
        let result = try verdict([200, 204, 198, 201, 203], [160, 158, 163, 161, 159])
        #expect(result.outcome == .faster)
        #expect(result.comparison.test.method == .exact)
        // scipy.stats.mannwhitneyu(candidate, baseline, method="exact"): U = 0, p = 0.007936507936507936 (2 / 252).
        #expect(abs(result.comparison.test.pValue - 0.007936507936507936) < 1e-12)
        #expect(result.comparison.hodgesLehmannShift == -41)
    }

    @Test func threeRunsEachCanNeverBeSignificant() throws {
        // n = m = 3: the smallest exact two-sided p-value is 2 / C(6, 3) = 0.1.
        let result = try verdict([100, 101, 102], [200, 201, 202])
        #expect(result.outcome == .uncertain)
        #expect(result.suggestedRuns == 4)
        #expect(result.reason.contains("the smallest p-value is 0.1"))
        #expect(RegressionThresholds.default.fewestRuns == 4)
        #expect(RegressionThresholds(alpha: 0.01).fewestRuns == 5)
    }

    @Test func aBigChangeNearAlphaAsksForMoreRuns() throws {
        // scipy.stats.mannwhitneyu([250, 207, 245, 240], [200, 190, 230, 210, 205], method="exact"): U = 18,
        // p = 0.06349206349206349; the median is 37.5 ms (18 %) slower.
        let result = try verdict([200, 190, 230, 210, 205], [250, 207, 245, 240])
        #expect(result.comparison.test.method == .exact)
        #expect(result.comparison.test.u == 18)
        #expect(abs(result.comparison.test.pValue - 0.06349206349206349) < 1e-12)
        #expect(result.outcome == .uncertain)
        #expect(result.suggestedRuns == 10)
    }

    @Test func whetherToAddRunsIsDecidedBeforeTheCorrection() throws {
        // 8 vs 8 runs without ties, U = 49: exact two-sided p = 0.0830 (enumerating all C(16, 8) rankings); the median is
        // 17.5 ms (8.7 %) slower. Among four comparisons the corrected p-value is 0.33, past the 0.2 up to which
        // more runs are tried; the rank test's own p-value is what decides that, so the runs are still added.
        let result = try verdict([200, 204, 198, 201, 203, 199, 202, 197], [202.5, 230, 231, 196, 199.5, 232, 233, 206])
        #expect(abs(result.comparison.test.pValue - 0.08298368298368299) < 1e-9)
        #expect(result.outcome == .uncertain)
        let amongFour = RegressionVerdict(result.comparison, comparisons: 4)
        #expect(amongFour.adjustedPValue > RegressionThresholds.default.uncertainBelow)
        #expect(amongFour.outcome == .uncertain)
        #expect(amongFour.suggestedRuns == 16)
    }

    @Test func aComparisonJudgedWithOthersNeedsAStrongerPValue() throws {
        // U = 2 (202.5 is below 203 and 204): exact two-sided p = 2 × 4 / 252 = 0.0317; the median is 30 ms (14.9 %) slower.
        let baseline = [200.0, 204, 198, 201, 203], candidate = [202.5, 230, 231, 232, 233]
        let alone = try verdict(baseline, candidate)
        #expect(alone.outcome == .slower)
        #expect(alone.comparisons == nil)
        // One of a patch's two phases: 0.0317 × 2 = 0.0635 is not below 0.05, so more runs are asked for.
        let one = RegressionVerdict(alone.comparison, comparisons: 2)
        #expect(one.outcome == .uncertain)
        #expect(abs(one.adjustedPValue - 8.0 / 126) < 1e-12)
        #expect(one.suggestedRuns == 10)
        #expect(one.reason == "maybe slower: median +30 ms (+14.9 %), but p = 0.0317 (exact, 5 vs 5 runs), 0.0635 for 2 comparisons is not below alpha 0.05; run each side 10 times")
        // A perfect separation (p = 0.0079) stays significant among two, not among eight: 5 runs each can never be.
        let separated = try #require(SampleComparison(baselineMilliseconds: baseline, candidateMilliseconds: [230, 231, 232, 233, 234]))
        #expect(RegressionVerdict(separated, comparisons: 2).outcome == .slower)
        let amongEight = RegressionVerdict(separated, comparisons: 8)
        #expect(amongEight.outcome == .uncertain)
        #expect(amongEight.suggestedRuns == 6)
        #expect(amongEight.reason.contains("the smallest p-value for 8 comparisons is 0.0635"))
        #expect(RegressionThresholds.default.fewestRuns(comparisons: 8) == 6)
    }

    @Test func noiseIsSame() throws {
        let result = try verdict([300, 305, 298, 302, 301, 299], [301, 297, 304, 300, 303, 298])
        #expect(result.outcome == .same)
        // scipy.stats.mannwhitneyu(candidate, baseline) (auto: asymptotic, ties): U = 16.5, p = 0.8721133649121213.
        #expect(result.comparison.test.u == 16.5)
        #expect(abs(result.comparison.test.pValue - 0.8721133649121213) < 1e-12)
    }

    @Test func durationsAreComparedInMilliseconds() throws {
        let comparison = try #require(SampleComparison(baseline: [.milliseconds(100), .milliseconds(110), .microseconds(105_500)],
                                                        candidate: [.seconds(1), .milliseconds(1500), .nanoseconds(1_200_000_001)]))
        #expect(comparison.baselineMedian == 105.5)
        #expect(abs(comparison.candidateMedian - 1200.000001) < 1e-9)
        #expect(comparison.relativeChange.map { abs($0 - (1200.000001 - 105.5) / 105.5) < 1e-12 } == true)
    }

    @Test func theVerdictIsADocument() throws {
        let result = try verdict([200, 204, 198, 201, 203], [160, 158, 163, 161, 159])
        let decoded = try JSONDecoder().decode(RegressionVerdict.self, from: try JSONEncoder().encode(result))
        #expect(decoded == result)
    }
}
