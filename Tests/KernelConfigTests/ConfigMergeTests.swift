import Foundation
import ToolRunner
import Testing
@testable import KernelConfig

@Suite struct ConfigMergeTests {
    let names = ["sandbox.config", "trim.config"]

    func ours() throws -> (merged: KernelConfiguration, overrides: [ConfigOverride]) {
        ConfigMerge.merge(base: try Fixtures.fragment("base.config"), fragments: try names.map(Fixtures.fragment))
    }

    @Test func laterFragmentsWinAndOverridesAreListed() throws {
        let (merged, overrides) = try ours()
        #expect(merged["9P_FS"] == .yes)
        #expect(merged["OVERLAY_FS"] == .no)
        #expect(merged["MD_RAID0"] == .module)
        #expect(merged["NR_CPUS"] == .number("8"))
        #expect(merged["SOUND"] == .no)
        #expect(merged["MODULES"] == .no)
        #expect(merged["LOCALVERSION"] == .string("-ksand"))
        #expect(overrides.map { "\($0.symbol) \($0.fragment)" } == [
            "NET_9P sandbox.config", "9P_FS sandbox.config", "OVERLAY_FS sandbox.config", "BLK_DEV_MD sandbox.config",
            "LOCALVERSION sandbox.config",
            "OVERLAY_FS trim.config", "NR_CPUS trim.config", "MD_RAID0 trim.config", "DEFAULT_HOSTNAME trim.config",
        ])
        #expect(overrides[0].description == "Value of CONFIG_NET_9P is redefined by fragment sandbox.config: m → y")
        // Same value again is not an override (VIRTIO_PCI=y in both).
        #expect(!overrides.contains { $0.symbol == "VIRTIO_PCI" })
    }

    @Test func redefinedSymbolsMoveToTheirLastDefinition() throws {
        let (merged, _) = try ours()
        let order = merged.symbols
        #expect(order.firstIndex(of: "NET")! < order.firstIndex(of: "NET_9P")!)
        #expect(order.last == "DEFAULT_HOSTNAME")
        #expect(Set(order).count == order.count)
    }

    /// merge_config.sh's `sed "/$CFG[ =]/d"` also deletes symbols whose name ends with the redefined one.
    @Test func keepsSymbolsWhoseNameEndsLikeARedefinedOne() throws {
        let base = try KernelConfiguration(parsing: "CONFIG_IKCONFIG_PROC=y\nCONFIG_PROC=y\n", origin: "b.config")
        let fragment = try KernelConfiguration(parsing: "CONFIG_PROC=n\n", origin: "f.config")
        let (merged, overrides) = ConfigMerge.merge(base: base, fragments: [fragment])
        #expect(merged.rendered == "CONFIG_IKCONFIG_PROC=y\n# CONFIG_PROC is not set\n")
        #expect(overrides.map(\.symbol) == ["PROC"])
        let spelledOut = try KernelConfiguration(parsing: "# CONFIG_PROC is not set\n", origin: "g.config")
        #expect(ConfigMerge.merge(base: merged, fragments: [spelledOut]).overrides.isEmpty)
    }

    /// Runs the kernel's own `scripts/kconfig/merge_config.sh -m` on the same files and compares the merged
    /// settings (order and values) and the "redefined" warnings.
    @Test(arguments: [("base.config", ["sandbox.config", "trim.config"], 9),
                      // A fragment without a final newline, a repeated identical value, strings with spaces.
                      ("debug-base.config", ["debug.config", "quiet.config"], 5)])
    func agreesWithMergeConfigSh(base: String, fragments: [String], expectedWarnings: Int) async throws {
        let linuxTree = try await Fixtures.linuxTree()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        for name in [base] + fragments {
            try FileManager.default.copyItem(at: try Fixtures.fragmentURL(name), to: work.appendingPathComponent(name))
        }
        let merge = try await Tool.run("/bin/sh", [linuxTree.appendingPathComponent("scripts/kconfig/merge_config.sh").path,
                                                   "-m", "-O", work.path, base] + fragments, in: work, mergingStandardError: true)
        let log = merge.text
        #expect(merge.status == 0, "\(log)")

        let theirs = try KernelConfiguration(contentsOf: work.appendingPathComponent(".config"))
        let (merged, overrides) = ConfigMerge.merge(base: try Fixtures.fragment(base), fragments: try fragments.map(Fixtures.fragment))
        #expect(merged.settings.map { "\($0.symbol)=\($0.value)" } == theirs.settings.map { "\($0.symbol)=\($0.value)" })
        let warned = log.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("Value of CONFIG_"), line.contains(" is redefined by fragment ") else { return nil }
            let symbol = line.dropFirst("Value of CONFIG_".count).prefix { $0 != " " }
            let fragment = line.split(separator: " ").last!.dropLast()
            return "\(symbol) \(fragment)"
        }
        #expect(overrides.map { "\($0.symbol) \($0.fragment)" } == warned)
        #expect(warned.count == expectedWarnings)
    }
}
