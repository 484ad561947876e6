import CArchive
import Foundation
import ToolRunner
import SystemPackage
import Testing
@testable import Initramfs

/// A scratch directory with a fake init, a few extra files and a tiny modules tree.
final class Workspace {
    let root: URL
    static let release = "6.1.0-test"

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-initramfs-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try write("init", "#!/bin/sh\necho fake init\n")
        try write("hosts", "127.0.0.1 localhost\n")
        try write("data.txt", "some data\n")
        try write("tool", "#!/bin/sh\nexit 0\n")
        for path in ["kernel/fs/overlayfs/overlay.ko", "kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko"] {
            try write("modules/" + path, "\u{7f}ELF " + path + " module body\n")
        }
        try write("modules/modules.dep", """
            kernel/fs/overlayfs/overlay.ko:
            kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio_ring.ko:

            """)
    }
    deinit { try? FileManager.default.removeItem(at: root) }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    func write(_ name: String, _ text: String) throws {
        let url = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ name: String) -> Data? { FileManager.default.contents(atPath: path(name)) }

    var extraFiles: [InitramfsFile] {
        [
            InitramfsFile(archivePath: "/etc/hosts", source: FilePath(path("hosts")), mode: 0o644),
            InitramfsFile(archivePath: "/usr/share/ksand/data.txt", source: FilePath(path("data.txt")), mode: 0o600),
            InitramfsFile(archivePath: "/bin/tool", source: FilePath(path("tool")), mode: 0o755),
        ]
    }

    func request(_ compression: InitramfsCompression = .none, wanted: [String] = ["virtio", "overlay"]) -> InitramfsRequest {
        InitramfsRequest(
            initBinary: FilePath(path("init")),
            modules: ModuleSelection(
                modulesDirectory: FilePath(path("modules")), kernelRelease: Self.release, wanted: wanted, kernelDecompresses: []),
            extraFiles: extraFiles,
            compression: compression)
    }

    /// Extracts `archive` with GNU cpio into `directory` (the device node is skipped: creating it needs root).
    func extract(_ archive: String, into directory: String) async throws {
        let target = path(directory)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let (status, output) = try await run("sh", ["-c", "cd \"$1\" && cpio -i --quiet -d --no-absolute-filenames --nonmatching dev/console < \"$2\"", "sh", target, archive])
        #expect(status == 0, "cpio -i: \(output)")
    }
}

/// One entry as libarchive reads it back.
struct Listed: Equatable {
    var path: String
    var type: UInt32
    var mode: UInt32
    var rdevMajor: UInt32
    var rdevMinor: UInt32
    var size: Int64
}

/// Reads an archive back through libarchive (any compression), as any consumer would.
func listArchive(_ path: String) throws -> [Listed] {
    let reader = try #require(archive_read_new())
    defer { archive_read_free(reader) }
    archive_read_support_filter_all(reader)
    archive_read_support_format_all(reader)
    try #require(archive_read_open_filename(reader, path, 65536) == ARCHIVE_OK)
    var entries: [Listed] = []
    var entry: OpaquePointer?
    while true {
        let status = archive_read_next_header(reader, &entry)
        if status == ARCHIVE_EOF { break }
        try #require(status == ARCHIVE_OK, "\(String(cString: archive_error_string(reader)))")
        let mode = UInt32(archive_entry_mode(entry))
        entries.append(Listed(
            path: String(cString: archive_entry_pathname(entry)), type: mode & 0o170000, mode: mode & 0o7777,
            rdevMajor: UInt32(archive_entry_rdevmajor(entry)), rdevMinor: UInt32(archive_entry_rdevminor(entry)),
            size: archive_entry_size(entry)))
    }
    #expect(archive_format(reader) == ARCHIVE_FORMAT_CPIO_SVR4_NOCRC)
    return entries
}

/// The raw fields of one newc header, parsed independently of libarchive.
struct NewcHeader {
    var path: String
    var inode, mode, uid, gid, nlink, mtime, fileSize, devMajor, devMinor, rdevMajor, rdevMinor, check: UInt32
}

/// Parses an uncompressed newc archive by hand; returns the headers up to and including `TRAILER!!!` and the
/// number of bytes after the trailer's padding.
func parseNewc(_ bytes: [UInt8]) throws -> (headers: [NewcHeader], trailing: Int) {
    var offset = 0
    var headers: [NewcHeader] = []
    func align(_ value: Int) -> Int { (value + 3) & ~3 }
    while true {
        try #require(offset + 110 <= bytes.count, "header at \(offset) runs past the end")
        let ascii = String(decoding: bytes[offset..<offset + 110], as: UTF8.self)
        try #require(ascii.hasPrefix("070701"), "bad magic at \(offset)")
        func field(_ index: Int) throws -> UInt32 {
            let start = ascii.index(ascii.startIndex, offsetBy: 6 + index * 8)
            return try #require(UInt32(ascii[start..<ascii.index(start, offsetBy: 8)], radix: 16))
        }
        let nameSize = Int(try field(11))
        let name = String(decoding: bytes[(offset + 110)..<(offset + 110 + nameSize - 1)], as: UTF8.self)
        let header = NewcHeader(
            path: name, inode: try field(0), mode: try field(1), uid: try field(2), gid: try field(3), nlink: try field(4),
            mtime: try field(5), fileSize: try field(6), devMajor: try field(7), devMinor: try field(8),
            rdevMajor: try field(9), rdevMinor: try field(10), check: try field(12))
        headers.append(header)
        offset = align(offset + 110 + nameSize)
        offset = align(offset + Int(header.fileSize))
        if name == "TRAILER!!!" { return (headers, bytes.count - offset) }
    }
}

/// Runs a tool found on PATH; returns its status and combined output.
@discardableResult
func run(_ tool: String, _ arguments: [String]) async throws -> (Int32, String) {
    let result = try await Tool.run(tool, arguments, mergingStandardError: true)
    return (result.status, result.text)
}

/// Runs a tool and returns its standard output as bytes (for `zstd -dc` and friends).
func runBytes(_ tool: String, _ arguments: [String]) async throws -> (Int32, Data) {
    let result = try await Tool.run(tool, arguments)
    return (result.status, result.stdout)
}

/// The kernel Debian's linux-image-amd64 installs (ci/install-deps.sh installs it), whatever its ABI version.
enum InstalledKernel {
    /// Its release, from the package it depends on: `linux-image-6.1.0-57-amd64 (= …)` → `6.1.0-57-amd64`.
    static func release() async throws -> String {
        let (status, output) = try await run("dpkg-query", ["-W", "-f=${Depends}", "linux-image-amd64"])
        try #require(status == 0, "linux-image-amd64 is not installed (apt-get install linux-image-amd64): \(output)")
        let package = output.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "|" }).first { $0.hasPrefix("linux-image-") }
        return String(try #require(package, "linux-image-amd64 depends on no kernel: \(output)").dropFirst("linux-image-".count))
    }

    /// `/lib/modules/RELEASE`, which must hold its modules.dep.
    static func modulesDirectory() async throws -> String {
        let directory = "/lib/modules/" + (try await release())
        try #require(FileManager.default.fileExists(atPath: directory + "/modules.dep"), "\(directory)/modules.dep is missing")
        return directory
    }

    /// One of its modules, by path under its modules directory (uncompressed, as Debian ships them).
    static func module(_ relative: String) async throws -> String {
        let path = try await modulesDirectory() + "/" + relative
        try #require(FileManager.default.fileExists(atPath: path), "\(path) is missing")
        return path
    }
}
