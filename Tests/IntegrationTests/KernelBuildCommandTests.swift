import Foundation
import Testing

extension SerializedIntegrationTests {
/// `ksand kernel build` on Debian's real 6.1 source, as a new user would run it from the repository.
@Suite struct KernelBuildCommandTests {
    struct Manifest: Decodable {
        struct Patch: Decodable { var path: String; var state: String }
        struct Config: Decodable { var symbolCount: Int }
        struct Image: Decodable { var size: Int }
        var kernelRelease: String
        var patches: [Patch]
        var config: Config
        var bzImage: Image
        var buildDirectory: String
    }

    /// Builds (or finds in the cache) the project's default kernel; a first build takes minutes.
    func buildDefault() async throws -> (path: String, manifest: Manifest) {
        let result = try await KsandProcess.run(["kernel", "build", "--print-path"], limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let path = result.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try Data(contentsOf: URL(fileURLWithPath: (path as NSString).deletingLastPathComponent + "/manifest.json"))
        return (path, try JSONDecoder().decode(Manifest.self, from: data))
    }

    /// The extracted, pristine source tree in the default cache.
    func pristineSource() throws -> String {
        let cache = ProcessInfo.processInfo.environment["KSAND_CACHE_DIR"] ?? NSHomeDirectory() + "/.cache/ksand"
        // Beside the trees: a lock file, and staging directories of extractions under way.
        let trees = try FileManager.default.contentsOfDirectory(atPath: cache + "/kernel/source").map { cache + "/kernel/source/" + $0 + "/tree" }
        return try #require(trees.first { !$0.contains(".tmp") && FileManager.default.fileExists(atPath: $0 + "/Makefile") })
    }

    func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-kernel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theDefaultKernelIsBuiltPatchedAndBootsAndAReRunBuildsNothing() async throws {
        let (path, manifest) = try await buildDefault()
        #expect(FileManager.default.fileExists(atPath: path))
        let series = try String(contentsOfFile: KsandProcess.repository + "/patches/series", encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
        #expect(series.first == "0001-md-don-t-sleep-for-a-second-in-the-reboot-notifier.patch")
        #expect(manifest.patches.map { URL(fileURLWithPath: $0.path).lastPathComponent } == series)
        #expect(manifest.patches.map(\.state) == series.map { _ in "applied" })
        #expect(manifest.config.symbolCount < 1000, "tinyconfig plus the sandbox fragment should stay small")

        let log = manifest.buildDirectory + "/build.log"
        let logBefore = try FileManager.default.attributesOfItem(atPath: log)[.modificationDate] as? Date
        let again = try await KsandProcess.run(["kernel", "build", "--print-path"], directory: KsandProcess.repository)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.text.trimmingCharacters(in: .whitespacesAndNewlines) == path)
        #expect(again.seconds < 2, "an unchanged re-run took \(again.seconds) s")
        #expect(again.stderr.contains("in the cache"))
        let logAfter = try FileManager.default.attributesOfItem(atPath: log)[.modificationDate] as? Date
        #expect(logAfter == logBefore, "make ran again")

        let marker = KsandProcess.marker()
        let boot = try await KsandProcess.run(
            ["run", "--kernel", "built", "--accel", "tcg", "--append", marker, "--", "uname", "-r"], directory: KsandProcess.repository)
        #expect(boot.status == 0, "stderr: \(boot.stderr)")
        #expect(boot.text == manifest.kernelRelease + "\n")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }

    @Test func aCorruptPatchIsNamedAndNothingIsBuilt() async throws {
        _ = try await buildDefault()
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // A mail whose diff was cut off after the file header.
        try "From: A <a@example.org>\nSubject: [PATCH] truncated\n\n---\n init/main.c | 2 +-\n\ndiff --git a/init/main.c b/init/main.c\n--- a/init/main.c\n"
            .write(toFile: scratch + "/0002-truncated.patch", atomically: true, encoding: .utf8)
        let result = try await KsandProcess.run(
            ["kernel", "build", "--source", try pristineSource(), "--patch", scratch + "/0002-truncated.patch"],
            limit: 600, environment: ["KSAND_CACHE_DIR": scratch + "/cache"], directory: KsandProcess.repository)
        #expect(result.status == 1)
        #expect(result.stderr.contains(scratch + "/0002-truncated.patch is not a patch"), "stderr: \(result.stderr)")
        let artifacts = (try? FileManager.default.contentsOfDirectory(atPath: scratch + "/cache/kernel/artifacts")) ?? []
        #expect(artifacts.isEmpty)
    }

    @Test func aPatchThatDoesNotApplyNamesTheFileAndHunkAndLeavesTheSourceAlone() async throws {
        _ = try await buildDefault()
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let source = try pristineSource()
        let before = try String(contentsOfFile: source + "/init/main.c", encoding: .utf8)
        try """
            --- a/init/main.c
            +++ b/init/main.c
            @@ -200,3 +200,3 @@
             static int __init this_function_is_not_in_the_kernel(void)
            -\treturn 0;
            +\treturn 1;
             }

            """.write(toFile: scratch + "/0002-stale.patch", atomically: true, encoding: .utf8)
        let result = try await KsandProcess.run(
            ["kernel", "build", "--source", source, "--patch", scratch + "/0002-stale.patch"],
            limit: 600, environment: ["KSAND_CACHE_DIR": scratch + "/cache"], directory: KsandProcess.repository)
        #expect(result.status == 1)
        #expect(result.stderr.contains("patch \(scratch)/0002-stale.patch does not apply to init/main.c (hunk at line 200)"), "stderr: \(result.stderr)")
        #expect(try String(contentsOfFile: source + "/init/main.c", encoding: .utf8) == before)
    }

    @Test func aFragmentAskingForASymbolWithAnUnmetDependencyFailsWithTheReason() async throws {
        _ = try await buildDefault()
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        // 9p over virtio without networking: NET_9P depends on NET, which tinyconfig leaves off.
        try "CONFIG_9P_FS=y\nCONFIG_VIRTIO_MENU=y\n".write(toFile: scratch + "/no-net.config", atomically: true, encoding: .utf8)
        let result = try await KsandProcess.run(
            ["kernel", "config", "--source", try pristineSource(), "--no-patches", "--fragment", scratch + "/no-net.config"],
            limit: 600, environment: ["KSAND_CACHE_DIR": scratch + "/cache"], directory: KsandProcess.repository)
        #expect(result.status == 1)
        #expect(result.stderr.contains("CONFIG_9P_FS=y was requested but"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("NET_9P"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("add CONFIG_"), "stderr: \(result.stderr)")
    }
}
}
