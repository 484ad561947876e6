import Foundation
import Testing
@testable import KernelConfig

/// The whole flow on the real 6.1 tree: merge fragments, let Kconfig resolve them (`make allnoconfig` with
/// `KCONFIG_ALLCONFIG`, which is what merge_config.sh -n runs), verify, and explain what was dropped.
@Suite struct RealKernelTests {
    static var canRunKconfig: Bool {
        Fixtures.linuxTreePresent && FileManager.default.isExecutableFile(atPath: "/usr/bin/make")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")
            // An in-tree build makes O= builds refuse to run.
            && !FileManager.default.fileExists(atPath: Fixtures.linuxTree.appendingPathComponent(".config").path)
    }

    @Test(.enabled(if: canRunKconfig, "needs the Linux 6.1 tree at /tmp/ksrc/linux-source-6.1 (without an in-tree .config), make and gcc"))
    func explainsWhatKconfigDropped() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-kconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let sandbox = try KernelConfiguration(parsing: """
            CONFIG_64BIT=y
            CONFIG_9P_FS=y
            CONFIG_MD_RAID0=y
            CONFIG_NETFS_SUPPORT=y
            CONFIG_OVERLAY_FS=y
            """, origin: "sandbox.config")
        let trim = try KernelConfiguration(parsing: "# CONFIG_NET is not set\n", origin: "trim.config")
        let (requested, _) = ConfigMerge.merge(base: KernelConfiguration(origin: "base"), fragments: [sandbox, trim])
        let allconfig = work.appendingPathComponent("allconfig")
        try requested.rendered.write(to: allconfig, atomically: true, encoding: .utf8)

        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", Fixtures.linuxTree.path, "O=\(work.path)", "KCONFIG_ALLCONFIG=\(allconfig.path)", "allnoconfig"]
        let log = Pipe()
        make.standardOutput = log
        make.standardError = log
        try make.run()
        let output = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        make.waitUntilExit()
        try #require(make.terminationStatus == 0, "\(output)")

        let final = try KernelConfiguration(contentsOf: work.appendingPathComponent(".config"))
        let mismatches = ConfigVerification.check(requested: requested, final: final)
        #expect(mismatches.map(\.symbol) == ["9P_FS", "MD_RAID0", "NETFS_SUPPORT"])

        let database = try KconfigDatabase(tree: Fixtures.linuxTree)
        let explanations = mismatches.map { database.explain($0.symbol, wanted: $0.requested, in: final) }
        for explanation in explanations { print(explanation) }
        #expect(explanations[0].fixes.contains { $0.symbol == "NET" && $0.value == .yes })
        #expect(explanations[1].fixes.map(\.symbol).contains("BLK_DEV_MD"))
        #expect(explanations[2].reason == .notUserSettable(selectedBy: database["NETFS_SUPPORT"]!.selectedBy.map(\.symbol).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }))
    }
}
