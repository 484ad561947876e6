import Foundation
import Subprocess
import SystemPackage

/// Runs one tool of the build (tar, cp, make, gcc) in its own process group, under a ``BuildControl``,
/// handing each line of its standard output and standard error to `onLine` as it arrives.
struct ChildProcess {
    enum Stream: Sendable { case output, error }

    var executable: String
    var arguments: [String]
    var directory: String?
    var environment: [String: String] = [:]

    /// The command as a user would type it, for error messages.
    var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs to the end; returns the exit status (128+n for a signal).
    func run(control: BuildControl, onLine: @escaping @Sendable (Substring, Stream) -> Void) async throws(KernelBuildError) -> Int32 {
        var options = PlatformOptions()
        options.processGroupID = 0
        var updates: [Environment.Key: String?] = [:]
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        let executable = self.executable.contains("/") ? Executable.path(FilePath(self.executable)) : .name(self.executable)
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(arguments), environment: .inherit.updating(updates),
                workingDirectory: directory.map { FilePath($0) }, platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                let pid = execution.processIdentifier.value
                _ = control.started(pid)
                defer { control.finished(pid) }
                async let errors: Void = Self.lines(of: execution.standardError) { onLine($0, .error) }
                await Self.lines(of: execution.standardOutput) { onLine($0, .output) }
                await errors
            }
            switch result.terminationStatus {
            case .exited(let code): return code
            case .signaled(let signal): return 128 + signal
            }
        } catch {
            throw .toolFailed(command: commandLine, status: -1, output: "cannot start it: \(error). Is it installed?")
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

    private static func lines(of sequence: SubprocessOutputSequence, _ handle: (Substring) -> Void) async {
        var pending: [UInt8] = []
        do {
            for try await chunk in sequence {
                chunk.withUnsafeBytes { pending += $0 }
                while let newline = pending.firstIndex(of: 0x0A) {
                    handle(Substring(String(decoding: pending[..<newline], as: UTF8.self)))
                    pending.removeSubrange(...newline)
                }
            }
        } catch {}
        if !pending.isEmpty { handle(Substring(String(decoding: pending, as: UTF8.self))) }
    }
}

/// Lines gathered from a child's output, from the threads that read it.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [Substring] = []

    func append(_ line: Substring) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
    var all: [Substring] { lock.withLock { lines } }
}
