import Foundation
import SystemPackage

/// Packs the sandbox initramfs in-process with libarchive: a reproducible newc cpio holding `/init`, a
/// `/dev/console` node, the mount points the init uses, the module list and (for a modular kernel) the modules.
///
/// Reproducible: entries are sorted by path, every header has mtime 0, uid/gid 0, device 0, inode numbers 1, 2, 3…
/// in that order, nlink 2 for directories and 1 otherwise, and compressed archives carry no timestamp; the same
/// inputs give byte-identical files.
///
/// ```swift
/// let request = InitramfsRequest(
///     initBinary: "/usr/libexec/ksand-init",
///     modules: ModuleSelection(modulesDirectory: "/lib/modules/6.1.0-56-amd64", kernelRelease: "6.1.0-56-amd64",
///                              wanted: ["virtio_pci", "9pnet_virtio", "9p", "overlay"], kernelDecompresses: []),
///     compression: .zstd)
/// let built = try InitramfsBuilder.build(request, cacheDirectory: "/home/me/.cache/ksand")
/// // built.path: …/initramfs/<sha256>.cpio.zst, built.modules: the /etc/ksand/modules lines
/// ```
public enum InitramfsBuilder {
    /// The list of modules the init loads, one absolute archive path per line, in load order (empty without modules).
    public static let moduleListPath = "/etc/ksand/modules"

    /// The cached archive for these inputs, or a newly packed one moved into the cache atomically.
    ///
    /// The cache file is `<cacheDirectory>/initramfs/<key>.cpio[.gz|.zst]`. Every input is read (to compute the
    /// key) even on a hit; nothing is written then. A build that is interrupted leaves at most a `.tmp-` file,
    /// never a partial file under the final name.
    public static func build(_ request: InitramfsRequest, cacheDirectory: FilePath) throws(InitramfsError) -> BuiltInitramfs {
        let layout = try InitramfsLayout(request)
        let directory = cacheDirectory.appending("initramfs").string
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory, reason: (error as NSError).localizedDescription)
        }
        let final = directory + "/" + layout.key + request.compression.fileSuffix
        var info = stat()
        if stat(final, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
            return BuiltInitramfs(path: FilePath(final), cacheKey: layout.key, size: Int(info.st_size), modules: layout.modules, wasCached: true)
        }
        return try pack(layout, compression: request.compression, to: final)
    }

    /// Packs to `output`, through a temporary file beside it and a rename (an existing file is replaced whole).
    @discardableResult
    public static func write(_ request: InitramfsRequest, to output: FilePath) throws(InitramfsError) -> BuiltInitramfs {
        try pack(try InitramfsLayout(request), compression: request.compression, to: output.string)
    }

    private static func pack(_ layout: InitramfsLayout, compression: InitramfsCompression, to final: String) throws(InitramfsError) -> BuiltInitramfs {
        let temporary = final + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        do throws(InitramfsError) {
            var writer = try ArchiveWriter(descriptor: descriptor, path: final, compression: compression)
            for entry in layout.entries { try writer.add(entry) }
            try writer.finish()
            // On disk before it gets its final name: after a crash the cache holds the whole archive or none.
            guard fsync(descriptor) == 0 else { throw .cannotWrite(path: temporary, reason: String(cString: strerror(errno))) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        var info = stat()
        fstat(descriptor, &info)
        close(descriptor)
        guard rename(temporary, final) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .cannotWrite(path: final, reason: reason)
        }
        return BuiltInitramfs(path: FilePath(final), cacheKey: layout.key, size: Int(info.st_size), modules: layout.modules, wasCached: false)
    }
}
