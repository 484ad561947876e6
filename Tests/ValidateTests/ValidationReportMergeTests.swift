import Foundation
import KsandFoundation
import Sandbox
import Suites
import Testing
@testable import Validate

/// `ksand validate --shard K/N` and `ksand report merge` of its reports: each shard validates its contiguous part of
/// the series against the parents, and the shards' reports make the whole validation's, or are refused with the file
/// and the fix.
@Suite struct ValidationReportMergeTests {
    /// Patch 3 regresses shutdown, patch 5 fails its test; the rest pass.
    static let kernels: [Int: FakeSteps.Kernel] = [3: .init(shutdownMilliseconds: 1100), 4: .init(shutdownMilliseconds: 1100),
                                                   5: .init(testProblem: "status 1, expected 0")]

    static func shard(_ index: Int, of count: Int, patches total: Int = 6, kernels: [Int: FakeSteps.Kernel] = kernels,
                      steps: FakeSteps? = nil) async throws -> ValidationReport {
        let options = SeriesValidator.Options(shard: try Shard(index: index, count: count))
        return try await SeriesValidator(series: "/project/patches/series", patches: SampleReports.patches(total), steps: steps ?? FakeSteps(kernels),
                                         options: options).validateSeries()
    }

    func error(_ body: () throws -> Void) -> ReportError? {
        do {
            try body()
        } catch let error as ReportError {
            return error
        } catch {
            Issue.record("not a ReportError: \(error)")
        }
        return nil
    }

    @Test func aShardValidatesItsChunkAgainstTheParentBeforeIt() async throws {
        let steps = FakeSteps(Self.kernels)
        let report = try await Self.shard(2, of: 3, steps: steps)
        #expect(report.patches.map(\.index) == [3, 4])
        #expect(report.shard == .init(index: 2, count: 3))
        // The base, patch 3, then patch 2 as its parent, then patch 4.
        #expect(steps.builtPrefixes == [0, 3, 2, 4])
        #expect(report.patches[0].comparedWith == 2 && report.patches[0].verdict == .regressed)
        #expect(report.firstBad == 3)
        // More shards than patches: the last ones build nothing and pass.
        let empty = FakeSteps([:])
        let none = try await Self.shard(4, of: 4, patches: 3, steps: empty)
        #expect(none.patches.isEmpty && none.base == nil && none.exitStatus == 0 && empty.builtPrefixes.isEmpty)
        #expect(none.text() == "shard 4/4 holds none of the 3 patches of /project/patches/series (more shards than patches)")
    }

    @Test func shardsMergeIntoTheWholeValidation() async throws {
        var reports: [(file: String, report: ValidationReport)] = []
        for index in [3, 1, 2] {
            var report = try await Self.shard(index, of: 3)
            report.seconds = Double(10 * index)
            report.started = "2026-12-02T01:0\(index):00Z"
            report.reproduce = report.firstBad.map { "ksand validate --patches \($0)" }
            reports.append(("shard-\(index).json", report))
        }
        let merge = try ValidationReport.merge(reports)
        let merged = merge.report
        let whole = try await SeriesValidator(series: "/project/patches/series", patches: SampleReports.patches(6), steps: FakeSteps(Self.kernels))
            .validateSeries()
        #expect(merged.patches.map(\.index) == Array(1...6))
        #expect(merged.patches.map(\.verdicts) == whole.patches.map(\.verdicts))
        #expect(merged.firstBad == 3 && merged.firstBadByVerdict == whole.firstBadByVerdict)
        #expect(merged.reproduce == "ksand validate --patches 3")
        #expect(merged.shard == nil && merged.kind == "ksand-validate" && merged.mode == .series)
        #expect(merged.seconds == 30)
        #expect(merged.started == "2026-12-02T01:01:00Z")
        // Each shard built the base, its chunk and (but the first) the parent before it: 3 + 4 + 4 makes.
        #expect(merged.builds == 11 && merged.cachedBuilds == 0)
        #expect(merged.exitStatus == 1)
        #expect(merge.shards.map(\.description) == ["1/3", "2/3", "3/3"])
        #expect(merged.junit().contains("<testsuite name=\"patch 6/6 patch number 6\""))

        // Through JSON, as `ksand report merge` reads the files.
        let decoded = try reports.map { ($0.file, try ValidationReport.read(try JSONDocument.prettyPrinted($0.report), file: $0.file)) }
        #expect(try ValidationReport.merge(decoded) == merge)
    }

    @Test func theReportsMustBeTheShardsOfOneValidation() async throws {
        let one = try await Self.shard(1, of: 2), two = try await Self.shard(2, of: 2)
        #expect(try ValidationReport.merge([("a.json", one), ("b.json", two)]).report.patches.count == 6)

        var whole = one
        whole.shard = nil
        #expect(error { _ = try ValidationReport.merge([("whole.json", whole)]) }?.description
                == "whole.json is the report of a whole validation (it has no `shard`): merge the reports of `ksand validate --shard K/N --json`")
        var bisected = one
        bisected.mode = .bisect
        #expect(error { _ = try ValidationReport.merge([("b.json", bisected)]) }?.description
                == "b.json is the report of `ksand validate --bisect`, not of a shard: merge the reports of `ksand validate --shard K/N --json`")

        let otherSeries = try await SeriesValidator(series: "/other/series", patches: SampleReports.patches(6), steps: FakeSteps([:]),
                                                    options: .init(shard: try Shard(index: 2, count: 2))).validateSeries()
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("c.json", otherSeries)]) }?.description
                == "c.json is shard 2/2 of another validation than a.json (shard 1/2): its series is /other/series (6 patches), the other's "
                + "/project/patches/series (6 patches); merge the shards of one validation (the same series, N and --for)")
        let ofThree = try await Self.shard(2, of: 3)
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("c.json", ofThree)]) }?.description.contains(
            "it is one of 3 shards, the other one of 2") == true)
        var otherPatch = two
        otherPatch.patchset?[3].sha256 = String(repeating: "f", count: 64)
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("c.json", otherPatch)]) }?.description.contains(
            "patch 4 differs (SHA-256 ffffffffffff, the other's 444444444444)") == true)
        let seeking = try await SeriesValidator(series: "/project/patches/series", patches: SampleReports.patches(6), steps: FakeSteps([:]),
                                                options: .init(seeking: [.regressed], shard: try Shard(index: 2, count: 2))).validateSeries()
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("c.json", seeking)]) }?.description.contains(
            "it sought regressed, the other does-not-apply, build-failed") == true)

        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("a.json", one)]) }?.description
                == "a.json is given twice: pass each shard's report once")
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("b.json", one)]) }?.description
                == "b.json is shard 1/2, as a.json is: pass each shard's report once")

        var stray = two
        stray.patches.append(one.patches[0])
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("b.json", stray)]) }?.description
                == "b.json holds patch 1, which is not in shard 2/2's part of the series (patches 4...6 of 6): pass the file ksand wrote, unchanged")
        var twice = two
        twice.patches.append(two.patches[0])
        #expect(error { _ = try ValidationReport.merge([("b.json", twice)]) }?.description
                == "b.json holds patch 4 twice: pass the file ksand wrote, unchanged")

        var cut = two
        cut.patches.removeLast(2)
        #expect(error { _ = try ValidationReport.merge([("a.json", one), ("b.json", cut)]) }?.description
                == "b.json lacks patches 5 and 6 of shard 2/2: the validation was interrupted or cut short; rerun that shard, "
                + "or --allow-missing to merge what there is")
        #expect(error { _ = try ValidationReport.merge([("b.json", two)]) }?.description
                == "shard 1/2 is missing (3 patches of the series): pass every shard's report, or --allow-missing to merge what there is")
        let partial = try ValidationReport.merge([("b.json", cut)], allowMissing: true)
        #expect(partial.missingShards.map(\.description) == ["1/2"] && partial.missingPatches == [1, 2, 3, 5, 6])
        #expect(partial.report.patches.map(\.index) == [4])
    }

    /// Every prefix after a patch that does not apply holds it, so the later shards' patches do not apply either;
    /// merged, they are not tested, as in the whole validation.
    @Test func thePatchesAfterOneThatDoesNotApplyAreNotTested() async throws {
        let kernels = Dictionary(uniqueKeysWithValues: (2...6).map { ($0, FakeSteps.Kernel(build: .doesNotApply)) })
        let one = try await Self.shard(1, of: 2, kernels: kernels), two = try await Self.shard(2, of: 2, kernels: kernels)
        #expect(two.patches.map(\.verdict) == [.doesNotApply, .notTested, .notTested])
        let merged = try ValidationReport.merge([("a.json", one), ("b.json", two)]).report
        let whole = try await SeriesValidator(series: "/project/patches/series", patches: SampleReports.patches(6), steps: FakeSteps(kernels))
            .validateSeries()
        #expect(merged.patches.map(\.verdicts) == whole.patches.map(\.verdicts))
        #expect(merged.patches.map(\.verdict) == [.pass, .doesNotApply, .notTested, .notTested, .notTested, .notTested])
        #expect(merged.firstBad == 2 && merged.firstBadByVerdict == ["does-not-apply": 2])
    }

    @Test func aShardWhoseBaseFailsMakesTheMergeOneThatCouldNotValidate() async throws {
        let failing: [Int: FakeSteps.Kernel] = [0: .init(testProblem: "wrong output")]
        let one = try await Self.shard(1, of: 2, kernels: failing), two = try await Self.shard(2, of: 2, kernels: failing)
        let merge = try ValidationReport.merge([("a.json", one), ("b.json", two)])
        #expect(merge.report.couldNotValidate?.hasPrefix("shard 1/2: on the base kernel") == true)
        #expect(merge.report.exitStatus == 125)
        #expect(merge.missingPatches == Array(1...6))
    }

    @Test func aReportOfAnotherKindIsRefusedByName() {
        #expect(error { _ = try ValidationReport.read(Data(#"{"kind": "ksand-test", "tests": []}"#.utf8), file: "t.json") }?.description
                == "t.json is a `ksand-test` report, which cannot be merged (only `ksand-validate` reports can)")
        #expect(error { _ = try ValidationReport.read(Data(#"{"kind": "ksand-validate", "mode": "series"}"#.utf8), file: "v.json") }?.description
                .hasPrefix("v.json is not a readable `ksand-validate` report (") == true)
    }
}
