import Foundation
import Glibc

/// Lets a signal handler stop a build: every child (tar, cp, make) runs in its own process group, and
/// `interrupt()` sends that group SIGTERM, then SIGKILL after a grace period. A child started after the
/// interrupt is stopped at once.
public final class BuildControl: @unchecked Sendable {
    private let lock = NSLock()
    private var groups: Set<pid_t> = []
    private var _interrupted = false
    /// How long make gets to remove its half-written targets before SIGKILL.
    public var grace: Duration

    public init(grace: Duration = .seconds(5)) { self.grace = grace }

    public var interrupted: Bool { lock.withLock { _interrupted } }

    /// Stops every running child's process group.
    public func interrupt() {
        let running = lock.withLock { () -> Set<pid_t> in
            _interrupted = true
            return groups
        }
        for group in running { terminate(group) }
    }

    /// Records a started child; false (and the child is stopped) if the build was already interrupted.
    func started(_ group: pid_t) -> Bool {
        let interrupted = lock.withLock { () -> Bool in
            groups.insert(group)
            return _interrupted
        }
        if interrupted { terminate(group) }
        return !interrupted
    }

    func finished(_ group: pid_t) {
        _ = lock.withLock { groups.remove(group) }
    }

    private func terminate(_ group: pid_t) {
        kill(-group, SIGTERM)
        let grace = self.grace
        Task.detached { [weak self] in
            try? await Task.sleep(for: grace)
            if self?.lock.withLock({ self?.groups.contains(group) }) == true { kill(-group, SIGKILL) }
        }
    }
}
