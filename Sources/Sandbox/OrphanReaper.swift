import CProcessSpawn
import Foundation
import Synchronization

/// Reaps a VMM that was started as a daemon by a library running in this process (libvirt's embedded driver
/// double-forks each QEMU), rather than leaving it to init.
///
/// A daemonized process is an orphan: when it exits it stays a zombie until its parent, init, collects it, and
/// some inits are slow about it (a container's or a micro-VM's init may take a second or two). A zombie still
/// answers `kill(pid, 0)`, so whoever waits for it to be gone waits for init: libvirt polls every 200 ms in its
/// kill loop before it calls a domain stopped. As a child subreaper (`PR_SET_CHILD_SUBREAPER`) this process
/// becomes the parent of such orphans, and ``reapWhenItExits(_:)`` collects one the moment it exits.
///
/// Only the pids handed to ``reapWhenItExits(_:)`` are waited for, each by its own pid: the statuses of children
/// that other code waits for are never taken. Any other orphan adopted this way stays a zombie until this process
/// exits.
public enum OrphanReaper {
    private static let adopting = Mutex<Bool?>(nil)

    /// Makes this process the reaper of its orphaned descendants, once; false if the kernel refused.
    @discardableResult
    public static func adoptOrphans() -> Bool {
        adopting.withLock { state in
            if let state { return state }
            let done = ksand_become_child_subreaper() == 0
            state = done
            return done
        }
    }

    /// Waits on a thread of its own for `pid` to exit and reaps it; returns at once if it is not this process's
    /// child (then its parent reaps it).
    public static func reapWhenItExits(_ pid: pid_t) {
        guard pid > 0, parent(of: pid) == getpid() else { return }
        let thread = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        thread.name = "ksand-reap-\(pid)"
        thread.start()
    }

    /// Reaps the adopted daemons that have already exited: zombie children of this process that run in a session
    /// of their own (a daemon calls `setsid`, which the VMMs this process starts itself never do, so no status that
    /// other code waits for is taken). Those nobody handed to ``reapWhenItExits(_:)``: a QEMU that died while its
    /// domain was being created, and the QEMUs libvirt starts to probe capabilities. Returns the pids reaped.
    @discardableResult
    public static func reapExitedDaemons() -> [pid_t] {
        let me = getpid()
        let mySession = getsid(0)
        var reaped: [pid_t] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(name), pid != me,
                  let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let fields = ProcStat.fields(stat), fields.count > 3, fields[0] == "Z",
                  pid_t(fields[1]) == me, let session = pid_t(fields[3]), session != mySession else { continue }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { reaped.append(pid) }
        }
        return reaped
    }

    /// The parent pid of `pid` from /proc/PID/stat, nil when it is gone.
    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let fields = ProcStat.fields(stat), fields.count > 1 else { return nil }
        return pid_t(fields[1])
    }
}
