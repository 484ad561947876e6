import ContentHash
import Foundation
import KernelSource

/// A kernel source tree ksand builds from, never modified: a tarball extracted once into the cache, or the user's
/// own directory.
struct SourceTree: Sendable {
    enum Kind: String, Codable, Sendable { case tarball, directory }

    var kind: Kind
    /// What the user named.
    var origin: String
    /// The tree itself.
    var path: String
    /// Stands for the tree's contents in cache keys: a tarball's SHA-256; for a directory, a hash of every file's
    /// path, size and modification time.
    var identity: String

    /// Locates `origin` and, for a tarball, extracts it into `<kernelCache>/source/` unless already there.
    static func prepare(_ origin: String, kernelCache: String, control: BuildControl, say: @Sendable (String) -> Void)
        async throws(KernelBuildError) -> SourceTree
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: origin, isDirectory: &isDirectory) else {
            throw .source(.sourceMissing(path: origin))
        }
        if isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: origin + "/Makefile"), FileManager.default.fileExists(atPath: origin + "/Kconfig") else {
                throw .badConfigInput(path: origin, reason: "not a kernel source tree (no Makefile and Kconfig at its top); pass the tree's root or a tarball")
            }
            let identity = try await fingerprint(directory: origin, control: control)
            return SourceTree(kind: .directory, origin: origin, path: origin, identity: identity)
        }
        return try await extract(tarball: origin, kernelCache: kernelCache, control: control, say: say)
    }

    /// The tarball's file identity (path, size, modification time, inode), which names its extracted copy, so an
    /// unchanged tarball is never read again.
    static func fileIdentity(_ path: String) throws(KernelBuildError) -> String {
        var status = stat()
        guard stat(path, &status) == 0 else { throw .source(.sourceMissing(path: path)) }
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return "\(real)\t\(status.st_size)\t\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)\t\(status.st_ino)"
    }

    /// The identity a source would have, without extracting or scanning it when that was done before: for a
    /// tarball, the SHA-256 recorded at extraction. Nil when it is not known yet.
    static func knownIdentity(_ origin: String, kernelCache: String) -> String? {
        guard let fileIdentity = try? fileIdentity(origin) else { return nil }
        let directory = kernelCache + "/source/" + String(ContentHasher.hex(of: fileIdentity).prefix(24))
        return try? String(contentsOfFile: directory + "/sha256", encoding: .utf8)
    }

    private static func extract(tarball: String, kernelCache: String, control: BuildControl, say: @Sendable (String) -> Void)
        async throws(KernelBuildError) -> SourceTree
    {
        let directory = kernelCache + "/source/" + String(ContentHasher.hex(of: try fileIdentity(tarball)).prefix(24))
        func extracted() -> SourceTree? {
            guard let sha = try? String(contentsOfFile: directory + "/sha256", encoding: .utf8),
                  FileManager.default.fileExists(atPath: directory + "/tree/Makefile") else { return nil }
            return SourceTree(kind: .tarball, origin: tarball, path: directory + "/tree", identity: sha)
        }
        if let done = extracted() { return done }
        // One extraction at a time: another ksand (or test process) may be extracting the same tarball, and the
        // tree it moves into place must not be replaced while it is read.
        do {
            try FileManager.default.createDirectory(atPath: kernelCache + "/source", withIntermediateDirectories: true)
        } catch {
            throw .io(what: "cannot create", path: kernelCache + "/source", reason: "\(error)")
        }
        let lock = try BuildLock(directory: kernelCache + "/source", work: "extraction", say: say)
        defer { lock.release() }
        if let done = extracted() { return done }
        say("extracting \(tarball) into the cache (once)")
        let staging = directory + ".tmp-\(getpid())"
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        do {
            try FileManager.default.createDirectory(atPath: staging + "/tree", withIntermediateDirectories: true)
        } catch {
            throw .io(what: "cannot create", path: staging, reason: "\(error)")
        }
        try await ChildProcess(executable: "tar", arguments: ["-xf", tarball, "-C", staging + "/tree", "--strip-components=1"])
            .check(control: control, step: "extracting \(tarball)")
        guard FileManager.default.fileExists(atPath: staging + "/tree/Makefile"), FileManager.default.fileExists(atPath: staging + "/tree/Kconfig") else {
            throw .badConfigInput(path: tarball, reason: "not a kernel source tarball (no Makefile and Kconfig under its top directory)")
        }
        let sha: String
        do {
            sha = try ContentHasher.hex(ofFileAt: tarball)
        } catch {
            throw .io(what: "cannot read", path: tarball, reason: error.reason)
        }
        do {
            try sha.write(toFile: staging + "/sha256", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: directory)
            try FileManager.default.moveItem(atPath: staging, toPath: directory)
        } catch {
            throw .io(what: "cannot move the extracted source to", path: directory, reason: "\(error)")
        }
        return SourceTree(kind: .tarball, origin: tarball, path: directory + "/tree", identity: sha)
    }

    /// Every file's path, size and modification time under `directory` (not .git), hashed.
    static func fingerprint(directory: String, control: BuildControl) async throws(KernelBuildError) -> String {
        let listing = try await ChildProcess(
            executable: "find", arguments: [".", "-path", "./.git", "-prune", "-o", "-type", "f", "-printf", "%P\\t%s\\t%T@\\n"],
            directory: directory
        ).check(control: control, step: "scanning \(directory)")
        return ContentHasher.hex(of: listing.split(separator: "\n").sorted().joined(separator: "\n"))
    }
}
