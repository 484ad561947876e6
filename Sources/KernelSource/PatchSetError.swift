/// Why a patch series (an mbox, a directory of `git format-patch` files, a range of commits) could not be read as
/// one series. Each names the input, what is wrong with it and what to do.
public enum PatchSetError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    /// The input holds no message with a diff; `messages` were read (cover letters, replies, notes).
    case noPatches(source: String, messages: Int)
    case missingPatches(source: String, numbers: [Int], total: Int)
    case duplicatePatch(source: String, number: Int, total: Int, subjects: [String])
    case numberBeyondTotal(source: String, number: Int, total: Int, subject: String)
    case mixedTotals(source: String, totals: [Int])
    case mixedVersions(source: String, versions: [Int])
    /// A message with a diff but no `n/m` among numbered ones: which place it takes is unknown.
    case unnumberedPatch(source: String, subject: String)
    case noPatchFiles(directory: String)
    case notAGitTree(directory: String, output: String)
    case badRange(tree: String, range: String, output: String)
    case emptyRange(tree: String, range: String)
    case mergeInRange(tree: String, range: String, commit: String)
    case gitFailed(command: String, status: Int32, output: String)
    /// A quilt `series` file that does not parse or names a patch that is not there.
    case quiltSeries(KernelSourceError)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .noPatches(let source, let messages):
            return "\(source) holds no patch: \(messages == 0 ? "no mail message in it" : "none of its \(messages) messages has a diff")"
                + ". Give an mbox from `b4 am` or `git format-patch --stdout`, or a directory of `git format-patch` files"
        case .missingPatches(let source, let numbers, let total):
            let list = numbers.map { "\($0)/\(total)" }.joined(separator: ", ")
            return "\(source): patch\(numbers.count == 1 ? "" : "es") \(list) \(numbers.count == 1 ? "is" : "are") missing; "
                + "fetch the whole series again (`b4 am` with the cover letter's message ID) or add the missing mails"
        case .duplicatePatch(let source, let number, let total, let subjects):
            return "\(source): \(subjects.count) messages are patch \(number)/\(total) ("
                + subjects.map { "\"\($0)\"" }.joined(separator: ", ") + "); keep one of them (two versions of the series mixed?)"
        case .numberBeyondTotal(let source, let number, let total, let subject):
            return "\(source): \"\(subject)\" is numbered \(number)/\(total), beyond the series' \(total) patches; fix its subject"
        case .mixedTotals(let source, let totals):
            return "\(source) mixes series of " + totals.map(String.init).joined(separator: ", ")
                + " patches ([PATCH n/m] with different m); keep the mails of one series only"
        case .mixedVersions(let source, let versions):
            return "\(source) mixes versions " + versions.map { "v\($0)" }.joined(separator: ", ")
                + " of a series; keep the mails of one version only"
        case .unnumberedPatch(let source, let subject):
            return "\(source): \"\(subject)\" has a diff but no [PATCH n/m] number while other patches have one; "
                + "number it, or remove it from the series"
        case .noPatchFiles(let directory):
            return "\(directory) holds no `git format-patch` files (NNNN-name.patch); write them with "
                + "`git format-patch -o \(directory) BASE..HEAD`"
        case .notAGitTree(let directory, let output):
            return "\(directory) is not a git tree (\(output.trimmingLineEnds)); give the kernel tree's directory, "
                + "or clone it with `git clone`"
        case .badRange(let tree, let range, let output):
            return "\(range) is not a range of commits in \(tree) (\(output.trimmingLineEnds)); give BASE..HEAD with two "
                + "commits, branches or tags of that tree (`git -C \(tree) log --oneline` lists them)"
        case .emptyRange(let tree, let range):
            return "\(range) in \(tree) holds no commits; BASE must be an ancestor of HEAD (BASE..HEAD are the commits "
                + "after BASE up to HEAD)"
        case .mergeInRange(let tree, let range, let commit):
            return "\(range) in \(tree) has the merge commit \(commit), which is no patch; validate a linear range "
                + "(rebase it, or give the range on one side of the merge)"
        case .gitFailed(let command, let status, let output):
            return "`\(command)` failed with status \(status): \(output.trimmingLineEnds)"
        case .quiltSeries(let error):
            return error.description
        }
    }
}

extension String {
    fileprivate var trimmingLineEnds: String {
        var text = Substring(self)
        while text.last == "\n" || text.last == "\r\n" || text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
