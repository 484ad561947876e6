import ArgumentParser
import Foundation
import KernelBuild
import KernelSource
import KsandFoundation
import ProjectFile
import Regression
import Sandbox
import Suites
import Validate

extension PatchVerdict: ExpressibleByArgument {}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate a patch series patch by patch: build, warnings, boot, tests, boot and shutdown times; find the first bad patch.",
        discussion: """
            Each prefix of the series (patches 1...k, on the project's source, base config and fragments) is built in
            the shared build directory (only what a patch touches recompiles; every kernel is cached by content, so a
            re-run builds nothing), booted --repeat times per test (the suites, or --command), and judged against its
            parent: does-not-apply, build-failed, boot-failed, tests-failed, regressed (boot or shutdown slower by a
            Mann–Whitney U test at --alpha and at least --min-effect-ms and --min-effect-percent; an undecided
            comparison adds runs, up to --max-repeat), budget-breached (a budget the parent met), new-warnings (in
            files the patch touches), or pass.

            The series: --series FILE (a quilt series file, an mbox such as `b4 am` writes, or a directory of
            git format-patch files; default the project's patches/series), or --git DIR BASE..HEAD (one patch per commit).

            --bisect searches for the first bad prefix in about log2(k) builds, each probe against the base; --one
            judges the whole series once (for `git bisect run ksand validate --one --git . BASE..HEAD`).

            Exit status: 0 every patch is good, 1 a bad patch was found, 125 the series could not be validated (bad
            input, a base that does not build or boot; with --one also a tree that does not apply or build, which
            `git bisect run` skips), 130 interrupted.
            """
    )

    @Option(help: ArgumentHelp("The series: a quilt series file, an mbox, or a directory of git format-patch files (default: the project's).", valueName: "PATH"))
    var series: String?
    @Option(help: ArgumentHelp("A git tree whose commits BASE..HEAD (the RANGE argument) are the series.", valueName: "DIR")) var git: String?
    @Argument(help: ArgumentHelp("With --git: the commits, BASE..HEAD.", valueName: "RANGE")) var range: String?
    @Option(help: ArgumentHelp("Project file (default: the nearest ksand.toml in this directory or a parent).", valueName: "FILE")) var project: String?
    @Option(help: ArgumentHelp("Kernel source: a directory or a tarball (default: the project's).", valueName: "DIR|TARBALL")) var source: String?
    @Option(help: ArgumentHelp("Base config: tinyconfig, allnoconfig, defconfig, or a .config file.", valueName: "NAME|FILE")) var base: String?
    @Option(help: ArgumentHelp("Config fragment (repeatable, in order; replaces the project's list).", valueName: "FILE")) var fragment: [String] = []
    @Option(help: "Parallel make jobs (default: the number of CPUs).") var jobs: Int?

    @Option(help: ArgumentHelp("Run this command (under /bin/sh -c) instead of the suites; it must exit 0.", valueName: "CMD")) var command: String?
    @Option(help: ArgumentHelp("With --command: run it as this user inside the guest.", valueName: "UID[:GID]")) var user: String?
    @Option(help: ArgumentHelp("Suite files or directories of them (repeatable; default: the project's suites).", valueName: "PATH")) var suite: [String] = []
    @Option(help: ArgumentHelp("Run only the tests whose suite/name contains TEXT.", valueName: "TEXT")) var filter: String?
    @Option(help: "Runs of each test on each kernel.") var `repeat` = 5
    @Option(help: "The most runs an undecided timing comparison may grow to (default: 3 × --repeat).") var maxRepeat: Int?
    @Option(help: "Significance level of the rank test.") var alpha = RegressionThresholds.default.alpha
    @Option(help: "Smallest slowdown that counts, in milliseconds.") var minEffectMs = RegressionThresholds.default.minimumMilliseconds
    @Option(help: "Smallest slowdown that counts, in percent of the parent's median.") var minEffectPercent = RegressionThresholds.default.minimumRelative * 100
    @OptionGroup var machineOptions: MachineOptions
    @Option(name: .customLong("append"), help: ArgumentHelp("Extra kernel command-line argument for every boot (repeatable; e.g. initcall_debug, so the blame of a slower boot names initcalls).", valueName: "ARG"))
    var kernelArguments: [String] = []

    @Flag(help: "Find the first bad patch by binary search instead of validating every one.") var bisect = false
    @Flag(help: "Judge the whole series once against the base: exit 0 good, 1 bad, 125 skip (for git bisect run).") var one = false
    @Option(name: .customLong("for"), parsing: .upToNextOption,
            help: ArgumentHelp("The verdicts that make a patch bad (default: all of them).", valueName: "VERDICT"))
    var seeking: [PatchVerdict] = []
    @Option(help: ArgumentHelp("Validate only patch N, or patches A-B (each still against its parent).", valueName: "N|A-B")) var patches: String?

    @Option(help: ArgumentHelp("Validate only part K of N of the series (contiguous parts, for a CI matrix).", valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Write the report as JSON to this file.", valueName: "FILE")) var json: String?
    @Option(help: ArgumentHelp("Write the report as JUnit XML to this file.", valueName: "FILE")) var junit: String?
    @Option(help: ArgumentHelp("Write the report as a KCIDB v5 document to this file.", valueName: "FILE")) var kcidb: String?
    @Option(help: ArgumentHelp("The origin of the KCIDB document's objects: lowercase letters, digits and _.", valueName: "NAME"))
    var kcidbOrigin = "ksand"

    func validate() throws {
        try machineOptions.validateBackend()
        if git != nil && range == nil { throw ValidationError("--git \(git!) needs the commits as BASE..HEAD, e.g. ksand validate --git \(git!) v6.1..HEAD") }
        if git == nil, let range { throw ValidationError("\(range): a range of commits needs --git DIR") }
        if git != nil && series != nil { throw ValidationError("--git and --series name the series twice: pass one") }
        if bisect && one { throw ValidationError("--bisect and --one exclude each other: --bisect searches the series, --one judges it once") }
        if `repeat` < 1 { throw ValidationError("--repeat \(`repeat`): must be at least 1") }
        if let maxRepeat, maxRepeat < `repeat` { throw ValidationError("--max-repeat \(maxRepeat): must be at least --repeat (\(`repeat`))") }
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha \(alpha): must be between 0 and 1") }
        if !(minEffectMs >= 0 && minEffectMs.isFinite) { throw ValidationError("--min-effect-ms \(minEffectMs): must be 0 or more") }
        if !(minEffectPercent >= 0 && minEffectPercent.isFinite) { throw ValidationError("--min-effect-percent \(minEffectPercent): must be 0 or more") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): must be at least 1") }
        if let patches, Self.selection(patches) == nil { throw ValidationError("--patches \(patches): expected N or A-B with 1 ≤ A ≤ B") }
        if patches != nil && (bisect || one) { throw ValidationError("--patches selects patches to validate one by one; it does not go with --bisect or --one") }
        if let user, userAndGroup(user) == nil { throw ValidationError("--user \(user): expected UID or UID:GID (numbers)") }
        if user != nil && command == nil { throw ValidationError("--user applies to --command; a suite's test sets its own user") }
        if command != nil && (!suite.isEmpty || filter != nil) { throw ValidationError("--command replaces the suites: drop --suite and --filter") }
        if let shard {
            do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.description) }
            if bisect || one || patches != nil {
                throw ValidationError("--shard \(shard) validates part of the series patch by patch; it does not go with --bisect, --one or --patches")
            }
        }
        do { try KCIDBDocument.check(origin: kcidbOrigin) } catch { throw ValidationError(error.description) }
    }

    func run() async throws {
        let started = ContinuousClock.now
        let startDate = Date()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-validate-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let steps: KernelValidationSteps
        let patchSet: PatchSet
        do {
            let projectFile = try loadProject()
            patchSet = try await loadSeries(project: projectFile)
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let request = try buildRequest(project: projectFile)
            let plan = try testPlan(project: projectFile)
            if plan.items.isEmpty { throw ValidationError("no tests to run" + (filter.map { ": none matches --filter \($0)" } ?? "")) }
            let printer = ProgressPrinter()
            steps = KernelValidationSteps(request: request, series: patchSet, plan: plan, scratch: scratch,
                                          comparingWarnings: seeking.isEmpty || seeking.contains(.newWarnings), say: { report($0) },
                                          progress: { printer.show($0) })
        } catch let error as ValidationError {
            report("error: \(error.message)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        let info = patchSet.patches.map(SeriesValidator.PatchInfo.init)
        let options = SeriesValidator.Options(
            runs: `repeat`, maxRuns: maxRepeat,
            thresholds: RegressionThresholds(alpha: alpha, minimumMilliseconds: minEffectMs, minimumRelative: minEffectPercent / 100),
            seeking: seeking.isEmpty ? Set(PatchVerdict.bad) : Set(seeking), selection: patches.flatMap(Self.selection),
            shard: shard.flatMap { try? Shard(parsing: $0) })
        let validator = SeriesValidator(series: patchSet.source, patches: info, steps: steps, options: options, say: { report($0) })
        let trap = SignalTrap { _ in steps.interrupt() }
        report("validating \(patchSet.patches.count) patch\(patchSet.patches.count == 1 ? "" : "es") of \(patchSet.source)"
            + (bisect ? " by bisection" : one ? " as one" : "") + ", \(`repeat`) run\(`repeat` == 1 ? "" : "s") of each test per kernel")
        var result: ValidationReport
        do {
            result = bisect ? try await validator.bisect() : one ? try await validator.judgeWhole() : try await validator.validateSeries()
        } catch {
            _ = trap
            if steps.wasInterrupted || (error as? KernelBuildError)?.isInterruption == true {
                report("interrupted; the cache holds only whole kernels")
                throw ExitCode(SandboxExitCode.interrupted.rawValue)
            }
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        _ = trap
        if let first = result.firstBad { result.reproduce = reproduceCommand(patch: first) }
        result.seconds = (ContinuousClock.now - started) / .seconds(1)
        result.started = ValidationReport.timestamp(startDate)
        if let git, let range { result.git = ValidationReport.GitSource(tree: absolute(git), range: range, baseCommit: patchSet.baseCommit) }
        if let reason = result.couldNotValidate {
            report("error: could not validate \(patchSet.source): \(reason)")
        } else {
            print(result.text(colors: isatty(STDOUT_FILENO) == 1))
        }
        if let json {
            guard let data = try? JSONDocument.prettyPrinted(result), FileManager.default.createFile(atPath: absolute(json), contents: data) else {
                report("error: cannot write the JSON report to \(json)")
                throw ExitCode(SandboxExitCode.setupError.rawValue)
            }
        }
        if let junit, !FileManager.default.createFile(atPath: absolute(junit), contents: Data(result.junit().utf8)) {
            report("error: cannot write the JUnit report to \(junit)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        if let kcidb {
            guard let data = try? result.kcidb(origin: kcidbOrigin).json(), FileManager.default.createFile(atPath: absolute(kcidb), contents: data) else {
                report("error: cannot write the KCIDB report to \(kcidb)")
                throw ExitCode(SandboxExitCode.setupError.rawValue)
            }
        }
        let status = result.exitStatus
        if status != 0 { throw ExitCode(status) }
    }

    // MARK: Inputs

    private func loadProject() throws -> ProjectFile? { try loadProjectFile(project) }

    /// --git DIR RANGE, else --series PATH (an mbox, a directory of format-patch files, or a quilt series), else the
    /// project's series.
    private func loadSeries(project: ProjectFile?) async throws -> PatchSet {
        if let git, let range { return try await PatchSet(gitTree: absolute(git), range: range) }
        guard let path = series.map(absolute) ?? project?.kernel.series, !path.isEmpty else {
            throw ValidationError("no series to validate: pass --series FILE|DIR or --git DIR BASE..HEAD, or run from a project whose ksand.toml names one")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("the series \(path) does not exist")
        }
        if isDirectory.boolValue { return try PatchSet(formatPatchDirectory: path) }
        let head = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 5) } ?? Data()
        return head == Data("From ".utf8) ? try PatchSet(mboxFile: path) : try PatchSet(quiltSeries: path)
    }

    private func buildRequest(project: ProjectFile?) throws -> KernelBuildRequest {
        var arguments: [String] = ["--no-patches"]
        if let project { arguments += ["--project", project.path] }
        if let source { arguments += ["--source", source] }
        if let base { arguments += ["--base", base] }
        for path in fragment { arguments += ["--fragment", path] }
        if let jobs { arguments += ["--jobs", String(jobs)] }
        var options = try KernelInputOptions.parse(arguments)
        options.noPatches = true
        return try options.request(project: project)
    }

    private func testPlan(project: ProjectFile?) throws -> TestPlan {
        var plan = try plainTestPlan(project: project)
        plan.backend = machineOptions.sandboxBackend(project: project?.sandbox)
        return plan
    }

    private func plainTestPlan(project: ProjectFile?) throws -> TestPlan {
        var base = SandboxSpec(kernel: nil, command: [], workingDirectory: project?.directory ?? FileManager.default.currentDirectoryPath)
        machineOptions.apply(to: &base, project: project?.sandbox, kernelArguments: kernelArguments)
        let budgets = project?.budgets ?? [:]
        if let command {
            return TestPlan(command: ["/bin/sh", "-c", command], user: user.flatMap(userAndGroup), projectBudgets: budgets, base: base, repeats: `repeat`)
        }
        let files = try suiteFiles(named: suite, project: project,
            none: "nothing to run on each kernel: pass --command CMD or --suite PATH, or run from a project with suites").files
        return TestPlan(suites: try files.map { try SuiteFile(contentsOf: $0) }, projectBudgets: budgets, base: base, repeats: `repeat`, filter: filter)
    }

    /// `ksand validate --series … --patches K --command … --repeat N`: patch K against its parent again.
    private func reproduceCommand(patch: Int) -> String {
        var words = ["ksand", "validate"]
        if let git, let range { words += ["--git", absolute(git), range] } else if let series { words += ["--series", absolute(series)] }
        if let project { words += ["--project", absolute(project)] }
        if let source { words += ["--source", absolute(source)] }
        words += ["--patches", String(patch)]
        if let command { words += ["--command", command] }
        if let user { words += ["--user", user] }
        for path in suite { words += ["--suite", absolute(path)] }
        if let filter { words += ["--filter", filter] }
        for argument in kernelArguments { words += ["--append", argument] }
        words += machineOptions.givenArguments
        words += ["--repeat", String(`repeat`)]
        // The thresholds the verdict was judged by, where they are not the defaults, in a form that parses back
        // to the same value (1e-07 stays 1e-07).
        if let maxRepeat { words += ["--max-repeat", String(maxRepeat)] }
        let defaults = RegressionThresholds.default
        if alpha != defaults.alpha { words += ["--alpha", Self.number(alpha)] }
        if minEffectMs != defaults.minimumMilliseconds { words += ["--min-effect-ms", Self.number(minEffectMs)] }
        if minEffectPercent != defaults.minimumRelative * 100 {
            words += ["--min-effect-percent", Self.number(minEffectPercent)]
        }
        return words.map(ShellWord.quotedIfNeeded).joined(separator: " ")
    }

    /// `25` for 25.0, Double's shortest exact form otherwise (`0.01`, `1e-07`).
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func selection(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count <= 2, let low = Int(parts[0]), low >= 1 else { return nil }
        let high = parts.count == 2 ? Int(parts[1]) : low
        guard let high, high >= low else { return nil }
        return low...high
    }

}
