import Foundation
import KernelConfig
import LinuxSourceTree
import Testing

/// The test fixtures: fragments under `Fixtures/fragments`, Kconfig excerpts of Linux 6.1 under `Fixtures/tree`.
enum Fixtures {
    static var directory: URL {
        get throws { try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)) }
    }

    static func fragment(_ name: String) throws -> KernelConfiguration {
        let configuration = try KernelConfiguration(contentsOf: directory.appendingPathComponent("fragments/" + name))
        var named = configuration
        named.origin = name
        return named
    }

    static func fragmentURL(_ name: String) throws -> URL {
        try directory.appendingPathComponent("fragments/" + name)
    }

    static var tree: URL {
        get throws { try directory.appendingPathComponent("tree") }
    }

    /// The Debian linux-source-6.1 tree ksand extracts into its cache (see ``LinuxSourceTree``).
    static func linuxTree() async throws -> URL {
        let tree = try await LinuxSourceTree.path()
        try #require(FileManager.default.fileExists(atPath: tree.appendingPathComponent("scripts/kconfig/merge_config.sh").path), "\(tree.path) is not a kernel tree")
        return tree
    }
}
