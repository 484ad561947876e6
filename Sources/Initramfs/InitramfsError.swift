/// Why an initramfs could not be packed. Each case names the input it failed on, and the description says what to do.
public enum InitramfsError: Error, CustomStringConvertible, Equatable {
    /// A host file could not be read. `what` says which input it is ("the init binary", "module 9p", …).
    case unreadable(what: String, path: String, reason: String)
    /// A wanted module is neither in `modules.dep` nor in `modules.builtin`.
    case unknownModule(name: String, modulesDirectory: String)
    /// A line of `modules.dep` is not `path: dependency…`.
    case malformedModulesDep(line: Int, text: String)
    /// A compressed module could not be decompressed.
    case moduleDecompression(path: String, reason: String)
    /// An extra file's archive path is not usable (relative, `..`, or clashing with another entry).
    case invalidArchivePath(path: String, reason: String)
    /// libarchive refused an operation; `message` is its `archive_error_string`.
    case libarchive(operation: String, message: String)
    /// The compression cannot produce something the kernel unpacks.
    case unsupportedCompression(InitramfsCompression, reason: String)
    /// The output (or the cache directory) could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let what, let path, let reason):
            return "cannot read \(what) at \(path): \(reason); check that the file exists and is readable by this user"
        case .unknownModule(let name, let directory):
            return "module \(name) is neither in \(directory)/modules.dep nor in \(directory)/modules.builtin; "
                + "install the kernel's modules package (or run depmod for it), or build the kernel with it built in"
        case .malformedModulesDep(let line, let text):
            return "modules.dep line \(line) is not `path: dependencies…`: \(text); regenerate it with depmod"
        case .moduleDecompression(let path, let reason):
            return "cannot decompress module \(path): \(reason); the file is damaged or truncated, "
                + "reinstall the kernel's modules package"
        case .invalidArchivePath(let path, let reason):
            return "extra file archive path \(path) \(reason); give an absolute path such as /etc/name that no other entry uses"
        case .libarchive(let operation, let message):
            return "libarchive \(operation) failed: \(message)"
        case .unsupportedCompression(let compression, let reason):
            return "compression \(compression.rawValue) is not supported: \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason); check the directory exists, is writable and has free space"
        }
    }
}
