import Foundation
import SystemPackage

/// Packs the sandbox initramfs in-process with libarchive: a reproducible newc cpio holding `/init`, a
/// `/dev/console` node, the mount points the init uses, and (for a modular kernel) the modules it needs.
///
/// Reproducible: entries are sorted by path, every header has mtime 0, uid/gid 0 and inode numbers 1, 2, 3… in
/// that order, and compressed archives carry no timestamp; the same inputs give byte-identical files.
public enum InitramfsBuilder {
    /// Changes whenever the archive's layout changes, so old cache entries are not reused.
    static let formatVersion = "ksand-initramfs-1"
    /// The list of modules the init loads, one archive path per line, in load order.
    public static let moduleListPath = "/etc/ksand/modules"
    /// Directories the init mounts on or works in.
    static let mountPoints = ["/dev", "/proc", "/sys", "/run", "/newroot", "/etc/ksand"]

    /// The cached archive for these inputs, or a newly packed one moved into the cache atomically.
    public static func build(_ request: InitramfsRequest, cacheDirectory: FilePath) throws(InitramfsError) -> BuiltInitramfs {
        let plan = try plan(request)
        let directory = cacheDirectory.appending("initramfs").string
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory, reason: "\(error)")
        }
        let final = directory + "/" + plan.key + request.compression.fileSuffix
        var info = stat()
        if stat(final, &info) == 0 {
            return BuiltInitramfs(path: FilePath(final), cacheKey: plan.key, size: Int(info.st_size), modules: plan.modules, wasCached: true)
        }
        return try pack(plan, compression: request.compression, to: final)
    }

    /// Packs to `output` (through a temporary file beside it and a rename).
    public static func write(_ request: InitramfsRequest, to output: FilePath) throws(InitramfsError) -> BuiltInitramfs {
        try pack(try plan(request), compression: request.compression, to: output.string)
    }

    struct Plan {
        var entries: [ArchiveEntry]
        var modules: [String]
        var key: String
    }

    /// Reads every input and lays out the archive; computes the content key.
    static func plan(_ request: InitramfsRequest) throws(InitramfsError) -> Plan {
        var files: [String: (contents: [UInt8], mode: UInt32)] = [:]
        files["/init"] = (try read(request.initBinary.string), 0o755)
        var modulePaths: [String] = []
        if let selection = request.modules {
            let directory = selection.modulesDirectory.string
            let dependencies = try ModuleDependencies(
                modulesDep: String(decoding: try read(directory + "/modules.dep"), as: UTF8.self),
                modulesBuiltin: (try? read(directory + "/modules.builtin")).map { String(decoding: $0, as: UTF8.self) } ?? "")
            let closure = try dependencies.closure(of: selection.wanted, modulesDirectory: directory)
            for relative in closure.load {
                var contents = try read(directory + "/" + relative)
                var archivePath = "/lib/modules/\(selection.kernelRelease)/\(relative)"
                if let compression = ModuleCompression(modulePath: relative), !selection.kernelDecompresses.contains(compression) {
                    contents = try decompress(contents, path: directory + "/" + relative)
                    archivePath = String(archivePath[..<archivePath.lastIndex(of: ".")!])
                }
                files[archivePath] = (contents, 0o644)
                modulePaths.append(archivePath)
            }
        }
        files[moduleListPath] = (Array(modulePaths.map { $0 + "\n" }.joined().utf8), 0o644)
        for extra in request.extraFiles {
            files[extra.archivePath] = (try read(extra.source.string), extra.mode)
        }

        // Every mount point and every file's parent, with all their ancestors: the kernel creates nothing itself.
        var directories: Set<String> = []
        for path in mountPoints + files.keys.map({ ($0 as NSString).deletingLastPathComponent }) {
            var directory = path
            while directory != "/" && !directory.isEmpty && directories.insert(directory).inserted {
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        var entries: [ArchiveEntry] = directories.map { ArchiveEntry(path: String($0.dropFirst()), kind: .directory, mode: 0o755) }
        entries.append(ArchiveEntry(path: "dev/console", kind: .characterDevice(major: 5, minor: 1), mode: 0o600))
        for (path, file) in files {
            entries.append(ArchiveEntry(path: String(path.dropFirst()), kind: .file(contents: file.contents), mode: file.mode))
        }
        entries.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }

        var hasher = SHA256()
        hasher.update(formatVersion + "\n")
        for entry in entries {
            hasher.update("\(entry.path)\u{0}\(entry.mode)\u{0}")
            switch entry.kind {
            case .directory: hasher.update("d\n")
            case .characterDevice(let major, let minor): hasher.update("c\(major):\(minor)\n")
            case .file(let contents):
                hasher.update("f\(contents.count)\n")
                hasher.update(contents)
            }
        }
        return Plan(entries: entries, modules: modulePaths, key: hasher.finalize())
    }

    private static func pack(_ plan: Plan, compression: InitramfsCompression, to final: String) throws(InitramfsError) -> BuiltInitramfs {
        let temporary = final + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            var writer = try ArchiveWriter(path: temporary, compression: compression)
            for entry in plan.entries { try writer.add(entry) }
            try writer.finish()
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .cannotWrite(path: final, reason: reason)
        }
        var info = stat()
        stat(final, &info)
        return BuiltInitramfs(path: FilePath(final), cacheKey: plan.key, size: Int(info.st_size), modules: plan.modules, wasCached: false)
    }

    private static func decompress(_ bytes: [UInt8], path: String) throws(InitramfsError) -> [UInt8] {
        var output: [UInt8] = []
        do {
            _ = try bytes.withUnsafeBytes { raw in
                try StreamDecompressor.decompress(raw, what: path) { output.append(contentsOf: $0) }
            }
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        return output
    }

    private static func read(_ path: String) throws(InitramfsError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        return Array(data)
    }
}
