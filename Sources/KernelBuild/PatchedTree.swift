import ContentHash
import Foundation
import KernelSource

/// The tree a build directory compiles: a hard-linked copy of the pristine source with the patch series applied
/// (or, with `--in-place`, the user's tree patched where it is).
///
/// The copy is made anew whenever the patches change; the files the old and the new patches touch get a fresh
/// inode and modification time, so make recompiles exactly what depends on them — including files a dropped
/// patch had changed, whose pristine copies are older than the objects built from the patched ones.
struct PatchedTree {
    struct State: Codable, Equatable {
        /// Hash of the patches' contents, in order.
        var patches: String
        /// Files the applied patches touch, relative to the tree.
        var touched: [String]
        var applied: [String]
        var alreadyApplied: [String]
    }

    var path: String
    var state: State

    /// The digest of a patch list: each patch's content and -p level, in order.
    static func digest(_ patches: [PatchApplier.Patch]) -> String {
        ContentHasher.hex(of: patches.map { "\($0.strip)\t" + ((try? ContentHasher.hex(ofFileAt: $0.path)) ?? "unreadable:\($0.path)") }.joined(separator: "\n"))
    }

    /// Brings `<buildDirectory>/tree` to `source` with `patches` applied. A patch that does not apply throws and
    /// leaves the previous tree (and the source) as they were.
    static func prepare(
        source: SourceTree, patches: [PatchApplier.Patch], buildDirectory: String, recompile: [String] = [], control: BuildControl,
        say: @Sendable (String) -> Void
    ) async throws(KernelBuildError) -> PatchedTree {
        let tree = buildDirectory + "/tree", statePath = buildDirectory + "/tree.json"
        let digest = digest(patches)
        let previous = (try? Data(contentsOf: URL(fileURLWithPath: statePath))).flatMap { try? JSONDecoder().decode(State.self, from: $0) }
        if let previous, previous.patches == digest, FileManager.default.fileExists(atPath: tree + "/Makefile") {
            for file in recompile.sorted() where isInside(file) { try renew(tree + "/" + file) }
            return PatchedTree(path: tree, state: previous)
        }
        let staging = tree + ".new"
        try? FileManager.default.removeItem(atPath: staging)
        say(patches.isEmpty ? "linking the source tree" : "linking the source tree and applying \(patches.count) patch\(patches.count == 1 ? "" : "es")")
        try await linkCopy(from: source.path, to: staging, control: control)
        let outcome: PatchApplier.Outcome
        do {
            outcome = try await PatchApplier().apply(patches, to: staging)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw .source(error)
        }
        for patch in outcome.alreadyApplied { say("\(patch) is already in the source; skipped") }
        let touched = Set(outcome.touchedFiles).union(previous?.touched ?? []).union(recompile.filter(isInside))
        for file in touched.sorted() { try renew(staging + "/" + file) }
        let state = State(patches: digest, touched: outcome.touchedFiles, applied: outcome.applied, alreadyApplied: outcome.alreadyApplied)
        do {
            if FileManager.default.fileExists(atPath: tree) {
                try FileManager.default.moveItem(atPath: tree, toPath: tree + ".old")
            }
            try FileManager.default.moveItem(atPath: staging, toPath: tree)
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: statePath), options: .atomic)
        } catch {
            throw .io(what: "cannot replace the patched tree", path: tree, reason: "\(error)")
        }
        try? FileManager.default.removeItem(atPath: tree + ".old")
        return PatchedTree(path: tree, state: state)
    }

    /// Applies `patches` to the user's tree itself. Patches already there are skipped, so this is idempotent; a
    /// patch removed from the series is not taken back out.
    static func inPlace(source: SourceTree, patches: [PatchApplier.Patch], say: @Sendable (String) -> Void) async throws(KernelBuildError) -> PatchedTree {
        let outcome: PatchApplier.Outcome
        do {
            outcome = try await PatchApplier().apply(patches, to: source.path)
        } catch {
            throw .source(error)
        }
        for patch in outcome.alreadyApplied { say("\(patch) is already in \(source.path); skipped") }
        for patch in outcome.applied { say("applied \(patch) to \(source.path)") }
        return PatchedTree(path: source.path, state: State(patches: digest(patches), touched: outcome.touchedFiles,
                                                           applied: outcome.applied, alreadyApplied: outcome.alreadyApplied))
    }

    /// `cp -al`: a copy whose files share the source's inodes, made in seconds. `git apply` replaces the files it
    /// changes instead of writing into them, so the source stays pristine. Across file systems, a real copy.
    private static func linkCopy(from source: String, to destination: String, control: BuildControl) async throws(KernelBuildError) {
        let linked = try await ChildProcess(executable: "cp", arguments: ["-al", source, destination]).capture(control: control)
        if control.interrupted { throw .interrupted(step: "copying the source tree") }
        if linked.status == 0 { return }
        try? FileManager.default.removeItem(atPath: destination)
        try await ChildProcess(executable: "cp", arguments: ["-a", "--reflink=auto", source, destination])
            .check(control: control, step: "copying the source tree")
    }

    /// Whether a relative path from a patch stays inside the tree (no `..`, not absolute).
    private static func isInside(_ path: String) -> Bool {
        !path.hasPrefix("/") && !path.split(separator: "/").contains("..") && !path.isEmpty
    }

    /// Gives a file a new inode and the current time, so it no longer shares the pristine copy's.
    private static func renew(_ path: String) throws(KernelBuildError) {
        guard let data = FileManager.default.contents(atPath: path) else { return }  // deleted by the patch
        let temporary = path + ".ksand-renew"
        var status = stat()
        let mode = stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0o644
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: Int(mode)]),
              rename(temporary, path) == 0 else {
            throw .io(what: "cannot rewrite", path: path, reason: String(cString: strerror(errno)))
        }
    }
}
