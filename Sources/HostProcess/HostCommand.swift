import Subprocess
import SystemPackage

/// A tool run on the host (git, sh, tar, make), started through swift-subprocess: every child ksand starts is fed,
/// read, cancelled and stopped the same way.
///
/// Cancelling the task that runs it stops the child: SIGTERM, then SIGKILL once `grace` has passed (to its whole
/// process group when it has its own). Its exit status is a result, never an error: a signal is 128 + its number,
/// as a shell reports it.
public struct HostCommand: Sendable {
    public enum Stream: Sendable { case output, error }

    /// Whose process group the child joins, which decides who stops it on Ctrl-C.
    public enum ProcessGroup: Sendable {
        /// The caller's: a Ctrl-C at the terminal reaches the child as it reaches ksand.
        case caller
        /// Its own: the terminal's signals reach only ksand, which stops the child (and what it started) itself.
        case own
    }

    /// A path, or a name looked up on PATH.
    public var executable: String
    public var arguments: [String]
    public var directory: String?
    /// Variables set on top of ksand's own environment.
    public var environment: [String: String]
    /// Written to the child's standard input, which then ends; nil gives it /dev/null.
    public var input: [UInt8]?
    public var processGroup: ProcessGroup
    /// How long a child asked to stop gets before SIGKILL.
    public var grace: Duration

    public init(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String] = [:],
        input: [UInt8]? = nil, processGroup: ProcessGroup = .caller, grace: Duration = .seconds(5)
    ) {
        self.executable = executable
        self.arguments = arguments
        self.directory = directory
        self.environment = environment
        self.input = input
        self.processGroup = processGroup
        self.grace = grace
    }

    /// The command as a user would type it, for messages.
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs to the end, handing each line of its standard output and standard error to `onLine` as it arrives;
    /// returns its exit status. `started` hears its process ID first; `ended` hears it once both streams have
    /// ended, before the child is reaped (so the ID, or the group it leads, is still the child's).
    public func run(
        started: (Int32) -> Void = { _ in }, ended: (Int32) -> Void = { _ in },
        onLine: @escaping @Sendable (Substring, Stream) -> Void
    ) async throws(HostCommandError) -> Int32 {
        do {
            let status = if let input {
                try await streamLines(.array(input), started: started, ended: ended, onLine: onLine)
            } else {
                try await streamLines(.none, started: started, ended: ended, onLine: onLine)
            }
            return Self.shellStatus(status)
        } catch {
            throw .couldNotRun(command: commandLine, reason: "\(error)")
        }
    }

    /// What ``capture(limit:)`` returns.
    public struct Captured: Sendable {
        public var status: Int32
        /// Standard output and standard error as they interleaved (one pipe), decoded as UTF-8.
        public var output: String
    }

    /// Runs to the end; returns its exit status with its standard output and standard error together. At most
    /// `limit` bytes are kept; the rest is read and dropped, so a chatty child never blocks on a full pipe.
    public func capture(limit: Int = 16 << 20) async throws(HostCommandError) -> Captured {
        do {
            let (status, bytes) = if let input {
                try await collect(.array(input), limit: limit)
            } else {
                try await collect(.none, limit: limit)
            }
            return Captured(status: Self.shellStatus(status), output: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .couldNotRun(command: commandLine, reason: "\(error)")
        }
    }

    private var configuration: Configuration {
        var options = PlatformOptions()
        if processGroup == .own { options.processGroupID = 0 }
        // Never the group when it is the caller's: that group holds ksand itself.
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: processGroup == .own, allowedDurationToNextStep: grace)]
        var updates: [Environment.Key: String?] = [:]
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        return Configuration(
            executable: executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
            arguments: Arguments(arguments), environment: .inherit.updating(updates),
            workingDirectory: directory.map { FilePath($0) }, platformOptions: options)
    }

    private func streamLines<Input: InputProtocol>(
        _ input: Input, started: (Int32) -> Void, ended: (Int32) -> Void, onLine: @escaping @Sendable (Substring, Stream) -> Void
    ) async throws -> TerminationStatus {
        try await Subprocess.run(configuration, input: input, output: .sequence, error: .sequence) { execution in
            let pid = execution.processIdentifier.value
            started(pid)
            defer { ended(pid) }
            async let errors: Void = Self.lines(of: execution.standardError) { onLine($0, .error) }
            await Self.lines(of: execution.standardOutput) { onLine($0, .output) }
            await errors
        }.terminationStatus
    }

    private func collect<Input: InputProtocol>(_ input: Input, limit: Int) async throws -> (TerminationStatus, [UInt8]) {
        let result = try await Subprocess.run(configuration, input: input, output: .sequence, error: .combinedWithOutput) { execution in
            var kept: [UInt8] = []
            for try await chunk in execution.standardOutput where kept.count < limit {
                chunk.withUnsafeBytes { kept += $0.prefix(limit - kept.count) }
            }
            return kept
        }
        return (result.terminationStatus, result.closureResult)
    }

    private static func lines(of sequence: SubprocessOutputSequence, _ handle: (Substring) -> Void) async {
        var pending: [UInt8] = []
        do {
            for try await chunk in sequence {
                chunk.withUnsafeBytes { pending += $0 }
                // The lines of a chunk are handed over first and dropped together: a build prints thousands.
                var start = pending.startIndex
                while let newline = pending[start...].firstIndex(of: 0x0A) {
                    handle(Substring(String(decoding: pending[start..<newline], as: UTF8.self)))
                    start = newline + 1
                }
                pending.removeSubrange(..<start)
            }
        } catch {}
        if !pending.isEmpty { handle(Substring(String(decoding: pending, as: UTF8.self))) }
    }

    private static func shellStatus(_ status: TerminationStatus) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}

/// Why a host tool could not be run (its exit status, even a failing one, is a result).
public enum HostCommandError: Error, CustomStringConvertible {
    case couldNotRun(command: String, reason: String)

    /// What swift-subprocess said, for the caller's own message.
    public var reason: String {
        switch self { case .couldNotRun(_, let reason): reason }
    }

    public var description: String {
        switch self { case .couldNotRun(let command, let reason): "cannot run `\(command)`: \(reason)" }
    }
}
