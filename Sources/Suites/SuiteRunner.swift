import Foundation
import ProjectFile
import Sandbox
import SandboxProtocol
import Synchronization

/// Runs a ``TestPlan``: each run of each test boots a fresh sandbox; up to `jobs` tests run at once.
public final class SuiteRunner: Sendable {
    public enum Event: Sendable {
        case warning(String)
        case finished(TestResult)
    }

    public let plan: TestPlan
    public let jobs: Int
    /// Where to keep each run's console log (`<suite>/<test>[.<run>].log`, host-timestamped); nil keeps none.
    public let logDirectory: String?
    public let preparer: SandboxPreparer

    private struct State {
        var activeControls: [ObjectIdentifier: RunControl] = [:]
        var interrupted = false
        var warned: Set<String> = []
        /// One preparation per distinct boot (kernel, accelerator, machine, memory …), shared by every run on it.
        var boots: [(key: SandboxSpec, preparation: Task<PreparedSandbox, any Error>)] = []
    }
    private let state = Mutex(State())

    /// Where the snapshots are that tests with ``TestPlan/Item/start`` `snapshot` start from; nil: every test boots.
    public let snapshots: SnapshotStore?

    public init(
        plan: TestPlan, jobs: Int = 1, logDirectory: String? = nil, preparer: SandboxPreparer = SandboxPreparer(),
        snapshots: SnapshotStore? = nil
    ) {
        self.plan = plan
        self.snapshots = snapshots
        self.jobs = max(1, jobs)
        self.logDirectory = logDirectory
        self.preparer = preparer
    }

    /// Stops every running sandbox (through the reaper, as Ctrl-C does) and starts no more.
    public func interrupt() {
        let controls = state.withLock { state -> [RunControl] in
            state.interrupted = true
            return Array(state.activeControls.values)
        }
        for control in controls { control.interrupt() }
    }

    public var wasInterrupted: Bool { state.withLock { $0.interrupted } }

    /// Runs every test; results come back in plan order. `onEvent` hears each result as it finishes.
    public func run(onEvent: @escaping @Sendable (Event) -> Void) async -> SuiteReport {
        let started = ContinuousClock.now
        let items = plan.items
        var results = [TestResult?](repeating: nil, count: items.count)
        await withTaskGroup(of: (Int, TestResult?).self) { group in
            var next = 0
            func schedule() {
                guard next < items.count else { return }
                let index = next
                next += 1
                group.addTask { [self] in
                    guard !wasInterrupted else { return (index, nil) }
                    let result = await runTest(items[index], onEvent: onEvent)
                    onEvent(.finished(result))
                    return (index, result)
                }
            }
            for _ in 0..<min(jobs, items.count) { schedule() }
            for await (index, result) in group {
                results[index] = result
                schedule()
            }
        }
        return SuiteReport(results: results.compactMap { $0 }, seconds: (ContinuousClock.now - started).seconds, shard: plan.shard,
                           planned: plan.planned)
    }

    func runTest(_ item: TestPlan.Item, onEvent: @Sendable (Event) -> Void) async -> TestResult {
        let started = ContinuousClock.now
        var runs: [TestRun] = []
        for number in 1...plan.repeats {
            if wasInterrupted { break }
            do {
                runs.append(try await runOnce(item, number: number, onEvent: onEvent))
            } catch {
                return TestResult(item: item, runs: runs, setupError: "cannot start the sandbox: \(error)",
                                  seconds: (ContinuousClock.now - started).seconds)
            }
        }
        return TestResult(item: item, runs: runs, seconds: (ContinuousClock.now - started).seconds)
    }

    private func runOnce(_ item: TestPlan.Item, number: Int, onEvent: @Sendable (Event) -> Void) async throws -> TestRun {
        let prepared = try preparer.reuse(try await preparedBoot(for: item.spec), for: item.spec)
        if let warning = prepared.acceleratorWarning {
            let first = state.withLock { $0.warned.insert(warning).inserted }
            if first { onEvent(.warning(warning)) }
        }
        let capture = try OutputCapture()
        defer { capture.remove() }
        let control = RunControl()
        let key = ObjectIdentifier(control)
        let alreadyInterrupted = state.withLock { state -> Bool in
            state.activeControls[key] = control
            return state.interrupted
        }
        if alreadyInterrupted { control.interrupt() }
        defer { _ = state.withLock { $0.activeControls.removeValue(forKey: key) } }
        var runner = SandboxRunner(
            io: SandboxIO(stdin: nil, stdout: capture.stdout, stderr: capture.stderr),
            consoleLog: try consoleLogPath(item, number: number), timestampConsoleLog: true, control: control, backend: plan.backend)
        if item.start == .snapshot { runner.snapshots = snapshots }
        let warnings = WarningLines()
        runner.warnings = { warning in warnings.lines.withLock { $0.append(warning) } }
        let result = try await runner.run(prepared)
        for warning in warnings.lines.withLock({ $0 }) {
            let first = state.withLock { $0.warned.insert(warning).inserted }
            if first { onEvent(.warning("\(item.id): " + warning)) }
        }
        let (stdout, stderr) = capture.read()
        return await judge(item, result: result, stdout: stdout, stderr: stderr)
    }

    func judge(_ item: TestPlan.Item, result: SandboxResult, stdout: String, stderr: String) async -> TestRun {
        var problems: [String] = []
        var status: Int32?
        let tail = result.consoleTail.suffix(5).map { "  | " + $0 }.joined(separator: "\n")
        switch result.outcome {
        case .completed(let exit):
            status = exit.shellStatus
            if let setupFailure = SetupScript.failure(status: exit.shellStatus, stderr: stderr) {
                problems.append("setup \(setupFailure)")
            } else {
                problems += OutputCheck.mismatches(item.test.expect, status: exit.shellStatus, stdout: stdout, stderr: stderr)
            }
        case .guestPanic(let reason): problems.append("guest kernel panic: \(reason)\n\(tail)")
        case .bootFailed(let reason): problems.append("boot failed: \(reason)\n\(tail)")
        case .timedOut(let seconds): problems.append("timed out after \(DurationText.milliseconds(seconds)); the sandbox was stopped")
        case .interrupted: problems.append("interrupted")
        case .protocolError(let error): problems.append("the guest broke the command channel: \(error); the sandbox was stopped\n\(tail)")
        }
        for step in item.test.hostAfter {
            if let failure = await HostStep.run(step) { problems.append("host check `\(step)` failed: \(failure)") }
        }
        return TestRun(outcome: result.outcome, status: status, stdout: stdout, stderr: stderr, timeline: result.timeline,
                       blame: Blame.compute(lines: result.consoleLines), accelerator: result.accelerator.rawValue,
                       backend: plan.backend.name, problems: problems, console: result.consoleLines)
    }

    /// The prepared boot `spec` runs on: kernel opened, initramfs packed, accelerator probed once per distinct boot
    /// rather than once per run (about 0.1 s each under TCG).
    private func preparedBoot(for spec: SandboxSpec) async throws -> PreparedSandbox {
        var key = spec
        (key.command, key.environment, key.kernelArguments, key.timeout) = ([], [:], [], nil)
        (key.uid, key.gid, key.workingDirectory, key.forwardStdin) = (nil, nil, nil, false)
        let preparer = self.preparer
        let preparation = state.withLock { state -> Task<PreparedSandbox, any Error> in
            if let known = state.boots.first(where: { $0.key == key }) { return known.preparation }
            let task = Task { try await preparer.prepare(spec) }
            state.boots.append((key, task))
            return task
        }
        return try await preparation.value
    }

    private func consoleLogPath(_ item: TestPlan.Item, number: Int) throws -> String? {
        guard let logDirectory else { return nil }
        let directory = (logDirectory as NSString).appendingPathComponent(item.suite)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let name = item.test.name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return (directory as NSString).appendingPathComponent(String(name) + (plan.repeats > 1 ? ".\(number)" : "") + ".log")
    }
}

/// The warnings one run gave, passed on once it ended.
private final class WarningLines: Sendable {
    let lines = Mutex<[String]>([])
}
