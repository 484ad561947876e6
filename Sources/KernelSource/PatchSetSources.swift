import Foundation
import HostProcess

extension PatchSet {
    /// Reads an mbox file holding one series (see ``init(mbox:source:)``).
    public init(mboxFile path: String) throws(PatchSetError) {
        try self.init(mbox: try PatchFiles.read(path), source: path)
    }

    /// Reads a directory of `git format-patch` files: `NNNN-name.patch` (`vN-NNNN-name.patch` for a version after
    /// the first) in name order, the cover letter (`0000-cover-letter.patch`, or any patch numbered 0/m) left out.
    /// Other files are ignored.
    public init(formatPatchDirectory directory: String) throws(PatchSetError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .unreadable(path: directory, reason: "not a readable directory")
        }
        let patchFiles = names.filter(Self.isFormatPatchName).sorted()
        guard !patchFiles.isEmpty else { throw .noPatchFiles(directory: directory) }
        var mails: [MailPatch] = []
        for name in patchFiles where Self.formatPatchNumber(name) != 0 {
            let path = directory + "/" + name
            let bytes = try PatchFiles.read(path)
            mails.append(MailPatch(message: bytes, commit: Mailbox.messages(in: bytes).first?.commit, file: path))
        }
        try self.init(mails: mails, source: directory)
    }

    /// `0001-md-fix-the-resync-check.patch`, `v2-0001-md-fix-the-resync-check.patch`.
    static func isFormatPatchName(_ name: String) -> Bool { formatPatchNumber(name) != nil }

    /// NNNN of `[vN-]NNNN-name.patch` (four or more digits), or nil for another name.
    static func formatPatchNumber(_ name: String) -> Int? {
        guard name.hasSuffix(".patch") else { return nil }
        var rest = Substring(name)
        if rest.first == "v", let dash = rest.firstIndex(of: "-"), rest[rest.index(after: rest.startIndex)..<dash].allSatisfy(\.isASCIIDigit),
           dash > rest.index(after: rest.startIndex) {
            rest = rest[rest.index(after: dash)...]
        }
        let digits = rest.prefix(while: \.isASCIIDigit)
        guard digits.count >= 4, rest.dropFirst(digits.count).hasPrefix("-") else { return nil }
        return Int(digits)
    }

    /// The commits `range` (`BASE..HEAD`) holds in the git tree at `tree`, one patch per commit, oldest first,
    /// as `git format-patch` writes them. Merge commits are refused: they are not patches.
    public init(gitTree tree: String, range: String, git: String = "git") async throws(PatchSetError) {
        let inside = try await Self.git(git, ["rev-parse", "--is-inside-work-tree"], in: tree)
        guard inside.status == 0 else { throw .notAGitTree(directory: tree, output: inside.output) }
        guard range.contains(".."), !range.contains("...") else {
            throw .badRange(tree: tree, range: range, output: "expected BASE..HEAD")
        }
        let listed = try await Self.git(git, ["rev-list", "--reverse", "--parents", range, "--"], in: tree)
        guard listed.status == 0 else { throw .badRange(tree: tree, range: range, output: listed.output) }
        // Each line: the commit, then its parents. Anything else (a warning on stderr) is not a commit.
        let commits = listed.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .filter { $0.allSatisfy { $0.count >= 40 && $0.allSatisfy(\.isHexDigit) } && !$0.isEmpty }
        guard !commits.isEmpty else { throw .emptyRange(tree: tree, range: range) }
        if let merge = commits.first(where: { $0.count > 2 }) { throw .mergeInRange(tree: tree, range: range, commit: merge[0]) }

        // Written to files rather than read from standard output: the bytes stay exact (a diff need not be UTF-8)
        // and nothing git says on standard error can mix into them.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-format-patch-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // Unnumbered, so a commit's patch has the same bytes whichever range it is taken from (a prefix built once
        // is found in the cache by `git bisect run` later); no cover letter, no signature, and a/ b/ prefixes
        // whatever the user's configuration says. The files' names keep the order.
        let arguments = ["-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false", "format-patch", "--no-numbered",
                         "--no-cover-letter", "--no-signature", "--binary", "-o", scratch, range, "--"]
        let written = try await Self.git(git, arguments, in: tree)
        guard written.status == 0 else {
            throw .gitFailed(command: "git -C \(tree) " + arguments.joined(separator: " "), status: written.status, output: written.output)
        }
        var set = try PatchSet(formatPatchDirectory: scratch)
        set.source = "\(tree) \(range)"
        set.baseCommit = commits[0].count > 1 ? commits[0][1] : nil
        guard set.patches.map(\.commit) == commits.map({ Optional($0[0]) }) else {
            throw .gitFailed(command: "git -C \(tree) format-patch \(range)", status: 0,
                             output: "wrote \(set.patches.count) patches for the \(commits.count) commits of the range")
        }
        // The files are gone once this returns; the patches live on as their bytes.
        for index in set.patches.indices { set.patches[index].file = nil }
        self = set
    }

    /// A quilt `series` file's patches, in its order; a mail's subject is read from it, a plain diff's subject is
    /// its file name.
    public init(quiltSeries seriesFile: String) throws(PatchSetError) {
        let text = String(decoding: try PatchFiles.read(seriesFile), as: UTF8.self)
        let files: [PatchApplier.Patch]
        do {
            files = try PatchApplier.patches(in: try PatchSeries(parsing: text, source: seriesFile), seriesFile: seriesFile)
        } catch {
            throw .quiltSeries(error)
        }
        var patches: [Patch] = []
        for (offset, file) in files.enumerated() {
            let bytes = try PatchFiles.read(file.path)
            let (headers, _) = MailHeaders.parse(bytes)
            let title = headers["Subject"].map { PatchSubject(parsing: $0).title } ?? (file.path as NSString).lastPathComponent
            patches.append(Patch(index: offset + 1, subject: title, author: headers["From"], commit: Mailbox.messages(in: bytes).first?.commit,
                                 message: bytes, file: file.path, strip: file.strip))
        }
        self.init(source: seriesFile, patches: patches)
    }

    private static func git(_ git: String, _ arguments: [String], in tree: String) async throws(PatchSetError) -> HostCommand.Captured {
        do {
            return try await HostCommand(git, ["-C", tree] + arguments).capture()
        } catch {
            throw .gitFailed(command: "\(git) -C \(tree) " + arguments.joined(separator: " "), status: -1, output: error.reason)
        }
    }
}

/// Whole files as bytes, with errors that name them.
enum PatchFiles {
    static func read(_ path: String) throws(PatchSetError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .unreadable(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: isDirectory.boolValue ? "a directory, not a file" : "permission denied or not a regular file")
        }
        return [UInt8](data)
    }

    static func write(_ bytes: [UInt8], to path: String) throws(PatchSetError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw .unreadable(path: path, reason: "cannot be written (does its directory exist and is it writable?)")
        }
    }
}
