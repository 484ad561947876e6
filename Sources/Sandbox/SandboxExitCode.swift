/// The exit statuses `ksand run` uses besides the command's own. Documented in `ksand --help` and the README.
public enum SandboxExitCode: Int32, CaseIterable, Sendable {
    /// The guest kernel panicked.
    case guestPanic = 120
    /// The guest never ran the command: the kernel stopped early, the init failed, QEMU died.
    case bootFailure = 121
    /// The guest broke the command channel's protocol; the VM was stopped.
    case protocolError = 122
    /// `--timeout` expired.
    case timeout = 124
    /// A host-side setup error: bad option or sandbox name, missing kernel, QEMU missing, a runtime or cache
    /// directory that is not the caller's own.
    case setupError = 125
    /// ksand was interrupted (SIGINT, SIGTERM or SIGHUP) and stopped the VM.
    case interrupted = 130

    /// The status for a run's outcome: the command's own status (a signal as 128+n), or one of the codes above.
    public static func status(for outcome: SandboxResult.Outcome) -> Int32 {
        switch outcome {
        case .completed(let exit): return exit.shellStatus
        case .guestPanic: return guestPanic.rawValue
        case .bootFailed: return bootFailure.rawValue
        case .timedOut: return timeout.rawValue
        case .interrupted: return interrupted.rawValue
        case .protocolError: return protocolError.rawValue
        }
    }
}
