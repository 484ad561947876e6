import BootTimeline
import Foundation
import Glibc
import SandboxProtocol

/// Boots a ``PreparedSandbox`` through a ``SandboxBackend``, relays the command's I/O, and reports how it ended.
///
/// A stop (a Ctrl-C, a timeout) goes through the ``Reaper``: the power-off request first, escalation once the VM's
/// I/O has stalled. The VM is always gone when `run` returns.
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
    /// What starts the VM.
    public var backend: any SandboxBackend
    /// Called once the VM is running, with what it is known by.
    public var onStart: (@Sendable (MachineIdentity) -> Void)?
    /// Called once the guest init has said hello (it is up and has the run spec), with whether it watches the
    /// ACPI power button.
    public var onGuestReady: (@Sendable (Bool) -> Void)?

    /// Where snapshots of booted guests are kept: a run whose backend can restore one starts from the snapshot of
    /// its machine, making it first when there is none. nil: every run boots cold.
    public var snapshots: SnapshotStore?
    /// Receives what was done on the way that `-v` shows (a snapshot made, and how long it took).
    public var notes: (@Sendable (String) -> Void)?
    /// Receives warnings that do not stop the run (a snapshot that could not be made or loaded: the run boots cold).
    public var warnings: (@Sendable (String) -> Void)?

    /// The console log's default size limit.
    public static let defaultConsoleLogLimit = ConsoleRecorder.defaultLogLimit

    public init(
        io: SandboxIO = .standard, consoleLog: String? = nil, timestampConsoleLog: Bool = false,
        control: RunControl = RunControl(), diagnostics: (@Sendable (String) -> Void)? = nil, backend: any SandboxBackend = QEMUDirectBackend()
    ) {
        self.backend = backend
        self.io = io
        self.consoleLog = consoleLog
        self.timestampConsoleLog = timestampConsoleLog
        self.control = control
        self.diagnostics = diagnostics
    }

    /// Runs `sandbox`: from its machine's snapshot when ``snapshots`` is set and the backend can restore one, else
    /// (or when the snapshot does not load, with one warning) booted cold.
    public func run(_ sandbox: PreparedSandbox) async throws(SandboxError) -> SandboxResult {
        if let (claim, key) = await snapshot(for: sandbox) {
            var restored = sandbox
            restored.restore = claim
            do {
                return try await runOnce(restored)
            } catch {
                guard case .snapshotRestoreFailed(let reason) = error else { throw error }
                claim.release()
                warnings?("\(reason). Booting cold; the snapshot is removed and made again on the next run.")
                snapshots?.discard(key)
            }
        }
        return try await runOnce(sandbox)
    }

    /// The snapshot to start `sandbox` from, held; made now when there is none. nil (after a warning when something
    /// failed) when the run boots cold.
    func snapshot(for sandbox: PreparedSandbox) async -> (SnapshotClaim, SnapshotKey)? {
        guard let store = snapshots, backend.restoresSnapshots, sandbox.restore == nil, control.stopReason == nil,
              let key = sandbox.snapshotKey else { return nil }
        do {
            switch try store.lookup(key) {
            case .found(let claim): return (claim, key)
            case .missing: break
            case .unusable(let reason):
                warnings?("the snapshot of this machine cannot be used (\(reason)); booting to make a new one")
            }
        } catch {
            warnings?("\(error); booting cold")
            return nil
        }
        do {
            let claim = try await store.make(key) { directory throws(SnapshotError) in
                // A boot that does not reach the hello is bounded like the run itself.
                let seconds = min(60, sandbox.spec.timeout ?? 60)
                return try await SnapshotMaker(
                    sandbox: sandbox, key: key, bootTimeout: .milliseconds(Int(seconds * 1000)), cancelled: { [control] in control.stopReason != nil }
                ).make(into: directory)
            }
            notes?("made the snapshot \(claim.directory) in \(claim.record.makingMilliseconds) ms (boot \(claim.record.bootMilliseconds) ms)")
            return (claim, key)
        } catch {
            // Asked to stop meanwhile: the cold run that follows sees the request at once and ends as interrupted.
            if case .interrupted = error { return nil }
            warnings?("could not make a snapshot of this machine (\(error)); booting cold")
            return nil
        }
    }

    private func runOnce(_ sandbox: PreparedSandbox) async throws(SandboxError) -> SandboxResult {
        let runDirectory: String
        if let given = self.runDirectory { runDirectory = given } else { runDirectory = try RuntimeDirectory.create() }
        defer { if self.runDirectory == nil { RuntimeDirectory.remove(runDirectory) } }
        let origin = ContinuousClock.now
        let run = try RunInProgress(
            sandbox: sandbox, runner: self, runDirectory: runDirectory, origin: origin,
            recorder: ConsoleRecorder(origin: origin, logPath: consoleLog, timestampLog: timestampConsoleLog, logLimit: consoleLogLimit))
        let machineRun = try await backend.run(sandbox, runDirectory: runDirectory) { machine in try await run.supervise(machine) }
        return try await run.result(exitedAt: (ContinuousClock.now - origin).seconds, run: machineRun)
    }

    /// The stop protocol's first step: the ACPI power button when the init said it watches it, else a terminate
    /// message on the command channel. Nil when the guest cannot be asked (still booting, or its channel broke and
    /// it has no power button).
    static func askToPowerOff(relay: ChannelRelay?, machine: any RunningMachine) -> String? {
        guard let relay, relay.guestListening else { return nil }
        var fallback = ""
        if relay.guestListensToPowerButton {
            do {
                try machine.pressPowerButton()
                return machine.powerButtonDescription
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
