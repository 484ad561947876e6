import Foundation

/// A handle to a running sandbox from outside its task: ask it to stop, as Ctrl-C does.
public final class RunControl: @unchecked Sendable {
    public enum StopReason: Sendable, Equatable {
        case timeout
        case interrupt
        /// The guest broke the command channel's protocol.
        case protocolError
    }

    /// How a stop proceeds, decided when it is requested.
    enum StopKind: Sendable, Equatable {
        /// The command still runs: ask the guest to power off, escalate only once QEMU's I/O stalls.
        case graceful
        /// The command has ended and reported its status; the guest is past anything worth waiting for, so QEMU
        /// gets SIGTERM at once (a guest that keeps its I/O moving after its end cannot hold the host).
        case prompt
    }

    private let lock = NSLock()
    private var reason: StopReason?
    private var stopBegan = false
    private var promptStopBegan = false
    private var exitSeen = false
    private var stopTask: Task<StopReport, Never>?
    private var promptStopTask: Task<StopReport, Never>?
    private var beginStop: (@Sendable (StopReason, StopKind) -> Void)?
    private var policyOverride: StopPolicy?

    public init() {}

    /// Stops the sandbox the way a timeout does: power-off request, then escalation once QEMU's I/O stalls.
    /// `policy` replaces the spec's stall window and cap for this stop (`ksand stop --stall` on a detached sandbox).
    public func interrupt(policy: StopPolicy? = nil) {
        if let policy { lock.withLock { if !stopBegan { policyOverride = policy } } }
        requestStop(.interrupt)
    }

    /// The policy a stop uses: the override, if one came with the interrupt, else `standard`.
    func stopPolicy(standard: StopPolicy) -> StopPolicy { lock.withLock { policyOverride ?? standard } }

    /// Starts a stop, once: before the command's exit a graceful one, after it a prompt one. A request while a stop
    /// of its kind runs changes nothing.
    func requestStop(_ why: StopReason) {
        let action: (@Sendable () -> Void)? = lock.withLock {
            if reason == nil { reason = why }
            guard let beginStop else { return nil }  // not started yet: `attach` starts what was asked
            if !exitSeen {
                guard !stopBegan else { return nil }
                stopBegan = true
                return { beginStop(why, .graceful) }
            }
            guard !promptStopBegan else { return nil }
            promptStopBegan = true
            return { beginStop(why, .prompt) }
        }
        action?()
    }

    func attach(_ begin: @escaping @Sendable (StopReason, StopKind) -> Void) {
        let pending: StopReason? = lock.withLock {
            beginStop = begin
            if let reason, !stopBegan { stopBegan = true; return reason }
            return nil
        }
        if let pending { begin(pending, .graceful) }
    }

    func markExit() { lock.withLock { exitSeen = true } }
    func setStopTask(_ task: Task<StopReport, Never>, kind: StopKind) {
        lock.withLock { if kind == .graceful { stopTask = task } else { promptStopTask = task } }
    }
    /// Why a stop was first asked for (also when it came after the command's exit).
    var stopReason: StopReason? { lock.withLock { reason } }
    var pendingStop: Task<StopReport, Never>? { lock.withLock { stopTask } }
    var pendingPromptStop: Task<StopReport, Never>? { lock.withLock { promptStopTask } }
    /// The exit status arrived before any stop began: the command's own status stands.
    var exitArrivedFirst: Bool { lock.withLock { exitSeen && !stopBegan } }
}
