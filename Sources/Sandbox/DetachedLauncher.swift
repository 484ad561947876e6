import CProcessSpawn
import Foundation

/// Starts the process that supervises a detached sandbox: in a session of its own (no terminal, so closing it
/// sends no SIGHUP), stdin and stdout on /dev/null, stderr into a log file, no other descriptors, default signal
/// handling.
public enum DetachedLauncher {
    /// Spawns `executable` with `arguments`; returns its process ID. The caller may wait for it with waitpid
    /// while it runs; once the caller exits, init adopts it.
    public static func spawn(executable: String, arguments: [String], stderrPath: String) throws(SandboxError) -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | ksand_spawn_setsid)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        // Nothing else is handed down: a descriptor inherited by accident (the write end of whatever pipe reads
        // `ksand run --detach`'s output) would keep the caller waiting for an end of file until the sandbox ends.
        markAllCloseOnExec(from: 3)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard code == 0 else { throw .io(what: "cannot start the sandbox's supervisor", path: executable, errno: code) }
        return pid
    }

    /// Sets FD_CLOEXEC on every open descriptor from `first` up (this process's own descriptors stay usable).
    private static func markAllCloseOnExec(from first: Int32) {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd >= first {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}
