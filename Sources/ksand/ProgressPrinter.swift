import Foundation
import KernelBuild
import Synchronization

/// Shows make's progress: a bar redrawn in place on a terminal, a plain line every 30 s otherwise (CI logs).
final class ProgressPrinter: Sendable {
    private struct State {
        var lastLine: ContinuousClock.Instant?
        var drawn = false
    }
    private let state = Mutex(State())
    private let terminal = isatty(STDERR_FILENO) == 1

    func show(_ progress: BuildProgress) {
        state.withLock { state in
            if terminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + progress.bar()).utf8))
                state.drawn = true
            } else {
                let now = ContinuousClock.now
                if let lastLine = state.lastLine, now - lastLine < .seconds(30) { return }
                state.lastLine = now
                FileHandle.standardError.write(Data(("ksand: building: " + progress.line + "\n").utf8))
            }
        }
    }

    /// Ends the bar's line.
    func finish() {
        state.withLock { state in
            if state.drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            state.drawn = false
        }
    }
}
