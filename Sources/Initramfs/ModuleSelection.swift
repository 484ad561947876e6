import SystemPackage

/// The kernel modules to carry, and where they come from.
public struct ModuleSelection: Sendable, Equatable {
    /// `/lib/modules/<release>`.
    public var modulesDirectory: FilePath
    /// `uname -r` of the kernel; the modules go to `/lib/modules/<release>/` in the archive.
    public var kernelRelease: String
    /// Module names (`virtio_pci`, `9p`, …); their dependencies come along.
    public var wanted: [String]
    /// Compressions the kernel can load itself (CONFIG_MODULE_DECOMPRESS with the matching
    /// CONFIG_MODULE_COMPRESS_*); a module compressed any other way is decompressed when packed and stored
    /// without its suffix. A `ModuleCompression`, not an `InitramfsCompression`: modules also come as `.ko.xz`.
    public var kernelDecompresses: Set<ModuleCompression>

    public init(modulesDirectory: FilePath, kernelRelease: String, wanted: [String], kernelDecompresses: Set<ModuleCompression>) {
        self.modulesDirectory = modulesDirectory
        self.kernelRelease = kernelRelease
        self.wanted = wanted
        self.kernelDecompresses = kernelDecompresses
    }
}
