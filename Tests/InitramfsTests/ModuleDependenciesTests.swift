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
}

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        var empty = SHA256()
        empty.update([UInt8]())
        #expect(empty.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256()
        abc.update("abc")
        #expect(abc.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var long = SHA256()
        long.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        #expect(long.finalize() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func chunkingDoesNotChangeTheDigest() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        var whole = SHA256()
        whole.update(data)
        var pieces = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 7] .cycled(until: data.count) {
            let end = min(offset + size, data.count)
            pieces.update(data[offset..<end])
            offset = end
            if offset == data.count { break }
        }
        #expect(whole.finalize() == pieces.finalize())
    }
}

extension Array where Element == Int {
    func cycled(until total: Int) -> [Int] {
        var out: [Int] = []
        var sum = 0
        while sum < total { for x in self { out.append(x); sum += x } }
        return out
    }
}
