import BootTimeline
import Foundation
import SandboxProtocol
import Synchronization

/// One run of a sandbox while its VM lives: the relay on the command channel, the console, the stops that may be
/// asked for (timeout, interrupt, a broken protocol) and the watch that reaps the VM once the guest is done. Its
/// parts run concurrently and meet here; ``result(exitedAt:run:)`` turns what they saw into the run's result once
/// the VM is gone.
final class RunInProgress: Sendable {
    private let sandbox: PreparedSandbox
    private let io: SandboxIO
    private let control: RunControl
    private let diagnostics: (@Sendable (String) -> Void)?
    private let onStart: (@Sendable (MachineIdentity) -> Void)?
    private let onGuestReady: (@Sendable (Bool) -> Void)?
    private let origin: ContinuousClock.Instant
    private let listener: ChannelListener
    private let recorder: ConsoleRecorder
    private let policy: StopPolicy

    private struct State {
        var relay: ChannelRelay?
        var machineGone = false
        var shutdownWatch: Task<StopReport, Never>?
        /// Why the snapshot this run started from could not be loaded.
        var restoreFailure: String?
    }
    private let state = Mutex(State())

    init(sandbox: PreparedSandbox, runner: SandboxRunner, runDirectory: String, origin: ContinuousClock.Instant, recorder: ConsoleRecorder) throws(SandboxError) {
        self.sandbox = sandbox
        self.io = runner.io
        self.control = runner.control
        self.diagnostics = runner.diagnostics
        self.onStart = runner.onStart
        self.onGuestReady = runner.onGuestReady
        self.origin = origin
        self.recorder = recorder
        self.listener = try ChannelListener(path: runDirectory + "/channel.sock")
        self.policy = StopPolicy(
            stallWindow: .milliseconds(Int(sandbox.spec.stallWindowSeconds * 1000)),
            maxWait: .milliseconds(Int(sandbox.spec.maxStopWaitSeconds * 1000)))
    }

    /// The channel's relay, once the init has connected.
    private var relay: ChannelRelay? {
        get { state.withLock { $0.relay } }
        set { state.withLock { $0.relay = newValue } }
    }
    private var machineGone: Bool {
        get { state.withLock { $0.machineGone } }
        set { state.withLock { $0.machineGone = newValue } }
    }

    /// Everything that happens while the VM runs; returns when its console closed (it is gone), with the relay's
    /// outcome.
    func supervise(_ machine: any RunningMachine) async throws -> ChannelRelay.Outcome? {
        onStart?(machine.identity)
        control.attach { [self] reason, kind in stop(machine, reason: reason, kind: kind) }
        let timeoutTask = sandbox.spec.timeout.map { seconds in
            Task { [control, origin] in
                try await Task.sleep(until: origin + .milliseconds(Int(seconds * 1000)), clock: .continuous)
                control.requestStop(.timeout)
            }
        }
        let relayTask = Task.detached { [self] in await relayChannel(machine) }
        try await machine.readConsole { [self] bytes in
            if recorder.consume(bytes) {
                // A kernel that halts (no power-off method, e.g. no ACPI) leaves the VM running: reap it once idle.
                watchShutdown(machine, why: "the guest kernel has powered off or halted")
            }
        }
        machineGone = true
        listener.shutDown()
        recorder.finish()
        timeoutTask?.cancel()
        // The VM has closed its end; the relay sees the socket close, but make sure it ends.
        let outcome = await relayTask.value
        relay?.stop()
        return outcome
    }

    /// Accepts the init's connection and relays until the channel closes.
    private func relayChannel(_ machine: any RunningMachine) async -> ChannelRelay.Outcome? {
        guard let fd = await acceptOnThread() else {
            if sandbox.restore != nil { state.withLock { $0.restoreFailure = "QEMU ended before it connected the command channel" } }
            return nil
        }
        let restoredHello = sandbox.restore.map { Hello(listensToPowerButton: $0.record.listensToPowerButton) }
        let relay = ChannelRelay(
            socketFD: fd, spec: sandbox.runSpec, io: io, clockOrigin: origin, restoredHello: restoredHello, onHello: onGuestReady,
            onFailure: { [self] in watchShutdown(machine, why: "the guest init failed; it powers itself off") },
            onProtocolError: { [self] error in
                diagnostics?("the guest broke the command channel's protocol: \(error); stopping the VM")
                control.requestStop(.protocolError)
            }
        ) { [self] in
            control.markExit()
            watchShutdown(machine, why: "the command ended; the guest powers itself off")
        }
        self.relay = relay
        relay.start()
        if let claim = sandbox.restore {
            do {
                try await machine.waitUntilRestored()
                relay.releaseSpec()
            } catch {
                state.withLock { $0.restoreFailure = "\(error)" }
                machine.stopTarget.kill()
            }
            claim.release()
        }
        await relay.waitUntilFinished()
        return relay.current
    }

    /// A stop that was asked for: a graceful one asks the guest and waits on its I/O, a prompt one (after the
    /// command's end) does not wait for a guest that has nothing left to finish.
    private func stop(_ machine: any RunningMachine, reason: RunControl.StopReason, kind: RunControl.StopKind) {
        let standard = control.stopPolicy(standard: policy)
        switch kind {
        case .graceful:
            control.setStopTask(Task { [self, diagnostics] in
                await Reaper.stop(machine.stopTarget, policy: standard, ask: { [self] in
                    SandboxRunner.askToPowerOff(relay: relay, machine: machine)
                }, log: diagnostics)
            }, kind: kind)
        case .prompt:
            // SIGTERM at once; SIGKILL once its I/O has been still for the stall window, or after one window at most.
            let prompt = StopPolicy(stallWindow: standard.stallWindow, maxWait: standard.stallWindow)
            diagnostics?("\(reason == .timeout ? "the timeout expired" : "stop requested") after the command ended; stopping the VM now")
            control.setStopTask(Task { [diagnostics] in
                await Reaper.stop(machine.stopTarget, policy: prompt, ask: nil, log: diagnostics)
            }, kind: kind)
        }
    }

    /// Starts the watch that reaps the VM after the guest has finished, once: the command's exit and the kernel's
    /// power-off line both lead here. The guest finishes by itself from there; the VM is reaped only if it lingers
    /// with its I/O stalled.
    private func watchShutdown(_ machine: any RunningMachine, why: String) {
        state.withLock { state in
            guard state.shutdownWatch == nil else { return }
            state.shutdownWatch = Task { [policy, diagnostics] in
                await Reaper.stop(machine.stopTarget, policy: policy, ask: { why }, log: diagnostics)
            }
        }
    }

    /// The run's result, once the VM is gone.
    func result(exitedAt: Double, run: MachineRun<ChannelRelay.Outcome?>) async throws(SandboxError) -> SandboxResult {
        // The VM is gone: the stops and the shutdown watch still in their sampling sleep see that at once instead of
        // at their next sample (up to 100 ms later, on every run).
        let watches = [control.pendingPromptStop, control.pendingStop, state.withLock({ $0.shutdownWatch })].compactMap { $0 }
        for watch in watches { watch.cancel() }
        var stopReport = await control.pendingPromptStop?.value
        if stopReport == nil { stopReport = await control.pendingStop?.value }
        let watchReport = await state.withLock({ $0.shutdownWatch })?.value
        let relayOutcome = run.body
        let qemuStderr = run.diagnostics
        let (lines, received) = recorder.snapshot
        if let failure = state.withLock({ $0.restoreFailure }) {
            var reason = failure
            let said = qemuStderr.trimmingCharacters(in: .whitespacesAndNewlines)
            if !said.isEmpty { reason += "; QEMU said: " + PrintableText.line(Array(said.utf8), limit: 2048) }
            throw .snapshotRestoreFailed(reason)
        }
        let timeline = Timeline.compute(lines: lines, exitedAtHostSeconds: exitedAt, start: sandbox.restore == nil ? .cold : .snapshot)
        let ending = RunEnding(
            exit: relayOutcome?.exit, exitArrivedFirst: control.exitArrivedFirst, stopReason: control.stopReason,
            panicReason: timeline.panicReason, initFailure: relayOutcome?.failure, protocolError: relayOutcome?.protocolError,
            consoleEmpty: received == 0, qemuExitCode: run.exitCode, qemuTermination: run.termination, qemuStderr: qemuStderr,
            sawHello: relayOutcome?.sawHello == true,
            initStarted: lines.contains { $0.text.hasPrefix(GuestMarker.initStart.line()) },
            kernelEndLine: recorder.kernelEndLine,
            timeoutSeconds: sandbox.spec.timeout ?? 0)
        let outcome = try ending.outcome()
        let escalated = watchReport.flatMap { $0.endedBy == .sigterm || $0.endedBy == .sigkill ? $0 : nil }
        var result = SandboxResult(
            outcome: outcome, timeline: timeline, consoleTail: SandboxRunner.tail(of: lines), consoleLines: lines,
            stopReport: stopReport ?? escalated, qemuStderr: qemuStderr, accelerator: sandbox.accelerator)
        result.consoleLineCount = received
        result.consoleLinesDropped = received - lines.count
        return result
    }

    private func acceptOnThread() async -> Int32? {
        await BlockingThread.run(named: "ksand-accept") { [self] in listener.accept(timeout: .seconds(60), cancelled: { self.machineGone }) }
    }
}
