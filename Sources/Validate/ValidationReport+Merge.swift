import Foundation
import Suites

extension ValidationReport {
    /// The `ksand validate --json` report in `data` (from `file`, named in errors).
    public static func read(_ data: Data, file: String) throws(ReportError) -> ValidationReport {
        let kind: String
        do { kind = try ReportKind.of(data) } catch { throw ReportError(file: file, problem: error) }
        guard kind == ReportKind.validate else { throw ReportError(file: file, problem: .unknownKind(kind, known: [ReportKind.validate])) }
        do {
            return try JSONDecoder().decode(ValidationReport.self, from: data)
        } catch {
            throw ReportError(file: file, problem: .malformed(kind: kind, reason: ReportError.Problem.reason(error)))
        }
    }

    /// What ``merge(_:allowMissing:)`` made of some shards' reports.
    public struct Merge: Equatable, Sendable {
        /// The report of the whole validation: every patch once, in order; builds summed; the first bad patch found
        /// again; the longest shard's seconds; no `shard`.
        public var report: ValidationReport
        /// The shards merged, in order.
        public var shards: [Shard]
        /// The validation's shards no report held (only with `allowMissing`).
        public var missingShards: [Shard]
        /// The patches of the series no report held (only with `allowMissing`, or of a shard that could not validate).
        public var missingPatches: [Int]
    }

    /// Merges the reports of the shards of one `ksand validate --shard K/N` run into the report the whole series'
    /// validation would have written. Each report (file, report) must be a shard of the same validation (the same
    /// series and length, the same patches, N and sought verdicts), each shard given once, each holding exactly the
    /// patches of its chunk (``Shard/contiguousRange(count:)``), each patch once. Every shard, and every patch of
    /// each, must be there, unless `allowMissing`; a shard that could not validate (its base fails) makes the merged
    /// report one that could not, and its patches are missing. The patches after one that does not apply are not
    /// tested, as in a validation of the whole series.
    public static func merge(_ reports: [(file: String, report: ValidationReport)], allowMissing: Bool = false) throws(ReportError) -> Merge {
        var first: (file: String, shard: Shard, report: ValidationReport)?
        var files: [Shard: (file: String, report: ValidationReport)] = [:]
        var byIndex: [Int: (file: String, patch: Patch)] = [:]
        var missingPatches: [Int] = []
        for (file, report) in reports {
            func fail(_ problem: ReportError.Problem) -> ReportError { ReportError(file: file, problem: problem) }
            guard report.mode == .series, let record = report.shard else { throw fail(.notAValidationShard(mode: report.mode.rawValue)) }
            let shard: Shard
            do { shard = try Shard(index: record.index, count: record.count) } catch { throw fail(.invalidShard(error)) }
            if report.seriesLength < 0 { throw fail(.malformed(kind: ReportKind.validate, reason: "at seriesLength: a negative number of patches")) }
            if let first, let difference = Self.difference(report, shard: shard, from: first.report, shard: first.shard) {
                throw fail(.otherValidation(shard: shard, other: first.file, otherShard: first.shard, difference: difference))
            }
            first = first ?? (file, shard, report)
            if let other = files[shard] { throw fail(.duplicateShard(shard, other: other.file)) }
            files[shard] = (file, report)
            let chunk = shard.contiguousRange(count: report.seriesLength)
            let patches = chunk.lowerBound + 1..<chunk.upperBound + 1
            for patch in report.patches {
                guard patches.contains(patch.index) else {
                    throw fail(.patchNotInShard(patch: patch.index, shard: shard, chunk: patches.isEmpty ? nil : patches.lowerBound...patches.upperBound - 1,
                                                seriesLength: report.seriesLength))
                }
                if let other = byIndex[patch.index] { throw fail(.duplicatePatch(patch: patch.index, other: other.file)) }
                byIndex[patch.index] = (file, patch)
            }
            let absent = patches.filter { byIndex[$0] == nil }
            if !absent.isEmpty && !allowMissing && report.couldNotValidate == nil { throw fail(.incompleteValidationShard(shard, missing: absent)) }
            missingPatches += absent
        }
        guard let first else {
            return Merge(report: ValidationReport(mode: .series, series: "", seriesLength: 0), shards: [], missingShards: [], missingPatches: [])
        }
        let missingShards = (1...first.shard.count).compactMap { index in (try? Shard(index: index, count: first.shard.count)).flatMap { files[$0] == nil ? $0 : nil } }
        let length = first.report.seriesLength
        if !missingShards.isEmpty && !allowMissing {
            throw ReportError(file: nil, problem: .missingValidationShards(missingShards,
                                                                           patches: missingShards.map { $0.contiguousRange(count: length).count }.reduce(0, +)))
        }
        missingPatches += missingShards.flatMap { $0.contiguousRange(count: length).map { $0 + 1 } }

        let shards = files.keys.sorted { $0.index < $1.index }
        let ordered = shards.compactMap { files[$0]?.report }
        var merged = first.report
        merged.shard = nil
        merged.base = ordered.lazy.compactMap(\.base).first
        merged.patches = byIndex.keys.sorted().compactMap { byIndex[$0]?.patch }
        // Every prefix after a patch that does not apply holds that patch, so later shards found theirs not applying
        // too; the whole validation would have stopped there and tested none of them.
        if let stop = merged.patches.firstIndex(where: { $0.verdict == .doesNotApply }) {
            for offset in merged.patches.indices where offset > stop {
                let patch = merged.patches[offset]
                merged.patches[offset] = Patch(index: patch.index, subject: patch.subject, author: patch.author, commit: patch.commit,
                                               sha256: patch.sha256, verdict: .notTested, verdicts: [.notTested], build: .init(state: .notBuilt))
            }
        }
        merged.couldNotValidate = zip(shards, ordered).first { $0.1.couldNotValidate != nil }.map { "shard \($0.0): " + $0.1.couldNotValidate! }
        merged.builds = ordered.map(\.builds).reduce(0, +)
        merged.cachedBuilds = ordered.map(\.cachedBuilds).reduce(0, +)
        merged.seconds = ordered.map(\.seconds).max() ?? 0
        merged.accelerator = ordered.lazy.compactMap(\.accelerator).first
        // ksand writes `started` in one form (UTC, whole seconds), so the earliest sorts first.
        merged.started = ordered.compactMap(\.started).min()
        merged.patchset = ordered.lazy.compactMap(\.patchset).first
        merged.git = ordered.lazy.compactMap(\.git).first
        merged.config = ordered.lazy.compactMap(\.config).first
        let sought = Set(merged.seeking)
        merged.firstBadByVerdict = [:]
        for patch in merged.patches {
            for verdict in patch.verdicts where sought.contains(verdict) && merged.firstBadByVerdict[verdict.rawValue] == nil {
                merged.firstBadByVerdict[verdict.rawValue] = patch.index
            }
        }
        merged.firstBad = merged.patches.first { !sought.isDisjoint(with: $0.verdicts) }?.index
        merged.reproduce = merged.firstBad.flatMap { bad in ordered.first { $0.firstBad == bad }?.reproduce }
        return Merge(report: merged, shards: shards, missingShards: missingShards, missingPatches: missingPatches.sorted())
    }

    /// What makes `report` (shard `shard`) a shard of another validation than `other`'s; nil when nothing does.
    static func difference(_ report: ValidationReport, shard: Shard, from other: ValidationReport, shard otherShard: Shard) -> String? {
        let patches = { (count: Int) in "\(count) patch\(count == 1 ? "" : "es")" }
        if report.series != other.series || report.seriesLength != other.seriesLength {
            return "its series is \(report.series) (\(patches(report.seriesLength))), the other's \(other.series) (\(patches(other.seriesLength)))"
        }
        if shard.count != otherShard.count { return "it is one of \(shard.count) shards, the other one of \(otherShard.count)" }
        if Set(report.seeking) != Set(other.seeking) {
            let names = { (verdicts: [PatchVerdict]) in verdicts.sorted().map(\.rawValue).joined(separator: ", ") }
            return "it sought \(names(report.seeking)), the other \(names(other.seeking))"
        }
        if let mine = report.patchset, let theirs = other.patchset,
           let changed = zip(mine, theirs).first(where: { $0.0.sha256 != nil && $0.1.sha256 != nil && $0.0.sha256 != $0.1.sha256 }) {
            return "patch \(changed.0.index) differs (SHA-256 \(changed.0.sha256!.prefix(12)), the other's \(changed.1.sha256!.prefix(12)))"
        }
        return nil
    }
}
