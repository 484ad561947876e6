import CGuestSyscalls
import Glibc
import SandboxProtocol

/// The command, started: its process (leader of its own session and process group) and the init's ends of its
/// standard streams, all non-blocking and close-on-exec.
struct RunningCommand {
    let pid: pid_t
    /// Becomes readable when the command exits; -1 on a kernel without pidfd_open (the relay then polls).
    let pidfd: Int32
    /// The write end of the command's stdin, or -1 when it reads /dev/null.
    let stdin: Int32
    let stdout: Int32
    let stderr: Int32
}

/// Starts the command the way a shell would: `argv[0]` without a slash is searched in the spec's `PATH`,
/// "command not found" is status 127, found but not executable 126.
struct CommandLauncher {
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

    let spec: RunSpec

    func start(log: KernelLog) throws(InitFailure) -> RunningCommand {
        // What the child needs is built before fork, so that on its usual path the child only makes syscalls.
        let argv = CStringArray(spec.argv)
        let environment = CStringArray(spec.environment)
        let candidates = CStringArray(executableCandidates())
        let workingDirectory = CStringArray([spec.workingDirectory])
        let groups = spec.supplementaryGroups.map { gid_t($0) }

        let stdinPipe: (read: Int32, write: Int32)
        if spec.forwardsStdin {
            stdinPipe = try CommandLauncher.makePipe("stdin")
        } else {
            let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if null >= 0 {
                stdinPipe = (null, -1)
            } else {
                // No /dev in the sandbox: a pipe with no writer reads as end of file just the same.
                let pipe = try CommandLauncher.makePipe("stdin")
                close(pipe.write)
                stdinPipe = (pipe.read, -1)
            }
        }
        let stdoutPipe = try CommandLauncher.makePipe("stdout")
        let stderrPipe = try CommandLauncher.makePipe("stderr")

        log.marker(.commandStart)
        let pid = fork()
        if pid < 0 { throw .system("fork") }
        if pid == 0 {
            CommandLauncher.child(
                stdin: stdinPipe.read, stdout: stdoutPipe.write, stderr: stderrPipe.write, groups: groups,
                uid: uid_t(spec.uid), gid: gid_t(spec.gid), workingDirectory: workingDirectory[0]!,
                argv: argv, environment: environment, candidates: candidates)
        }
        close(stdinPipe.read)
        close(stdoutPipe.write)
        close(stderrPipe.write)
        let pidfd = ksand_pidfd_open(pid)
        for fd in [stdinPipe.write, stdoutPipe.read, stderrPipe.read] where fd >= 0 {
            _ = ksand_add_status_flags(fd, O_NONBLOCK)
        }
        return RunningCommand(
            pid: pid, pidfd: pidfd, stdin: stdinPipe.write, stdout: stdoutPipe.read, stderr: stderrPipe.read)
    }

    /// Where `argv[0]` may be: itself when it has a slash, else each `PATH` directory in order.
    private func executableCandidates() -> [String] {
        let command = spec.argv[0]
        if command.contains("/") { return [command] }
        var path = CommandLauncher.defaultPath
        for variable in spec.environment where variable.hasPrefix("PATH=") { path = String(variable.dropFirst(5)) }
        // An empty PATH entry means the working directory, as in a shell.
        return path.split(separator: ":", omittingEmptySubsequences: false).map {
            ($0.isEmpty ? "." : String($0)) + "/" + command
        }
    }

    private static func makePipe(_ name: String) throws(InitFailure) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard ksand_pipe2(&fds, O_CLOEXEC) == 0 else { throw .system("pipe for the command's \(name)") }
        // A larger pipe means fewer wakeups per megabyte of output.
        _ = ksand_set_pipe_size(fds[0], 1 << 20)
        return (fds[0], fds[1])
    }

    /// The forked child: new session, default signals, the pipes on 0/1/2, the spec's identity and directory, exec.
    private static func child(
        stdin: Int32, stdout: Int32, stderr: Int32, groups: [gid_t], uid: uid_t, gid: gid_t,
        workingDirectory: UnsafeMutablePointer<CChar>, argv: CStringArray, environment: CStringArray,
        candidates: CStringArray
    ) -> Never {
        _ = setsid()
        for signal: Int32 in 1..<65 where signal != SIGKILL && signal != SIGSTOP { _ = Glibc.signal(signal, SIG_DFL) }
        var all = sigset_t()
        sigemptyset(&all)
        sigprocmask(SIG_SETMASK, &all, nil)
        // Descriptors 0–2 are always open in the init, so the pipe ends are above them and dup2 cannot clobber one.
        _ = dup2(stdin, 0)
        _ = dup2(stdout, 1)
        _ = dup2(stderr, 2)
        ksand_close_from(3)
        if setgroups(groups.count, groups.isEmpty ? nil : groups) != 0 { fail("setgroups", exitCode: 1) }
        if setgid(gid) != 0 { fail("setgid \(gid)", exitCode: 1) }
        if setuid(uid) != 0 { fail("setuid \(uid)", exitCode: 1) }
        if chdir(workingDirectory) != 0 {
            fail("cannot change directory to \(String(cString: workingDirectory))", exitCode: 1)
        }
        let command = String(cString: argv[0]!)
        var denied: Int32 = 0
        for index in 0..<candidates.count {
            let path = candidates[index]!
            execve(path, argv.pointers, environment.pointers)
            let code = errno
            if code == ENOEXEC {
                // A script without "#!": run it with the shell, as execvp does.
                var shellArgs = ["/bin/sh", String(cString: path)]
                for i in 1..<argv.count { shellArgs.append(String(cString: argv[i]!)) }
                let shellArgv = CStringArray(shellArgs)
                execve("/bin/sh", shellArgv.pointers, environment.pointers)
                fail(String(cString: path), exitCode: 126, errno: code)
            }
            if candidates.count == 1 && command.contains("/") {
                fail(command, exitCode: code == ENOENT || code == ENOTDIR ? 127 : 126, errno: code)
            }
            // Keep searching past a directory that lacks it; remember a match that could not be executed.
            if code != ENOENT && code != ENOTDIR && denied == 0 { denied = code }
        }
        if denied != 0 { fail(command, exitCode: 126, errno: denied) }
        fail(command + ": command not found", exitCode: 127, errno: nil)
    }

    /// `ksand: <what>[: <strerror>]` on the command's stderr, then exit.
    private static func fail(_ what: String, exitCode: Int32, errno code: Int32? = errno) -> Never {
        var message = "ksand: " + what
        if let code { message += ": " + errorText(code) }
        message += "\n"
        message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        _exit(exitCode)
    }
}

/// A NUL-terminated array of C strings for execve. Lives as long as the init (the child execs or exits).
struct CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (index, string) in strings.enumerated() { pointers[index] = strdup(string) }
        pointers[strings.count] = nil
    }

    subscript(index: Int) -> UnsafeMutablePointer<CChar>? { pointers[index] }
}
