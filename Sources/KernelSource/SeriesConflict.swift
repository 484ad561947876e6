import Foundation

/// Why a series whose patches each apply to the tree does not apply as a whole: which patch fails after the ones
/// before it, and which earlier patch is in its way.
///
/// The failing patch is the first whose prefix of the series no longer passes `git apply --check`. The earlier
/// one is found on a scratch copy of just the files the patches touch: the earlier patches are applied there one
/// at a time, and after each the failing patch is checked again. If it now reverse-applies, that patch already
/// made its change (the same patch given twice, or one fix in two forms); if it applied before and no longer
/// does, that patch changed the lines it expects.
enum SeriesConflict {
    /// The error for `patches` (one -p level, in order), which `git apply --check` refused as a whole on `tree`.
    static func find(in patches: [PatchApplier.Patch], tree: String, applier: PatchApplier) async throws(KernelSourceError) -> KernelSourceError {
        var failing = patches.count - 1
        for end in patches.indices.dropFirst() where try await !applier.applies(Array(patches[...end]), in: tree) {
            failing = end
            break
        }
        let patch = patches[failing]
        let earlier = Array(patches[..<failing])
        let output = try await applier.runSeries(["apply", "--check", "-v", "-p\(patch.strip)"], Array(patches[...failing]), in: tree).output
        let detail = gitSaid(output)
        guard let (culprit, kind) = try await culprit(of: patch, after: earlier, tree: tree, applier: applier) else {
            return PatchApplier.parseConflict(patch: patch.label, output: output)
        }
        switch kind {
        case .alreadyApplied:
            return .alreadyAppliedBy(patch: patch.label, earlier: culprit.label, sameFile: culprit.path == patch.path, detail: detail)
        case .changedTheLines:
            guard case .doesNotApply(_, let file, let hunk, _) = PatchApplier.parseConflict(patch: patch.label, output: output) else {
                return PatchApplier.parseConflict(patch: patch.label, output: output)
            }
            return .conflictsWith(patch: patch.label, earlier: culprit.label, file: file, hunk: hunk, detail: detail)
        }
    }

    enum Kind { case alreadyApplied, changedTheLines }

    /// The earlier patch in `patch`'s way, replayed on a scratch copy of the files they touch.
    private static func culprit(
        of patch: PatchApplier.Patch, after earlier: [PatchApplier.Patch], tree: String, applier: PatchApplier
    ) async throws(KernelSourceError) -> (PatchApplier.Patch, Kind)? {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-series-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            for file in Set(try await touchedFiles(earlier + [patch], in: tree, applier: applier)) where FileManager.default.fileExists(atPath: tree + "/" + file) {
                let copy = scratch + "/" + file
                try FileManager.default.createDirectory(atPath: (copy as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: tree + "/" + file, toPath: copy)
            }
        } catch let error as KernelSourceError {
            throw error
        } catch {
            throw .toolFailed(command: "copying the patched files to \(scratch)", status: -1, output: "\(error)")
        }
        let appliedBefore = try await applier.applies([patch], in: scratch)
        for candidate in earlier {
            let applied = try await applier.run(["apply", "-p\(candidate.strip)", candidate.path], in: scratch)
            guard applied.status == 0 else { return nil }
            if try await applier.applies([patch], in: scratch, reverse: true) { return (candidate, .alreadyApplied) }
            if appliedBefore, try await !applier.applies([patch], in: scratch) { return (candidate, .changedTheLines) }
        }
        return nil
    }

    /// The files `patches` touch, relative to the tree (`git apply --numstat` reads only the patches).
    private static func touchedFiles(_ patches: [PatchApplier.Patch], in tree: String, applier: PatchApplier) async throws(KernelSourceError) -> [String] {
        var files: [String] = []
        for patch in patches {
            let stat = try await applier.run(["apply", "--numstat", "-p\(patch.strip)", patch.path], in: tree)
            files += stat.output.split(separator: "\n").compactMap { $0.split(separator: "\t").last.map(String.init) }
        }
        return files
    }

    /// git's own words, on one line, for the end of the message.
    private static func gitSaid(_ output: String) -> String {
        // Not the lines that introduce a quoted block ("error: while searching for:").
        output.split(separator: "\n").filter { $0.hasPrefix("error: ") && !$0.hasSuffix(":") }.map { $0.dropFirst(7) }.joined(separator: "; ")
    }
}
