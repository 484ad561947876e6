import SystemPackage

/// Everything that determines the bytes of an initramfs.
public struct InitramfsRequest: Sendable, Equatable {
    /// Packed as `/init`, mode 0755.
    public var initBinary: FilePath
    /// Nil: no modules (the kernel has what it needs built in).
    public var modules: ModuleSelection?
    /// More regular files (their parent directories are added); paths must not clash with the init's own entries.
    public var extraFiles: [InitramfsFile]
    /// How the whole archive is compressed.
    public var compression: InitramfsCompression

    public init(initBinary: FilePath, modules: ModuleSelection?, extraFiles: [InitramfsFile] = [], compression: InitramfsCompression = .none) {
        self.initBinary = initBinary
        self.modules = modules
        self.extraFiles = extraFiles
        self.compression = compression
    }
}

/// One regular file to put into the archive.
public struct InitramfsFile: Sendable, Equatable {
    /// The path inside the archive, absolute (`/etc/foo`).
    public var archivePath: String
    /// The file on the host.
    public var source: FilePath
    /// Permission bits (`0o755`, `0o644`); the entry is always a regular file, other bits are ignored.
    public var mode: UInt32

    public init(archivePath: String, source: FilePath, mode: UInt32) {
        self.archivePath = archivePath
        self.source = source
        self.mode = mode
    }
}
