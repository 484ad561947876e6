import Foundation
import Synchronization

/// A handle to a running sandbox from outside its task: ask it to stop, as Ctrl-C does.
public final class RunControl: Sendable {
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

    private struct State {
        var reason: StopReason?
        var stopBegan = false
        var promptStopBegan = false
        var exitSeen = false
        var stopTask: Task<StopReport, Never>?
        var promptStopTask: Task<StopReport, Never>?
        var beginStop: (@Sendable (StopReason, StopKind) -> Void)?
        var policyOverride: StopPolicy?
    }

    private let state = Mutex(State())

    public init() {}

    /// Stops the sandbox the way a timeout does: power-off request, then escalation once QEMU's I/O stalls.
    /// `policy` replaces the spec's stall window and cap for this stop (`ksand stop --stall` on a detached sandbox).
    public func interrupt(policy: StopPolicy? = nil) {
        if let policy { state.withLock { if !$0.stopBegan { $0.policyOverride = policy } } }
        requestStop(.interrupt)
    }

    /// The policy a stop uses: the override, if one came with the interrupt, else `standard`.
    func stopPolicy(standard: StopPolicy) -> StopPolicy { state.withLock { $0.policyOverride ?? standard } }

    /// Starts a stop, once: before the command's exit a graceful one, after it a prompt one. A request while a stop
    /// of its kind runs changes nothing.
    func requestStop(_ why: StopReason) {
        let action: (@Sendable () -> Void)? = state.withLock { state in
            if state.reason == nil { state.reason = why }
            guard let beginStop = state.beginStop else { return nil }  // not started yet: `attach` starts what was asked
            if !state.exitSeen {
                guard !state.stopBegan else { return nil }
                state.stopBegan = true
                return { beginStop(why, .graceful) }
            }
            guard !state.promptStopBegan else { return nil }
            state.promptStopBegan = true
            return { beginStop(why, .prompt) }
        }
        action?()
    }

    func attach(_ begin: @escaping @Sendable (StopReason, StopKind) -> Void) {
        let pending: StopReason? = state.withLock { state in
            state.beginStop = begin
            if let reason = state.reason, !state.stopBegan { state.stopBegan = true; return reason }
            return nil
        }
        if let pending { begin(pending, .graceful) }
    }

    func markExit() { state.withLock { $0.exitSeen = true } }
    func setStopTask(_ task: Task<StopReport, Never>, kind: StopKind) {
        state.withLock { if kind == .graceful { $0.stopTask = task } else { $0.promptStopTask = task } }
    }
    /// Why a stop was first asked for (also when it came after the command's exit).
    var stopReason: StopReason? { state.withLock { $0.reason } }
    var pendingStop: Task<StopReport, Never>? { state.withLock { $0.stopTask } }
    var pendingPromptStop: Task<StopReport, Never>? { state.withLock { $0.promptStopTask } }
    /// The exit status arrived before any stop began: the command's own status stands.
    var exitArrivedFirst: Bool { state.withLock { $0.exitSeen && !$0.stopBegan } }
}
