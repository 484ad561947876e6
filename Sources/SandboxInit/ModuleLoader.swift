import CGuestSyscalls
import Glibc

/// Loads the kernel modules the initramfs carries, in the order its module list gives.
///
/// The list (``listPath``) has one absolute path per line, already in dependency order; it may be empty or absent
/// when the kernel has everything built in.
struct ModuleLoader {
    static let listPath = "/etc/ksand/modules"

    /// finit_module's MODULE_INIT_COMPRESSED_FILE: the kernel decompresses the file itself (CONFIG_MODULE_DECOMPRESS).
    private static let compressedFileFlag: Int32 = 4

    func loadAll() throws(InitFailure) {
        guard let list = FileSystem.read(ModuleLoader.listPath) else {
            if errno == ENOENT { return }
            throw .system("read \(ModuleLoader.listPath)")
        }
        for line in list.split(separator: UInt8(ascii: "\n")) {
            let path = String(decoding: line, as: UTF8.self)
            if path.isEmpty || path.hasPrefix("#") { continue }
            try load(path)
        }
    }

    private func load(_ path: String) throws(InitFailure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open module \(path)") }
        defer { close(fd) }
        let compressed = path.hasSuffix(".xz") || path.hasSuffix(".zst") || path.hasSuffix(".gz")
        if ksand_finit_module(fd, "", compressed ? ModuleLoader.compressedFileFlag : 0) != 0 && errno != EEXIST {
            throw .system("load module \(path)")
        }
    }
}
