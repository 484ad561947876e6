import Foundation
import KernelBuild
import Regression
import Suites

/// Validates a patch series: each prefix's kernel built (incrementally, cached by content), booted, tested and
/// timed, and judged against its parent's; or a bisection for the first bad prefix; or one judgement of the whole.
///
/// The validator decides what to build and run and judges what comes back; ``ValidationSteps`` does the work. Each
/// prefix is built at most once per validation; each comparison of a patch with its parent boots the two kernels in
/// alternation (more runs are added when a timing comparison is undecided, up to ``Options/maxRuns``).
public actor SeriesValidator {
    public struct Options: Sendable {
        /// Runs of each test on each kernel before comparing.
        public var runs: Int
        /// The most runs an undecided comparison may grow to.
        public var maxRuns: Int
        public var thresholds: RegressionThresholds
        /// What makes a patch bad (default: every bad verdict).
        public var seeking: Set<PatchVerdict>
        /// Only these patches (1-based, inclusive), each still judged against its parent.
        public var selection: ClosedRange<Int>?
        /// Only this shard's contiguous chunk of the series (``Shard/contiguousRange(count:)``), each patch still
        /// judged against its parent; the report records the shard. Takes the place of ``selection``.
        public var shard: Shard?

        public init(runs: Int = 5, maxRuns: Int? = nil, thresholds: RegressionThresholds = .default, seeking: Set<PatchVerdict> = Set(PatchVerdict.bad),
                    selection: ClosedRange<Int>? = nil, shard: Shard? = nil) {
            self.runs = max(1, runs)
            self.maxRuns = max(self.runs, maxRuns ?? 3 * self.runs)
            self.thresholds = thresholds
            self.seeking = seeking
            self.selection = selection
            self.shard = shard
        }
    }

    struct Prefix {
        var build: PrefixBuild
        var measurement: PrefixMeasurement?
    }

    public let series: String
    public let patches: [PatchInfo]
    let steps: any ValidationSteps
    public let options: Options
    let say: @Sendable (String) -> Void
    var prefixes: [Int: Prefix] = [:]
    var comparisons: [Pair: Comparison] = [:]
    var builds = 0, cachedBuilds = 0
    var accelerator: String?

    public init(series: String, patches: [PatchInfo], steps: any ValidationSteps, options: Options = Options(),
                say: @escaping @Sendable (String) -> Void = { _ in }) {
        self.series = series
        self.patches = patches
        self.steps = steps
        self.options = options
        self.say = say
    }

    // MARK: Modes

    /// Every patch (of the selection or the shard), each against its parent. A patch that does not apply ends the
    /// run: those after it are not tested. A shard whose chunk is empty (more shards than patches) builds nothing.
    public func validateSeries() async throws -> ValidationReport {
        let started = ContinuousClock.now
        var report = emptyReport(mode: .series)
        guard !patches.isEmpty else {
            report.couldNotValidate = "the series \(series) has no patches"
            return finish(report, started: started)
        }
        let range: ClosedRange<Int>
        if let shard = options.shard {
            let chunk = shard.contiguousRange(count: patches.count)
            guard !chunk.isEmpty else {
                say("shard \(shard): none of the \(patches.count) patches of the series (more shards than patches)")
                return finish(report, started: started)
            }
            range = chunk.lowerBound + 1...chunk.upperBound
            say("shard \(shard): patches \(range.lowerBound)...\(range.upperBound) of \(patches.count)")
        } else if let selection = options.selection {
            guard selection.lowerBound >= 1, selection.upperBound <= patches.count else {
                report.couldNotValidate = "patches \(selection.lowerBound)-\(selection.upperBound) were asked for, but the series \(series) has "
                    + "\(patches.count) (1-\(patches.count))"
                return finish(report, started: started)
            }
            range = selection
        } else {
            range = 1...patches.count
        }
        if let problem = try await checkBase() {
            report.couldNotValidate = problem
            report.base = baseSummary()
            return finish(report, started: started)
        }
        report.base = baseSummary()
        var stopped = false
        for index in range {
            let patch = patches[index - 1]
            if stopped {
                report.patches.append(untested(patch))
                continue
            }
            say("patch \(label(patch)): building")
            let reference = try await reference(before: index, lowest: range.lowerBound - 1)
            let row = try await judgeRow(patch, prefix: index, against: reference, touched: Set(patch.touchedFiles))
            if row.verdict == .doesNotApply { stopped = true }
            say("patch \(label(patch)): \(row.verdicts.map(\.rawValue).joined(separator: ", "))")
            report.patches.append(row)
        }
        return finish(report, started: started)
    }

    /// A binary search for the first prefix whose kernel is bad against the base: about log2(k) builds. A prefix
    /// that does not apply or build is skipped when what is sought needs a kernel (a test or timing verdict).
    public func bisect() async throws -> ValidationReport {
        let started = ContinuousClock.now
        var report = emptyReport(mode: .bisect)
        var bisection = ValidationReport.Bisection(seeking: options.seeking.sorted(), steps: [], firstBad: nil, candidates: [])
        guard !patches.isEmpty else {
            report.couldNotValidate = "the series \(series) has no patches"
            return finish(report, started: started)
        }
        if let problem = try await checkBase() {
            report.couldNotValidate = problem
            report.base = baseSummary()
            return finish(report, started: started)
        }
        report.base = baseSummary()
        var rows: [Int: ValidationReport.Patch] = [:]
        var good = 0, bad = patches.count
        func record(_ probe: (answer: String, row: ValidationReport.Patch)) -> String {
            rows[probe.row.index] = probe.row
            bisection.steps.append(.init(prefix: probe.row.index, answer: probe.answer, verdict: probe.row.verdict))
            return probe.answer
        }
        switch record(try await probe(patches.count)) {
        case "good":
            break
        case "skip":
            report.couldNotValidate = "the whole series does not \(rows[patches.count]?.verdict == .doesNotApply ? "apply" : "build"), so there is "
                + "no kernel to look for \(options.seeking.sorted().map(\.rawValue).joined(separator: ", ")) in; validate it without --bisect"
        default:
            var skipped: Set<Int> = []
            while true {
                let open = (good + 1..<bad).filter { !skipped.contains($0) }
                guard !open.isEmpty else { break }
                let middle = (good + bad) / 2
                let next = open.min { abs($0 - middle) < abs($1 - middle) || (abs($0 - middle) == abs($1 - middle) && $0 < $1) }!
                switch record(try await probe(next)) {
                case "good": good = next
                case "bad": bad = next
                default: skipped.insert(next)
                }
            }
            let between = (good + 1..<bad).filter { skipped.contains($0) }
            if between.isEmpty { bisection.firstBad = bad } else { bisection.candidates = between + [bad] }
        }
        report.bisection = bisection
        report.patches = patches.map { rows[$0.index] ?? untested($0) }
        return finish(report, started: started)
    }

    /// Prefix `prefix` judged against the base, and whether that makes it good, bad, or one to skip.
    func probe(_ prefix: Int) async throws -> (answer: String, row: ValidationReport.Patch) {
        say("bisect: probing patches 1...\(prefix)")
        let touched = Set(patches[0..<prefix].flatMap(\.touchedFiles))
        let row = try await judgeRow(patches[prefix - 1], prefix: prefix, against: 0, touched: touched)
        let answer: String
        if !options.seeking.isDisjoint(with: row.verdicts) {
            answer = "bad"
        } else if row.verdict == .doesNotApply || row.verdict == .buildFailed {
            answer = "skip"
        } else {
            answer = "good"
        }
        say("bisect: patches 1...\(prefix) are \(answer) (\(row.verdicts.map(\.rawValue).joined(separator: ", ")))")
        return (answer, row)
    }

    /// The whole series judged once against the base: for `git bisect run`, where the series is the commits up to
    /// the one being tested.
    public func judgeWhole() async throws -> ValidationReport {
        let started = ContinuousClock.now
        var report = emptyReport(mode: .one)
        if let problem = try await checkBase() {
            report.couldNotValidate = problem
            report.base = baseSummary()
            return finish(report, started: started)
        }
        report.base = baseSummary()
        if let last = patches.last {
            report.patches = [try await judgeRow(last, prefix: last.index, against: 0, touched: Set(patches.flatMap(\.touchedFiles)))]
        }
        return finish(report, started: started)
    }

    // MARK: Prefixes

    /// Builds the base and runs each test on it once; a reason when nothing can be judged against it.
    func checkBase() async throws -> String? {
        say("base (no patches of the series): building")
        let base = try await prefix(0)
        switch base.build {
        case .doesNotApply(let message):
            return "the base does not apply: \(message)"
        case .failed(let errors, let tail, let logPath):
            return "the base does not build (full log: \(logPath)):\n" + (errors.isEmpty ? tail : errors.map(\.text)).map { "  | " + $0 }.joined(separator: "\n")
        case .built:
            let measurement = try await measured(0, runs: 1)
            if let failed = measurement.failedTests.first {
                let reason = failed.setupError ?? failed.runs.flatMap(\.problems).first ?? "no runs"
                return "on the base kernel (no patches of the series), \(failed.id) already fails: \(reason); every patch would be judged "
                    + "against a failing base. Fix the base or leave the test out (--filter, --command)"
            }
            return nil
        }
    }

    func prefix(_ index: Int) async throws -> Prefix {
        if let known = prefixes[index] { return known }
        let build = try await steps.build(prefix: index)
        if let kernel = build.kernel {
            if kernel.cached { cachedBuilds += 1 } else { builds += 1 }
        } else if case .failed = build {
            builds += 1
        }
        let state = Prefix(build: build, measurement: nil)
        prefixes[index] = state
        return state
    }

    /// The prefix's own measurement (not a comparison's) with at least `runs` runs of each test; its kernel must have built.
    func measured(_ index: Int, runs: Int) async throws -> PrefixMeasurement {
        let state = try await prefix(index)
        guard let kernel = state.build.kernel else { throw SeriesValidationError.notBuilt(prefix: index) }
        let have = state.measurement?.runsPerTest ?? 0
        if let measurement = state.measurement, have >= runs { return measurement }
        say("\(name(of: index)): booting, \(runs - have) run\(runs - have == 1 ? "" : "s") of each test")
        let more = try await steps.measure(kernel, runs: runs - have)
        let measurement = state.measurement.map { $0.adding(more) } ?? more
        accelerator = accelerator ?? measurement.accelerator
        prefixes[index]?.measurement = measurement
        return measurement
    }

    /// The nearest earlier prefix that built (down to `lowest`, the base at worst): what patch `index` is compared with.
    func reference(before index: Int, lowest: Int) async throws -> Int {
        var candidate = index - 1
        while candidate > lowest, try await prefix(candidate).build.kernel == nil { candidate -= 1 }
        return max(candidate, 0)
    }

    /// Builds prefix `index`, and when it built, measures it and its reference and judges it; more runs are added
    /// while a timing comparison is undecided.
    func judgeRow(_ patch: PatchInfo, prefix index: Int, against reference: Int, touched: Set<String>) async throws -> ValidationReport.Patch {
        let state = try await prefix(index)
        var row = ValidationReport.Patch(index: patch.index, subject: patch.subject, author: patch.author, commit: patch.commit, sha256: patch.sha256,
                                         verdict: .pass, verdicts: [.pass], comparedWith: reference, build: buildSummary(state.build))
        switch state.build {
        case .doesNotApply:
            (row.verdict, row.verdicts) = (.doesNotApply, [.doesNotApply])
            return row
        case .failed:
            (row.verdict, row.verdicts) = (.buildFailed, [.buildFailed])
            return row
        case .built(let kernel):
            guard let referenceKernel = try await prefix(reference).build.kernel else { throw SeriesValidationError.notBuilt(prefix: reference) }
            var runs = options.runs
            var judgement: PatchJudgement
            var candidate: PrefixMeasurement, parent: PrefixMeasurement
            while true {
                (candidate, parent) = try await compared(index, with: reference, runs: runs)
                // Warnings are compared only when sought: otherwise the builds were not made to print them all.
                judgement = PatchJudgement.judge(candidate: (kernel, candidate), reference: (referenceKernel, parent),
                                                 touched: options.seeking.contains(.newWarnings) ? touched : [], thresholds: options.thresholds)
                let wanted = judgement.undecided.compactMap(\.suggestedRuns).max().map { min($0, options.maxRuns) } ?? runs
                guard wanted > runs, !judgement.undecided.isEmpty else { break }
                say("patch \(label(patch)): \(judgement.undecided[0].test) \(judgement.undecided[0].phase.rawValue) undecided; "
                    + "\(wanted) runs each before comparing again")
                runs = wanted
            }
            row.verdict = judgement.verdict
            row.verdicts = judgement.verdicts
            row.newWarnings = judgement.newWarnings
            row.failures = judgement.failures
            row.timing = judgement.timing
            row.breaches = judgement.breaches
            row.tests = candidate.tests.count
            row.testsPassed = candidate.tests.filter(\.passed).count
            row.runsPerTest = candidate.runsPerTest
            row.testIDs = candidate.tests.map(\.id)
            row.bootMilliseconds = candidate.pooledMedian(.boot)
            row.shutdownMilliseconds = candidate.pooledMedian(.shutdown)
            row.parentBootMilliseconds = parent.pooledMedian(.boot)
            row.parentShutdownMilliseconds = parent.pooledMedian(.shutdown)
            return row
        }
    }

    // MARK: Report

    /// The report of a validation starting now: its settings and the series, nothing judged yet.
    func emptyReport(mode: ValidationReport.Mode) -> ValidationReport {
        ValidationReport(mode: mode, series: series, seriesLength: patches.count, alpha: options.thresholds.alpha,
                         minimumMilliseconds: options.thresholds.minimumMilliseconds, minimumRelative: options.thresholds.minimumRelative,
                         seeking: options.seeking.sorted(), started: ValidationReport.timestamp(Date()),
                         shard: mode == .series ? options.shard.map(ValidationReport.ShardRecord.init) : nil, patchset: patches.map(\.seriesPatch),
                         config: steps.configName)
    }

    func finish(_ report: ValidationReport, started: ContinuousClock.Instant) -> ValidationReport {
        var report = report
        report.builds = builds
        report.cachedBuilds = cachedBuilds
        report.accelerator = accelerator
        if report.base != nil { report.base = baseSummary() }
        report.seconds = (ContinuousClock.now - started) / .seconds(1)
        for patch in report.patches {
            for verdict in patch.verdicts where options.seeking.contains(verdict) && report.firstBadByVerdict[verdict.rawValue] == nil {
                report.firstBadByVerdict[verdict.rawValue] = patch.index
            }
        }
        report.firstBad = report.bisection.map { $0.firstBad } ?? report.patches.first { !options.seeking.isDisjoint(with: $0.verdicts) }?.index
        return report
    }

    func baseSummary() -> ValidationReport.Base? {
        guard let base = prefixes[0] else { return nil }
        let measurement = baseMeasurement
        return ValidationReport.Base(build: buildSummary(base.build), bootMilliseconds: measurement?.pooledMedian(.boot),
                                     shutdownMilliseconds: measurement?.pooledMedian(.shutdown), runsPerTest: measurement?.runsPerTest ?? 0,
                                     testsPassed: measurement?.tests.filter(\.passed).count ?? 0, tests: measurement?.tests.count ?? 0,
                                     testIDs: measurement?.tests.map(\.id))
    }

    func buildSummary(_ build: PrefixBuild) -> ValidationReport.Build {
        switch build {
        case .built(let kernel):
            return .init(state: kernel.cached ? .cached : .built, seconds: kernel.buildSeconds, kernelRelease: kernel.kernelRelease, bzImage: kernel.bzImage,
                         compiler: kernel.compiler)
        case .doesNotApply(let message):
            return .init(state: .doesNotApply, applyError: message)
        case .failed(let errors, let tail, let logPath):
            return .init(state: .failed, errors: errors.filter { $0.severity == .error }.map(\.text), tail: tail, logPath: logPath)
        }
    }

    func untested(_ patch: PatchInfo) -> ValidationReport.Patch {
        ValidationReport.Patch(index: patch.index, subject: patch.subject, author: patch.author, commit: patch.commit, sha256: patch.sha256, verdict: .notTested,
                               verdicts: [.notTested], build: .init(state: .notBuilt))
    }

    func label(_ patch: PatchInfo) -> String { "\(patch.index)/\(patches.count) \"\(patch.subject)\"" }
}

/// Why a validation could not go on.
public enum SeriesValidationError: Error, CustomStringConvertible {
    case notBuilt(prefix: Int)

    public var description: String {
        switch self {
        case .notBuilt(let prefix): "the kernel of \(prefix == 0 ? "the base" : "patches 1...\(prefix)") was needed but did not build"
        }
    }
}
