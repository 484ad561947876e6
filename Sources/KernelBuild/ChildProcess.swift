import Foundation
import HostProcess
import Synchronization

/// Runs one tool of the build (tar, cp, make, gcc) in its own process group, under a ``BuildControl``,
/// handing each line of its standard output and standard error to `onLine` as it arrives.
struct ChildProcess {
    typealias Stream = HostCommand.Stream

    var executable: String
    var arguments: [String]
    var directory: String?
    var environment: [String: String] = [:]

    /// The command as a user would type it, for error messages.
    var commandLine: String { command.commandLine }

    private var command: HostCommand {
        HostCommand(executable, arguments, directory: directory, environment: environment, processGroup: .own)
    }

    /// Runs to the end; returns the exit status (128+n for a signal).
    func run(control: BuildControl, onLine: @escaping @Sendable (Substring, Stream) -> Void) async throws(KernelBuildError) -> Int32 {
        do {
            return try await command.run(started: { _ = control.started($0) }, ended: { control.finished($0) }, onLine: onLine)
        } catch {
            throw .toolFailed(command: commandLine, status: -1, output: "cannot start it: \(error.reason). Is it installed?")
        }
    }

    /// Runs to the end and returns the exit status with stdout and stderr together, for short tools.
    func capture(control: BuildControl) async throws(KernelBuildError) -> (status: Int32, output: String) {
        let collected = Collected()
        let status = try await run(control: control) { line, _ in collected.append(line) }
        return (status, collected.text)
    }

    /// Runs and requires exit status 0; returns the output.
    @discardableResult
    func check(control: BuildControl, step: String) async throws(KernelBuildError) -> String {
        let (status, output) = try await capture(control: control)
        if control.interrupted { throw .interrupted(step: step) }
        guard status == 0 else { throw .toolFailed(command: commandLine, status: status, output: String(output.suffix(4000))) }
        return output
    }
}

/// Lines gathered from a child's output, from the threads that read it.
final class Collected: Sendable {
    private let lines = Mutex<[Substring]>([])

    func append(_ line: Substring) { lines.withLock { $0.append(line) } }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
    var all: [Substring] { lines.withLock { $0 } }
}
