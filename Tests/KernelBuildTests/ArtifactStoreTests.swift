import Foundation
@testable import KernelBuild
import Testing

@Suite struct ArtifactStoreTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-store-\(UUID().uuidString)").path

    func manifest(key: String) -> KernelManifest {
        KernelManifest(
            key: key, kernelRelease: "6.1.0", architecture: "x86_64", compiler: "gcc 12",
            source: .init(kind: "tarball", path: "/usr/src/linux.tar.xz", identity: "abc", inPlace: false), patches: [],
            config: .init(base: "tinyconfig", baseSHA256: nil, fragments: [], sha256: "c", symbolCount: 1, builtIn: 1, modules: 0),
            bzImage: .init(path: "bzImage", size: 5, sha256: "d"),
            timings: .init(configureSeconds: 1, buildSeconds: 2, makeSteps: 3, jobs: 2), buildDirectory: "/b", created: "now")
    }

    @Test func aStoredKernelIsFoundByItsKeyAndByItsInputs() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "image".write(toFile: root + "/bzImage", atomically: true, encoding: .utf8)
        let store = ArtifactStore(kernelCache: root + "/kernel")
        let stored = try store.store(files: ["bzImage": root + "/bzImage"], manifest: manifest(key: "k1"))
        #expect(!stored.wasCached)
        #expect(try String(contentsOfFile: stored.bzImage, encoding: .utf8) == "image")
        try store.record(inputKey: "i1", artifactKey: "k1")
        #expect(store.lookup(inputKey: "i1")?.manifest == manifest(key: "k1"))
        #expect(store.lookup(inputKey: "i2") == nil)
        // Storing the same key again (a concurrent build of the same inputs) returns the one in place.
        #expect(try store.store(files: ["bzImage": root + "/bzImage"], manifest: manifest(key: "k1")).wasCached)
    }

    @Test func aHalfWrittenKernelIsNeverFoundAndIsCleanedUp() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = ArtifactStore(kernelCache: root + "/kernel")
        // A build killed while copying: a staging directory of a dead process, and a directory without a manifest.
        try FileManager.default.createDirectory(atPath: store.artifacts + "/.tmp-k2-999999999", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: store.artifacts + "/k3", withIntermediateDirectories: true)
        try "image".write(toFile: store.artifacts + "/k3/bzImage", atomically: true, encoding: .utf8)
        try store.record(inputKey: "i3", artifactKey: "k3")
        #expect(store.lookup(inputKey: "i3") == nil)
        store.removeStaleStaging()
        #expect(!FileManager.default.fileExists(atPath: store.artifacts + "/.tmp-k2-999999999"))
    }
}
