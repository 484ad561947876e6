import Foundation
import KernelBuild
import Sandbox

/// The Linux 6.1 source tree the tests read (merge_config.sh, the whole Kconfig tree, `make allnoconfig`): the one
/// ksand extracts from Debian's linux-source-6.1 tarball into its cache for `ksand kernel build` (CI builds the
/// kernel before the tests), extracted now if it is not there yet: once, under ksand's own lock, so test
/// processes running side by side wait for one another. `$KSAND_LINUX_TREE` names another tree instead.
public enum LinuxSourceTree {
    /// The tree's root; throws (with the fix) when the tarball is missing or cannot be extracted.
    public static func path() async throws -> URL {
        URL(fileURLWithPath: try await extraction.value)
    }

    /// One extraction per test process, however many tests ask.
    private static let extraction = Task<String, any Error> {
        if let given = ProcessInfo.processInfo.environment["KSAND_LINUX_TREE"], !given.isEmpty { return given }
        let cache = CacheDirectory.standard()
        try cache.prepare()
        let request = KernelBuildRequest(series: nil, fragments: [], cacheRoot: cache.path)
        return try await KernelBuilder(request: request, say: { print("linux source: \($0)") }).sourceTree()
    }
}
