import Foundation
import ToolRunner
import Testing
@testable import KernelConfig

/// The whole flow on the real 6.1 tree: merge fragments, let Kconfig resolve them (`make allnoconfig` with
/// `KCONFIG_ALLCONFIG`, which is what merge_config.sh -n runs), verify, and explain what was dropped.
@Suite struct RealKernelTests {
    @Test func explainsWhatKconfigDropped() async throws {
        let linuxTree = try await Fixtures.linuxTree()
        // ci/install-deps.sh installs them.
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/make") && FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc"),
                     "make and gcc are needed: apt-get install make gcc")
        // An in-tree build makes O= builds refuse to run.
        try #require(!FileManager.default.fileExists(atPath: linuxTree.appendingPathComponent(".config").path), "\(linuxTree.path) has an in-tree .config")
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

        let make = try await Tool.run("/usr/bin/make", ["-s", "-C", linuxTree.path, "O=\(work.path)", "KCONFIG_ALLCONFIG=\(allconfig.path)", "allnoconfig"],
                                      mergingStandardError: true)
        try #require(make.status == 0, "\(make.text)")

        let final = try KernelConfiguration(contentsOf: work.appendingPathComponent(".config"))
        let mismatches = ConfigVerification.check(requested: requested, final: final)
        #expect(mismatches.map(\.symbol) == ["9P_FS", "MD_RAID0", "NETFS_SUPPORT"])

        let database = try KconfigDatabase(tree: linuxTree)
        let explanations = mismatches.map { database.explain($0.symbol, wanted: $0.requested, in: final) }
        #expect(explanations[0].description == "CONFIG_9P_FS=y was requested but is not set: it depends on NETWORK_FILESYSTEMS && INET && NET_9P, and NETWORK_FILESYSTEMS, INET and NET_9P are not set (each depends on NET, which is not set) — add CONFIG_NET=y, CONFIG_NETWORK_FILESYSTEMS=y, CONFIG_INET=y and CONFIG_NET_9P=y")
        #expect(explanations[1].description == "CONFIG_MD_RAID0=y was requested but is not set: it depends on MD && BLK_DEV_MD, and MD is not set and BLK_DEV_MD is not set (it depends on MD, which is not set) — add CONFIG_MD=y and CONFIG_BLK_DEV_MD=y")
        #expect(explanations[2].reason == .notUserSettable(selectedBy: ["FSCACHE", "CEPH_FS", "AFS_FS", "9P_FS"]))
        #expect(explanations[2].description.hasSuffix("— enable one of CONFIG_FSCACHE, CONFIG_CEPH_FS, CONFIG_AFS_FS or CONFIG_9P_FS, which select it"))
    }
}
