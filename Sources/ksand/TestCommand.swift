import ArgumentParser
import Foundation
import KernelBuild
import ProjectFile
import Sandbox
import Suites

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the project's test suites, each test in a fresh sandbox, and enforce its boot and shutdown budgets.",
        discussion: """
            Suites are TOML files (default: suites/*.toml beside ksand.toml). Each test boots a fresh sandbox on the
            project's kernel (built first if the cache does not have it), runs its command, and checks the exit
            status, the output, and the budgets of [budgets.tcg] or [budgets.kvm] for the accelerator it ran under:
            boot (vmm + kernel + init) and shutdown (shutdown + teardown). With --repeat N each test runs N times,
            every run must pass, and budgets are judged on the medians. Exit status 0 when everything passed, 1 on
            any failure or breach, 125 when the tests could not be run, 130 when interrupted.

            With --shard K/N only part K of N of the plan runs (after --filter, in plan order: suite files as given,
            a directory's sorted by name, tests in file order; test i goes to shard (i mod N) + 1), so N jobs of a
            CI matrix share the suites; a shard with no tests passes. `ksand report merge` merges the shards' --json
            reports.
            """
    )

    @Argument(help: ArgumentHelp("Suite files or directories of them (default: the project's suites directory).", valueName: "SUITE"))
    var suites: [String] = []
    @OptionGroup var inputs: KernelInputOptions
    @Option(help: ArgumentHelp("bzImage to test instead of the project's kernel.", valueName: "PATH")) var kernel: String?
    @Option(name: [.customShort("j"), .customLong("parallel")], help: "Tests to run at once.") var parallel = 1
    @Option(help: "Runs per test; budgets are judged on the medians.") var `repeat` = 1
    @Option(help: ArgumentHelp("Run only the tests whose suite/name contains TEXT.", valueName: "TEXT")) var filter: String?
    @Option(help: ArgumentHelp("Run only part K of N of the tests (1 ≤ K ≤ N ≤ 1000), for a CI matrix.", valueName: "K/N"))
    var shard: String?
    @OptionGroup var machineOptions: MachineOptions
    @Option(help: ArgumentHelp("Write a JUnit XML report to this file.", valueName: "FILE")) var junit: String?
    @Option(help: ArgumentHelp("Write a JSON report to this file.", valueName: "FILE")) var json: String?
    @Option(help: ArgumentHelp("Keep each run's console log (host-timestamped) under this directory.", valueName: "DIR")) var logs: String?
    @Flag(help: "Boot every test, also those that would start from the snapshot of the machine's boot (tests without a boot budget, or with start = \"snapshot\").") var cold = false

    func validate() throws {
        try machineOptions.validateBackend()
        if parallel < 1 { throw ValidationError("-j/--parallel \(parallel): must be at least 1") }
        if `repeat` < 1 { throw ValidationError("--repeat \(`repeat`): must be at least 1") }
        if let shard { do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.description) } }
    }

    func run() async throws {
        let plan: TestPlan
        do {
            let project = try inputs.loadProject()
            let suites = try suiteFiles(project: project).map { try SuiteFile(contentsOf: $0) }
            let shard = try self.shard.map { try Shard(parsing: $0) }
            // Which tests run is known before a kernel is built: a filter that matches nothing, or a shard with no
            // tests, costs no build.
            let selection = TestPlan(suites: suites, projectBudgets: [:], base: SandboxSpec(command: []), filter: filter, shard: shard)
            if selection.planned == 0 { throw ValidationError("no tests to run" + (filter.map { ": none matches --filter \($0)" } ?? "")) }
            if let shard {
                report("shard \(shard): \(selection.items.count) of \(selection.planned) test\(selection.planned == 1 ? "" : "s")")
            }
            if selection.items.isEmpty {
                plan = selection
            } else {
                let bzImage = try await kernelToTest(project: project)
                var base = SandboxSpec(kernel: bzImage, command: [], workingDirectory: project?.directory ?? FileManager.default.currentDirectoryPath)
                machineOptions.apply(to: &base, project: project?.sandbox)
                var whole = TestPlan(suites: suites, projectBudgets: project?.budgets ?? [:], base: base, repeats: `repeat`, filter: filter, shard: shard)
                whole.backend = machineOptions.sandboxBackend(project: project?.sandbox)
                plan = whole
            }
        } catch let error as ValidationError {
            // Nothing to run (a missing suite, a filter that matches nothing): name it, without the usage text.
            report("error: \(error.message)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        } catch let error as KernelBuildError {
            report("error: \(error)")
            throw ExitCode(error.isInterruption ? SandboxExitCode.interrupted.rawValue : SandboxExitCode.setupError.rawValue)
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        if plan.items.isEmpty {
            report("nothing to run: the plan has fewer tests than there are shards; this shard passes")
            return try write(SuiteReport(results: [], seconds: 0, shard: plan.shard, planned: plan.planned))
        }
        let snapshots: SnapshotStore?
        do {
            snapshots = cold ? nil : try SnapshotCommand.store()
        } catch {
            report("error: \(error)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        let runner = SuiteRunner(plan: plan, jobs: parallel, logDirectory: logs.map(absolute), snapshots: snapshots)
        let trap = SignalTrap { _ in runner.interrupt() }
        let colors = isatty(STDOUT_FILENO) == 1
        report("running \(plan.items.count) test\(plan.items.count == 1 ? "" : "s")" + (`repeat` > 1 ? ", \(`repeat`) runs each" : "")
            + (parallel > 1 ? ", \(parallel) at a time" : ""))
        let suiteReport = await runner.run { event in
            switch event {
            case .warning(let text): report("warning: " + text)
            case .finished(let result):
                report("\(result.passed ? "pass" : "FAIL") \(result.item.id) (\(String(format: "%.1f", result.seconds)) s)")
            }
        }
        _ = trap
        print(suiteReport.text(colors: colors))
        try write(suiteReport)
        if runner.wasInterrupted { throw ExitCode(SandboxExitCode.interrupted.rawValue) }
        if !suiteReport.passed { throw ExitCode(1) }
    }

    /// Writes the --junit and --json reports asked for.
    private func write(_ suiteReport: SuiteReport) throws {
        if let junit, !FileManager.default.createFile(atPath: absolute(junit), contents: Data(suiteReport.junit().utf8)) {
            report("error: cannot write the JUnit report to \(junit)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
        if let json, !FileManager.default.createFile(atPath: absolute(json), contents: suiteReport.json()) {
            report("error: cannot write the JSON report to \(json)")
            throw ExitCode(SandboxExitCode.setupError.rawValue)
        }
    }

    /// The suite files named on the command line (files, or directories of *.toml), else the project's.
    private func suiteFiles(project: ProjectFile?) throws -> [String] {
        let (files, paths) = try ksand.suiteFiles(named: suites, project: project,
            none: "no suites: name suite files or directories, or run from a project (ksand.toml) with a suites/ directory")
        if files.isEmpty { throw ValidationError("no suite files (*.toml) in \(paths.joined(separator: ", "))") }
        return files
    }

    /// --kernel, else the project's kernel (built now if the cache lacks it), else its [sandbox] kernel, else the
    /// newest /boot/vmlinuz-* (nil).
    private func kernelToTest(project: ProjectFile?) async throws -> String? {
        if let kernel { return absolute(kernel) }
        let hasKernelInputs = !(project?.kernel.fragments ?? []).isEmpty || !inputs.fragment.isEmpty
        guard hasKernelInputs else { return project?.sandbox.kernel == "built" ? nil : project?.sandbox.kernel }
        let artifact = try await buildKernel(try inputs.request(project: project))
        report("kernel \(artifact.manifest.kernelRelease)\(inputs.noPatches ? " without patches" : ""): \(artifact.bzImage)")
        return artifact.bzImage
    }
}

/// The suite files of `named` (files, or directories of *.toml), else of the project's suites directory, with the
/// paths they were looked for in; `none` is the error when neither is there. Shared by `ksand test` and `validate`.
func suiteFiles(named: [String], project: ProjectFile?, none: String) throws -> (files: [String], paths: [String]) {
    var paths = named.map(absolute)
    if paths.isEmpty {
        guard let directory = project?.suites ?? project.map({ $0.directory + "/suites" }) else { throw ValidationError(none) }
        paths = [directory]
    }
    var files: [String] = []
    for path in paths {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("suite \(path) does not exist")
        }
        files += isDirectory.boolValue ? try SuiteFile.discover(in: path) : [path]
    }
    return (files, paths)
}
