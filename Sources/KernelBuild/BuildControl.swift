import Foundation
import Glibc
import Synchronization

/// Lets a signal handler stop a build: every child (tar, cp, make) runs in its own process group, and
/// `interrupt()` sends that group SIGTERM, then SIGKILL after a grace period. A child started after the
/// interrupt is stopped at once.
public final class BuildControl: Sendable {
    private struct State {
        var groups: Set<pid_t> = []
        var interrupted = false
    }

    private let state = Mutex(State())
    /// How long make gets to remove its half-written targets before SIGKILL.
    public let grace: Duration

    public init(grace: Duration = .seconds(5)) { self.grace = grace }

    public var interrupted: Bool { state.withLock { $0.interrupted } }

    /// Stops every running child's process group.
    public func interrupt() {
        let running = state.withLock { state -> Set<pid_t> in
            state.interrupted = true
            return state.groups
        }
        for group in running { terminate(group) }
    }

    /// Records a started child; false (and the child is stopped) if the build was already interrupted.
    func started(_ group: pid_t) -> Bool {
        let interrupted = state.withLock { state -> Bool in
            state.groups.insert(group)
            return state.interrupted
        }
        if interrupted { terminate(group) }
        return !interrupted
    }

    func finished(_ group: pid_t) {
        _ = state.withLock { $0.groups.remove(group) }
    }

    private func terminate(_ group: pid_t) {
        kill(-group, SIGTERM)
        let grace = self.grace
        Task.detached { [weak self] in
            try? await Task.sleep(for: grace)
            if self?.state.withLock({ $0.groups.contains(group) }) == true { kill(-group, SIGKILL) }
        }
    }
}
