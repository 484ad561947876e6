import Foundation
import SystemPackage
import Testing
@testable import Initramfs

@Suite struct InitramfsBuilderTests {
    @Test func archiveReadsBackThroughLibarchiveAndCpio() async throws {
        let workspace = try Workspace()
        let output = workspace.path("out.cpio")
        let built = try InitramfsBuilder.write(workspace.request(), to: FilePath(output))
        let release = Workspace.release
        #expect(built.modules == [
            "/lib/modules/\(release)/kernel/drivers/virtio/virtio_ring.ko", "/lib/modules/\(release)/kernel/drivers/virtio/virtio.ko",
            "/lib/modules/\(release)/kernel/fs/overlayfs/overlay.ko",
        ])
        #expect(!built.wasCached)
        #expect(built.size == workspace.read("out.cpio")?.count)

        let entries = try listArchive(output)
        let paths = entries.map(\.path)
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(Set(paths).count == paths.count)
        let directories = [
            "dev", "proc", "sys", "run", "newroot", "etc", "etc/ksand", "usr", "usr/share", "usr/share/ksand", "bin",
            "lib", "lib/modules", "lib/modules/\(release)/kernel/fs/overlayfs",
        ]
        for directory in directories {
            let entry = entries.first { $0.path == directory }
            #expect(entry?.type == 0o040000 && entry?.mode == 0o755, "\(directory): \(String(describing: entry))")
        }
        let console = try #require(entries.first { $0.path == "dev/console" })
        #expect(console.type == 0o020000 && console.mode == 0o600)
        #expect(console.rdevMajor == 5 && console.rdevMinor == 1)
        let modes = Dictionary(uniqueKeysWithValues: entries.filter { $0.type == 0o100000 }.map { ($0.path, $0.mode) })
        #expect(modes == [
            "init": 0o755, "etc/hosts": 0o644, "usr/share/ksand/data.txt": 0o600, "bin/tool": 0o755, "etc/ksand/modules": 0o644,
            "lib/modules/\(release)/kernel/drivers/virtio/virtio_ring.ko": 0o644,
            "lib/modules/\(release)/kernel/drivers/virtio/virtio.ko": 0o644,
            "lib/modules/\(release)/kernel/fs/overlayfs/overlay.ko": 0o644,
        ])

        // GNU cpio lists the same entries in the same order, and extracts the same bytes.
        let (status, listing) = try await run("cpio", ["-t", "--quiet", "-F", output])
        #expect(status == 0, "\(listing)")
        #expect(listing.split(separator: "\n").map(String.init) == paths)
        try await workspace.extract(output, into: "x")
        #expect(workspace.read("x/etc/ksand/modules") == Data((built.modules.joined(separator: "\n") + "\n").utf8))
        #expect(workspace.read("x/init") == workspace.read("init"))
        #expect(workspace.read("x/usr/share/ksand/data.txt") == workspace.read("data.txt"))
        #expect(workspace.read("x/lib/modules/\(release)/kernel/fs/overlayfs/overlay.ko") == workspace.read("modules/kernel/fs/overlayfs/overlay.ko"))
    }

    @Test func newcHeadersCarryNothingFromTheHost() throws {
        let workspace = try Workspace()
        try InitramfsBuilder.write(workspace.request(), to: FilePath(workspace.path("out.cpio")))
        let bytes = try #require(workspace.read("out.cpio"))
        let (headers, trailing) = try parseNewc(Array(bytes))
        #expect(trailing == 0, "no padding to tape blocks after the trailer")
        #expect(bytes.count % 4 == 0)
        let entries = headers.dropLast()
        #expect(headers.last?.path == "TRAILER!!!")
        #expect(entries.map(\.inode) == Array(1...UInt32(entries.count)))
        for header in entries {
            #expect(header.mtime == 0 && header.uid == 0 && header.gid == 0 && header.check == 0, "\(header.path)")
            #expect(header.devMajor == 0 && header.devMinor == 0, "\(header.path)")
            #expect(header.nlink == (header.mode & 0o170000 == 0o040000 ? 2 : 1), "\(header.path)")
        }
        let console = try #require(headers.first { $0.path == "dev/console" })
        #expect(console.mode == 0o020600 && console.rdevMajor == 5 && console.rdevMinor == 1 && console.fileSize == 0)
    }

    @Test func withoutModulesTheModuleListIsEmpty() throws {
        let workspace = try Workspace()
        var request = workspace.request()
        request.modules = nil
        request.extraFiles = []
        let built = try InitramfsBuilder.write(request, to: FilePath(workspace.path("out.cpio")))
        #expect(built.modules.isEmpty)
        let entries = try listArchive(workspace.path("out.cpio"))
        #expect(entries.first { $0.path == "etc/ksand/modules" }?.size == 0)
        #expect(!entries.contains { $0.path.hasPrefix("lib") })
        #expect(entries.map(\.path) == ["dev", "dev/console", "etc", "etc/ksand", "etc/ksand/modules", "init", "newroot", "proc", "run", "sys"])
    }

    @Test(arguments: [InitramfsCompression.none, .gzip, .zstd])
    func identicalInputsGiveIdenticalBytes(_ compression: InitramfsCompression) async throws {
        let workspace = try Workspace()
        let first = try InitramfsBuilder.write(workspace.request(compression), to: FilePath(workspace.path("a")))
        try await Task.sleep(for: .milliseconds(1100))  // a timestamp anywhere in the output would now differ
        try await run("touch", [workspace.path("init"), workspace.path("hosts")])  // so would the files' mtimes
        let second = try InitramfsBuilder.write(workspace.request(compression), to: FilePath(workspace.path("b")))
        #expect(first.cacheKey == second.cacheKey)
        let a = try #require(workspace.read("a"))
        #expect(a.count > 0)
        #expect(a == workspace.read("b"))

        // Compressed, it is the uncompressed archive exactly, in a stream the standard tools accept.
        let plain = try InitramfsBuilder.write(workspace.request(.none), to: FilePath(workspace.path("plain")))
        switch compression {
        case .gzip:
            #expect(Array(a.prefix(8)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0], "gzip header with MTIME 0")
            #expect(try await run("gzip", ["-t", workspace.path("a")]).0 == 0)
            #expect(try await runBytes("gzip", ["-dc", workspace.path("a")]) == (0, workspace.read("plain")!))
        case .zstd:
            #expect(Array(a.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd])
            #expect(try await run("zstd", ["-t", "-q", workspace.path("a")]).0 == 0)
            #expect(try await runBytes("zstd", ["-dc", workspace.path("a")]) == (0, workspace.read("plain")!))
        default:
            #expect(plain.cacheKey == first.cacheKey)
        }
        if compression != .none { #expect(plain.cacheKey != first.cacheKey, "the compression is part of the key") }
    }

    @Test func changingAnyInputChangesTheKey() throws {
        let workspace = try Workspace()
        func key(_ request: InitramfsRequest) throws -> String { try InitramfsLayout(request).key }
        var keys: Set<String> = [try key(workspace.request())]
        try workspace.write("init", "#!/bin/sh\necho changed\n")
        #expect(keys.insert(try key(workspace.request())).inserted, "init content")
        try workspace.write("data.txt", "other data\n")
        #expect(keys.insert(try key(workspace.request())).inserted, "extra file content")
        var request = workspace.request()
        request.extraFiles[0].mode = 0o600
        #expect(keys.insert(try key(request)).inserted, "extra file mode")
        request.extraFiles[0].archivePath = "/etc/hosts2"
        #expect(keys.insert(try key(request)).inserted, "extra file path")
        try workspace.write("modules/kernel/fs/overlayfs/overlay.ko", "\u{7f}ELF rebuilt overlay\n")
        #expect(keys.insert(try key(workspace.request())).inserted, "module content")
        #expect(keys.insert(try key(workspace.request(wanted: ["overlay"]))).inserted, "module selection")
        #expect(try key(workspace.request(wanted: ["overlay"])) == key(workspace.request(wanted: ["overlay"])))
    }

    /// The key of the fixed workspace, pinned: a change of hashing or of the key's recipe would otherwise pass
    /// unnoticed and leave every cached initramfs unused (a recipe change must bump `formatVersion`).
    @Test(arguments: [
        (InitramfsCompression.none, "764fb90f79cd4d507ee74597558f2c065c0fe1f6024dbafe808fc5ceeb2c3c6f"),
        (.zstd, "67f70079b18cd6f75401af8549ebfeb8900a688792df1214f76da0d4db42ac91"),
    ])
    func theKeyOfAFixedRequestIsPinned(_ compression: InitramfsCompression, key: String) throws {
        let workspace = try Workspace()
        let layout = try InitramfsLayout(workspace.request(compression))
        #expect(layout.key == key)
    }

    @Test func lz4IsRefusedWithTheReasonAndWritesNothing() throws {
        let workspace = try Workspace()
        #expect {
            try InitramfsBuilder.write(workspace.request(.lz4), to: FilePath(workspace.path("x.lz4")))
        } throws: { error in
            "\(error)".contains("legacy") && "\(error)".contains("zstd")
        }
        #expect(throws: InitramfsError.self) { try InitramfsBuilder.build(workspace.request(.lz4), cacheDirectory: FilePath(workspace.path("cache"))) }
        let left = try FileManager.default.contentsOfDirectory(atPath: workspace.root.path)
        #expect(!left.contains { $0.hasPrefix("x.lz4") })
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: workspace.path("cache/initramfs"))) ?? []
        #expect(cached.isEmpty)
    }

    @Test func secondBuildIsACacheHitAndLeavesNoTemporaryFiles() throws {
        let workspace = try Workspace()
        let cache = FilePath(workspace.path("cache"))
        let first = try InitramfsBuilder.build(workspace.request(.gzip), cacheDirectory: cache)
        let second = try InitramfsBuilder.build(workspace.request(.gzip), cacheDirectory: cache)
        #expect(!first.wasCached && second.wasCached)
        #expect(first.path == second.path && first.size == second.size && first.modules == second.modules)
        #expect(first.path.string == workspace.path("cache/initramfs/\(first.cacheKey).cpio.gz"))
        #expect(first.cacheKey.count == 64 && first.cacheKey.allSatisfy(\.isHexDigit))

        // The cached file is what `write` produces, and another compression is a separate entry.
        try InitramfsBuilder.write(workspace.request(.gzip), to: FilePath(workspace.path("direct.cpio.gz")))
        #expect(FileManager.default.contents(atPath: first.path.string) == workspace.read("direct.cpio.gz"))
        let zstd = try InitramfsBuilder.build(workspace.request(.zstd), cacheDirectory: cache)
        #expect(!zstd.wasCached && zstd.cacheKey != first.cacheKey)
        let files = try FileManager.default.contentsOfDirectory(atPath: workspace.path("cache/initramfs")).sorted()
        #expect(files == [first.cacheKey + ".cpio.gz", zstd.cacheKey + ".cpio.zst"].sorted())

        // A changed input misses the cache.
        try workspace.write("tool", "#!/bin/sh\nexit 1\n")
        #expect(try InitramfsBuilder.build(workspace.request(.gzip), cacheDirectory: cache).wasCached == false)
    }

    @Test func writeReplacesAnExistingFileWhole() throws {
        let workspace = try Workspace()
        try workspace.write("out.cpio", String(repeating: "old contents ", count: 100_000))
        let built = try InitramfsBuilder.write(workspace.request(), to: FilePath(workspace.path("out.cpio")))
        #expect(workspace.read("out.cpio")?.count == built.size)
        #expect(try parseNewc(Array(workspace.read("out.cpio")!)).trailing == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.root.path).filter { $0.contains(".tmp-") }.isEmpty)
    }

    @Test func unwritableOutputNamesThePath() throws {
        let workspace = try Workspace()
        #expect {
            try InitramfsBuilder.write(workspace.request(), to: FilePath(workspace.path("no/such/dir/out.cpio")))
        } throws: { "\($0)".contains(workspace.path("no/such/dir/out.cpio")) }
    }

    @Test func missingInitNamesItAndThePath() throws {
        let workspace = try Workspace()
        var request = workspace.request()
        request.initBinary = FilePath("/nonexistent/ksand-init")
        #expect(throws: InitramfsError.unreadable(what: "the init binary", path: "/nonexistent/ksand-init", reason: "No such file or directory")) {
            try InitramfsBuilder.write(request, to: FilePath(workspace.path("out.cpio")))
        }
    }

    @Test(arguments: [
        ("etc/relative", "is relative"), ("/etc/../init", "`..`"), ("/etc//x", "empty"), ("/etc/x/", "trailing slash"),
        ("/init", "its own file"), ("/etc/ksand/modules", "its own file"), ("/dev", "must be a directory"),
        ("/dev/console", "console device"), ("/etc/hosts/inner", "must be a directory"),
    ])
    func badExtraPathsAreRefusedBeforeAnythingIsWritten(_ path: String, _ reason: String) throws {
        let workspace = try Workspace()
        var request = workspace.request()
        request.extraFiles.append(InitramfsFile(archivePath: path, source: FilePath(workspace.path("data.txt")), mode: 0o644))
        #expect {
            try InitramfsBuilder.write(request, to: FilePath(workspace.path("out.cpio")))
        } throws: { error in
            guard case .invalidArchivePath = error as? InitramfsError else { return false }
            return "\(error)".contains(reason) && ("\(error)".contains(path) || path.hasPrefix("/etc/hosts/"))
        }
        #expect(workspace.read("out.cpio") == nil)
    }

    @Test func theSameExtraPathTwiceIsRefused() throws {
        let workspace = try Workspace()
        var request = workspace.request()
        request.extraFiles.append(request.extraFiles[0])
        #expect(throws: InitramfsError.invalidArchivePath(path: "/etc/hosts", reason: "is given twice")) {
            try InitramfsBuilder.write(request, to: FilePath(workspace.path("out.cpio")))
        }
    }
}
