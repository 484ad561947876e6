import Foundation

/// A handle to a running sandbox from outside its task: ask it to stop, as Ctrl-C does.
public final class RunControl: @unchecked Sendable {
    public enum StopReason: Sendable, Equatable {
        case timeout
        case interrupt
    }

    private let lock = NSLock()
    private var pid: pid_t?
    private var reason: StopReason?
    private var stopBegan = false
    private var exitSeen = false
    private var stopTask: Task<StopReport, Never>?
    private var beginStop: (@Sendable (StopReason) -> Void)?
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

    func requestStop(_ why: StopReason) {
        let action: (@Sendable (StopReason) -> Void)? = lock.withLock {
            guard !stopBegan, !exitSeen else { return nil }
            if reason == nil { reason = why }
            guard let beginStop else { return nil }  // not started yet: the runner checks `reason` when it is
            stopBegan = true
            return beginStop
        }
        action?(why)
    }

    func attach(_ begin: @escaping @Sendable (StopReason) -> Void) {
        let pending: StopReason? = lock.withLock {
            beginStop = begin
            if let reason, !stopBegan { stopBegan = true; return reason }
            return nil
        }
        if let pending { begin(pending) }
    }

    func markExit() { lock.withLock { exitSeen = true } }
    func setStopTask(_ task: Task<StopReport, Never>) { lock.withLock { stopTask = task } }
    var stopReason: StopReason? { lock.withLock { reason } }
    var pendingStop: Task<StopReport, Never>? { lock.withLock { stopTask } }
    var exitArrivedFirst: Bool { lock.withLock { exitSeen && !stopBegan } }
}
