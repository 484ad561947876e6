import SystemPackage

/// How the archive is compressed. The kernel must have the matching decompressor (CONFIG_RD_*).
public enum InitramfsCompression: String, Sendable, CaseIterable, Hashable {
    case none, gzip, zstd
    /// Not offered: libarchive writes LZ4 frames, and the kernel unpacks only the legacy LZ4 format (`lz4 -l`).
    case lz4

    var fileSuffix: String {
        switch self {
        case .none: return ".cpio"
        case .gzip: return ".cpio.gz"
        case .zstd: return ".cpio.zst"
        case .lz4: return ".cpio.lz4"
        }
    }
}

/// One regular file to put into the archive.
public struct InitramfsFile: Sendable, Equatable {
    /// The path inside the archive, absolute (`/etc/foo`).
    public var archivePath: String
    /// The file on the host.
    public var source: FilePath
    public var mode: UInt32

    public init(archivePath: String, source: FilePath, mode: UInt32) {
        self.archivePath = archivePath
        self.source = source
        self.mode = mode
    }
}

/// How a kernel module file is compressed (`.ko.gz`, `.ko.xz`, `.ko.zst`).
public enum ModuleCompression: String, Sendable, CaseIterable, Hashable {
    case gzip, xz, zstd

    /// The compression a module path's suffix says, nil for a plain `.ko`.
    public init?(modulePath path: String) {
        if path.hasSuffix(".ko.gz") { self = .gzip } else if path.hasSuffix(".ko.xz") { self = .xz } else if path.hasSuffix(".ko.zst") { self = .zstd } else { return nil }
    }
}

/// The kernel modules to carry, and where they come from.
public struct ModuleSelection: Sendable, Equatable {
    /// `/lib/modules/<release>`.
    public var modulesDirectory: FilePath
    public var kernelRelease: String
    /// Module names (`virtio_pci`, `9p`, …); their dependencies come along.
    public var wanted: [String]
    /// Compressions the kernel can load itself (CONFIG_MODULE_DECOMPRESS); others are decompressed when packed.
    public var kernelDecompresses: Set<ModuleCompression>

    public init(modulesDirectory: FilePath, kernelRelease: String, wanted: [String], kernelDecompresses: Set<ModuleCompression>) {
        self.modulesDirectory = modulesDirectory
        self.kernelRelease = kernelRelease
        self.wanted = wanted
        self.kernelDecompresses = kernelDecompresses
    }
}

/// Everything that determines the bytes of an initramfs.
public struct InitramfsRequest: Sendable, Equatable {
    /// Packed as `/init`, mode 0755.
    public var initBinary: FilePath
    /// Nil: no modules (the kernel has what it needs built in).
    public var modules: ModuleSelection?
    public var extraFiles: [InitramfsFile]
    public var compression: InitramfsCompression

    public init(initBinary: FilePath, modules: ModuleSelection?, extraFiles: [InitramfsFile] = [], compression: InitramfsCompression = .none) {
        self.initBinary = initBinary
        self.modules = modules
        self.extraFiles = extraFiles
        self.compression = compression
    }
}

/// A packed archive.
public struct BuiltInitramfs: Sendable, Equatable {
    public var path: FilePath
    /// SHA-256 (hex) over the archive's inputs: what the cache is keyed by.
    public var cacheKey: String
    public var size: Int
    /// The archive paths of the modules the init loads, in load order.
    public var modules: [String]
    /// Whether it came from the cache.
    public var wasCached: Bool
}
