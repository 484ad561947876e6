import Foundation
import SystemPackage
import Testing
@testable import Initramfs

/// A small real module of the installed Debian kernel (no dependencies, a '-' in its name).
private func realModule() async throws -> String { try await InstalledKernel.module(ModulePackingTests.relative) }
/// A large one (1.9 MB): three quarters of it compressed decompress to more than libarchive hands out in one
/// read, so a truncation shows up only after some output.
private func largeModule() async throws -> String { try await InstalledKernel.module("kernel/drivers/net/ethernet/intel/ice/ice.ko") }

/// Compressed modules, made from a real module of the installed kernel with the command-line compressors.
@Suite struct ModulePackingTests {
    static let relative = "kernel/lib/crc-itu-t.ko"

    /// A workspace whose modules tree holds only `module` (as `crc-itu-t`), compressed with `tool arguments`.
    func workspace(of given: String? = nil, compressingWith tool: String, _ arguments: [String], suffix: String) async throws -> (Workspace, original: Data) {
        let module = if let given { given } else { try await realModule() }
        let workspace = try Workspace()
        let original = try #require(FileManager.default.contents(atPath: module))
        let target = workspace.path("modules/" + Self.relative)
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try original.write(to: URL(fileURLWithPath: target))
        let (status, output) = try await run(tool, arguments + [target])
        try #require(status == 0, "\(tool): \(output)")
        try #require(FileManager.default.fileExists(atPath: target + suffix))
        try workspace.write("modules/modules.dep", Self.relative + suffix + ":\n")
        return (workspace, original)
    }

    static let compressors: [(tool: String, arguments: [String], suffix: String, compression: ModuleCompression)] = [
        ("xz", ["-q", "--check=crc32", "--lzma2=dict=1MiB"], ".xz", .xz),  // as the kernel's `make modules_install` does
        ("zstd", ["-q", "--rm", "-T0"], ".zst", .zstd),
        ("gzip", ["-n", "-f"], ".gz", .gzip),
    ]

    @Test(arguments: compressors)
    func compressedModuleIsStoredDecompressedWhenTheKernelCannotLoadIt(
        _ compressor: (tool: String, arguments: [String], suffix: String, compression: ModuleCompression)
    ) async throws {
        let (workspace, original) = try await workspace(compressingWith: compressor.tool, compressor.arguments, suffix: compressor.suffix)
        // '-' and '_' are the same in module names.
        var request = workspace.request(wanted: ["crc_itu_t"])
        let output = workspace.path("out.cpio")
        let built = try InitramfsBuilder.write(request, to: FilePath(output))
        let stored = "/lib/modules/\(Workspace.release)/\(Self.relative)"
        #expect(built.modules == [stored])
        let paths = try listArchive(output).map(\.path)
        #expect(paths.contains(String(stored.dropFirst())))
        #expect(!paths.contains { $0.hasSuffix(compressor.suffix) })
        try await workspace.extract(output, into: "x")
        #expect(workspace.read("x" + stored) == original, "the stored module is the original, byte for byte")
        #expect(workspace.read("x/etc/ksand/modules") == Data((stored + "\n").utf8))

        // A kernel that decompresses this algorithm itself gets the compressed file as it is.
        request.modules?.kernelDecompresses = [compressor.compression]
        let kept = try InitramfsBuilder.write(request, to: FilePath(output))
        #expect(kept.modules == [stored + compressor.suffix])
        try await workspace.extract(output, into: "y")
        #expect(workspace.read("y" + stored + compressor.suffix) == workspace.read("modules/" + Self.relative + compressor.suffix))
    }

    /// Cut short, a large module would still decompress to a plausible-looking ELF prefix; it must fail instead.
    @Test(arguments: compressors)
    func truncatedCompressedModuleIsAnErrorNamingIt(
        _ compressor: (tool: String, arguments: [String], suffix: String, compression: ModuleCompression)
    ) async throws {
        let (workspace, _) = try await workspace(of: try await largeModule(), compressingWith: compressor.tool, compressor.arguments, suffix: compressor.suffix)
        let path = workspace.path("modules/" + Self.relative + compressor.suffix)
        let compressed = try #require(FileManager.default.contents(atPath: path))
        try compressed.prefix(compressed.count * 3 / 4).write(to: URL(fileURLWithPath: path))
        #expect {
            try InitramfsBuilder.write(workspace.request(wanted: ["crc-itu-t"]), to: FilePath(workspace.path("out.cpio")))
        } throws: { error in
            guard case .moduleDecompression(let named, _) = error as? InitramfsError else { return false }
            return named == path
        }
        #expect(workspace.read("out.cpio") == nil)
    }

    @Test func compressedDataThatIsNotAModuleIsRefused() async throws {
        let workspace = try Workspace()
        try workspace.write("modules/kernel/lib/fake.ko", "not an ELF object\n")
        #expect(try await run("xz", ["-q", workspace.path("modules/kernel/lib/fake.ko")]).0 == 0)
        try workspace.write("modules/modules.dep", "kernel/lib/fake.ko.xz:\n")
        #expect {
            try InitramfsBuilder.write(workspace.request(wanted: ["fake"]), to: FilePath(workspace.path("out.cpio")))
        } throws: { "\($0)".contains("not an ELF object") && "\($0)".contains("fake.ko.xz") }
    }

    @Test func unknownModuleNamesItAndTheModulesDirectory() throws {
        let workspace = try Workspace()
        #expect(throws: InitramfsError.unknownModule(name: "no_such_mod", modulesDirectory: workspace.path("modules"))) {
            try InitramfsBuilder.write(workspace.request(wanted: ["overlay", "no_such_mod"]), to: FilePath(workspace.path("out.cpio")))
        }
    }
}
