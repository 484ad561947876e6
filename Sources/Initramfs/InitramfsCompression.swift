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
