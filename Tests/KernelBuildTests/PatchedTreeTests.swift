import Foundation
@testable import KernelBuild
import KernelSource
import Testing

/// The patched copy of a (small, synthetic) source tree, with the real `git apply` and `cp`.
@Suite struct PatchedTreeTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-tree-\(UUID().uuidString)").path
    var source: SourceTree { SourceTree(kind: .directory, origin: root + "/src", path: root + "/src", identity: "test") }

    init() throws {
        try FileManager.default.createDirectory(atPath: root + "/src/drivers", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/build", withIntermediateDirectories: true)
        try "all:\n".write(toFile: root + "/src/Makefile", atomically: true, encoding: .utf8)
        try "int a(void)\n{\n\treturn 1;\n}\n".write(toFile: root + "/src/drivers/a.c", atomically: true, encoding: .utf8)
        try "int b(void)\n{\n\treturn 2;\n}\n".write(toFile: root + "/src/drivers/b.c", atomically: true, encoding: .utf8)
    }

    func patch(_ name: String, file: String, from old: String, to new: String) throws -> PatchApplier.Patch {
        let text = """
            --- a/\(file)
            +++ b/\(file)
            @@ -1,4 +1,4 @@
             int \(file.dropFirst(8).prefix(1))(void)
             {
            -\t\(old)
            +\t\(new)
             }

            """
        try text.write(toFile: root + "/" + name, atomically: true, encoding: .utf8)
        return PatchApplier.Patch(path: root + "/" + name)
    }

    func read(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }
    func modified(_ path: String) throws -> Date { try FileManager.default.attributesOfItem(atPath: root + "/" + path)[.modificationDate] as! Date }
    func inode(_ path: String) throws -> Int { (try FileManager.default.attributesOfItem(atPath: root + "/" + path)[.systemFileNumber] as! NSNumber).intValue }

    /// The patch list's digest is part of every kernel's cache key: pinned, so that a change of hashing shows.
    @Test func theDigestOfAPatchListIsPinned() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let patches = [try patch("one.patch", file: "drivers/a.c", from: "return 1;", to: "return 3;"),
                       try patch("two.patch", file: "drivers/b.c", from: "return 2;", to: "return 4;")]
        #expect(PatchedTree.digest(patches) == "d603454f264bc20f45039c5e7cbbf1183439f10b4aca85b7bb7d20d404c3beca")
    }

    @Test func theCopyIsPatchedAndTheSourceStaysPristine() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try patch("1.patch", file: "drivers/a.c", from: "return 1;", to: "return 10;")
        let tree = try await PatchedTree.prepare(source: source, patches: [first], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        #expect(try read("build/tree/drivers/a.c").contains("return 10;"))
        #expect(try read("src/drivers/a.c").contains("return 1;"))
        #expect(tree.state.touched == ["drivers/a.c"])
        // Untouched files are hard links to the source; the patched one is not.
        #expect(try inode("build/tree/drivers/b.c") == inode("src/drivers/b.c"))
        #expect(try inode("build/tree/drivers/a.c") != inode("src/drivers/a.c"))
    }

    @Test func changingTheSeriesRenewsWhatTheOldAndNewPatchesTouched() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try patch("1.patch", file: "drivers/a.c", from: "return 1;", to: "return 10;")
        let second = try patch("2.patch", file: "drivers/b.c", from: "return 2;", to: "return 20;")
        _ = try await PatchedTree.prepare(source: source, patches: [first], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        let objectBuilt = Date()
        try await Task.sleep(for: .milliseconds(20))
        let tree = try await PatchedTree.prepare(source: source, patches: [second], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        // a.c is pristine again, and newer than anything built from the patched a.c, so make recompiles it.
        #expect(try read("build/tree/drivers/a.c").contains("return 1;"))
        #expect(try modified("build/tree/drivers/a.c") > objectBuilt)
        #expect(try modified("src/drivers/a.c") < objectBuilt)
        #expect(try read("build/tree/drivers/b.c").contains("return 20;"))
        #expect(tree.state.touched == ["drivers/b.c"])
    }

    @Test func theSamePatchesReuseTheTree() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try patch("1.patch", file: "drivers/a.c", from: "return 1;", to: "return 10;")
        _ = try await PatchedTree.prepare(source: source, patches: [first], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        let before = try modified("build/tree/drivers/a.c")
        try await Task.sleep(for: .milliseconds(20))
        _ = try await PatchedTree.prepare(source: source, patches: [first], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        #expect(try modified("build/tree/drivers/a.c") == before)
    }

    /// The series' patch given again with --patch: the error names both as the user gave them.
    @Test func aSeriesPatchGivenAgainWithPatchIsNamedAsSuch() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try patch("1.patch", file: "drivers/a.c", from: "return 1;", to: "return 10;")
        try FileManager.default.createDirectory(atPath: root + "/extra", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: first.path, toPath: root + "/extra/md.patch")
        try "1.patch\n".write(toFile: root + "/series", atomically: true, encoding: .utf8)
        let request = KernelBuildRequest(series: root + "/series", extraPatches: [root + "/extra/md.patch"], fragments: [], cacheRoot: root + "/cache")
        let patches = try KernelBuilder(request: request).patches()
        #expect(patches.map(\.label) == [root + "/1.patch", "--patch \(root)/extra/md.patch"])
        do {
            _ = try await PatchedTree.prepare(source: source, patches: patches, buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
            Issue.record("the patch applied twice")
        } catch {
            #expect("\(error)".hasPrefix("\(root)/1.patch and --patch \(root)/extra/md.patch change the same lines: the second is already applied by the first; drop one."), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/build/tree.new"))
        #expect(try read("src/drivers/a.c").contains("return 1;"))
    }

    @Test func aConflictNamesThePatchFileAndHunkAndKeepsThePreviousTree() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let first = try patch("1.patch", file: "drivers/a.c", from: "return 1;", to: "return 10;")
        let stale = try patch("stale.patch", file: "drivers/b.c", from: "return 3;", to: "return 30;")
        _ = try await PatchedTree.prepare(source: source, patches: [first], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
        do {
            _ = try await PatchedTree.prepare(source: source, patches: [first, stale], buildDirectory: root + "/build", control: BuildControl(), say: { _ in })
            Issue.record("the stale patch applied")
        } catch {
            guard case .source(.doesNotApply(let patch, let file, let hunk, _)) = error else { Issue.record("\(error)"); return }
            #expect(patch == root + "/stale.patch")
            #expect(file == "drivers/b.c")
            #expect(hunk != nil)
        }
        #expect(try read("build/tree/drivers/a.c").contains("return 10;"))
        #expect(!FileManager.default.fileExists(atPath: root + "/build/tree.new"))
        #expect(try read("src/drivers/b.c").contains("return 2;"))
    }
}
