import CArchive
import Foundation
import SystemPackage
import Testing
@testable import Initramfs

@Suite struct InitramfsBuilderTests {
    /// A scratch directory with a fake init and a tiny modules tree made from real modules.dep lines.
    final class Workspace {
        let root: URL
        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-initramfs-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try Data("#!/bin/sh\necho fake init\n".utf8).write(to: root.appendingPathComponent("init"))
            let modules = root.appendingPathComponent("modules")
            for path in ["kernel/fs/overlayfs/overlay.ko", "kernel/drivers/virtio/virtio.ko", "kernel/drivers/virtio/virtio_ring.ko"] {
                let url = modules.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data((path + " module body\n").utf8).write(to: url)
            }
            try Data("""
                kernel/fs/overlayfs/overlay.ko:
                kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
                kernel/drivers/virtio/virtio_ring.ko:

                """.utf8).write(to: modules.appendingPathComponent("modules.dep"))
        }
        deinit { try? FileManager.default.removeItem(at: root) }
        func path(_ name: String) -> String { root.appendingPathComponent(name).path }
        func request(_ compression: InitramfsCompression = .none) -> InitramfsRequest {
            InitramfsRequest(
                initBinary: FilePath(path("init")),
                modules: ModuleSelection(modulesDirectory: FilePath(path("modules")), kernelRelease: "6.1.0-test", wanted: ["virtio", "overlay"], kernelDecompresses: []),
                compression: compression)
        }
    }

    struct Listed: Equatable {
        var path: String
        var type: UInt32
        var mode: UInt32
        var rdev: (UInt32, UInt32)
        static func == (a: Listed, b: Listed) -> Bool { a.path == b.path && a.type == b.type && a.mode == b.mode && a.rdev == b.rdev }
    }

    /// Reads an archive back through libarchive, as any consumer would.
    static func list(_ path: String) throws -> [Listed] {
        let reader = try #require(archive_read_new())
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_all(reader)
        #expect(archive_read_open_filename(reader, path, 65536) == ARCHIVE_OK)
        var entries: [Listed] = []
        var entry: OpaquePointer?
        while archive_read_next_header(reader, &entry) == ARCHIVE_OK {
            let mode = UInt32(archive_entry_mode(entry))
            entries.append(Listed(
                path: String(cString: archive_entry_pathname(entry)), type: mode & 0o170000, mode: mode & 0o7777,
                rdev: (UInt32(archive_entry_rdevmajor(entry)), UInt32(archive_entry_rdevminor(entry)))))
        }
        return entries
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func archiveReadsBackThroughLibarchiveAndCpio() throws {
        let workspace = try Workspace()
        let output = workspace.path("out.cpio")
        let built = try InitramfsBuilder.write(workspace.request(), to: FilePath(output))
        #expect(built.modules == [
            "/lib/modules/6.1.0-test/kernel/drivers/virtio/virtio_ring.ko", "/lib/modules/6.1.0-test/kernel/drivers/virtio/virtio.ko",
            "/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko",
        ])
        let entries = try Self.list(output)
        let paths = entries.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for required in ["init", "dev", "dev/console", "proc", "sys", "run", "newroot", "etc/ksand/modules", "lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko"] {
            #expect(paths.contains(required), "missing \(required)")
        }
        let console = try #require(entries.first { $0.path == "dev/console" })
        #expect(console.type == 0o020000 && console.rdev == (5, 1) && console.mode == 0o600)
        #expect(entries.first { $0.path == "init" }?.mode == 0o755)

        let (status, listing) = try Self.run("cpio", ["-t", "-F", output])
        #expect(status == 0, "\(listing)")
        let cpioPaths = listing.split(separator: "\n").filter { !$0.contains("blocks") }.map(String.init)
        #expect(cpioPaths == paths)

        let extracted = workspace.path("x")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        let (cpioStatus, cpioText) = try Self.run("sh", ["-c", "cd '\(extracted)' && cpio -i --quiet --no-absolute-filenames --nonmatching 'dev/console' < '\(output)'"])
        #expect(cpioStatus == 0, "\(cpioText)")
        #expect(try String(contentsOfFile: extracted + "/etc/ksand/modules", encoding: .utf8) == built.modules.joined(separator: "\n") + "\n")
        #expect(FileManager.default.contents(atPath: extracted + "/init") == FileManager.default.contents(atPath: workspace.path("init")))
    }

    @Test(arguments: [InitramfsCompression.none, .gzip, .zstd])
    func identicalInputsGiveIdenticalBytes(_ compression: InitramfsCompression) throws {
        let workspace = try Workspace()
        let first = try InitramfsBuilder.write(workspace.request(compression), to: FilePath(workspace.path("a")))
        Thread.sleep(forTimeInterval: 1.1)  // a timestamp anywhere in the output would now differ
        let second = try InitramfsBuilder.write(workspace.request(compression), to: FilePath(workspace.path("b")))
        #expect(first.cacheKey == second.cacheKey)
        let a = try #require(FileManager.default.contents(atPath: workspace.path("a")))
        #expect(a == FileManager.default.contents(atPath: workspace.path("b")))
        #expect(a.count > 0)
        switch compression {
        case .gzip: #expect(try Self.run("gzip", ["-t", workspace.path("a")]).0 == 0)
        case .zstd: #expect(try Self.run("zstd", ["-t", "-q", workspace.path("a")]).0 == 0)
        default: break
        }
    }

    @Test func changingAnInputChangesTheKey() throws {
        let workspace = try Workspace()
        let before = try InitramfsBuilder.plan(workspace.request()).key
        try Data("#!/bin/sh\necho changed\n".utf8).write(to: workspace.root.appendingPathComponent("init"))
        #expect(try InitramfsBuilder.plan(workspace.request()).key != before)
    }

    @Test func lz4IsRefusedWithTheReason() throws {
        let workspace = try Workspace()
        #expect {
            try InitramfsBuilder.write(workspace.request(.lz4), to: FilePath(workspace.path("x.lz4")))
        } throws: { error in
            "\(error)".contains("legacy") && "\(error)".contains("zstd")
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.path("x.lz4")))
    }

    @Test func compressedModulesAreStoredDecompressedWhenTheKernelCannotLoadThem() throws {
        let workspace = try Workspace()
        let module = workspace.path("modules/kernel/fs/overlayfs/overlay.ko")
        let original = try #require(FileManager.default.contents(atPath: module))
        #expect(try Self.run("zstd", ["-q", "--rm", module]).0 == 0)
        let dep = workspace.path("modules/modules.dep")
        let text = try String(contentsOfFile: dep, encoding: .utf8).replacingOccurrences(of: "overlay.ko:", with: "overlay.ko.zst:")
        try text.write(toFile: dep, atomically: true, encoding: .utf8)

        let output = workspace.path("out.cpio")
        let built = try InitramfsBuilder.write(workspace.request(), to: FilePath(output))
        #expect(built.modules.last == "/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko")
        let extracted = workspace.path("x")
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        _ = try Self.run("sh", ["-c", "cd '\(extracted)' && cpio -i --quiet -d --nonmatching 'dev/console' < '\(output)'"])
        #expect(FileManager.default.contents(atPath: extracted + "/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko") == original)

        var request = workspace.request()
        request.modules?.kernelDecompresses = [.zstd]
        #expect(try InitramfsBuilder.write(request, to: FilePath(output)).modules.last == "/lib/modules/6.1.0-test/kernel/fs/overlayfs/overlay.ko.zst")
    }

    @Test func secondBuildIsACacheHitAndLeavesNoTemporaryFiles() throws {
        let workspace = try Workspace()
        let cache = FilePath(workspace.path("cache"))
        let first = try InitramfsBuilder.build(workspace.request(.gzip), cacheDirectory: cache)
        let second = try InitramfsBuilder.build(workspace.request(.gzip), cacheDirectory: cache)
        #expect(!first.wasCached && second.wasCached)
        #expect(first.path == second.path)
        #expect(first.path.string.hasSuffix(first.cacheKey + ".cpio.gz"))
        let files = try FileManager.default.contentsOfDirectory(atPath: workspace.path("cache/initramfs"))
        #expect(files == [first.cacheKey + ".cpio.gz"])
    }

    @Test func missingInitNamesThePath() throws {
        let workspace = try Workspace()
        var request = workspace.request()
        request.initBinary = FilePath("/nonexistent/ksand-init")
        #expect { try InitramfsBuilder.plan(request) } throws: { "\($0)".contains("/nonexistent/ksand-init") }
    }
}
