import Foundation

/// `manifest.json`, beside each built kernel: what went in (with hashes), what came out, and how long it took.
public struct KernelManifest: Codable, Equatable, Sendable {
    public struct Source: Codable, Equatable, Sendable {
        public var kind: String
        public var path: String
        /// The tarball's SHA-256, or the directory's file-list hash.
        public var identity: String
        public var inPlace: Bool
    }

    public struct Patch: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String
        /// `applied`, or `already-applied` when the source had the change already.
        public var state: String
    }

    public struct Fragment: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String
    }

    public struct Config: Codable, Equatable, Sendable {
        public var base: String
        public var baseSHA256: String?
        public var fragments: [Fragment]
        /// SHA-256 of the final .config.
        public var sha256: String
        /// Symbols set (`=y`, `=m` or a value) in the final .config.
        public var symbolCount: Int
        public var builtIn: Int
        public var modules: Int
    }

    public struct Image: Codable, Equatable, Sendable {
        public var path: String
        public var size: Int
        public var sha256: String
    }

    public struct Timings: Codable, Equatable, Sendable {
        public var configureSeconds: Double
        public var buildSeconds: Double
        /// kbuild steps make printed (compile, link, generate).
        public var makeSteps: Int
        /// make's -j.
        public var jobs: Int
    }

    public var format = KernelManifest.currentFormat
    /// The content key: source identity, patches, final .config, compiler.
    public var key: String
    public var kernelRelease: String
    public var architecture: String
    public var compiler: String
    public var source: Source
    public var patches: [Patch]
    public var config: Config
    public var bzImage: Image
    public var timings: Timings
    public var buildDirectory: String
    public var created: String

    public static let currentFormat = "ksand-kernel-1"

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A kernel in the cache: its directory, bzImage and manifest.
public struct KernelArtifact: Sendable {
    public var directory: String
    public var manifest: KernelManifest
    /// True when it was in the cache already and nothing was built.
    public var wasCached: Bool

    public var bzImage: String { directory + "/bzImage" }
    public var config: String { directory + "/config" }
    public var manifestPath: String { directory + "/manifest.json" }
    /// The compiler's warnings and errors from the build that made it (`diagnostics.json`).
    public var diagnosticsPath: String { directory + "/diagnostics.json" }

    /// The build's diagnostics, when recorded (kernels built before they were are not).
    public func diagnostics() -> BuildDiagnosticsRecord? {
        FileManager.default.contents(atPath: diagnosticsPath).flatMap { try? JSONDecoder().decode(BuildDiagnosticsRecord.self, from: $0) }
    }
}
