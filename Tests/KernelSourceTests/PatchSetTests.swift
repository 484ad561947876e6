import Foundation
import Testing
import ToolRunner
@testable import KernelSource

/// A git repository with a base commit and three commits on it, the way a patch series is made.
final class SeriesRepository {
    static let longSubject = "md: a subject so long that git format-patch has to fold it over two header lines to keep them short"
    static let utf8Subject = "docs: credit René Müller for the résumé"

    let root: URL
    var path: String { root.path }

    private init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-series-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    static func make() async throws -> SeriesRepository {
        let repository = try SeriesRepository()
        try await repository.git("init", "-q", "-b", "main")
        try repository.write("a.c", (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n")
        try await repository.commit("base", tag: "base")
        try repository.write("a.c", (1...20).map { $0 == 3 ? "line three" : "line \($0)" }.joined(separator: "\n") + "\n")
        // A body line starting with "From " must not split the mail.
        try await repository.commit("a.c: spell out line three\n\nFrom now on the third line is a word.")
        try repository.write("b.c", "new file\n")
        try await repository.commit(longSubject)
        try repository.write("a.c", (1...20).map { $0 == 3 ? "line three" : $0 == 15 ? "line fifteen" : "line \($0)" }.joined(separator: "\n") + "\n")
        try await repository.commit(utf8Subject, author: "René Müller <rene@example.org>")
        return repository
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(to: root.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func commit(_ message: String, author: String = "Ada Lovelace <ada@example.org>", tag: String? = nil) async throws {
        try await git("add", "-A")
        try await git("commit", "-q", "--author", author, "-m", message)
        if let tag { try await git("tag", tag) }
    }

    @discardableResult
    func git(_ arguments: String...) async throws -> Data {
        let run = try await Tool.run("git", ["-C", path, "-c", "user.name=ksand tests", "-c", "user.email=tests@example.org",
                                             "-c", "commit.gpgsign=false"] + arguments)
        guard run.status == 0 else { throw SeriesRepositoryError(arguments: arguments, output: run.errorText) }
        return run.stdout
    }
}

struct SeriesRepositoryError: Error { var arguments: [String]; var output: String }

@Suite struct PatchSetTests {
    static let subjects = ["a.c: spell out line three", SeriesRepository.longSubject, SeriesRepository.utf8Subject]

    @Test func readsAGitFormatPatchMboxWithACoverLetter() async throws {
        let repository = try await SeriesRepository.make()
        let mbox = try await repository.git("format-patch", "--cover-letter", "--stdout", "-v2", "base..main")
        // The real output folds the long subject and encodes the UTF-8 one, which is what this test is about.
        let text = String(decoding: mbox, as: UTF8.self)
        #expect(text.contains("Subject: [PATCH v2 2/3] md: a subject so long that git format-patch has to\n fold it over"))
        #expect(text.contains("Subject: [PATCH v2 3/3] =?UTF-8?q?docs:=20credit=20Ren=C3=A9=20M=C3=BCller?=\n =?UTF-8?q?"))

        let series = try PatchSet(mbox: [UInt8](mbox), source: "series.mbox")
        #expect(series.patches.map(\.subject) == Self.subjects)
        #expect(series.patches.map(\.index) == [1, 2, 3])
        #expect(series.version == 2)
        #expect(series.coverLetter == "*** SUBJECT HERE ***")
        #expect(series.patches.map(\.author) == ["Ada Lovelace <ada@example.org>", "Ada Lovelace <ada@example.org>", "René Müller <rene@example.org>"])
        #expect(String(decoding: series.patches[0].message, as: UTF8.self).contains("From now on the third line is a word."))
        let commits = String(decoding: try await repository.git("rev-list", "--reverse", "base..main"), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(series.patches.map(\.commit) == commits)
    }

    @Test func patchesOutOfOrderInTheMboxAreOrderedByNumber() async throws {
        let repository = try await SeriesRepository.make()
        let messages = Mailbox.messages(in: [UInt8](try await repository.git("format-patch", "--stdout", "base..main")))
        let shuffled = [messages[2], messages[0], messages[1]].flatMap(\.bytes)
        #expect(try PatchSet(mbox: shuffled, source: "s").patches.map(\.subject) == Self.subjects)
    }

    @Test func incompleteOrMixedSeriesAreRefusedWithWhatIsWrong() async throws {
        let repository = try await SeriesRepository.make()
        let messages = Mailbox.messages(in: [UInt8](try await repository.git("format-patch", "--stdout", "base..main")))
        let v2 = Mailbox.messages(in: [UInt8](try await repository.git("format-patch", "--stdout", "-v2", "base..main")))
        let fourPatches = Mailbox.messages(in: [UInt8](try await repository.git("format-patch", "--stdout", "--start-number", "4", "base~0..main~1")))

        let missing = #expect(throws: PatchSetError.self) { try PatchSet(mbox: (messages[0].bytes + messages[2].bytes), source: "s.mbox") }
        #expect(missing == .missingPatches(source: "s.mbox", numbers: [2], total: 3))
        #expect(missing?.description.hasPrefix("s.mbox: patch 2/3 is missing; fetch the whole series again") == true)

        let twice = #expect(throws: PatchSetError.self) { try PatchSet(mbox: messages.flatMap(\.bytes) + messages[1].bytes, source: "s.mbox") }
        #expect(twice == .duplicatePatch(source: "s.mbox", number: 2, total: 3, subjects: [SeriesRepository.longSubject, SeriesRepository.longSubject]))
        #expect(twice?.description.hasPrefix("s.mbox: 2 messages are patch 2/3") == true)

        #expect(throws: PatchSetError.mixedVersions(source: "s", versions: [1, 2])) {
            try PatchSet(mbox: messages[0].bytes + v2[1].bytes + messages[2].bytes, source: "s")
        }
        // format-patch numbers the two commits 4/5 and 5/5.
        #expect(throws: PatchSetError.mixedTotals(source: "s", totals: [3, 5])) {
            try PatchSet(mbox: messages.flatMap(\.bytes) + fourPatches[0].bytes, source: "s")
        }
        #expect(throws: PatchSetError.noPatches(source: "s", messages: 1)) {
            try PatchSet(mbox: Array("From x@y Thu Jan  1 00:00:00 1998\nSubject: [PATCH 0/1] cover\n\nno diff here\n".utf8), source: "s")
        }
        #expect(throws: PatchSetError.noPatches(source: "s", messages: 0)) { try PatchSet(mbox: [], source: "s") }
    }

    @Test func aLonePatchWithoutNumberIsASeriesOfOneAndRepliesAreSkipped() async throws {
        let repository = try await SeriesRepository.make()
        let lone = [UInt8](try await repository.git("format-patch", "--stdout", "main~1..main"))
        #expect(String(decoding: lone, as: UTF8.self).contains("Subject: [PATCH] =?UTF-8?q?docs:"))
        let reply = String(decoding: lone, as: UTF8.self).replacingOccurrences(of: "Subject: [PATCH] ", with: "Subject: Re: [PATCH] ")
        let coverReply = Array("From x@y Thu Jan  1 00:00:00 1998\nSubject: Re: [PATCH 0/1] a cover\n\nthanks\n".utf8)
        let series = try PatchSet(mbox: coverReply + lone + Array(reply.utf8), source: "s")
        #expect(series.coverLetter == nil)
        #expect(series.patches.map(\.subject) == [SeriesRepository.utf8Subject])
        #expect(series.patches.map(\.index) == [1])
    }

    @Test func readsADirectoryOfFormatPatchFiles() async throws {
        let repository = try await SeriesRepository.make()
        let directory = repository.root.appendingPathComponent("out").path
        try await repository.git("format-patch", "--cover-letter", "-q", "-o", directory, "base..main")
        try "not a patch".write(toFile: directory + "/README", atomically: true, encoding: .utf8)
        let series = try PatchSet(formatPatchDirectory: directory)
        #expect(series.patches.map(\.subject) == Self.subjects)
        #expect(series.patches.map(\.file).allSatisfy { $0?.hasPrefix(directory + "/000") == true })
        #expect(series.coverLetter == nil)  // skipped by its name, 0000-cover-letter.patch

        // A later version's files are named v2-0001-...patch.
        let v2 = repository.root.appendingPathComponent("v2").path
        try await repository.git("format-patch", "--cover-letter", "-q", "-v2", "-o", v2, "base..main")
        #expect(try FileManager.default.contentsOfDirectory(atPath: v2).contains("v2-0000-cover-letter.patch"))
        let second = try PatchSet(formatPatchDirectory: v2)
        #expect(second.patches.map(\.subject) == Self.subjects)
        #expect(second.version == 2)
        #expect(PatchSet.formatPatchNumber("v12-0003-x.patch") == 3 && PatchSet.formatPatchNumber("v-0003-x.patch") == nil)
        #expect(PatchSet.formatPatchNumber("003-x.patch") == nil && PatchSet.formatPatchNumber("0003-x.diff") == nil)

        let empty = repository.root.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        #expect(throws: PatchSetError.noPatchFiles(directory: empty)) { try PatchSet(formatPatchDirectory: empty) }
    }

    @Test func readsTheShippedQuiltSeries() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let seriesFile = root.appendingPathComponent("patches/series").path
        let series = try PatchSet(quiltSeries: seriesFile)
        let entries = try PatchSeries(parsing: try String(contentsOfFile: seriesFile, encoding: .utf8), source: seriesFile).entries
        #expect(series.patches.map(\.index) == Array(1...entries.count))
        #expect(series.patches.allSatisfy { !$0.subject.isEmpty && !$0.subject.hasPrefix("[") && $0.file != nil })
        #expect(throws: PatchSetError.unreadable(path: "/nonexistent/series", reason: "no such file")) {
            try PatchSet(quiltSeries: "/nonexistent/series")
        }
    }

    @Test func readsARangeOfCommitsOldestFirst() async throws {
        let repository = try await SeriesRepository.make()
        let series = try await PatchSet(gitTree: repository.path, range: "base..main")
        #expect(series.patches.map(\.subject) == Self.subjects)
        #expect(series.source == "\(repository.path) base..main")
        #expect(series.patches.allSatisfy { $0.file == nil && $0.commit != nil })
        let base = String(decoding: try await repository.git("rev-parse", "base"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(series.baseCommit == base && base.count == 40)

        // Its prefixes apply, one after the other, to the base.
        let tree = repository.root.appendingPathComponent("tree").path
        try await repository.git("worktree", "add", "-q", "--detach", tree, "base")
        let scratch = repository.root.appendingPathComponent("scratch").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let outcome = try await PatchApplier().apply(try series.applierPatches(2, writingTo: scratch), to: tree)
        #expect(outcome.applied.count == 2)
        #expect(try String(contentsOfFile: tree + "/b.c", encoding: .utf8) == "new file\n")
    }

    @Test func aBadRangeOrANonGitDirectoryIsNamed() async throws {
        let repository = try await SeriesRepository.make()
        let badRange = await #expect(throws: PatchSetError.self) { try await PatchSet(gitTree: repository.path, range: "nope..main") }
        guard case .badRange(let tree, let range, _) = badRange else { Issue.record("got \(String(describing: badRange))"); return }
        #expect(tree == repository.path && range == "nope..main")
        #expect(badRange?.description.contains("is not a range of commits in \(repository.path)") == true)
        await #expect(throws: PatchSetError.emptyRange(tree: repository.path, range: "main..base")) {
            try await PatchSet(gitTree: repository.path, range: "main..base")
        }
        let notGit = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-not-git-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: notGit, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: notGit) }
        let error = await #expect(throws: PatchSetError.self) { try await PatchSet(gitTree: notGit, range: "a..b") }
        guard case .notAGitTree(let directory, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(directory == notGit)
    }
}

@Suite struct TouchedFilesTests {
    func patch(_ text: String, strip: Int = 1) -> PatchSet.Patch {
        PatchSet.Patch(index: 1, subject: "s", message: Array(text.utf8), strip: strip)
    }

    @Test func namesEveryFileTheDiffChanges() {
        let text = """
            From 1 Mon Sep 17 00:00:00 2001
            Subject: [PATCH] two files, one renamed, one new
            ---
            diff --git a/drivers/md/md.c b/drivers/md/md.c
            index 1..2 100644
            --- a/drivers/md/md.c
            +++ b/drivers/md/md.c
            @@ -1,3 +1,3 @@
             context
            --- a removed line that reads like a header
            +++ an added line that reads like one
             context
            diff --git a/old.c b/new.c
            similarity index 90%
            rename from old.c
            rename to new.c
            diff --git a/init/new.c b/init/new.c
            new file mode 100644
            --- /dev/null
            +++ b/init/new.c
            @@ -0,0 +1 @@
            +int x;
            """
        #expect(patch(text).touchedFiles == ["drivers/md/md.c", "old.c", "new.c", "init/new.c"])
    }

    @Test func aPlainDiffWithAnotherStripLevel() {
        let text = "--- linux.orig/kernel/a.c\t2024-01-01\n+++ linux/kernel/a.c\t2024-01-02\n@@ -1 +1 @@\n-a\n+b\n"
        #expect(patch(text).touchedFiles == ["kernel/a.c"])
        #expect(patch(text, strip: 0).touchedFiles == ["linux.orig/kernel/a.c", "linux/kernel/a.c"])
    }

    /// Found by fuzzing: `a//dev/null` stripped of `a/` is an absolute path, outside any tree.
    @Test func pathsOutsideTheTreeAreNotFilesItTouches() {
        let text = "--- a//dev/null\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\nrename from /abs\n"
        #expect(patch(text).touchedFiles.isEmpty)
    }
}
