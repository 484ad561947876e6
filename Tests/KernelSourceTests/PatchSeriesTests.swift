import Foundation
import ToolRunner
import Testing
@testable import KernelSource

@Suite struct PatchSeriesTests {
    @Test func parsesQuiltSeriesWithCommentsAndStripLevels() throws {
        let series = try PatchSeries(parsing: """
            # the default kernel's patches
            0001-md-fix.patch
              0002-other.patch -p0   # trailing comment

            sub/0003.patch\t-p2
            """, source: "patches/series")
        #expect(series.entries == [
            .init(path: "0001-md-fix.patch", strip: 1, line: 2),
            .init(path: "0002-other.patch", strip: 0, line: 3),
            .init(path: "sub/0003.patch", strip: 2, line: 5),
        ])
    }

    /// Found by fuzzing (Fuzz/regressions/series): "\r\n" is a single Character, so a series with CRLF line ends was
    /// one line, and its one entry a path with line breaks in it.
    @Test func crlfLineEndsAndCombiningMarksDoNotHideDelimiters() throws {
        let series = try PatchSeries(parsing: "0001-a.patch\r\n0002-b.patch -p0\r\n#\u{301} a comment\r\n", source: "s")
        #expect(series.entries == [.init(path: "0001-a.patch", strip: 1, line: 1), .init(path: "0002-b.patch", strip: 0, line: 2)])
        #expect(throws: KernelSourceError.badSeriesLine(file: "s", line: 1, text: "a.patch \u{301}-p1", reason: "unknown option \u{301}-p1; only -pN is understood")) {
            try PatchSeries(parsing: "a.patch \u{301}-p1\r\n", source: "s")
        }
    }

    @Test func unknownOptionNamesFileLineAndOption() {
        #expect(throws: KernelSourceError.badSeriesLine(file: "s", line: 1, text: "a.patch -R", reason: "unknown option -R; only -pN is understood")) {
            try PatchSeries(parsing: "a.patch -R", source: "s")
        }
    }

    @Test func missingPatchFileIsReportedWithItsSeriesLine() throws {
        let series = try PatchSeries(parsing: "# x\nnope.patch\n", source: "/tmp/series")
        #expect(throws: KernelSourceError.patchMissing(series: "/tmp/series", line: 2, path: "/tmp/nope.patch")) {
            try PatchApplier.patches(in: series, seriesFile: "/tmp/series")
        }
    }

    @Test func theShippedSeriesNamesExistingPatches() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let seriesFile = root.appendingPathComponent("patches/series").path
        let series = try PatchSeries(parsing: try String(contentsOfFile: seriesFile, encoding: .utf8), source: seriesFile)
        let patches = try PatchApplier.patches(in: series, seriesFile: seriesFile)
        #expect(!patches.isEmpty)
        for patch in patches { try PatchApplier.requireHunks(patch.path) }
    }
}

@Suite struct PatchApplierTests {
    /// A small tree with two files, and patches made with `diff -u` against it.
    final class Tree {
        let root: URL
        var path: String { root.appendingPathComponent("src").path }
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-patch-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: root.appendingPathComponent("src/lib").path, withIntermediateDirectories: true)
            try Self.write((1...30).map { "line \($0)" }.joined(separator: "\n") + "\n", to: path + "/lib/a.c")
            try Self.write("alpha\nbeta\ngamma\n", to: path + "/b.c")
        }
        deinit { try? FileManager.default.removeItem(at: root) }
        static func write(_ text: String, to path: String) throws { try text.write(toFile: path, atomically: true, encoding: .utf8) }
        func read(_ name: String) throws -> String { try String(contentsOfFile: path + "/" + name, encoding: .utf8) }
        func file(_ name: String, _ text: String) throws -> String {
            let url = root.appendingPathComponent(name).path
            try Self.write(text, to: url)
            return url
        }
    }

    static let changeA = """
        --- a/lib/a.c
        +++ b/lib/a.c
        @@ -9,3 +9,3 @@
         line 9
        -line 10
        +line ten
         line 11

        """
    static let changeB = """
        --- a/b.c
        +++ b/b.c
        @@ -1,3 +1,3 @@
         alpha
        -beta
        +BETA
         gamma

        """

    @Test func appliesASeriesInOrder() async throws {
        let tree = try Tree()
        let outcome = try await PatchApplier().apply([.init(path: try tree.file("1.patch", Self.changeA)), .init(path: try tree.file("2.patch", Self.changeB))], to: tree.path)
        #expect(outcome.applied.count == 2)
        #expect(outcome.touchedFiles.sorted() == ["b.c", "lib/a.c"])
        #expect(try tree.read("lib/a.c").contains("line ten\n"))
        #expect(try tree.read("b.c") == "alpha\nBETA\ngamma\n")
    }

    @Test func aLaterConflictLeavesTheTreeUnchangedAndNamesPatchAndFile() async throws {
        let tree = try Tree()
        let before = (try tree.read("lib/a.c"), try tree.read("b.c"))
        let conflicting = Self.changeB.replacingOccurrences(of: "-beta", with: "-delta")
        let bad = try tree.file("2-bad.patch", conflicting)
        await #expect {
            try await PatchApplier().apply([.init(path: try tree.file("1.patch", Self.changeA)), .init(path: bad)], to: tree.path)
        } throws: { error in
            let text = "\(error)"
            return text.contains("2-bad.patch") && text.contains("b.c") && text.contains("left unchanged")
        }
        #expect(try tree.read("lib/a.c") == before.0)
        #expect(try tree.read("b.c") == before.1)
    }

    /// `line 10` becomes `to` (and, with `alsoLine20`, `line 20` becomes `line twenty`).
    static func changeLine10(from: String = "line 10", to: String, alsoLine20: Bool = false) -> String {
        var text = """
            --- a/lib/a.c
            +++ b/lib/a.c
            @@ -9,3 +9,3 @@
             line 9
            -\(from)
            +\(to)
             line 11

            """
        if alsoLine20 { text += "@@ -19,3 +19,3 @@\n line 19\n-line 20\n+line twenty\n line 21\n" }
        return text
    }

    @Test func aPatchBuildingOnAnEarlierOneApplies() async throws {
        let tree = try Tree()
        let first = try tree.file("1.patch", Self.changeA)
        let second = try tree.file("2.patch", Self.changeLine10(from: "line ten", to: "line 10!"))
        let outcome = try await PatchApplier().apply([.init(path: first), .init(path: second)], to: tree.path)
        #expect(outcome.applied == [first, second])
        #expect(outcome.touchedFiles == ["lib/a.c"])
        #expect(try tree.read("lib/a.c").contains("line 9\nline 10!\nline 11\n"))
    }

    /// A later patch that takes an earlier one back reverse-applies to the tree alone; it must still be applied.
    @Test func aPatchRevertingAnEarlierOneIsApplied() async throws {
        let tree = try Tree()
        let change = try tree.file("1.patch", Self.changeLine10(to: "line ten"))
        let revert = try tree.file("2.patch", Self.changeLine10(from: "line ten", to: "line 10"))
        let outcome = try await PatchApplier().apply([.init(path: change), .init(path: revert)], to: tree.path)
        #expect(outcome.applied == [change, revert])
        #expect(outcome.alreadyApplied.isEmpty)
        #expect(try tree.read("lib/a.c").contains("line 9\nline 10\nline 11\n"))
    }

    /// Each applies to the tree alone; the second no longer does after the first. Nothing may be written.
    @Test func aPatchConflictingWithAnEarlierOneWritesNothing() async throws {
        let tree = try Tree()
        let before = try tree.read("lib/a.c")
        let patches = [PatchApplier.Patch(path: try tree.file("0.patch", Self.changeB)), .init(path: try tree.file("1.patch", Self.changeA)),
                       .init(path: try tree.file("2.patch", Self.changeLine10(to: "line TEN")))]
        await #expect(throws: KernelSourceError.self) { try await PatchApplier().apply(patches, to: tree.path) }
        #expect(try tree.read("lib/a.c") == before)
        #expect(try tree.read("b.c") == "alpha\nbeta\ngamma\n")
    }

    /// The same fix twice (one file given twice, a copy given again as --patch, or a patch that makes part of
    /// what an earlier one made): named in ksand's words, git's only at the end, and nothing written.
    @Test(arguments: [("same", "1.patch is given twice: the second is already applied by the first; drop one."),
                      ("copy", "1.patch and --patch extra/md.patch change the same lines: the second is already applied by the first; drop one."),
                      ("part", "1.patch and --patch extra/md.patch change the same lines: the second is already applied by the first; drop one.")])
    func aPatchGivenTwiceIsNamedWithTheOneThatAppliedIt(form: String, says: String) async throws {
        let tree = try Tree()
        let before = try tree.read("lib/a.c")
        let first = try tree.file("1.patch", form == "part" ? Self.changeLine10(to: "line ten", alsoLine20: true) : Self.changeA)
        let again = form == "same" ? PatchApplier.Patch(path: first, label: "1.patch")
            : PatchApplier.Patch(path: try tree.file("md.patch", Self.changeA), label: "--patch extra/md.patch")
        let patches = [PatchApplier.Patch(path: try tree.file("0.patch", Self.changeB), label: "0.patch"), .init(path: first, label: "1.patch"), again]
        await #expect {
            try await PatchApplier().apply(patches, to: tree.path)
        } throws: { error in
            guard case .alreadyAppliedBy(let patch, let earlier, _, let detail) = error as? KernelSourceError else { return false }
            let text = "\(error)"
            return patch == again.label && earlier == "1.patch" && text.hasPrefix(says) && text.contains("The source tree was left unchanged")
                && text.hasSuffix("(git apply: \(detail))") && detail.contains("lib/a.c")
        }
        #expect(try tree.read("lib/a.c") == before)
    }

    @Test func aPatchConflictingWithAnEarlierOneNamesBoth() async throws {
        let tree = try Tree()
        let patches = [PatchApplier.Patch(path: try tree.file("0.patch", Self.changeB), label: "0.patch"),
                       .init(path: try tree.file("1.patch", Self.changeA), label: "1.patch"),
                       .init(path: try tree.file("2.patch", Self.changeLine10(to: "line TEN")), label: "--patch 2.patch")]
        await #expect {
            try await PatchApplier().apply(patches, to: tree.path)
        } throws: { error in
            guard case .conflictsWith(let patch, let earlier, let file, let hunk, _) = error as? KernelSourceError else { return false }
            return patch == "--patch 2.patch" && earlier == "1.patch" && file == "lib/a.c" && hunk != nil
                && "\(error)".hasPrefix("--patch 2.patch does not apply after 1.patch (lib/a.c, hunk at line 9): 1.patch changed the lines it expects. Rebase --patch 2.patch onto 1.patch, or drop one.")
        }
    }

    @Test func anAlreadyAppliedPatchIsReportedAndSkipped() async throws {
        let tree = try Tree()
        let patch = try tree.file("1.patch", Self.changeA)
        _ = try await PatchApplier().apply([.init(path: patch)], to: tree.path)
        let again = try await PatchApplier().apply([.init(path: patch), .init(path: try tree.file("2.patch", Self.changeB))], to: tree.path)
        #expect(again.alreadyApplied == [patch])
        #expect(again.applied.count == 1)
    }

    @Test func aCorruptPatchIsNamed() async throws {
        let tree = try Tree()
        let truncated = try tree.file("corrupt.patch", "From: someone\nSubject: [PATCH] half a mail\n\n--- a/b.c\n")
        await #expect(throws: KernelSourceError.notAPatch(path: truncated)) {
            try await PatchApplier().apply([.init(path: truncated)], to: tree.path)
        }
        let mangled = try tree.file("mangled.patch", Self.changeB.replacingOccurrences(of: "@@ -1,3 +1,3 @@", with: "@@ -1,3 +1,9 @@"))
        await #expect { try await PatchApplier().apply([.init(path: mangled)], to: tree.path) } throws: { "\($0)".contains("mangled.patch") }
        #expect(try tree.read("b.c") == "alpha\nbeta\ngamma\n")
    }

    /// The shipped series against the files it changes, from Debian's linux-source-6.1 tarball (ci/install-deps.sh
    /// installs it): md's reboot notifier no longer sleeps, and x86 frees init memory without the poison.
    @Test func theShippedPatchesApplyToDebians61Tree() async throws {
        let tarball = "/usr/src/linux-source-6.1.tar.xz"
        try #require(FileManager.default.fileExists(atPath: tarball), "\(tarball) is missing: apt-get install linux-source-6.1")
        let tree = try Tree()
        let touched = ["arch/x86/mm/init.c", "drivers/md/md.c"]
        #expect(try await Tool.run("tar", ["-xf", tarball, "-C", tree.root.path] + touched.map { "linux-source-6.1/" + $0 }).status == 0)
        let source = tree.root.appendingPathComponent("linux-source-6.1").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let seriesFile = root.appendingPathComponent("patches/series").path
        let series = try PatchSeries(parsing: try String(contentsOfFile: seriesFile, encoding: .utf8), source: seriesFile)
        let outcome = try await PatchApplier().apply(try PatchApplier.patches(in: series, seriesFile: seriesFile), to: source)
        #expect(outcome.touchedFiles.sorted() == touched)
        let md = try String(contentsOfFile: source + "/drivers/md/md.c", encoding: .utf8)
        #expect(!md.contains("msleep(1000)"))
        #expect(md.contains("static int md_notify_reboot"))
        let x86 = try String(contentsOfFile: source + "/arch/x86/mm/init.c", encoding: .utf8)
        #expect(x86.contains("free_reserved_area((void *)begin, (void *)end, -1, what);"))
        #expect(!x86.contains("POISON_FREE_INITMEM"))
    }
}
