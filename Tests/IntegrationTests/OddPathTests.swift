import Foundation
import Testing

extension SerializedIntegrationTests {
/// Real VM boots with paths that hold commas (QEMU's option separator), `=`, spaces and non-ASCII characters.
@Suite struct OddPathTests {
    /// A fresh directory under the temporary directory whose name holds a comma and `=`; removed by the caller.
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/ksand-odd,\(UUID().uuidString.prefix(8))=x"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// QEMU needs a comma in an option value doubled; libvirt writes its own command line from the domain's XML.
    @Test(arguments: KsandProcess.backends) func rwDirectoriesAndOverlaysWithCommasWork(backend: String) async throws {
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let shared = scratch + "/a,b dir", other = scratch + "/k=v ü", overlaid = scratch + "/o,v"
        for directory in [shared, other, overlaid] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let marker = KsandProcess.marker()
        let script = "echo hi > \"\(shared)/f\" && echo there > \"\(other)/g\" && echo x > \"\(overlaid)/h\" && cat \"\(overlaid)/h\""
        let result = try await KsandProcess.run(
            ["run", "--accel", "tcg"] + KsandProcess.backendOptions(backend) + KsandProcess.markerOptions(marker, backend: backend)
                + ["--rw", shared, "--rw", other, "--overlay", overlaid, "--", "sh", "-c", script],
            marker: marker)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.text == "x\n")
        #expect(try String(contentsOfFile: shared + "/f", encoding: .utf8) == "hi\n")
        #expect(try String(contentsOfFile: other + "/g", encoding: .utf8) == "there\n")
        #expect(!FileManager.default.fileExists(atPath: overlaid + "/h"), "the overlay's write reached the host")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }

    /// The project's kernel copied to a directory with a comma, booted with the cache (so the unpacked kernel and
    /// the initramfs) and the run's sockets under such directories too.
    @Test(arguments: KsandProcess.backends) func aKernelCacheAndSocketsUnderCommaPathsBoot(backend: String) async throws {
        let built = try await KsandProcess.run(["kernel", "build", "--print-path"], limit: 3600, directory: KsandProcess.repository)
        #expect(built.status == 0, "stderr: \(built.stderr)")
        let bzImage = built.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let scratch = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let kernelDirectory = scratch + "/kernel,1"
        try FileManager.default.createDirectory(atPath: kernelDirectory, withIntermediateDirectories: true)
        let source = (bzImage as NSString).deletingLastPathComponent
        try FileManager.default.copyItem(atPath: bzImage, toPath: kernelDirectory + "/bzImage")
        try FileManager.default.copyItem(atPath: source + "/config", toPath: kernelDirectory + "/config")
        let runtime = scratch + "/run,1"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let marker = KsandProcess.marker()
        var connect: [String] = []
        if backend == "libvirt" {
            // The embedded driver's own root cannot hold a comma (libvirt does not escape it): the default one under
            // this cache is refused with the fix, and a root elsewhere boots the same kernel and sockets.
            let refused = try await KsandProcess.run(
                ["run", "--kernel", kernelDirectory + "/bzImage", "--accel", "tcg", "--backend", "libvirt", "--", "true"],
                environment: ["KSAND_CACHE_DIR": scratch + "/cache,1", "KSAND_RUNTIME_DIR": runtime])
            #expect(refused.status == 125, "stderr: \(refused.stderr)")
            #expect(refused.stderr.contains("cannot use \(scratch)/cache,1/libvirt-embed as its root"), "stderr: \(refused.stderr)")
            connect = ["--connect", "qemu:///embed?root=" + NSTemporaryDirectory() + "ksand-odd-embed-\(UUID().uuidString.prefix(8))"]
        }
        defer { if let root = connect.last?.split(separator: "=", maxSplits: 1).last { try? FileManager.default.removeItem(atPath: String(root)) } }
        let result = try await KsandProcess.run(
            ["run", "--kernel", kernelDirectory + "/bzImage", "--accel", "tcg"] + KsandProcess.backendOptions(backend) + connect
                + KsandProcess.markerOptions(marker, backend: backend) + ["-v", "--", "uname", "-r"],
            environment: ["KSAND_CACHE_DIR": scratch + "/cache,1", "KSAND_RUNTIME_DIR": runtime], marker: marker)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(!result.text.isEmpty)
        // -v names the images QEMU loads: both from the comma cache. microvm: its config was found beside it, and
        // the host's TSC rate was known.
        let cache = scratch + "/cache,1/"
        #expect(result.stderr.contains("(\(cache)") && result.stderr.contains("initramfs \(cache)"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("machine microvm"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("tsc_early_khz: the host's TSC rate, "), "stderr: \(result.stderr)")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }
}
}
