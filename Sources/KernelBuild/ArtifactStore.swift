import Foundation

/// Built kernels under `<cache>/kernel/artifacts/<key>/`, and an index from input keys to them.
///
/// An artifact directory is filled under a temporary name and renamed into place, so an interrupted build never
/// leaves a half-written kernel where a later run would find it.
struct ArtifactStore {
    var kernelCache: String

    var artifacts: String { kernelCache + "/artifacts" }
    var index: String { kernelCache + "/index" }

    /// The artifact under `key`, if complete.
    func artifact(key: String) -> KernelArtifact? {
        let directory = artifacts + "/" + key
        guard FileManager.default.fileExists(atPath: directory + "/bzImage"),
              let data = FileManager.default.contents(atPath: directory + "/manifest.json"),
              let manifest = try? JSONDecoder().decode(KernelManifest.self, from: data),
              manifest.format == KernelManifest.currentFormat else { return nil }
        return KernelArtifact(directory: directory, manifest: manifest, wasCached: true)
    }

    /// The artifact recorded for `inputKey`, if still there.
    func lookup(inputKey: String) -> KernelArtifact? {
        guard let key = try? String(contentsOfFile: index + "/" + inputKey, encoding: .utf8) else { return nil }
        return artifact(key: key.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func record(inputKey: String, artifactKey: String) throws(KernelBuildError) {
        try writeAtomically(Data(artifactKey.utf8), to: index + "/" + inputKey)
    }

    /// Copies `files` (name in the artifact → path now) and the manifest into place under `manifest.key`.
    func store(files: [String: String], manifest: KernelManifest, diagnostics: BuildDiagnosticsRecord? = nil) throws(KernelBuildError) -> KernelArtifact {
        let final = artifacts + "/" + manifest.key
        let staging = artifacts + "/.tmp-\(manifest.key.prefix(16))-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            for (name, path) in files.sorted(by: { $0.key < $1.key }) {
                try FileManager.default.copyItem(atPath: path, toPath: staging + "/" + name)
            }
            try manifest.encoded().write(to: URL(fileURLWithPath: staging + "/manifest.json"))
            if let diagnostics { try Self.encode(diagnostics).write(to: URL(fileURLWithPath: staging + "/diagnostics.json")) }
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw .io(what: "cannot write the kernel into the cache at", path: staging, reason: "\(error)")
        }
        if rename(staging, final) != 0 {
            let code = errno
            try? FileManager.default.removeItem(atPath: staging)
            // Another build of the same inputs finished first: its artifact is the same kernel.
            guard code == ENOTEMPTY || code == EEXIST, let existing = artifact(key: manifest.key) else {
                throw .io(what: "cannot move the kernel into place at", path: final, reason: String(cString: strerror(code)))
            }
            return existing
        }
        return KernelArtifact(directory: final, manifest: manifest, wasCached: false)
    }

    /// Replaces the diagnostics kept beside the kernel in `directory`.
    func writeDiagnostics(_ diagnostics: BuildDiagnosticsRecord, into directory: String) throws(KernelBuildError) {
        do {
            try writeAtomically(try Self.encode(diagnostics), to: directory + "/diagnostics.json")
        } catch let error as KernelBuildError {
            throw error
        } catch {
            throw .io(what: "cannot encode the diagnostics for", path: directory, reason: "\(error)")
        }
    }

    private static func encode(_ diagnostics: BuildDiagnosticsRecord) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(diagnostics)
    }

    /// Removes artifact staging directories left by builds that were killed.
    func removeStaleStaging() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: artifacts) else { return }
        for name in names where name.hasPrefix(".tmp-") {
            let pid = name.split(separator: "-").last.flatMap { Int32($0) } ?? 0
            if pid > 0, kill(pid, 0) == 0 { continue }  // still being written
            try? FileManager.default.removeItem(atPath: artifacts + "/" + name)
        }
    }

    private func writeAtomically(_ data: Data, to path: String) throws(KernelBuildError) {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(what: "cannot write", path: path, reason: "\(error)")
        }
    }
}
