import Foundation
import KernelBuild
import KernelSource
import Sandbox
import Suites
import Synchronization

/// The real ``ValidationSteps``: prefixes built by ``KernelBuilder`` in the shared build directory (incrementally,
/// every kernel cached by content), and booted by ``SuiteRunner`` in fresh sandboxes.
public final class KernelValidationSteps: ValidationSteps, Sendable {
    /// The build of the base: its source, config and fragments; its patches are replaced by each prefix's.
    public let request: KernelBuildRequest
    public let series: PatchSet
    /// The tests each kernel runs (the suites, or the command), on any kernel: each prefix's is put in.
    public let plan: TestPlan
    let scratch: String
    let control = BuildControl()
    let say: @Sendable (String) -> Void
    let progress: (@Sendable (BuildProgress) -> Void)?
    private let runner = Mutex<SuiteRunner?>(nil)
    private let interrupted = Atomic<Bool>(false)
    private let warnings = Warnings()
    /// The series' patches as files for `git apply`, written once: each prefix takes its first k.
    private let writtenPatches = Mutex<[PatchApplier.Patch]?>(nil)

    /// `scratch` is a directory of the caller's where the patches are written for `git apply`. With
    /// `comparingWarnings`, every build compiles what the whole series touches, so each prefix's log has those
    /// files' warnings whichever prefix the build directory held before (a cached kernel built without them is
    /// built again, incrementally); without, a cached kernel is taken as it is.
    public init(request: KernelBuildRequest, series: PatchSet, plan: TestPlan, scratch: String, comparingWarnings: Bool = true,
                say: @escaping @Sendable (String) -> Void = { _ in }, progress: (@Sendable (BuildProgress) -> Void)? = nil) {
        var request = request
        request.recompile = comparingWarnings ? Array(Set(series.patches.flatMap(\.touchedFiles))).sorted() : []
        self.request = request
        self.series = series
        self.plan = plan
        self.scratch = scratch
        self.say = say
        self.progress = progress
    }

    /// Stops the build or the sandboxes running now, and starts no more.
    public func interrupt() {
        interrupted.store(true, ordering: .sequentiallyConsistent)
        control.interrupt()
        runner.withLock { $0 }?.interrupt()
    }

    public var wasInterrupted: Bool { interrupted.load(ordering: .sequentiallyConsistent) }

    private func patchFiles() throws -> [PatchApplier.Patch] {
        try writtenPatches.withLock { written in
            if let written { return written }
            let patches = try series.applierPatches(writingTo: scratch)
            written = patches
            return patches
        }
    }

    public func build(prefix: Int) async throws -> PrefixBuild {
        var request = self.request
        request.patchList = Array(try patchFiles().prefix(prefix))
        let builder = KernelBuilder(request: request, control: control, say: say, progress: progress)
        do {
            let artifact = try await builder.build()
            return .built(BuiltPrefix(
                bzImage: artifact.bzImage, artifactKey: artifact.manifest.key, cached: artifact.wasCached,
                buildSeconds: artifact.madeSeconds,
                diagnostics: artifact.diagnostics()?.diagnostics ?? [], kernelRelease: artifact.manifest.kernelRelease,
                compiler: artifact.manifest.compiler))
        } catch {
            switch error {
            case .source(let problem):
                switch problem {
                case .doesNotApply, .conflictsWith, .alreadyAppliedBy, .notAPatch: return .doesNotApply(problem.description)
                default: throw error
                }
            case .makeFailed(_, _, let tail, let logPath):
                return .failed(errors: builder.diagnostics(ofFailedBuild: error), tail: tail, logPath: logPath)
            default:
                throw error
            }
        }
    }

    /// The base and the fragments by file name: `tinyconfig + sandbox.config`.
    public var configName: String? {
        ([request.base.description] + request.fragments).map { ($0 as NSString).lastPathComponent }.joined(separator: " + ")
    }

    public func measure(_ kernel: BuiltPrefix, runs: Int) async throws -> PrefixMeasurement {
        if wasInterrupted { throw KernelBuildError.interrupted(step: "validating") }
        let suiteRunner = SuiteRunner(plan: plan.on(kernel: kernel.bzImage, repeats: runs))
        runner.withLock { $0 = suiteRunner }
        defer { runner.withLock { $0 = nil } }
        if wasInterrupted { suiteRunner.interrupt() }
        let report = await suiteRunner.run { [say, warnings] event in
            // The accelerator's warning comes once per boot of a new kernel; once is enough.
            if case .warning(let text) = event, warnings.first(text) { say("warning: " + text) }
        }
        if suiteRunner.wasInterrupted { throw KernelBuildError.interrupted(step: "booting \(kernel.bzImage)") }
        return PrefixMeasurement(accelerator: report.results.first?.accelerator ?? "", tests: report.results.map(Self.measurement))
    }

    /// The warnings said so far, so that each is said once.
    final class Warnings: Sendable {
        private let said = Mutex<Set<String>>([])
        func first(_ text: String) -> Bool { said.withLock { $0.insert(text).inserted } }
    }

    /// A test's runs as the validator compares them.
    static func measurement(_ result: TestResult) -> TestMeasurement {
        let budget = result.budget
        return TestMeasurement(
            id: result.item.id, bootBudgetMilliseconds: budget?.boot.map { $0 * 1000 }, shutdownBudgetMilliseconds: budget?.shutdown.map { $0 * 1000 },
            runs: result.runs.map(sample), setupError: result.setupError)
    }

    static func sample(_ run: TestRun) -> RunSample {
        let bootFailed: Bool
        switch run.outcome {
        case .guestPanic, .bootFailed, .timedOut, .protocolError: bootFailed = true
        case .completed, .interrupted: bootFailed = false
        }
        return RunSample(
            bootMilliseconds: run.timeline.boot.map { $0 * 1000 }, shutdownMilliseconds: run.timeline.shutdownTotal.map { $0 * 1000 },
            problems: run.problems, bootFailed: bootFailed, bootGaps: run.blame.boot.prefix(3).map(ConsoleGapNote.init),
            shutdownGaps: run.blame.shutdown.prefix(3).map(ConsoleGapNote.init),
            consoleTail: run.problems.isEmpty ? [] : run.console.suffix(12).map(\.text))
    }
}
