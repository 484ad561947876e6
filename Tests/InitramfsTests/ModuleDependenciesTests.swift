import Foundation
import Testing
@testable import Initramfs

@Suite struct ModuleDependenciesTests {
    /// Lines taken from Debian 6.1.0-56-amd64's modules.dep and modules.builtin.
    static func recorded() throws -> ModuleDependencies {
        let directory = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try ModuleDependencies(
            modulesDep: try String(contentsOf: directory.appendingPathComponent("modules.dep"), encoding: .utf8),
            modulesBuiltin: try String(contentsOf: directory.appendingPathComponent("modules.builtin"), encoding: .utf8))
    }

    @Test func closureLoadsEveryModuleAfterItsDependencies() throws {
        let deps = try Self.recorded()
        let (load, builtIn) = try deps.closure(of: ["9p", "virtio_pci", "overlay", "9pnet_virtio"])
        #expect(builtIn.isEmpty)
        #expect(Set(load) == [
            "kernel/fs/netfs/netfs.ko", "kernel/fs/fscache/fscache.ko", "kernel/net/9p/9pnet.ko", "kernel/fs/9p/9p.ko",
            "kernel/drivers/virtio/virtio_ring.ko", "kernel/drivers/virtio/virtio.ko",
            "kernel/drivers/virtio/virtio_pci_legacy_dev.ko", "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
            "kernel/drivers/virtio/virtio_pci.ko", "kernel/fs/overlayfs/overlay.ko", "kernel/net/9p/9pnet_virtio.ko",
        ])
        func position(_ name: String) throws -> Int { try #require(load.firstIndex { $0.hasSuffix("/" + name) }) }
        #expect(try position("netfs.ko") < position("fscache.ko"))
        #expect(try position("fscache.ko") < position("9p.ko"))
        #expect(try position("9pnet.ko") < position("9p.ko"))
        #expect(try position("virtio_ring.ko") < position("virtio.ko"))
        #expect(try position("virtio.ko") < position("virtio_pci.ko"))
        #expect(try position("9pnet.ko") < position("9pnet_virtio.ko"))
        #expect(load.count == Set(load).count)
    }

    @Test func dashesAndUnderscoresAreTheSameName() throws {
        let deps = try Self.recorded()
        #expect(try deps.closure(of: ["md_mod"]).load == ["kernel/drivers/md/md-mod.ko"])
        #expect(try deps.closure(of: ["virtio-rng"]).load.last == "kernel/drivers/char/hw_random/virtio-rng.ko")
        #expect(try deps.closure(of: ["virtio_rng.ko"]).load.last == "kernel/drivers/char/hw_random/virtio-rng.ko")
        #expect(try deps.closure(of: ["overlay.ko.xz"]).load == ["kernel/fs/overlayfs/overlay.ko"])
    }

    @Test func builtInModulesAreSkippedAndReported() throws {
        let (load, builtIn) = try Self.recorded().closure(of: ["zstd_decompress", "overlay"])
        #expect(load == ["kernel/fs/overlayfs/overlay.ko"])
        #expect(builtIn == ["zstd_decompress"])
    }

    @Test func unknownModuleNamesItAndTheDirectory() throws {
        let deps = try Self.recorded()
        #expect(throws: InitramfsError.unknownModule(name: "no_such_mod", modulesDirectory: "/lib/modules/x")) {
            try deps.closure(of: ["no_such_mod"], modulesDirectory: "/lib/modules/x")
        }
    }

    @Test func compressedModulePathsNormalise() {
        #expect(ModuleDependencies.name(ofPath: "kernel/fs/9p/9p.ko.xz") == "9p")
        #expect(ModuleDependencies.name(ofPath: "kernel/drivers/md/md-mod.ko.zst") == "md_mod")
        #expect(ModuleCompression(modulePath: "a.ko.gz") == .gzip)
        #expect(ModuleCompression(modulePath: "a.ko") == nil)
    }

    @Test func malformedLineIsReportedWithItsNumber() {
        #expect(throws: InitramfsError.malformedModulesDep(line: 2, text: "garbage without colon")) {
            try ModuleDependencies(modulesDep: "a.ko:\ngarbage without colon\n", modulesBuiltin: "")
        }
    }
    /// The whole real modules.dep: every closure loads what `modprobe --show-depends` would, dependencies first.
    @Test(arguments: ["9p", "9pnet_virtio", "virtio_pci", "virtio_console", "virtio_mmio", "overlay", "virtio_blk", "virtio-rng", "zstd_decompress"])
    func agreesWithModprobeOnTheInstalledKernel(_ name: String) async throws {
        let directory = try await InstalledKernel.modulesDirectory()
        let deps = try ModuleDependencies(
            modulesDep: try String(contentsOfFile: directory + "/modules.dep", encoding: .utf8),
            modulesBuiltin: try String(contentsOfFile: directory + "/modules.builtin", encoding: .utf8))
        let (status, output) = try await run("/usr/sbin/modprobe", ["--show-depends", "-S", try await InstalledKernel.release(), name])
        try #require(status == 0, "\(output)")
        let expected = output.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.first == "insmod", words.count >= 2 else { return nil }
            return String(words[1].dropFirst(directory.count + 1))
        }
        let (load, builtIn) = try deps.closure(of: [name])
        if output.hasPrefix("builtin ") {
            #expect(load.isEmpty && builtIn == [name])
        } else {
            #expect(Set(load) == Set(expected))
            #expect(load.last == expected.last, "the wanted module comes last")
            let dependencies = Dictionary(uniqueKeysWithValues: try String(contentsOfFile: directory + "/modules.dep", encoding: .utf8)
                .split(separator: "\n").map { line in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    return (String(parts[0]), parts.count > 1 ? parts[1].split(separator: " ").map(String.init) : [])
                })
            for (index, module) in load.enumerated() {
                for dependency in dependencies[module] ?? [] {
                    #expect(load[..<index].contains(dependency), "\(module) loads before its dependency \(dependency)")
                }
            }
        }
    }
}
