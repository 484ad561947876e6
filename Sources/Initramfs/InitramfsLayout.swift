import ContentHash
import StreamDecompression
import SystemPackage

/// Every entry of an initramfs, read from the host and put in archive order, with the content key of the whole.
///
/// Laying out is separate from packing so the cache can be consulted (by key) before anything is written.
struct InitramfsLayout {
    /// Changes whenever the archive's layout or the key's recipe changes, so old cache entries are not reused.
    static let formatVersion = "ksand-initramfs-2"
    /// Directories the init mounts on or works in; the kernel creates nothing itself.
    static let mountPoints = ["/dev", "/proc", "/sys", "/run", "/newroot", "/etc", "/etc/ksand"]
    static let initPath = "/init"
    static let consolePath = "/dev/console"

    /// Sorted by path (bytewise); every directory comes before what it holds.
    var entries: [ArchiveEntry]
    /// Archive paths of the modules, in load order.
    var modules: [String]
    /// Hex SHA-256 over the format version, the compression and every entry's path, type, mode and content.
    var key: String

    init(_ request: InitramfsRequest) throws(InitramfsError) {
        if request.compression == .lz4 { throw ArchiveWriter.lz4Refusal }
        // Checked before anything is read: a bad path is a mistake in the request, not in the files.
        let extraPaths = try Self.checkedExtraPaths(request.extraFiles)

        var files: [String: (contents: [UInt8], mode: UInt32)] = [:]
        files[Self.initPath] = (try HostFile.read(request.initBinary.string, what: "the init binary"), 0o755)
        var modulePaths: [String] = []
        if let selection = request.modules {
            for module in try Self.modules(selection) {
                files[module.archivePath] = (module.contents, 0o644)
                modulePaths.append(module.archivePath)
            }
        }
        files[InitramfsBuilder.moduleListPath] = (Array(modulePaths.map { $0 + "\n" }.joined().utf8), 0o644)
        for (extra, path) in zip(request.extraFiles, extraPaths) {
            guard files[path] == nil else {
                throw .invalidArchivePath(path: extra.archivePath, reason: "is where ksand puts its own file")
            }
            files[path] = (try HostFile.read(extra.source.string, what: "extra file \(extra.archivePath)"), extra.mode & 0o7777)
        }

        // Every mount point and every file's parent, with all their ancestors.
        var directories: Set<String> = []
        for path in Self.mountPoints + files.keys.map(Self.parent) {
            var directory = path
            while directory != "/" && directories.insert(directory).inserted {
                directory = Self.parent(directory)
            }
        }
        if let clash = directories.first(where: { files[$0] != nil || $0 == Self.consolePath }) {
            throw .invalidArchivePath(path: clash, reason: "is a file but must be a directory holding other entries")
        }
        if files[Self.consolePath] != nil {
            throw .invalidArchivePath(path: Self.consolePath, reason: "is where ksand puts the console device node")
        }

        var entries = directories.map { ArchiveEntry(path: String($0.dropFirst()), kind: .directory, mode: 0o755) }
        entries.append(ArchiveEntry(path: String(Self.consolePath.dropFirst()), kind: .characterDevice(major: 5, minor: 1), mode: 0o600))
        for (path, file) in files {
            entries.append(ArchiveEntry(path: String(path.dropFirst()), kind: .file(contents: file.contents), mode: file.mode))
        }
        entries.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

        var hasher = ContentHasher()
        hasher.update(Self.formatVersion + "\n" + request.compression.rawValue + "\n")
        for entry in entries {
            hasher.update("\(entry.path)\u{0}\(String(entry.mode, radix: 8))\u{0}")
            switch entry.kind {
            case .directory: hasher.update("d\n")
            case .characterDevice(let major, let minor): hasher.update("c\(major):\(minor)\n")
            case .file(let contents):
                var content = ContentHasher()
                content.update(contents)
                hasher.update("f\(contents.count):\(content.finalize())\n")
            }
        }
        self.entries = entries
        self.modules = modulePaths
        self.key = hasher.finalize()
    }

    /// The modules' closure, read and (where the kernel cannot) decompressed, with their archive paths.
    private static func modules(_ selection: ModuleSelection) throws(InitramfsError) -> [(archivePath: String, contents: [UInt8])] {
        let directory = selection.modulesDirectory.string
        let modulesDep = try HostFile.read(directory + "/modules.dep", what: "the module dependency list (made by depmod)")
        // A kernel with every module built in may ship no modules.builtin; then nothing is built in.
        let modulesBuiltin = (try? HostFile.read(directory + "/modules.builtin", what: "modules.builtin")) ?? []
        let dependencies = try ModuleDependencies(
            modulesDep: String(decoding: modulesDep, as: UTF8.self), modulesBuiltin: String(decoding: modulesBuiltin, as: UTF8.self))
        var result: [(archivePath: String, contents: [UInt8])] = []
        for relative in try dependencies.closure(of: selection.wanted, modulesDirectory: directory).load {
            let hostPath = directory + "/" + relative
            var contents = try HostFile.read(hostPath, what: "module \(ModuleDependencies.name(ofPath: relative))")
            var archivePath = "/lib/modules/\(selection.kernelRelease)/\(relative)"
            if let compression = ModuleCompression(modulePath: relative), !selection.kernelDecompresses.contains(compression) {
                contents = try decompress(contents, path: hostPath)
                archivePath = String(archivePath.dropLast(compression.suffix.count))
            }
            result.append((archivePath, contents))
        }
        return result
    }

    private static func decompress(_ bytes: [UInt8], path: String) throws(InitramfsError) -> [UInt8] {
        var output: [UInt8] = []
        do {
            _ = try bytes.withUnsafeBytes { raw in
                try StreamDecompressor.decompress(raw, what: path, allowsTrailingData: false) { output.append(contentsOf: $0) }
            }
        } catch {
            throw .moduleDecompression(path: path, reason: (error as? StreamDecompressorError)?.message ?? "\(error)")
        }
        // finit_module would refuse anything else, at boot, with a far less helpful message.
        guard output.starts(with: [0x7f, 0x45, 0x4c, 0x46]) else {
            throw .moduleDecompression(path: path, reason: "the decompressed data is not an ELF object")
        }
        return output
    }

    /// The extra files' archive paths, each checked: absolute, no empty, `.` or `..` component, no repeats.
    private static func checkedExtraPaths(_ extras: [InitramfsFile]) throws(InitramfsError) -> [String] {
        var seen: Set<String> = []
        var paths: [String] = []
        for extra in extras {
            let path = extra.archivePath
            guard path.hasPrefix("/") else { throw .invalidArchivePath(path: path, reason: "is relative") }
            let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw .invalidArchivePath(path: path, reason: "has an empty, `.` or `..` component (or a trailing slash)")
            }
            guard seen.insert(path).inserted else { throw .invalidArchivePath(path: path, reason: "is given twice") }
            paths.append(path)
        }
        return paths
    }

    /// `/a/b` → `/a`; `/a` → `/`.
    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
