import Foundation

/// Where ksand keeps what it can reuse between runs: initramfs archives, unpacked kernels, probe verdicts.
///
/// `$KSAND_CACHE_DIR`, else `$XDG_CACHE_HOME/ksand`, else `~/.cache/ksand`. Everything in it is keyed by
/// the content (or file identity) of its inputs and written atomically, so it is safe to delete at any time.
public struct CacheDirectory: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> CacheDirectory {
        if let explicit = environment["KSAND_CACHE_DIR"], !explicit.isEmpty { return CacheDirectory(path: explicit) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return CacheDirectory(path: xdg + "/ksand") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return CacheDirectory(path: home + "/.cache/ksand")
    }

    /// Creates the cache if it is missing; refuses one that another user owns or anyone may write to, since
    /// what is in it gets booted (see ``OwnedDirectory``).
    public func prepare() throws(SandboxError) {
        try OwnedDirectory(path: path, role: .cache).prepare()
    }

    /// The subdirectory for one kind of artifact, created if needed (after ``prepare()``'s check of the cache).
    public func subdirectory(_ name: String) throws(SandboxError) -> String {
        try prepare()
        let directory = path + "/" + name
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(what: "cannot create cache directory", path: directory, errno: (error as NSError).code == 0 ? EIO : Int32((error as NSError).code))
        }
        return directory
    }
}

/// A short, stable hash of a string (FNV-1a, 64 bit): for cache keys built from file identities, not for content.
func stableHash(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}
