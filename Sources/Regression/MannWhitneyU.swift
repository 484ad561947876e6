import Foundation

/// The two-sided Mann–Whitney U test (Wilcoxon rank-sum) on two independent samples: does one tend to give larger
/// values than the other? It compares ranks, not means, so one slow outlier run cannot make a verdict alone.
///
/// `u` is the statistic of the first sample: the number of pairs (x, y) with x > y, ties counting one half (its
/// rank sum less n(n+1)/2, with tied values given their mean rank). The p-value is, as
/// `scipy.stats.mannwhitneyu(x, y, alternative="two-sided")` computes it:
/// - **exact** when no value is tied and both samples have at most ``exactLimit`` values: twice the chance, under
///   the null hypothesis, of a U at least as far from n·m/2 as the larger of U and n·m − U, capped at 1;
/// - otherwise the **normal approximation**, with the variance corrected for ties and a continuity correction of ½.
public struct MannWhitneyU: Equatable, Sendable, Codable {
    public enum Method: String, Equatable, Sendable, Codable { case exact, asymptotic }

    /// U of the first sample.
    public var u: Double
    /// The two-sided p-value.
    public var pValue: Double
    public var method: Method
    /// The sizes of the two samples.
    public var counts: [Int]
    /// Whether some values were tied (ranks shared).
    public var hasTies: Bool

    /// Up to this many values in each sample (with no ties) the p-value is exact. The exact distribution costs
    /// n·(n·m) steps; the repeats of a boot comparison are 3 to 30.
    public static let exactLimit = 50

    /// Tests `first` against `second`; nil when either is empty or a value is not finite.
    public init?(_ first: [Double], _ second: [Double]) {
        let n = first.count, m = second.count
        guard n > 0, m > 0, (first + second).allSatisfy(\.isFinite) else { return nil }
        let ranked = Self.midRanks(first + second)
        let rankSum = ranked.ranks.prefix(n).reduce(0, +)
        let u1 = rankSum - Double(n * (n + 1)) / 2
        let u2 = Double(n * m) - u1
        let larger = max(u1, u2)
        self.u = u1
        self.counts = [n, m]
        self.hasTies = ranked.tieSizes.contains { $0 > 1 }
        if !hasTies && n <= Self.exactLimit && m <= Self.exactLimit {
            method = .exact
            pValue = min(1, 2 * Self.exactUpperTail(atLeast: Int(larger.rounded()), n, m))
        } else {
            method = .asymptotic
            let total = Double(n + m)
            let tieTerm = ranked.tieSizes.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
            let variance = Double(n * m) / 12 * ((total + 1) - tieTerm / (total * (total - 1)))
            if variance <= 0 {
                // Every value the same: nothing tells the samples apart.
                pValue = 1
            } else {
                let z = (larger - Double(n * m) / 2 - 0.5) / variance.squareRoot()
                pValue = min(1, 2 * Self.normalUpperTail(z))
            }
        }
    }

    /// The smallest two-sided p-value samples of these sizes can give (no ties: one entirely above the other).
    /// When it is not below alpha, no outcome of the runs can be significant: more runs are needed.
    public static func smallestPValue(_ n: Int, _ m: Int) -> Double {
        guard n > 0, m > 0 else { return 1 }
        // 2 / C(n + m, n), computed in logarithms so that large samples do not overflow.
        let logChoose = lgamma(Double(n + m + 1)) - lgamma(Double(n + 1)) - lgamma(Double(m + 1))
        return min(1, 2 * exp(-logChoose))
    }

    /// Ranks from 1, tied values sharing the mean of the ranks they span; and the size of each group of equal values.
    static func midRanks(_ values: [Double]) -> (ranks: [Double], tieSizes: [Int]) {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var tieSizes: [Int] = []
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
            let rank = Double(start + 1 + end) / 2
            for position in start..<end { ranks[order[position]] = rank }
            tieSizes.append(end - start)
            start = end
        }
        return (ranks, tieSizes)
    }

    /// P(U ≥ u) under the null hypothesis, for samples of n and m values without ties.
    ///
    /// The counts of arrangements giving each U are the coefficients of the Gaussian binomial [n+m choose n] in q,
    /// the product over i = 1...n of (1 − q^(m+i)) / (1 − q^i); each factor is a multiplication and a division by a
    /// two-term polynomial, done in place. Counts are kept as Doubles: their ratio is what matters.
    static func exactUpperTail(atLeast u: Int, _ n: Int, _ m: Int) -> Double {
        let small = min(n, m), large = max(n, m)
        let maximum = small * large
        guard u > 0 else { return 1 }
        guard u <= maximum else { return 0 }
        var counts = [Double](repeating: 0, count: maximum + 1)
        counts[0] = 1
        for i in 1...small {
            // Multiply by (1 − q^(large+i)), from the top so each coefficient is read before it is changed.
            let up = large + i
            if up <= maximum {
                for k in stride(from: maximum, through: up, by: -1) { counts[k] -= counts[k - up] }
            }
            // Divide by (1 − q^i): each coefficient adds the one i below it, already divided.
            for k in i...maximum { counts[k] += counts[k - i] }
        }
        let total = counts.reduce(0, +)
        return counts[u...].reduce(0, +) / total
    }

    /// P(Z > z) for a standard normal Z.
    static func normalUpperTail(_ z: Double) -> Double { erfc(z / 2.0.squareRoot()) / 2 }
}
