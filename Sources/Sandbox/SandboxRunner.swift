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
        let listener = try ChannelListener(path: runDirectory + "/channel.sock")
        let recorder = try ConsoleRecorder(origin: origin, logPath: consoleLog, timestampLog: timestampConsoleLog)
        let argv = sandbox.commandLine(runDirectory: runDirectory).arguments
        var options = PlatformOptions()
        options.processGroupID = 0
        let policy = StopPolicy(
            stallWindow: .milliseconds(Int(sandbox.spec.stallWindowSeconds * 1000)),
            maxWait: .milliseconds(Int(sandbox.spec.maxStopWaitSeconds * 1000)))
        let control = self.control, io = self.io, diagnostics = self.diagnostics
        let onStart = self.onStart, onGuestReady = self.onGuestReady
        let relayBox = RelayBox()
        let qmp = QMPClient(socketPath: runDirectory + "/" + PreparedSandbox.qmpSocketName)

        let execution: ExecutionResult<(ChannelRelay.Outcome?, String), SequenceOutput, SequenceOutput>
        do {
            execution = try await Subprocess.run(
                .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())), platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                let pid = execution.processIdentifier.value
                onStart?(pid)
                // The guest finishes by itself from here; QEMU is reaped only if it lingers with its I/O stalled.
                let watchShutdown = { @Sendable (why: String) in
                    relayBox.watchShutdown { await Reaper.stop(pid: pid, policy: policy, ask: { why }, log: diagnostics) }
                }
                control.attach { _ in
                    control.setStopTask(Task {
                        await Reaper.stop(pid: pid, policy: control.stopPolicy(standard: policy), ask: {
                            Self.askToPowerOff(relay: relayBox.relay, qmp: qmp)
                        }, log: diagnostics)
                    })
                }
                let timeoutTask = sandbox.spec.timeout.map { seconds in
                    Task {
                        try await Task.sleep(until: origin + .milliseconds(Int(seconds * 1000)), clock: .continuous)
                        control.requestStop(.timeout)
                    }
                }
                async let stderrText = Self.collect(execution.standardError, limit: 64 * 1024)
                let relayTask = Task.detached { () -> ChannelRelay.Outcome? in
                    guard let fd = await Self.acceptOnThread(listener, gone: relayBox) else { return nil }
                    let relay = ChannelRelay(socketFD: fd, spec: sandbox.runSpec, io: io, clockOrigin: origin) {
                        control.markExit()
                        watchShutdown("the command ended; the guest powers itself off")
                    }
                    relayBox.relay = relay
                    relay.onHello = onGuestReady
                    relay.start()
                    await relay.waitUntilFinished()
                    return relay.current
                }
                for try await chunk in execution.standardOutput {
                    if chunk.withUnsafeBytes({ recorder.consume($0) }) {
                        // A kernel that halts (no power-off method, e.g. no ACPI) leaves QEMU running: reap it once idle.
                        watchShutdown("the guest kernel has powered off or halted")
                    }
                }
                relayBox.qemuGone = true
                recorder.finish()
                timeoutTask?.cancel()
                let text = await stderrText
                // QEMU has closed its end; the relay sees the socket close, but make sure it ends.
                let outcome = await relayTask.value
                relayBox.relay?.stop()
                return (outcome, text)
            }
        } catch {
            throw .qemuFailed(status: "could not run \(argv[0])", stderr: "\(error)")
        }
        let exitedAt = (ContinuousClock.now - origin).seconds
        let stopReport = await control.pendingStop?.value
        let watchReport = await relayBox.shutdownWatch?.value
        let (relayOutcome, qemuStderr) = execution.closureResult
        let lines = recorder.snapshot
        let timeline = Timeline.compute(lines: lines, exitedAtHostSeconds: exitedAt)

        let outcome: SandboxResult.Outcome
        if let exit = relayOutcome?.exit, control.stopReason == nil || control.exitArrivedFirst {
            outcome = .completed(exit)
        } else if let panic = timeline.panicReason {
            outcome = .guestPanic(panic)
        } else if control.stopReason == .timeout {
            outcome = .timedOut(seconds: sandbox.spec.timeout ?? 0)
        } else if control.stopReason == .interrupt {
            outcome = .interrupted
        } else if let failure = relayOutcome?.failure {
            outcome = .bootFailed("the guest init failed: \(failure)")
        } else if lines.isEmpty, case .exited(let code) = execution.terminationStatus, code != 0 {
            throw .qemuFailed(status: "exit status \(code)", stderr: qemuStderr.trimmingCharacters(in: .whitespacesAndNewlines))
        } else if let error = relayOutcome?.protocolError {
            outcome = .bootFailed("the command channel broke: \(error)")
        } else {
            let initStarted = lines.contains { $0.text.hasPrefix(GuestMarker.initStart.line()) }
            let how = relayOutcome?.sawHello == true ? "after the init started, before the command ended"
                : initStarted ? "after the init started, before it reached the command channel (its error is among the console lines)"
                : "before the guest init started"
            outcome = .bootFailed("the VM stopped \(how) (QEMU \(execution.terminationStatus))"
                + (qemuStderr.isEmpty ? "" : ": " + qemuStderr.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let escalated = watchReport.flatMap { $0.endedBy == .sigterm || $0.endedBy == .sigkill ? $0 : nil }
        return SandboxResult(
            outcome: outcome, timeline: timeline, consoleTail: Self.tail(of: lines), consoleLines: lines,
            stopReport: stopReport ?? escalated, qemuStderr: qemuStderr, accelerator: sandbox.accelerator)
    }

    /// The stop protocol's first step: the ACPI power button over QMP when the init said it watches it, else a
    /// terminate message on the command channel. Nil when the guest cannot be asked yet (still booting).
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

    private static func collect(_ sequence: SubprocessOutputSequence, limit: Int) async -> String {
        var bytes: [UInt8] = []
        do {
            for try await chunk in sequence {
                chunk.withUnsafeBytes { raw in
                    if bytes.count < limit { bytes += raw.prefix(limit - bytes.count) }
                }
            }
        } catch {}
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func acceptOnThread(_ listener: ChannelListener, gone: RelayBox) async -> Int32? {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: listener.accept(timeout: .seconds(60), cancelled: { gone.qemuGone }))
            }
            thread.name = "ksand-accept"
            thread.start()
        }
    }
}

/// State shared between the runner's concurrent parts.
final class RelayBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _relay: ChannelRelay?
    private var _gone = false
    private var _watch: Task<StopReport, Never>?

    var relay: ChannelRelay? {
        get { lock.withLock { _relay } }
        set { lock.withLock { _relay = newValue } }
    }
    var qemuGone: Bool {
        get { lock.withLock { _gone } }
        set { lock.withLock { _gone = newValue } }
    }
    var shutdownWatch: Task<StopReport, Never>? { lock.withLock { _watch } }

    /// Starts the watch that reaps QEMU after the guest has finished, once: the command's exit and the kernel's
    /// power-off line both lead here.
    func watchShutdown(_ reap: @escaping @Sendable () async -> StopReport) {
        lock.withLock {
            if _watch == nil { _watch = Task { await reap() } }
        }
    }
}
