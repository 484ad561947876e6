/// Why a kernel source could not be prepared. Each names the input and what to do.
public enum KernelSourceError: Error, CustomStringConvertible, Equatable {
    case badSeriesLine(file: String, line: Int, text: String, reason: String)
    case patchMissing(series: String, line: Int, path: String)
    case notAPatch(path: String)
    case doesNotApply(patch: String, file: String?, hunk: String?, detail: String)
    case sourceMissing(path: String)
    case toolFailed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .badSeriesLine(let file, let line, let text, let reason):
            return "\(file):\(line): \(reason): \(text)"
        case .patchMissing(let series, let line, let path):
            return "\(series):\(line): patch \(path) does not exist; fix the series or add the file"
        case .notAPatch(let path):
            return "\(path) is not a patch: no unified-diff hunks found (a corrupt or truncated file?). "
                + "Regenerate it with `git format-patch` or `diff -u`"
        case .doesNotApply(let patch, let file, let hunk, let detail):
            var where_ = ""
            if let file { where_ += " to \(file)" }
            if let hunk { where_ += " (hunk \(hunk))" }
            return "patch \(patch) does not apply\(where_): \(detail). The source tree was left unchanged; "
                + "rebase the patch onto this kernel version or drop it from the series"
        case .sourceMissing(let path):
            return "kernel source \(path) not found. Install it with `apt-get install linux-source-6.1`, or pass --source DIR|TARBALL"
        case .toolFailed(let command, let status, let output):
            return "\(command) failed with status \(status): \(output)"
        }
    }
}
