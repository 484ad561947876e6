import Foundation
import Sandbox

/// ksand's own exit statuses. Only the CLI maps results and errors to them.
enum KsandExitCode: Int32 {
    case guestPanic = 120
    case bootFailure = 121
    case timeout = 124
    case setupError = 125
    case interrupted = 130

    /// The status `ksand run` exits with for a result.
    static func status(for outcome: SandboxResult.Outcome) -> Int32 {
        switch outcome {
        case .completed(let exit): return exit.shellStatus
        case .guestPanic: return guestPanic.rawValue
        case .bootFailed: return bootFailure.rawValue
        case .timedOut: return timeout.rawValue
        case .interrupted: return interrupted.rawValue
        }
    }
}

/// Writes a line to stderr, prefixed with `ksand: `.
func report(_ message: String) {
    FileHandle.standardError.write(Data(("ksand: " + message + "\n").utf8))
}
