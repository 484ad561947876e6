/// Why an initramfs could not be packed. Each names the input and what to do.
public enum InitramfsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unknownModule(name: String, modulesDirectory: String)
    case malformedModulesDep(line: Int, text: String)
    case libarchive(operation: String, message: String)
    case unsupportedCompression(InitramfsCompression, reason: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unknownModule(let name, let directory):
            return "module \(name) is neither in \(directory)/modules.dep nor in modules.builtin; "
                + "install the kernel's modules package, or build the kernel with it built in"
        case .malformedModulesDep(let line, let text):
            return "modules.dep line \(line) is not `path: deps…`: \(text) (regenerate it with depmod)"
        case .libarchive(let operation, let message):
            return "libarchive \(operation) failed: \(message)"
        case .unsupportedCompression(let compression, let reason):
            return "compression \(compression.rawValue) is not supported: \(reason)"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
