import BootTimeline
import Foundation
import Glibc
import SandboxProtocol
import Subprocess
import SystemPackage

/// Boots a ``PreparedSandbox`` under QEMU, relays the command's I/O, and reports how it ended.
///
/// QEMU runs in its own process group, so a Ctrl-C at the terminal reaches ksand, which stops QEMU through the
/// ``Reaper`` (power-off request first). QEMU is always gone when `run` returns.
public struct SandboxRunner: Sendable {
    public var io: SandboxIO
    /// Where to copy the serial console.
    public var consoleLog: String?
    /// Prefix each console-log line with its host arrival time in seconds.
    public var timestampConsoleLog: Bool
    /// The console log's size limit in bytes; past it the log notes how much was not written.
    public var consoleLogLimit: UInt64 = ConsoleRecorder.defaultLogLimit
    public var control: RunControl
    /// Receives diagnostic lines (stop steps with their counters).
    public var diagnostics: (@Sendable (String) -> Void)?
    /// Where the run's sockets go (a detached sandbox's state directory); nil: a private directory, removed at the end.
    public var runDirectory: String?
    /// Called once QEMU is running, with its process ID.
    public var onStart: (@Sendable (pid_t) -> Void)?
    /// Called once the guest init has said hello (it is up and has the run spec), with whether it watches the
    /// ACPI power button.
    public var onGuestReady: (@Sendable (Bool) -> Void)?

    /// The console log's default size limit.
    public static let defaultConsoleLogLimit = ConsoleRecorder.defaultLogLimit

    public init(
        io: SandboxIO = .standard, consoleLog: String? = nil, timestampConsoleLog: Bool = false,
        control: RunControl = RunControl(), diagnostics: (@Sendable (String) -> Void)? = nil
    ) {
        self.io = io
        self.consoleLog = consoleLog
        self.timestampConsoleLog = timestampConsoleLog
        self.control = control
        self.diagnostics = diagnostics
    }

    public func run(_ sandbox: PreparedSandbox) async throws(SandboxError) -> SandboxResult {
        let runDirectory: String
        if let given = self.runDirectory { runDirectory = given } else { runDirectory = try RuntimeDirectory.create() }
        defer { if self.runDirectory == nil { RuntimeDirectory.remove(runDirectory) } }
        let origin = ContinuousClock.now
        let run = try RunInProgress(
            sandbox: sandbox, runner: self, runDirectory: runDirectory, origin: origin,
            recorder: ConsoleRecorder(origin: origin, logPath: consoleLog, timestampLog: timestampConsoleLog, logLimit: consoleLogLimit))
        let argv = sandbox.commandLine(runDirectory: runDirectory).arguments
        var options = PlatformOptions()
        options.processGroupID = 0

        let execution: ExecutionResult<(ChannelRelay.Outcome?, String), SequenceOutput, SequenceOutput>
        do {
            execution = try await Subprocess.run(
                .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())), platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                try await run.supervise(pid: execution.processIdentifier.value, console: execution.standardOutput, stderr: execution.standardError)
            }
        } catch {
            throw .qemuFailed(status: "could not run \(argv[0])", stderr: "\(error)")
        }
        return try await run.result(qemuExitedAt: (ContinuousClock.now - origin).seconds, execution: execution)
    }

    /// The stop protocol's first step: the ACPI power button over QMP when the init said it watches it, else a
    /// terminate message on the command channel. Nil when the guest cannot be asked (still booting, or its
    /// channel broke and it has no power button).
    static func askToPowerOff(relay: ChannelRelay?, qmp: QMPClient) -> String? {
        guard let relay, relay.guestListening else { return nil }
        var fallback = ""
        if relay.guestListensToPowerButton {
            do {
                try qmp.execute("system_powerdown")
                return "pressed the ACPI power button (QMP system_powerdown)"
            } catch {
                fallback = " (\(error))"
            }
        }
        guard relay.channelOpen else { return nil }
        relay.requestTerminate()
        return "sent a terminate request over the command channel" + fallback
    }

    /// The console lines worth showing when a run fails: the lines leading up to a panic (what caused it, not
    /// the register dump after it), otherwise the last lines.
    static func tail(of lines: [ConsoleLine], count: Int = 25) -> [String] {
        if let panic = lines.lastIndex(where: { $0.text.hasPrefix("Kernel panic - not syncing") }) {
            let start = max(0, panic - (count - 3))
            return lines[start...min(panic + 2, lines.count - 1)].map(\.text)
        }
        return lines.suffix(count).map(\.text)
    }
}
