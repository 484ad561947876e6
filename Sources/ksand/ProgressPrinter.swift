import Foundation
import KernelBuild

/// Shows make's progress: a bar redrawn in place on a terminal, a plain line every 30 s otherwise (CI logs).
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private let terminal = isatty(STDERR_FILENO) == 1
    private var lastLine: ContinuousClock.Instant?
    private var drawn = false

    func show(_ progress: BuildProgress) {
        lock.withLock {
            if terminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + progress.bar()).utf8))
                drawn = true
            } else {
                let now = ContinuousClock.now
                if let lastLine, now - lastLine < .seconds(30) { return }
                lastLine = now
                FileHandle.standardError.write(Data(("ksand: building: " + progress.line + "\n").utf8))
            }
        }
    }

    /// Ends the bar's line.
    func finish() {
        lock.withLock {
            if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            drawn = false
        }
    }
}
