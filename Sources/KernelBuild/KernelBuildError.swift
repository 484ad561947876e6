import Foundation
import KernelConfig
import KernelSource

/// Why a kernel could not be configured or built. Each names the input at fault and what to do.
public enum KernelBuildError: Error, CustomStringConvertible {
    /// A patch or the series file is at fault; the source tree was left as it was.
    case source(KernelSourceError)
    /// A base or fragment file cannot be read or parsed.
    case badConfigInput(path: String, reason: String)
    /// Symbols the fragments asked for did not survive `make olddefconfig`, each with why and the fix.
    case configRejected([Explanation], configPath: String)
    /// A tool (tar, cp, make, gcc) is missing or failed outside the build itself.
    case toolFailed(command: String, status: Int32, output: String)
    /// `make` failed: the last lines of its output and the full log.
    case makeFailed(target: String, status: Int32, tail: [String], logPath: String)
    /// The build was interrupted; nothing was added to the cache.
    case interrupted(step: String)
    /// No cached kernel matches the current inputs (for `--kernel built`).
    case notBuilt(project: String?)
    /// A cache file could not be written.
    case io(what: String, path: String, reason: String)

    public var description: String {
        switch self {
        case .source(let error):
            return error.description
        case .badConfigInput(let path, let reason):
            return "config input \(path): \(reason)"
        case .configRejected(let explanations, let configPath):
            let lines = explanations.map { "  - " + $0.description }.joined(separator: "\n")
            return "\(explanations.count) requested config symbol\(explanations.count == 1 ? "" : "s") did not survive "
                + "`make olddefconfig` (final config: \(configPath)):\n\(lines)\n"
                + "Fix the fragments in kernel-config/ (or the ones passed with --fragment) and build again."
        case .toolFailed(let command, let status, let output):
            let detail = output.trimmingCharacters(in: .whitespacesAndNewlines)
            return "`\(command)` failed (status \(status))" + (detail.isEmpty ? "" : ": " + detail)
        case .makeFailed(let target, let status, let tail, let logPath):
            return "`make \(target)` failed with status \(status). Last \(tail.count) lines of the log:\n"
                + tail.map { "  | " + $0 }.joined(separator: "\n") + "\nfull log: \(logPath)"
        case .interrupted(let step):
            return "interrupted while \(step); the cache was left without a partial kernel"
        case .notBuilt(let project):
            return "no built kernel matches the current kernel source, patches and config"
                + (project.map { " of \($0)" } ?? "") + "; run `ksand kernel build` first"
        case .io(let what, let path, let reason):
            return "\(what) \(path): \(reason)"
        }
    }
}
