import ProjectFile

extension SuiteReport {
    /// The report for a terminal or a log: one row per test with its (median) phases and budget verdicts, then
    /// what failed and the console gaps behind each breach, then a summary line. `colors` only on a tty.
    public func text(colors: Bool = false) -> String {
        let paint = { (code: String, text: String) in colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        let restored = results.contains { $0.timeline.start == .snapshot }
        // A restored run has no vmm and kernel phases but a restore; the column shows only when a run has one.
        let phases: [Timeline.Phase] = [.vmm] + (restored ? [.restore] : []) + [.kernel, .`init`, .command, .shutdown, .teardown, .total]
        let nameWidth = max(4, results.map(\.item.id.count).max() ?? 0)
        var lines = ["test".padded(nameWidth) + "  result" + phases.map { $0.shortName.leftPadded(7) }.joined()
            + "  budgets (ms)"]
        for result in results {
            let verdict = result.passed ? paint("32", "pass  ") : paint("1;31", "FAIL  ")
            let cells = phases.map { phase in (result.timeline.phases[phase].map { String(Int(($0 * 1000).rounded())) } ?? "-").leftPadded(7) }
            let budgets = result.budgetChecks.map { check in
                let measured = check.measured.map { String(Int(($0 * 1000).rounded())) } ?? "?"
                let text = "\(check.metric.rawValue) \(measured)\(check.passed ? "≤" : ">")\(Int((check.limit * 1000).rounded()))"
                return check.passed ? text : paint("31", text)
            }.joined(separator: ", ")
            lines.append(result.item.id.padded(nameWidth) + "  " + verdict + cells.joined() + "  " + (budgets.isEmpty ? "-" : budgets))
        }
        for result in failed {
            lines.append("")
            lines.append(paint("1", "\(result.item.id) failed:"))
            for failure in result.failures {
                lines.append(contentsOf: failure.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                    .map { $0.offset == 0 ? "  - " + $0.element : "    " + $0.element })
            }
            for (metric, gaps) in result.blame() {
                lines.append("  largest \(metric.rawValue) gaps (kernel clock):")
                lines.append(contentsOf: gaps.map { "    " + $0.blameLine })
            }
        }
        let repeats = results.map(\.runs.count).max() ?? 0
        let accelerators = Set(results.compactMap(\.accelerator)).sorted().joined(separator: ", ")
        let passedCount = results.count - failed.count
        let summary = "\(passedCount) passed, \(failed.count) failed" + (accelerators.isEmpty ? "" : " under \(accelerators)")
            + (repeats > 1 ? "; phases and budgets are medians of \(repeats) runs" : "")
            + String(format: "; %.1f s", seconds)
        lines.append("")
        lines.append(passed ? paint("32", summary) : paint("1;31", summary))
        return lines.joined(separator: "\n")
    }
}

extension Timeline.Phase {
    var shortName: String {
        switch self {
        case .command: "cmd"
        case .shutdown: "shut"
        case .teardown: "tear"
        default: rawValue
        }
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadded(_ width: Int) -> String { count >= width ? " " + self : String(repeating: " ", count: width - count) + self }
}
