import Foundation
import Synchronization

/// Runs the kernel's make in a build directory: `make -C <tree> O=<output> ARCH=… -jN <targets>`, every line to
/// the log file, step lines counted for progress, the last lines kept for the error message.
struct KernelMake {
    var tree: String
    var output: String
    var jobs: Int
    var architecture: String
    var compiler: String
    var logPath: String

    /// Lines of output kept for a failure message.
    static let tailLength = 40

    var environment: [String: String] {
        // Fixed user and host make `uname -v` of two builds of the same inputs alike.
        ["KBUILD_BUILD_USER": "ksand", "KBUILD_BUILD_HOST": "ksand", "LC_ALL": "C"]
    }

    func arguments(_ targets: [String]) -> [String] {
        ["-C", tree, "O=" + output, "ARCH=" + architecture, "CC=" + compiler, "HOSTCC=" + compiler, "-j\(jobs)"] + targets
    }

    /// Runs make; `progress` is called at most every `interval` and once at the end. Returns the steps counted.
    @discardableResult
    func run(
        _ targets: [String], control: BuildControl, estimate: Int = 1,
        interval: Duration = .milliseconds(500), progress: (@Sendable (BuildProgress) -> Void)? = nil
    ) async throws(KernelBuildError) -> BuildProgress {
        guard let log = LogFile(path: logPath) else { throw .io(what: "cannot write the build log", path: logPath, reason: String(cString: strerror(errno))) }
        log.write("$ make " + arguments(targets).joined(separator: " ") + "\n")
        let tracker = ProgressTracker(estimate: estimate, interval: interval, report: progress)
        let child = ChildProcess(executable: "make", arguments: arguments(targets), directory: tree, environment: environment)
        let status = try await child.run(control: control) { line, _ in
            log.write(line + "\n")
            tracker.consume(line)
        }
        let final = tracker.finish()
        log.close()
        if control.interrupted { throw .interrupted(step: "running make \(targets.joined(separator: " "))") }
        guard status == 0 else {
            throw .makeFailed(target: targets.joined(separator: " "), status: status, tail: tracker.tail, logPath: logPath)
        }
        return final
    }
}

/// Counts steps and keeps the last lines, from the threads reading make's output.
final class ProgressTracker: Sendable {
    private struct State {
        var progress: BuildProgress
        var lastLines: [String] = []
        var lastReport: ContinuousClock.Instant
    }

    private let state: Mutex<State>
    private let started = ContinuousClock.now
    private let interval: Duration
    private let report: (@Sendable (BuildProgress) -> Void)?

    init(estimate: Int, interval: Duration, report: (@Sendable (BuildProgress) -> Void)?) {
        state = Mutex(State(progress: BuildProgress(estimatedTotal: estimate), lastReport: started))
        self.interval = interval
        self.report = report
    }

    func consume(_ line: Substring) {
        let snapshot = state.withLock { state -> BuildProgress? in
            state.lastLines.append(String(line))
            if state.lastLines.count > KernelMake.tailLength { state.lastLines.removeFirst(state.lastLines.count - KernelMake.tailLength) }
            guard state.progress.consume(line) else { return nil }
            let now = ContinuousClock.now
            guard now - state.lastReport >= interval else { return nil }
            state.lastReport = now
            state.progress.elapsed = now - started
            return state.progress
        }
        if let snapshot { report?(snapshot) }
    }

    func finish() -> BuildProgress {
        let snapshot = state.withLock { state -> BuildProgress in
            state.progress.elapsed = ContinuousClock.now - started
            return state.progress
        }
        report?(snapshot)
        return snapshot
    }

    var tail: [String] { state.withLock { $0.lastLines } }
}

/// An append-only log file shared by the output-reading threads.
final class LogFile: Sendable {
    private let handle: Mutex<FileHandle>

    init?(path: String) {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { return nil }
        handle.seekToEndOfFile()
        self.handle = Mutex(handle)
    }

    func write(_ text: String) { handle.withLock { $0.write(Data(text.utf8)) } }
    func close() { handle.withLock { try? $0.close() } }
}
