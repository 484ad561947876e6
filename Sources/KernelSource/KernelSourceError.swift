/// Why a kernel source could not be prepared. Each names the input and what to do.
public enum KernelSourceError: Error, CustomStringConvertible, Equatable {
    case badSeriesLine(file: String, line: Int, text: String, reason: String)
    case patchMissing(series: String, line: Int, path: String)
    case notAPatch(path: String)
    case doesNotApply(patch: String, file: String?, hunk: String?, detail: String)
    /// `patch` makes changes an earlier patch of the series already made: the two are one fix given twice.
    case alreadyAppliedBy(patch: String, earlier: String, sameFile: Bool, detail: String)
    /// `patch` applies to the tree alone, but `earlier` changed the lines it expects.
    case conflictsWith(patch: String, earlier: String, file: String?, hunk: String?, detail: String)
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
            return "patch \(patch) does not apply\(Self.location(file, hunk)): \(detail). The source tree was left unchanged; "
                + "rebase the patch onto this kernel version or drop it from the series"
        case .alreadyAppliedBy(let patch, let earlier, let sameFile, let detail):
            let why = !sameFile ? "\(earlier) and \(patch) change the same lines"
                : earlier == patch ? "\(patch) is given twice" : "\(earlier) is given twice (again as \(patch))"
            return "\(why): the second is already applied by the first; drop one. The source tree was left unchanged. "
                + "(git apply: \(detail))"
        case .conflictsWith(let patch, let earlier, let file, let hunk, let detail):
            let location = [file, hunk.map { "hunk \($0)" }].compactMap { $0 }.joined(separator: ", ")
            return "\(patch) does not apply after \(earlier)\(location.isEmpty ? "" : " (\(location))"): \(earlier) changed the lines it "
                + "expects. Rebase \(patch) onto \(earlier), or drop one. The source tree was left unchanged. (git apply: \(detail))"
        case .sourceMissing(let path):
            return "kernel source \(path) not found. Install it with `apt-get install linux-source-6.1`, or pass --source DIR|TARBALL"
        case .toolFailed(let command, let status, let output):
            return "\(command) failed with status \(status): \(output)"
        }
    }

    /// ` to FILE (hunk H)`, as far as known.
    private static func location(_ file: String?, _ hunk: String?) -> String {
        (file.map { " to \($0)" } ?? "") + (hunk.map { " (hunk \($0))" } ?? "")
    }
}
