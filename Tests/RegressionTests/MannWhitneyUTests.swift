import Testing
@testable import Regression

/// Reference values from scipy 1.17.1: `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method=M,
/// use_continuity=True)`, its `statistic` (U of x) and `pvalue`, with M = "exact" or "asymptotic" as named.
@Suite struct MannWhitneyUTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var x: [Double], y: [Double]
        var u: Double
        var pValue: Double
        var method: MannWhitneyU.Method
        var testDescription: String { name }
    }

    static let n20x = [500.012, 502.987, 497.259, 491.094, 495.453, 490.084, 500.601, 513.402, 495.078, 493.795, 504.898, 503.569,
                       501.054, 490.695, 499.707, 506.953, 486.558, 495.424, 480.988, 487.105]
    static let n20y = [488.583, 504.649, 494.326, 509.713, 508.568, 505.131, 481.832, 501.613, 506.515, 508.133, 491.699, 502.222,
                       497.215, 498.912, 517.609, 498.925, 506.675, 515.844, 501.164, 505.883]
    static let n30 = [100.552, 100.319, 93.875, 100.381, 106.794, 92.264, 104.297, 100.597, 96.793, 110.002, 103.811, 94.004, 100.373,
                      102.883, 99.056, 103.415, 99.667, 103.336, 107.193, 96.622, 101.016, 97.683, 100.636, 94.064, 97.103, 99.019,
                      104.494, 105.726, 93.382, 96.027]
    static let n25 = [103.235, 90.038, 97.684, 99.514, 106.285, 103.447, 98.364, 98.157, 98.749, 107.618, 97.86, 98.482, 101.763,
                      99.396, 99.014, 94.43, 99.942, 97.782, 105.831, 103.265, 99.879, 103.342, 98.301, 105.261, 99.973]

    static let cases: [Case] = [
        // No ties: exact.
        Case(name: "3 vs 3, separated", x: [1, 2, 3], y: [4, 5, 6], u: 0, pValue: 0.1, method: .exact),
        Case(name: "5 vs 5, one pair crossed", x: [10.1, 12.3, 11.8, 13.0, 12.9], y: [14.2, 13.5, 15.1, 12.95, 14.8],
             u: 1, pValue: 0.015873015873015872, method: .exact),
        Case(name: "8 vs 7 boot times", x: [412.5, 408.1, 415.3, 420.9, 409.7, 411.2, 418.4, 410.0],
             y: [425.1, 419.8, 431.0, 422.6, 428.3, 417.5, 424.9], u: 3, pValue: 0.0021756021756021756, method: .exact),
        Case(name: "20 vs 20", x: n20x, y: n20y, u: 120, pValue: 0.030411256038764864, method: .exact),
        Case(name: "30 vs 25, no shift", x: n30, y: n25, u: 376, pValue: 0.9933129904008916, method: .exact),
        // Ties: the normal approximation with the tie correction.
        Case(name: "5 vs 6 with ties", x: [300, 302, 302, 305, 310], y: [302, 309, 311, 311, 315, 320],
             u: 4, pValue: 0.052477978971014166, method: .asymptotic),
        Case(name: "5 vs 6, mostly ties", x: [10, 10, 10, 20, 20], y: [10, 20, 20, 20, 30, 30],
             u: 6.5, pValue: 0.11506462374468271, method: .asymptotic),
        Case(name: "all the same", x: [5, 5, 5], y: [5, 5, 5, 5], u: 6, pValue: 1, method: .asymptotic),
    ]

    @Test(arguments: cases)
    func matchesScipy(_ reference: Case) throws {
        let test = try #require(MannWhitneyU(reference.x, reference.y))
        #expect(test.u == reference.u)
        #expect(test.method == reference.method)
        #expect(abs(test.pValue - reference.pValue) <= 1e-12 * max(1, reference.pValue), "p = \(test.pValue)")
        // Swapping the samples gives n·m − U and the same two-sided p-value.
        let swapped = try #require(MannWhitneyU(reference.y, reference.x))
        #expect(swapped.u == Double(reference.x.count * reference.y.count) - reference.u)
        #expect(abs(swapped.pValue - test.pValue) <= 1e-12)
    }

    /// scipy's asymptotic p-values for samples without ties, checked through the same formula the tie case uses
    /// (method="asymptotic"): 3 vs 3 separated 0.08085559837005224; 20 vs 20 0.03151710207456157.
    @Test func normalApproximationWithoutTies() {
        let z33 = (9 - 4.5 - 0.5) / (9.0 / 12 * 7).squareRoot()
        #expect(abs(2 * MannWhitneyU.normalUpperTail(z33) - 0.08085559837005224) < 1e-12)
        let z20 = (280 - 200 - 0.5) / (400.0 / 12 * 41).squareRoot()
        #expect(abs(2 * MannWhitneyU.normalUpperTail(z20) - 0.03151710207456157) < 1e-12)
    }

    @Test func midRanksShareTiedPlaces() {
        let ranked = MannWhitneyU.midRanks([3, 1, 3, 2, 3])
        #expect(ranked.ranks == [4, 1, 4, 2, 4])
        #expect(ranked.tieSizes == [1, 1, 3])
    }

    @Test func exactDistributionSumsAndIsSymmetric() {
        // 3 vs 3: 20 arrangements; U = 0 and U = 9 happen once each.
        #expect(MannWhitneyU.exactUpperTail(atLeast: 9, 3, 3) == 1.0 / 20)
        #expect(MannWhitneyU.exactUpperTail(atLeast: 0, 3, 3) == 1)
        #expect(MannWhitneyU.exactUpperTail(atLeast: 10, 3, 3) == 0)
        for u in 0...12 {
            let upper = MannWhitneyU.exactUpperTail(atLeast: u, 4, 3)
            let lower = 1 - MannWhitneyU.exactUpperTail(atLeast: 12 - u + 1, 4, 3)
            #expect(abs(upper - lower) < 1e-12)
        }
    }

    @Test func smallestPValueSaysWhenRunsAreTooFew() {
        #expect(abs(MannWhitneyU.smallestPValue(3, 3) - 0.1) < 1e-12)
        #expect(abs(MannWhitneyU.smallestPValue(4, 4) - 2.0 / 70) < 1e-12)
        #expect(abs(MannWhitneyU.smallestPValue(3, 4) - 2.0 / 35) < 1e-12)
        #expect(MannWhitneyU.smallestPValue(30, 30) < 1e-15)
    }

    @Test func emptyOrNonFiniteSamplesAreRefused() {
        #expect(MannWhitneyU([], [1]) == nil)
        #expect(MannWhitneyU([1, .nan], [2]) == nil)
        #expect(MannWhitneyU([1, .infinity], [2]) == nil)
    }
}
