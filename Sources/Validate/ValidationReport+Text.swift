import Foundation

extension ValidationReport {
    /// The report as the terminal shows it: one row per patch (subject, build, new warnings, boot and shutdown
    /// medians parent → patch, tests, verdict), then the evidence for each bad patch, then the first bad one with
    /// the command that reproduces it.
    public func text(colors: Bool = false) -> String {
        var lines: [String] = []
        if let couldNotValidate {
            lines.append("could not validate \(series): \(couldNotValidate)")
            return lines.joined(separator: "\n")
        }
        if let shard, base == nil, patches.isEmpty {
            return "shard \(shard.index)/\(shard.count) holds none of the \(seriesLength) patches of \(series) (more shards than patches)"
        }
        let header = ["#", "PATCH", "BUILD", "WARN", "BOOT ms", "SHUTDOWN ms", "TESTS", "VERDICT"]
        var rows: [[String]] = []
        if let base {
            rows.append(["0", "(base)", Self.buildCell(base.build), "", Self.milliseconds(base.bootMilliseconds), Self.milliseconds(base.shutdownMilliseconds),
                         base.tests == 0 ? "" : "\(base.testsPassed)/\(base.tests)", ""])
        }
        for patch in patches {
            rows.append([
                "\(patch.index)", Self.truncated(patch.subject, 44), Self.buildCell(patch.build),
                patch.build.state == .built || patch.build.state == .cached ? (patch.newWarnings.isEmpty ? "0" : "+\(patch.newWarnings.count)") : "",
                Self.change(patch.parentBootMilliseconds, patch.bootMilliseconds), Self.change(patch.parentShutdownMilliseconds, patch.shutdownMilliseconds),
                patch.tests == 0 ? "" : "\(patch.testsPassed)/\(patch.tests)", patch.verdict.rawValue,
            ])
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func render(_ row: [String], verdict: PatchVerdict?) -> String {
            var cells = row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
            if colors, let verdict, verdict != .notTested {
                cells[cells.count - 1] = (verdict.isBad ? "\u{1b}[31m" : "\u{1b}[32m") + cells[cells.count - 1] + "\u{1b}[0m"
            }
            return cells.joined(separator: "  ")
        }
        lines.append(render(header, verdict: nil))
        for (offset, row) in rows.enumerated() {
            let patchOffset = offset - (base == nil ? 0 : 1)
            lines.append(render(row, verdict: patchOffset >= 0 ? patches[patchOffset].verdict : nil))
        }
        for patch in patches where patch.verdict.isBad || !patch.breaches.isEmpty {
            let evidence = Self.evidence(patch)
            guard !evidence.isEmpty else { continue }
            lines.append("")
            lines.append("patch \(patch.index) \"\(patch.subject)\": \(patch.verdicts.map(\.rawValue).joined(separator: ", "))"
                         + (patch.comparedWith.map { " (against \($0 == 0 ? "the base" : "patch \($0)"))" } ?? ""))
            lines += evidence.map { "  " + $0 }
        }
        lines.append("")
        if let bisection {
            let probes = bisection.steps.map { "\($0.prefix) \($0.answer)" }.joined(separator: ", ")
            lines.append("bisect (seeking \(bisection.seeking.map(\.rawValue).joined(separator: ", "))): probed \(probes)")
            if let first = bisection.firstBad, let patch = patches.first(where: { $0.index == first }) {
                lines.append("first bad patch: \(first) \"\(patch.subject)\"")
            } else if !bisection.candidates.isEmpty {
                lines.append("first bad patch: one of \(bisection.candidates.map(String.init).joined(separator: ", ")) (the ones between could not be built)")
            } else {
                lines.append("no bad patch: the whole series is good")
            }
        } else if let firstBad, let patch = patches.first(where: { $0.index == firstBad }) {
            lines.append("first bad patch: \(firstBad) \"\(patch.subject)\" (\(patch.verdict.rawValue))")
            // By patch, then worst verdict first: a dictionary's order differs from run to run.
            let rank = { (name: String) in PatchVerdict(rawValue: name).flatMap { PatchVerdict.allCases.firstIndex(of: $0) } ?? Int.max }
            let others = firstBadByVerdict.filter { $0.value != firstBad }.sorted { ($0.value, rank($0.key), $0.key) < ($1.value, rank($1.key), $1.key) }
            if !others.isEmpty { lines.append("first for " + others.map { "\($0.key): \($0.value)" }.joined(separator: ", ")) }
        } else if mode == .one {
            lines.append(patches.last.map { "verdict: \($0.verdict.rawValue)" } ?? "verdict: pass (no patches)")
        } else {
            lines.append("every patch passed")
        }
        if let reproduce, firstBad != nil { lines.append("reproduce: \(reproduce)") }
        lines.append("\(builds) build\(builds == 1 ? "" : "s"), \(cachedBuilds) from the cache, \(Int(seconds.rounded())) s"
                     + (accelerator.map { ", under \($0.uppercased())" } ?? ""))
        return lines.joined(separator: "\n")
    }

    static func buildCell(_ build: Build) -> String {
        switch build.state {
        case .built: build.seconds.map { "built \(Int($0.rounded())) s" } ?? "built"
        case .cached: "cached"
        case .failed: "FAILED"
        case .doesNotApply: "no-apply"
        case .notBuilt: "-"
        }
    }

    static func milliseconds(_ value: Double?) -> String { value.map { "\(Int($0.rounded()))" } ?? "" }

    static func change(_ parent: Double?, _ patch: Double?) -> String {
        guard let patch else { return "" }
        guard let parent else { return milliseconds(patch) }
        return "\(milliseconds(parent))→\(milliseconds(patch))"
    }

    static func truncated(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}
