import KernelBuild
import KernelSource
import Testing
@testable import Validate

@Suite struct SeriesValidatorTests {
    @Test func eachPatchIsJudgedAgainstItsParent() async throws {
        let old = warning("drivers/md/md.c", line: 100, "unused variable 'old'")
        let steps = FakeSteps([
            0: .init(warnings: [old], shutdownMilliseconds: 1100),
            1: .init(warnings: [warning("drivers/md/md.c", line: 90, "unused variable 'old'")], shutdownMilliseconds: 100),
            2: .init(warnings: [old, warning("file2.c", line: 7, "unused variable 'x'"), warning("other.c", line: 1, "not this patch's")]),
            3: .init(warnings: [old], shutdownMilliseconds: 1100),
            4: .init(warnings: [old], shutdownMilliseconds: 1100),
        ])
        let report = try await SeriesValidator(series: "test", patches: patches(4), steps: steps).validateSeries()
        #expect(report.patches.map(\.verdict) == [.pass, .newWarnings, .regressed, .pass])
        // A warning that only moved (line 100 → 90) is not new; one in a file the patch does not touch does not count.
        #expect(report.patches[1].newWarnings.map(\.file) == ["file2.c"])
        #expect(report.patches[2].verdicts == [.regressed, .budgetBreached])
        let shutdown = try #require(report.patches[2].timing.first { $0.phase == .shutdown })
        #expect(shutdown.outcome == .slower)
        #expect(shutdown.blame?.contains("ksand: power-off") == true)
        // Boot and shutdown of the one command are judged together.
        #expect(report.patches[2].timing.map(\.comparisons) == [2, 2])
        #expect(shutdown.reason.contains("for 2 comparisons"))
        // Patch 4 inherits patch 3's breach: noted, not its verdict.
        #expect(report.patches[3].breaches.first?.parentMet == false)
        #expect(report.firstBad == 2)
        #expect(report.firstBadByVerdict == ["new-warnings": 2, "regressed": 3, "budget-breached": 3])
        #expect(report.exitStatus == 1)
        #expect(steps.builtPrefixes == [0, 1, 2, 3, 4])
        #expect(report.patches[0].shutdownMilliseconds! < report.patches[0].parentShutdownMilliseconds!)
        let text = report.text()
        #expect(text.contains("first bad patch: 2 \"patch number 2\" (new-warnings)"))
        #expect(text.contains("first for regressed: 3, budget-breached: 3"))
    }

    @Test func aMachineThatGetsBusierDoesNotMakeAnUnchangedPatchLookSlower() async throws {
        // Every boot 40 ms slower than the one before: measured one kernel after the other, each patch would look
        // 200 ms (10 %) slower than its parent after five runs each.
        let steps = FakeSteps([:], drift: 40)
        let report = try await SeriesValidator(series: "test", patches: patches(3), steps: steps).validateSeries()
        #expect(report.patches.map(\.verdict) == [.pass, .pass, .pass])
        // Parent and patch take turns, parent first then patch first (ABBA), in a session of their own per comparison.
        #expect(steps.bootOrder == [0] + [0, 1, 1, 0, 0, 1, 1, 0, 0, 1] + [1, 2, 2, 1, 1, 2, 2, 1, 1, 2] + [2, 3, 3, 2, 2, 3, 3, 2, 2, 3])
        #expect(report.patches.allSatisfy { $0.runsPerTest == 5 })
        #expect(report.base?.runsPerTest == 5)
    }

    @Test func aPatchThatDoesNotApplyEndsTheRun() async throws {
        let steps = FakeSteps([2: .init(build: .doesNotApply)])
        let report = try await SeriesValidator(series: "test", patches: patches(4), steps: steps).validateSeries()
        #expect(report.patches.map(\.verdict) == [.pass, .doesNotApply, .notTested, .notTested])
        #expect(report.patches[1].build.applyError?.contains("hunk") == true)
        #expect(steps.builtPrefixes == [0, 1, 2])
        #expect(report.exitStatus == 1)
    }

    @Test func aBrokenBuildIsAVerdictAndTheNextPatchIsComparedWithTheLastGoodOne() async throws {
        let steps = FakeSteps([2: .init(build: .fails)])
        let report = try await SeriesValidator(series: "test", patches: patches(3), steps: steps).validateSeries()
        #expect(report.patches.map(\.verdict) == [.pass, .buildFailed, .pass])
        #expect(report.patches[1].build.errors == ["drivers/md/md.c:9620:2: error: expected ';' before '}' token"])
        #expect(report.patches[2].comparedWith == 1)
    }

    @Test func failuresOnThePatchedKernelAreVerdicts() async throws {
        let steps = FakeSteps([1: .init(bootFails: true), 2: .init(testProblem: "status 1, expected 0")])
        let report = try await SeriesValidator(series: "test", patches: patches(2), steps: steps).validateSeries()
        #expect(report.patches.map(\.verdict) == [.bootFailed, .testsFailed])
        #expect(report.patches[0].failures.first?.consoleTail == ["Kernel panic - not syncing"])
    }

    @Test func aBaseThatFailsCannotBeValidatedAgainst() async throws {
        let report = try await SeriesValidator(series: "test", patches: patches(2), steps: FakeSteps([0: .init(build: .fails)])).validateSeries()
        #expect(report.couldNotValidate?.contains("the base does not build") == true)
        #expect(report.exitStatus == 125)
        let failing = try await SeriesValidator(series: "test", patches: patches(2), steps: FakeSteps([0: .init(testProblem: "wrong output")])).validateSeries()
        #expect(failing.couldNotValidate?.contains("already fails") == true)
    }

    @Test func aSelectionBeyondTheSeriesIsRefusedBeforeAnythingIsBuilt() async throws {
        let steps = FakeSteps([:])
        let report = try await SeriesValidator(series: "s.mbox", patches: patches(8), steps: steps, options: .init(selection: 9...12)).validateSeries()
        #expect(report.couldNotValidate == "patches 9-12 were asked for, but the series s.mbox has 8 (1-8)")
        #expect(report.exitStatus == 125)
        #expect(steps.builtPrefixes.isEmpty)
        let some = try await SeriesValidator(series: "s", patches: patches(8), steps: FakeSteps([:]), options: .init(selection: 3...4)).validateSeries()
        #expect(some.patches.map(\.index) == [3, 4])
        #expect(some.patches[0].comparedWith == 2)
    }

    @Test func anUndecidedComparisonAddsRunsBeforeItDecides() async throws {
        // A 3 % slowdown (60 ms on 2 s) with ±40 ms of noise: three runs each cannot be significant at 5 %.
        let steps = FakeSteps([1: .init(bootMilliseconds: 2060)])
        let options = SeriesValidator.Options(runs: 3, maxRuns: 12, thresholds: .init(minimumMilliseconds: 10, minimumRelative: 0.01))
        let report = try await SeriesValidator(series: "test", patches: patches(1), steps: steps, options: options).validateSeries()
        #expect(steps.runs(of: 1) > 3)
        #expect(steps.runs(of: 1) <= 12)
        // The base's one check run, then the same number of runs as the patch.
        #expect(steps.runs(of: 0) == steps.runs(of: 1) + 1)
        #expect(report.patches[0].runsPerTest == steps.runs(of: 1))
        #expect(report.patches[0].verdict == .regressed)
    }

    @Test func bisectionFindsTheFirstBadPatchInLogarithmicallyManyBuilds() async throws {
        for bad in 1...8 {
            var kernels: [Int: FakeSteps.Kernel] = [:]
            for prefix in bad...8 { kernels[prefix] = .init(bootMilliseconds: 2300) }
            let steps = FakeSteps(kernels)
            let report = try await SeriesValidator(series: "test", patches: patches(8), steps: steps).bisect()
            #expect(report.bisection?.firstBad == bad, "first bad \(bad)")
            // The base, the whole series, then at most log2(8) = 3 probes.
            #expect(steps.builtPrefixes.count <= 5, "first bad \(bad): built \(steps.builtPrefixes)")
            #expect(report.exitStatus == 1)
            #expect(report.patches.count == 8)
            #expect(report.patches[bad - 1].verdict == .regressed)
        }
    }

    @Test func bisectionSkipsBuildsThatFailWhenSeekingATimingVerdict() async throws {
        var kernels: [Int: FakeSteps.Kernel] = [:]
        for prefix in 5...8 { kernels[prefix] = .init(bootMilliseconds: 2300) }
        kernels[6] = .init(build: .fails)
        let options = SeriesValidator.Options(seeking: [.regressed])
        let report = try await SeriesValidator(series: "test", patches: patches(8), steps: FakeSteps(kernels), options: options).bisect()
        #expect(report.bisection?.firstBad == 5)
        #expect(report.bisection?.steps.map(\.answer) == ["bad", "good", "skip", "bad"])
        #expect(report.patches[5].verdict == .buildFailed)
        // Seeking build failures, the broken build is the answer.
        let builds = try await SeriesValidator(series: "test", patches: patches(8), steps: FakeSteps([4: .init(build: .fails)]),
                                               options: .init(seeking: [.buildFailed])).bisect()
        #expect(builds.bisection?.firstBad == nil)  // prefix 8 builds here, so the whole series is good for build-failed
        var broken: [Int: FakeSteps.Kernel] = [:]
        for prefix in 4...8 { broken[prefix] = .init(build: .fails) }
        let found = try await SeriesValidator(series: "test", patches: patches(8), steps: FakeSteps(broken), options: .init(seeking: [.buildFailed])).bisect()
        #expect(found.bisection?.firstBad == 4)
    }

    @Test func skipsNextToTheFirstBadPatchLeaveCandidates() async throws {
        var kernels: [Int: FakeSteps.Kernel] = [3: .init(build: .fails), 4: .init(build: .fails)]
        for prefix in 5...8 { kernels[prefix] = .init(bootMilliseconds: 2300) }
        let report = try await SeriesValidator(series: "test", patches: patches(8), steps: FakeSteps(kernels), options: .init(seeking: [.regressed])).bisect()
        #expect(report.bisection?.firstBad == nil)
        #expect(report.bisection?.candidates == [3, 4, 5])
        #expect(report.exitStatus == 1)
    }

    @Test func judgingTheWholeSeriesOnceGivesGitBisectItsAnswer() async throws {
        let good = try await SeriesValidator(series: "test", patches: patches(3), steps: FakeSteps([:])).judgeWhole()
        #expect(good.exitStatus == 0)
        let slow = try await SeriesValidator(series: "test", patches: patches(3), steps: FakeSteps([3: .init(bootMilliseconds: 2300)])).judgeWhole()
        #expect(slow.exitStatus == 1)
        #expect(slow.patches.map(\.verdict) == [.regressed])
        let broken = FakeSteps([3: .init(build: .fails)])
        let skip = try await SeriesValidator(series: "test", patches: patches(3), steps: broken, options: .init(seeking: [.regressed])).judgeWhole()
        #expect(skip.exitStatus == 125)
        #expect(broken.builtPrefixes == [0, 3])
    }

    @Test func aPatchIsKnownByTheSHA256OfItsMessage() {
        let patch = PatchSet.Patch(index: 2, subject: "md: fix", commit: "c0ffee", message: Array("abc".utf8), file: "/p/0002-md-fix.patch")
        let info = SeriesValidator.PatchInfo(patch)
        #expect(info.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(info.index == 2 && info.subject == "md: fix" && info.commit == "c0ffee" && info.file == "/p/0002-md-fix.patch")
    }

    @Test func aFasterPatchPasses() async throws {
        let report = try await SeriesValidator(series: "test", patches: patches(1), steps: FakeSteps([1: .init(bootMilliseconds: 1500)])).validateSeries()
        #expect(report.patches[0].verdict == .pass)
        #expect(report.patches[0].timing.first { $0.phase == .boot }?.outcome == .faster)
        #expect(report.exitStatus == 0)
    }
}
