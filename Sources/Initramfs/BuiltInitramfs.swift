import SystemPackage

/// A packed archive.
public struct BuiltInitramfs: Sendable, Equatable {
    /// The archive on disk: in the cache for `build`, the requested output for `write`.
    public var path: FilePath
    /// SHA-256 (hex) over the archive's inputs: what the cache is keyed by.
    public var cacheKey: String
    /// Bytes on disk (compressed, if it is).
    public var size: Int
    /// The archive paths of the modules the init loads, in load order.
    public var modules: [String]
    /// Whether it came from the cache.
    public var wasCached: Bool

    public init(path: FilePath, cacheKey: String, size: Int, modules: [String], wasCached: Bool) {
        self.path = path
        self.cacheKey = cacheKey
        self.size = size
        self.modules = modules
        self.wasCached = wasCached
    }
}
