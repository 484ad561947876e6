import Foundation
import KernelBuild
import Regression
import ToolRunner
@testable import Validate

/// Reports made here for the renderers' tests: written out by hand where the output is pinned, or made by the
/// validator on ``FakeSteps`` where it must look like a real validation's.
enum SampleReports {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A series of three: patch 1 slows shutdown down (its subject full of what XML must escape), patch 2 does not
    /// apply, patch 3 is not tested.
    static func small() -> ValidationReport {
        let shutdown = TimingComparison(
            test: "smoke/boots", phase: .shutdown, parentMedianMilliseconds: 100, patchMedianMilliseconds: 1102, outcome: .slower,
            reason: "slower: median +1002 ms (+1002 %), p = 0.0079 (exact, 5 vs 5 runs)", pValue: 0.0079, parentRuns: 5, patchRuns: 5,
            blame: "1080 ms after \"md: stopping all md devices\"; the parent's: 80 ms")
        let boot = TimingComparison(
            test: "smoke/boots", phase: .boot, parentMedianMilliseconds: 2000, patchMedianMilliseconds: 2004, outcome: .same,
            reason: "same: median +4 ms (+0.2 %), p = 0.69 (exact, 5 vs 5 runs)", pValue: 0.69, parentRuns: 5, patchRuns: 5)
        return ValidationReport(
            mode: .series, series: "/project/patches/series", seriesLength: 3,
            base: .init(build: .init(state: .cached, kernelRelease: "6.1.158"), bootMilliseconds: 2000, shutdownMilliseconds: 100, runsPerTest: 5,
                        testsPassed: 1, tests: 1, testIDs: ["smoke/boots"]),
            patches: [
                .init(index: 1, subject: "md: <sleep> & \"wait\" \u{1b}[31mless\u{7}", sha256: String(repeating: "a", count: 64), verdict: .regressed,
                      verdicts: [.regressed], comparedWith: 0,
                      build: .init(state: .built, seconds: 41.5, kernelRelease: "6.1.158", compiler: "gcc (Debian 12.2.0-14) 12.2.0"),
                      testsPassed: 1, tests: 1, runsPerTest: 5, timing: [boot, shutdown], parentBootMilliseconds: 2000, bootMilliseconds: 2004,
                      parentShutdownMilliseconds: 100, shutdownMilliseconds: 1102, testIDs: ["smoke/boots"]),
                .init(index: 2, subject: "md: drop the check", sha256: String(repeating: "b", count: 64), verdict: .doesNotApply,
                      verdicts: [.doesNotApply], comparedWith: 1,
                      build: .init(state: .doesNotApply, applyError: "patch 2/3 \"md: drop the check\" does not apply:\ndrivers/md/md.c, hunk @@ -9617,9 +9617,6 @@")),
                .init(index: 3, subject: "md: third", sha256: String(repeating: "c", count: 64), verdict: .notTested, verdicts: [.notTested],
                      build: .init(state: .notBuilt)),
            ],
            firstBad: 1, firstBadByVerdict: ["regressed": 1, "does-not-apply": 2], builds: 1, cachedBuilds: 1, seconds: 123.4, accelerator: "tcg",
            started: "2026-12-02T01:00:00Z", config: "tinyconfig + sandbox.config")
    }

    /// The patches of a series of `count`, each with a SHA-256 as the CLI gives them; patch i's file is
    /// `/project/patches/000i-patch-number-i.patch` when `files`.
    static func patches(_ count: Int, files: Bool = true) -> [SeriesValidator.PatchInfo] {
        (1...count).map {
            .init(index: $0, subject: "patch number \($0)", touchedFiles: ["drivers/md/md.c", "file\($0).c"],
                  sha256: String(repeating: String($0 % 10), count: 64), file: files ? "/project/patches/000\($0)-patch-number-\($0).patch" : nil)
        }
    }

    /// A validation of six patches by the validator: 1 passes, 2 fails its test, 3 slows shutdown down over its
    /// budget with a new warning, 4 does not build, 5 does not apply, 6 is not tested.
    static func series(files: Bool = true) async throws -> ValidationReport {
        let steps = FakeSteps([
            2: .init(testProblem: "status 1, expected 0"),
            3: .init(warnings: [warning("file3.c", line: 7, "unused variable 'x'")], shutdownMilliseconds: 1100),
            4: .init(build: .fails),
            5: .init(build: .doesNotApply),
        ])
        var report = try await SeriesValidator(series: "/project/patches/series", patches: patches(6, files: files), steps: steps).validateSeries()
        report.started = "2026-12-02T01:00:00Z"
        return report
    }

    /// Runs `script` with Debian's python3 on `arguments`; its standard output.
    static func python(_ script: String, _ arguments: [String]) async throws -> String {
        let run = try await Tool.run("/usr/bin/python3", ["-c", script] + arguments)
        guard run.status == 0 else { throw ToolFailure(description: "python3 exited with \(run.status): \(run.errorText)") }
        return run.text
    }

    struct ToolFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// A fresh directory of this test's own.
    static func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ksand-validate-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}
