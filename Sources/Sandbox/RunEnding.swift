import Foundation
import SandboxProtocol

/// What the runner saw of how a run ended; ``outcome()`` decides what the run's result is.
///
/// Several endings can happen in one run (the command exits, then a timeout fires while the guest powers off; the
/// guest sends garbage, then panics), so the order is fixed here, and each rule says why it wins:
/// 1. The exit status arrived before any stop began: that is what the command did, whatever came later.
/// 2. The kernel panicked: the most specific account of a guest that went wrong.
/// 3. A timeout or an interrupt started the stop: the user's limit or request ended the run.
/// 4. The init reported a failure: its own words about what went wrong.
/// 5. The guest broke the command channel's protocol (the VM was stopped for it).
/// 6. QEMU failed before the guest printed anything: a host-side error (thrown, not a result).
/// 7. Otherwise the VM stopped without running the command, and how far it got says where to look, with the kernel's
///    last word (`reboot: System halted`) when it printed one.
struct RunEnding: Sendable, Equatable {
    var exit: CommandExit?
    var exitArrivedFirst = false
    var stopReason: RunControl.StopReason?
    var panicReason: String?
    var initFailure: String?
    var protocolError: String?
    /// Whether the guest printed no console line at all.
    var consoleEmpty = false
    /// QEMU's exit code, when it exited (nil when a signal ended it).
    var qemuExitCode: Int32?
    /// QEMU's termination, as text for messages.
    var qemuTermination = ""
    var qemuStderr = ""
    var sawHello = false
    var initStarted = false
    /// The kernel's power-off, halt or restart line, when the console carried one.
    var kernelEndLine: String?
    var timeoutSeconds: Double = 0

    func outcome() throws(SandboxError) -> SandboxResult.Outcome {
        if let exit, exitArrivedFirst || stopReason == nil { return .completed(exit) }
        if let panicReason { return .guestPanic(panicReason) }
        switch stopReason {
        case .timeout: return .timedOut(seconds: timeoutSeconds)
        case .interrupt: return .interrupted
        case .protocolError, nil: break
        }
        if let initFailure { return .bootFailed("the guest init failed: \(initFailure)") }
        if let protocolError { return .protocolError(protocolError) }
        let stderr = qemuStderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if consoleEmpty, let code = qemuExitCode, code != 0 {
            throw .qemuFailed(status: "exit status \(code)", stderr: stderr)
        }
        let how = sawHello ? "after the init started, before the command ended"
            : initStarted ? "after the init started, before it reached the command channel (its error is among the console lines)"
            : "before the guest init started"
        let kernel = kernelEndLine.map { "the kernel printed \"\($0)\"; " } ?? ""
        return .bootFailed("the VM stopped \(how) (\(kernel)QEMU \(qemuTermination))" + (stderr.isEmpty ? "" : ": " + stderr))
    }
}
