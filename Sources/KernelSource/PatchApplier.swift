import Foundation
import HostProcess

/// Applies a patch series to a source tree with `git apply`, all or nothing.
///
/// `git apply` is given the series as one stream: it checks each patch against the tree as the earlier ones
/// leave it and writes nothing unless all apply, so a conflict leaves the tree as it was. Before that, each patch
/// is checked on top of the ones before it: one that does not apply there but reverse-applies to the tree is
/// already in the tree and is reported as such. When
/// the series does not apply as a whole, the first patch that fails after the ones before it is named, with the
/// earlier patch that already made its change or changed the lines it expects (see ``SeriesConflict``).
public struct PatchApplier: Sendable {
    public struct Patch: Equatable, Sendable {
        /// The patch file on the host.
        public var path: String
        public var strip: Int
        /// How the user gave it, for messages: its path, or `--patch PATH`.
        public var label: String

        public init(path: String, strip: Int = 1, label: String? = nil) {
            self.path = path
            self.strip = strip
            self.label = label ?? path
        }
    }

    /// What applying a series did.
    public struct Outcome: Equatable, Sendable {
        /// Patches applied now.
        public var applied: [String]
        /// Patches whose changes the tree already had (they reverse-apply cleanly); skipped.
        public var alreadyApplied: [String]
        /// Files the applied patches touch, relative to the tree.
        public var touchedFiles: [String]
    }

    public var git: String

    public init(git: String = "git") { self.git = git }

    /// The patches a series file names, resolved against its directory; each must exist.
    public static func patches(in series: PatchSeries, seriesFile: String) throws(KernelSourceError) -> [Patch] {
        let directory = (seriesFile as NSString).deletingLastPathComponent
        return try series.entries.map { (entry) throws(KernelSourceError) -> Patch in
            let path = entry.path.hasPrefix("/") ? entry.path : directory + "/" + entry.path
            guard FileManager.default.fileExists(atPath: path) else {
                throw .patchMissing(series: seriesFile, line: entry.line, path: path)
            }
            return Patch(path: path, strip: entry.strip)
        }
    }

    /// Applies `patches` to `tree` in order. Throws, leaving the tree unchanged, if any patch does not apply.
    public func apply(_ patches: [Patch], to tree: String) async throws(KernelSourceError) -> Outcome {
        var pending: [Patch] = []
        var already: [String] = []
        for patch in patches {
            try PatchApplier.requireHunks(patch.path)
            // Checked on top of the patches before it, so that a patch reverting an earlier one of the series is
            // applied, not taken for one the tree already has (it reverse-applies to the tree alone).
            let sameLevel = pending.allSatisfy { $0.strip == patch.strip }
            let applies = sameLevel
                ? try await applies(pending + [patch], in: tree)
                : try await run(["apply", "--check", "-p\(patch.strip)", patch.path], in: tree).status == 0
            if applies {
                pending.append(patch)
            } else if try await run(["apply", "--check", "--reverse", "-p\(patch.strip)", patch.path], in: tree).status == 0 {
                already.append(patch.path)
            } else if pending.isEmpty {
                throw try await conflict(patch, in: tree)
            } else {
                // It may depend on an earlier patch of the series: the combined check below decides.
                pending.append(patch)
            }
        }
        var touched: [String] = []
        if !pending.isEmpty {
            // One stream per strip level keeps the all-or-nothing guarantee for the common case (one level).
            let levels = Set(pending.map(\.strip))
            guard levels.count == 1, let strip = levels.first else {
                throw .doesNotApply(patch: pending.map(\.path).joined(separator: ", "), file: nil, hunk: nil,
                                    detail: "patches with different -p levels in one series are not supported")
            }
            if try await !applies(pending, in: tree) {
                throw try await SeriesConflict.find(in: pending, tree: tree, applier: self)
            }
            let result = try await runSeries(["apply", "-p\(strip)"], pending, in: tree)
            guard result.status == 0 else {
                throw .toolFailed(command: "git apply -p\(strip) " + pending.map(\.path).joined(separator: " "), status: result.status, output: result.output)
            }
            let stat = try await runSeries(["apply", "--numstat", "-p\(strip)"], pending, in: tree)
            for file in stat.output.split(separator: "\n").compactMap({ $0.split(separator: "\t").last.map(String.init) }) where !touched.contains(file) {
                touched.append(file)
            }
        }
        return Outcome(applied: pending.map(\.path), alreadyApplied: already, touchedFiles: touched)
    }

    /// A patch must contain at least one unified-diff hunk; anything else is corrupt or not a patch.
    static func requireHunks(_ path: String) throws(KernelSourceError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .notAPatch(path: path) }
        let lines = text.split(separator: "\n")
        guard lines.contains(where: { $0.hasPrefix("--- ") }), lines.contains(where: { $0.hasPrefix("+++ ") }),
              lines.contains(where: { $0.hasPrefix("@@ ") }) else { throw .notAPatch(path: path) }
    }

    private func conflict(_ patch: Patch, in tree: String) async throws(KernelSourceError) -> KernelSourceError {
        let output = try await run(["apply", "--check", "-v", "-p\(patch.strip)", patch.path], in: tree).output
        return PatchApplier.parseConflict(patch: patch.label, output: output)
    }

    /// Reads `git apply`'s complaint: which file, which hunk, and why.
    static func parseConflict(patch: String, output: String) -> KernelSourceError {
        var file: String?, hunk: String?
        var detail = output.split(separator: "\n").last.map(String.init) ?? "git apply failed"
        for line in output.split(separator: "\n") {
            // "error: patch failed: drivers/md/md.c:9696"
            if let range = line.range(of: "patch failed: ") {
                let location = line[range.upperBound...]
                file = location.split(separator: ":").first.map(String.init)
                hunk = location.split(separator: ":").dropFirst().first.map { "at line \($0)" }
            }
            // "error: drivers/md/md.c: No such file or directory" / "error: corrupt patch at line 12"
            if line.hasPrefix("error: ") && !line.contains("patch failed:") {
                detail = String(line.dropFirst(7))
            }
            // "Hunk #2 NOT applied cleanly." style (from -v)
            if line.hasPrefix("Hunk #"), line.contains("NOT") || line.contains("failed") {
                hunk = String(line.split(separator: " ").prefix(2).joined(separator: " "))
            }
        }
        return .doesNotApply(patch: patch, file: file, hunk: hunk, detail: detail)
    }

    /// Whether `patches` apply to `tree` one after the other (checked only; nothing is written).
    func applies(_ patches: [Patch], in tree: String, reverse: Bool = false) async throws(KernelSourceError) -> Bool {
        guard let strip = patches.first?.strip else { return true }
        return try await runSeries(["apply", "--check"] + (reverse ? ["--reverse"] : []) + ["-p\(strip)"], patches, in: tree).status == 0
    }

    /// Runs `git ARGUMENTS` on `patches` as one stream, fed on its standard input. Given several files, git apply
    /// checks and writes each on its own, against the tree as it was; given their concatenation, it applies each
    /// patch on top of the ones before it and writes nothing unless all apply.
    func runSeries(_ arguments: [String], _ patches: [Patch], in tree: String) async throws(KernelSourceError) -> (status: Int32, output: String) {
        if patches.count == 1 { return try await run(arguments + [patches[0].path], in: tree) }
        var series: [UInt8] = []
        for patch in patches {
            guard let text = FileManager.default.contents(atPath: patch.path) else { throw .notAPatch(path: patch.path) }
            series += text
            if text.last != UInt8(ascii: "\n") { series.append(UInt8(ascii: "\n")) }
        }
        return try await run(arguments, in: tree, input: series)
    }

    /// Runs `git ARGUMENTS` in `directory`; returns its exit status with its stdout and stderr together.
    func run(_ arguments: [String], in directory: String, input: [UInt8]? = nil) async throws(KernelSourceError) -> (status: Int32, output: String) {
        do {
            let result = try await HostCommand(git, arguments, directory: directory, input: input).capture()
            return (result.status, result.output)
        } catch {
            throw .toolFailed(command: git, status: -1, output: error.reason)
        }
    }
}
