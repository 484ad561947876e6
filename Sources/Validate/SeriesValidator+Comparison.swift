/// Measuring a patch against its parent: both kernels booted in alternation, in one session of their own.
///
/// A shared machine drifts: load comes and goes, caches warm, a neighbour's job starts. Two kernels measured one
/// after the other see different machines, and a patch that changes nothing can look significantly slower. Booting
/// them in alternation (parent, patch, patch, parent, parent, patch, …: an ABBA order, so a drift that is linear in
/// time falls equally on both) puts the same machine under both samples, as Chromium's Pinpoint does with its A and B
/// jobs. Each comparison has runs of its own: a prefix compared twice (as a patch, then as the next patch's parent)
/// is measured twice, beside each partner.
extension SeriesValidator {
    struct Pair: Hashable {
        var candidate: Int
        var reference: Int
    }

    /// The runs of one comparison so far.
    struct Comparison {
        var candidate: PrefixMeasurement?
        var parent: PrefixMeasurement?
        /// Rounds done: each round boots both kernels once for each test.
        var rounds = 0
    }

    /// Prefix `index` and its reference measured in alternation until each has at least `runs` runs of each test.
    func compared(_ index: Int, with reference: Int, runs: Int) async throws -> (candidate: PrefixMeasurement, parent: PrefixMeasurement) {
        guard let candidateKernel = try await prefix(index).build.kernel else { throw SeriesValidationError.notBuilt(prefix: index) }
        guard let referenceKernel = try await prefix(reference).build.kernel else { throw SeriesValidationError.notBuilt(prefix: reference) }
        let pair = Pair(candidate: index, reference: reference)
        var comparison = comparisons[pair] ?? Comparison()
        if comparison.rounds < runs {
            let more = runs - comparison.rounds
            say("\(name(of: index)) against \(name(of: reference)): booting both in turn, \(more) more run\(more == 1 ? "" : "s") of each test")
        }
        while comparison.rounds < runs {
            // ABBA: even rounds boot the parent first, odd rounds the patch first.
            let parentFirst = comparison.rounds % 2 == 0
            for (isParent, kernel) in parentFirst ? [(true, referenceKernel), (false, candidateKernel)] : [(false, candidateKernel), (true, referenceKernel)] {
                let run = try await steps.measure(kernel, runs: 1)
                accelerator = accelerator ?? run.accelerator
                if isParent {
                    comparison.parent = comparison.parent.map { $0.adding(run) } ?? run
                } else {
                    comparison.candidate = comparison.candidate.map { $0.adding(run) } ?? run
                }
            }
            comparison.rounds += 1
            comparisons[pair] = comparison
        }
        guard let candidate = comparison.candidate, let parent = comparison.parent else { throw SeriesValidationError.notBuilt(prefix: index) }
        return (candidate, parent)
    }

    /// The base's runs as the report shows them: those of its first comparison, else those of its check.
    var baseMeasurement: PrefixMeasurement? {
        comparisons.filter { $0.key.reference == 0 }.min { $0.key.candidate < $1.key.candidate }?.value.parent ?? prefixes[0]?.measurement
    }

    func name(of prefix: Int) -> String { prefix == 0 ? "base" : "patches 1...\(prefix)" }
}
