import Foundation
import QEMU

/// Stops one detached sandbox. A running one is stopped by its supervising ksand (it owns the VM and the command
/// channel): the stop policy is left in its state directory, the supervisor gets SIGTERM and runs the reaper, and
/// its result says how the VM ended. An orphaned one (its ksand was killed) is reaped here, asking through QMP.
public struct DetachedStop: Sendable {
    public struct Outcome: Sendable {
        /// The reaper's step that ended QEMU; nil when nothing had to be stopped.
        public var endedBy: StopReport.Step?
        public var seconds: Double
        public var ioMovingWhenKilled: Bool
        /// The guest reached its own power-off (the console log shows it).
        public var guestPoweredOff: Bool
        /// The status the sandbox's `ksand run` ended with, when known.
        public var exitStatus: Int32?
        public var summary: String
        public var log: [String]
        public var failed: Bool

        init(endedBy: StopReport.Step?, seconds: Double, ioMovingWhenKilled: Bool, guestPoweredOff: Bool, exitStatus: Int32?,
             summary: String, log: [String], failed: Bool) {
            self.endedBy = endedBy
            self.seconds = seconds
            self.ioMovingWhenKilled = ioMovingWhenKilled
            self.guestPoweredOff = guestPoweredOff
            self.exitStatus = exitStatus
            self.summary = summary
            self.log = log
            self.failed = failed
        }

        /// A stop the reaper carried out, summarised.
        init(report: StopReport, guestPoweredOff: Bool, halted: Bool = false, exitStatus: Int32?, prefix: String) {
            let seconds = report.duration.seconds
            self.init(endedBy: report.endedBy, seconds: seconds, ioMovingWhenKilled: report.ioMovingWhenKilled,
                      guestPoweredOff: guestPoweredOff, exitStatus: exitStatus,
                      summary: prefix + DetachedStop.summary(step: report.endedBy, seconds: seconds, moving: report.ioMovingWhenKilled,
                                                             poweredOff: guestPoweredOff, halted: halted),
                      log: report.log, failed: false)
        }
    }

    public var sandbox: DetachedSandbox
    public var policy: StopPolicy

    public init(sandbox: DetachedSandbox, policy: StopPolicy) {
        self.sandbox = sandbox
        self.policy = policy
    }

    public func run() async -> Outcome {
        switch sandbox.state {
        case .exited(let status):
            return Outcome(endedBy: nil, seconds: 0, ioMovingWhenKilled: false, guestPoweredOff: sandbox.consoleShowsPowerOff,
                           exitStatus: status, summary: "had already exited with status \(status)", log: [], failed: false)
        case .stale:
            return Outcome(endedBy: nil, seconds: 0, ioMovingWhenKilled: false, guestPoweredOff: false, exitStatus: nil,
                           summary: "was a stale entry: nothing of it ran", log: [], failed: false)
        case .orphaned:
            return await reapOrphan()
        case .running:
            return await stopThroughSupervisor()
        }
    }

    private func stopThroughSupervisor() async -> Outcome {
        let started = ContinuousClock.now
        guard let record = sandbox.record else {
            return failure("its record is not written yet (it is starting); try again in a moment")
        }
        do {
            try sandbox.write(DetachedSandbox.StopRequest(
                stallWindowSeconds: policy.stallWindow.seconds, maxWaitSeconds: policy.maxWait.seconds))
        } catch {
            return failure("\(error)")
        }
        kill(record.supervisor.pid, SIGTERM)
        // The supervisor's reaper waits at most `maxWait` per step (ask, SIGTERM, SIGKILL); then it writes its result.
        let cap = policy.maxWait * 3 + policy.stallWindow * 3 + .seconds(30)
        while record.supervisor.isAlive {
            if ContinuousClock.now - started > cap {
                return failure("its ksand (pid \(record.supervisor.pid)) did not finish stopping within \(Int(cap.seconds))s; see \(sandbox.supervisorLogPath)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let wall = (ContinuousClock.now - started).seconds
        guard let result = sandbox.result else {
            if let qemu = record.qemu, qemu.isAlive { return await reapOrphan() }
            return failure("its ksand ended without writing a result; see \(sandbox.supervisorLogPath)")
        }
        let poweredOff = sandbox.consoleShowsPowerOff
        guard let stop = result.stop else {
            return Outcome(endedBy: nil, seconds: wall, ioMovingWhenKilled: false, guestPoweredOff: poweredOff, exitStatus: result.exitStatus,
                           summary: "had already exited with status \(result.exitStatus)", log: [], failed: false)
        }
        return Outcome(report: stop, guestPoweredOff: poweredOff, halted: sandbox.consoleShowsHalt, exitStatus: result.exitStatus, prefix: "")
    }

    /// Its ksand is gone, so nobody holds the command channel: the init has already been told the host left and
    /// stops the command itself. Ask once more with the power button if the init watches it, then escalate.
    private func reapOrphan() async -> Outcome {
        guard let record = sandbox.record, let qemu = record.qemu, qemu.isAlive else {
            return Outcome(endedBy: .alreadyGone, seconds: 0, ioMovingWhenKilled: false, guestPoweredOff: sandbox.consoleShowsPowerOff,
                           exitStatus: nil, summary: "its QEMU was already gone", log: [], failed: false)
        }
        // A libvirt domain's QMP socket is libvirt's: without ksand, its QEMU is stopped by signals alone.
        let qmp = QMPClient(socketPath: sandbox.qmpSocketPath)
        let ask: (@Sendable () async -> String?)? = record.powerButton && record.ownsQMP
            ? { @Sendable in (try? qmp.execute("system_powerdown")) != nil ? "pressed the ACPI power button (QMP system_powerdown)" : nil } : nil
        let report = await Reaper.stop(pid: qemu.pid, policy: policy, ask: ask)
        return Outcome(report: report, guestPoweredOff: report.endedBy == .ask, exitStatus: nil, prefix: "its ksand was gone; ")
    }

    /// `halted`: the kernel said `reboot: System halted` (no ACPI to power off with). Its QEMU then ends on the
    /// reaper's SIGTERM, or first on the supervising ksand's own once the command's status is in: either way the
    /// guest halted rather than powered off.
    static func summary(step: StopReport.Step, seconds: Double, moving: Bool, poweredOff: Bool, halted: Bool = false) -> String {
        let time = String(format: "%.2fs", seconds)
        switch step {
        case .alreadyGone: return "was already gone"
        case .ask where halted:
            return "stopped after \(time): the guest shut down but its kernel halted instead of powering off (no ACPI?)"
        case .ask: return "stopped after \(time): the guest powered off" + (poweredOff ? "" : " (no power-off line on its console)")
        case .sigterm where poweredOff:
            return "the guest shut down but its kernel halted instead of powering off (no ACPI?); QEMU ended on SIGTERM after \(time), once its I/O had stalled"
        case .sigterm: return "the guest did not power off; QEMU ended on SIGTERM after \(time), once its I/O had stalled"
        case .sigkill: return "the guest did not power off; QEMU was SIGKILLed after \(time)" + (moving ? " with its I/O still moving at --max-wait" : ", once its I/O had stalled")
        }
    }

    private func failure(_ why: String) -> Outcome {
        Outcome(endedBy: nil, seconds: 0, ioMovingWhenKilled: false, guestPoweredOff: false, exitStatus: nil, summary: why, log: [], failed: true)
    }
}
