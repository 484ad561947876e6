// Results carry console lines and timelines: users of Sandbox get those types without a second import.
@_exported import BootTimeline
import QEMU
import SandboxProtocol

/// How a sandbox run ended, with what was measured on the way.
public struct SandboxResult: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The command ran and ended; its status is the sandbox's.
        case completed(CommandExit)
        /// The guest kernel panicked; the reason from its console.
        case guestPanic(String)
        /// The guest never ran the command (init failed, the kernel stopped early, QEMU died); why.
        case bootFailed(String)
        /// The timeout fired before the command ended.
        case timedOut(seconds: Double)
        /// ksand was interrupted (SIGINT, SIGTERM, SIGHUP) before the command ended.
        case interrupted
        /// The guest broke the command channel's protocol (a malformed or out-of-order frame, a value out of
        /// range); the VM was stopped. The error says what arrived.
        case protocolError(String)
    }

    public var outcome: Outcome
    public var timeline: Timeline
    /// The last console lines, for showing when something went wrong.
    public var consoleTail: [String]
    /// The console lines kept in memory, with their host arrival times: the whole boot, the lines the timeline
    /// recognises, and the most recent ones (see ``ConsoleRetention``); the log file has them all.
    public var consoleLines: [ConsoleLine]
    /// How many console lines arrived in all, and how many of them ``consoleLines`` does not hold.
    public var consoleLineCount = 0
    public var consoleLinesDropped = 0
    /// How QEMU was stopped, when ksand had to stop it (timeout, interrupt, a guest that did not power off).
    public var stopReport: StopReport?
    /// What QEMU wrote to its stderr (trimmed).
    public var qemuStderr: String
    public var accelerator: QEMUCommandLine.Accelerator
}
