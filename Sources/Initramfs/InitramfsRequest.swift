import SystemPackage

/// How the archive is compressed. The kernel must have the matching decompressor (CONFIG_RD_*).
public enum InitramfsCompression: String, Sendable, CaseIterable, Hashable {
    /// A plain newc cpio: largest file, nothing for the kernel to decompress.
    case none
    /// gzip without a timestamp in its header (CONFIG_RD_GZIP).
    case gzip
    /// A standard zstd frame (CONFIG_RD_ZSTD).
    case zstd
    /// Refused with `InitramfsError.unsupportedCompression`: the kernel's initramfs unpacker
    /// (lib/decompress_unlz4.c) reads only the legacy LZ4 format that `lz4 -l` writes (magic 0x184C2102),
    /// and libarchive's lz4 write filter writes only LZ4 frames (magic 0x184D2204) — its options are
    /// compression-level, stream-checksum, block-checksum, block-size and block-dependence, none of them legacy.
    /// A frame-format archive would make the kernel fail to unpack the initramfs, so none is produced.
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
        guard let match = Self.allCases.first(where: { path.hasSuffix(".ko" + $0.suffix) }) else { return nil }
        self = match
    }

    /// What follows `.ko` in a module compressed this way.
    public var suffix: String {
        switch self {
        case .gzip: return ".gz"
        case .xz: return ".xz"
        case .zstd: return ".zst"
        }
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
