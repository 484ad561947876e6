extension ValidationReport {
    /// Why a patch is bad, in lines: the apply error, the compiler's errors, the new warnings, the failing tests,
    /// the slower phases with their blame, the budgets. The table, JUnit and KCIDB show the same lines.
    static func evidence(_ patch: Patch) -> [String] {
        var lines = buildEvidence(patch.build)
        lines += warningEvidence(patch)
        for failure in patch.failures { lines += failureEvidence(failure) }
        for timing in patch.timing where timing.outcome == .slower || timing.outcome == .uncertain { lines += timingEvidence(timing) }
        lines += budgetEvidence(patch)
        return lines
    }

    /// A build that did not apply or failed: `git apply`'s complaint, or the compiler's first errors (else the log's
    /// last lines) and where the full log is.
    static func buildEvidence(_ build: Build) -> [String] {
        var lines: [String] = []
        if let applyError = build.applyError { lines += applyError.split(separator: "\n").map(String.init) }
        if build.state == .failed {
            lines += (build.errors.isEmpty ? build.tail.suffix(10) : build.errors.prefix(10)).map { "| " + $0 }
            if let log = build.logPath { lines.append("full log: \(log)") }
        }
        return lines
    }

    /// The first ten new warnings.
    static func warningEvidence(_ patch: Patch) -> [String] {
        patch.newWarnings.prefix(10).map { "new: " + $0.text }
    }

    /// The test that failed, its first reason, then up to four more.
    static func failureEvidence(_ failure: TestFailureNote) -> [String] {
        ["\(failure.test) failed\(failure.failedOnParent ? " (also on the parent)" : ""): " + (failure.reasons.first ?? "")]
            + failure.reasons.dropFirst().prefix(4).map { "  " + $0 }
    }

    /// The comparisons of `phase` that found it slower or could not decide: the medians, the rank test's sentence,
    /// the blame.
    static func timingEvidence(_ patch: Patch, phase: TimedPhase) -> [String] {
        patch.timing.filter { $0.phase == phase && ($0.outcome == .slower || $0.outcome == .uncertain) }.flatMap(timingEvidence)
    }

    /// One comparison's line, and its blame.
    static func timingEvidence(_ timing: TimingComparison) -> [String] {
        [timingLine(timing)] + (timing.blame.map { ["  blame: \($0)"] } ?? [])
    }

    /// `smoke/boot boot: 2000 → 2300 ms, <the rank test's sentence>`.
    static func timingLine(_ timing: TimingComparison) -> String {
        "\(timing.test) \(timing.phase.rawValue): \(Int(timing.parentMedianMilliseconds.rounded())) → "
            + "\(Int(timing.patchMedianMilliseconds.rounded())) ms, \(timing.reason)"
    }

    /// Each budget the patch's kernel does not meet, and whether its parent already did not.
    static func budgetEvidence(_ patch: Patch) -> [String] {
        patch.breaches.map { breach in
            "\(breach.test) \(breach.phase.rawValue) \(Int(breach.measuredMilliseconds.rounded())) ms is over its "
                + "\(Int(breach.limitMilliseconds.rounded())) ms budget" + (breach.parentMet == false ? " (already on the parent)" : "")
        }
    }
}
