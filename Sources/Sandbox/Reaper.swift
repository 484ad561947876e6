import Foundation
import Glibc

/// How to stop a process without losing data: ask, then escalate only once its I/O has stopped moving.
public struct StopPolicy: Sendable, Equatable {
    /// How long the I/O counters must stay still before the next step.
    public var stallWindow: Duration
    /// The most time any one step waits, even while I/O keeps moving.
    public var maxWait: Duration
    /// How often the counters are sampled.
    public var sampleInterval: Duration
    /// Read and write calls moving fewer bytes than this within a stall window are not progress: an idle QEMU's
    /// event loop reads and writes a few dozen bytes a second of eventfd and timer counters, and that chatter must
    /// not keep a stuck guest alive. Any change in storage I/O (read_bytes, write_bytes) always counts.
    public var noiseFloorBytes: UInt64

    public init(
        stallWindow: Duration = .seconds(2), maxWait: Duration = .seconds(300), sampleInterval: Duration = .milliseconds(100),
        noiseFloorBytes: UInt64 = 4096
    ) {
        self.stallWindow = stallWindow
        self.maxWait = maxWait
        self.sampleInterval = sampleInterval
        self.noiseFloorBytes = noiseFloorBytes
    }
}

/// What stopping a process took.
public struct StopReport: Sendable, CustomStringConvertible {
    public enum Step: String, Sendable, Codable {
        /// It was gone before anything was sent.
        case alreadyGone = "already gone"
        /// It ended after the polite request (power-off, or whatever `ask` did).
        case ask
        case sigterm = "SIGTERM"
        case sigkill = "SIGKILL"
    }

    /// The step after which the process was gone.
    public var endedBy: Step
    /// Whether its I/O was still moving when it was killed (only meaningful for SIGKILL: data may be lost).
    public var ioMovingWhenKilled: Bool
    public var duration: Duration
    /// One line per step, with the counters seen.
    public var log: [String]

    public init(endedBy: Step, ioMovingWhenKilled: Bool, duration: Duration, log: [String]) {
        self.endedBy = endedBy
        self.ioMovingWhenKilled = ioMovingWhenKilled
        self.duration = duration
        self.log = log
    }

    public var description: String {
        "stopped by \(endedBy.rawValue) after \(duration.seconds.formatted3)s"
            + (endedBy == .sigkill ? (ioMovingWhenKilled ? " (I/O was still moving)" : " (I/O had stalled)") : "")
    }
}

/// What the ``Reaper`` stops: something whose progress it can sample and that it can end in two steps, a polite one
/// and a forced one. A QEMU process (/proc/PID/io; SIGTERM, SIGKILL) or a libvirt domain (its QEMU's counters or
/// libvirt's statistics; a graceful destroy, a destroy).
public protocol StopTarget: Sendable {
    /// How the stop log names it: `process 9172`.
    var name: String { get }
    /// Its counters now; nil once it is gone.
    func progress() -> ProcessProgress?
    /// The polite end (SIGTERM), as the log says it: `sending SIGTERM to 9172`.
    var terminateStep: String { get }
    func terminate()
    /// The forced end (SIGKILL), as the log says it.
    var killStep: String { get }
    func kill()
}

/// A local process, watched through /proc/PID/io and ended with signals.
public struct ProcessStopTarget: StopTarget {
    public var pid: pid_t

    public init(pid: pid_t) { self.pid = pid }

    public var name: String { "process \(pid)" }
    public func progress() -> ProcessProgress? { ProcessProgress.sample(pid: pid) }
    public var terminateStep: String { "sending SIGTERM to \(pid)" }
    public func terminate() { Glibc.kill(pid, SIGTERM) }
    public var killStep: String { "sending SIGKILL to \(pid)" }
    public func kill() { Glibc.kill(pid, SIGKILL) }
}

/// Stops processes by watching whether they still make progress, not on a fixed timer.
///
/// (1) `ask` (e.g. a power-off request to the guest; it returns how it asked, or nil if it could not); (2) while the
/// target's I/O counters keep moving, wait, up to `maxWait`; once they have been still for `stallWindow`, (3) the
/// polite end (SIGTERM) and wait again by the same rule, then (4) the forced end (SIGKILL).
public enum Reaper {
    /// Stops the local process `pid`.
    public static func stop(
        pid: pid_t, policy: StopPolicy = StopPolicy(),
        ask: (@Sendable () async -> String?)? = nil,
        log: (@Sendable (String) -> Void)? = nil
    ) async -> StopReport {
        await stop(ProcessStopTarget(pid: pid), policy: policy, ask: ask, log: log)
    }

    public static func stop(
        _ target: some StopTarget, policy: StopPolicy = StopPolicy(),
        ask: (@Sendable () async -> String?)? = nil,
        log: (@Sendable (String) -> Void)? = nil
    ) async -> StopReport {
        let clock = ContinuousClock()
        let started = clock.now
        var lines: [String] = []
        func note(_ line: String) {
            let stamped = "[\((clock.now - started).seconds.formatted3)s] " + line
            lines.append(stamped)
            log?(stamped)
        }
        func report(_ step: StopReport.Step, moving: Bool = false) -> StopReport {
            StopReport(endedBy: step, ioMovingWhenKilled: moving, duration: clock.now - started, log: lines)
        }
        guard target.progress() != nil else { return report(.alreadyGone) }

        if let ask {
            if let how = await ask() {
                note("asked \(target.name) to stop: \(how)")
                if await waitWhileProgressing(target, policy: policy, note: note) == nil { return report(.ask) }
            } else {
                note("could not ask \(target.name) to stop; escalating")
            }
        }
        note(target.terminateStep)
        target.terminate()
        guard let last = await waitWhileProgressing(target, policy: policy, note: note) else { return report(.sigterm) }
        note("\(target.killStep) (\(last.moving ? "I/O still moving at the cap" : "I/O stalled"))")
        target.kill()
        while target.progress() != nil { await pause(.milliseconds(10)) }
        return report(.sigkill, moving: last.moving)
    }

    /// Sleeps between samples. A cancelled stop (its caller saw the VM end) samples every few milliseconds instead,
    /// without spinning: the target is expected to be gone at the next look.
    private static func pause(_ interval: Duration) async {
        if Task.isCancelled {
            await Task.detached { try? await Task.sleep(for: .milliseconds(5)) }.value
        } else {
            try? await Task.sleep(for: interval)
        }
    }

    /// Waits until the target is gone (nil) or its I/O has been still for the stall window or the cap is hit.
    private static func waitWhileProgressing(
        _ target: some StopTarget, policy: StopPolicy, note: (String) -> Void
    ) async -> (progress: ProcessProgress, moving: Bool)? {
        let clock = ContinuousClock()
        let begin = clock.now
        // Movement is measured from the last point where the target was seen making progress, so slow chatter
        // adds up and only counts once it passes the noise floor.
        guard var reference = target.progress() else { return nil }
        var lastMovement = clock.now
        note("counters: \(reference)")
        while true {
            await pause(policy.sampleInterval)
            guard let current = target.progress() else { return nil }
            let now = clock.now
            if current.ioMoved(since: reference, atLeast: policy.noiseFloorBytes) {
                lastMovement = now
                reference = current
            }
            if now - lastMovement >= policy.stallWindow {
                note("I/O still for \((now - lastMovement).seconds.formatted3)s: \(current)")
                return (current, false)
            }
            if now - begin >= policy.maxWait {
                note("waited the maximum \(policy.maxWait.seconds.formatted3)s with I/O moving: \(current)")
                return (current, true)
            }
        }
    }
}

extension Double {
    var formatted3: String { String(format: "%.3f", self) }
}
