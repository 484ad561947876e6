import Foundation
import Testing
@testable import KernelConfig

@Suite struct KconfigExpressionTests {
    @Test func parsesAndEvaluatesWithTristateLogic() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_9P_FS=m\nCONFIG_FSCACHE=y\nCONFIG_NR_CPUS=64\n")
        let fscache = try KconfigExpression(parsing: "9P_FS=m && FSCACHE || 9P_FS=y && FSCACHE=y")
        #expect(fscache.evaluate(in: config) == .yes)
        #expect(fscache.description == "9P_FS=m && FSCACHE || 9P_FS=y && FSCACHE=y")
        #expect(try KconfigExpression(parsing: "9P_FS && NET").evaluate(in: config) == .no)
        #expect(try KconfigExpression(parsing: "9P_FS && FSCACHE").evaluate(in: config) == .module)
        #expect(try KconfigExpression(parsing: "!9P_FS").evaluate(in: config) == .module)
        #expect(try KconfigExpression(parsing: "!(NET || m)").evaluate(in: config) == .module)
        #expect(try KconfigExpression(parsing: "NR_CPUS > 32 && NR_CPUS != 128").evaluate(in: config) == .yes)
        #expect(try KconfigExpression(parsing: "X86_64 && $(cc-option,-mfentry)").symbols == ["X86_64"])
        #expect(try KconfigExpression(parsing: "(A || B) && !C").description == "(A || B) && !C")
    }

    @Test func rejectsBrokenExpressions() {
        for text in ["A &", "A && (B", "&& A", "A = ", "A B"] {
            #expect(throws: KconfigExpressionError.self, "\(text)") { try KconfigExpression(parsing: text) }
        }
    }
}

/// Found by feeding the Kconfig fuzz target expressions nested deeper than its inputs reached: 20000 `(` or `!`
/// overflowed the parser's stack, and a chain of 20000 `&&` took a minute to explain (Fuzz/regressions/kconfig).
@Suite struct KconfigLimitTests {
    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        for opening in ["(", "!", "!("] {
            let text = String(repeating: opening, count: 100) + "A" + String(repeating: ")", count: opening.contains("(") ? 100 : 0)
            let error = #expect(throws: KconfigExpressionError.self) { try KconfigExpression(parsing: text) }
            #expect(error?.message.hasPrefix("parentheses and ! nest more than 64 deep") == true)
        }
        #expect(throws: Never.self) { try KconfigExpression(parsing: String(repeating: "(", count: 64) + "A" + String(repeating: ")", count: 64)) }
    }

    @Test func longChainsAreBoundedAndLinear() throws {
        let chain = try KconfigExpression(parsing: (1...1000).map { "S\($0)" }.joined(separator: " && "))
        #expect(chain.conjuncts.count == 1000)
        #expect(chain.symbols.count == 1000)
        let error = #expect(throws: KconfigExpressionError.self) {
            try KconfigExpression(parsing: Array(repeating: "A", count: 20_000).joined(separator: " && "))
        }
        #expect(error?.message == "an expression of 39999 words and operators is longer than the 2048 this parser reads")
    }

    @Test func blocksNestAtMost64Deep() {
        let text = (0..<100).map { "if B\($0)\n" }.joined() + "config A\n\tbool \"A\"\n" + String(repeating: "endif\n", count: 100)
        let error = #expect(throws: KconfigError.self) { try KconfigDatabase(files: ["Kconfig": Array(text.utf8)]) }
        #expect(error?.description == "Kconfig:65: if, menu and choice nest more than 64 deep; is an endif or endmenu missing?")
    }
}

@Suite struct KconfigDatabaseTests {
    let database: KconfigDatabase

    init() throws {
        database = try KconfigDatabase(tree: try Fixtures.tree)
    }

    @Test func readsSymbolsFromTheSourcedFiles() throws {
        #expect(database.fileCount == 11)
        let fs = try #require(database["CONFIG_9P_FS"])
        #expect(fs.kind == .tristate)
        #expect(fs.definitions.first?.prompt == "Plan 9 Resource Sharing Support (9P2000)")
        #expect(fs.definitions.first?.location == "fs/9p/Kconfig:2")
        #expect(fs.dependencies?.description == "INET && NET_9P")
        #expect(fs.definitions.first?.selects == [.init(value: .symbol("NETFS_SUPPORT"), condition: nil)])
        // `if NET` around `source "net/9p/Kconfig"` and `if 9P_FS` around 9P_FSCACHE.
        #expect(database["NET_9P"]?.dependencies?.description == "NET")
        #expect(database["INET"]?.dependencies?.description == "NET")
        #expect(database["9P_FSCACHE"]?.dependencies?.description == "9P_FS && (9P_FS=m && FSCACHE || 9P_FS=y && FSCACHE=y)")
        #expect(database["MD_RAID0"]?.dependencies?.description == "MD && BLK_DEV_MD")
        #expect(database["NETFS_SUPPORT"]?.hasPrompt == false)
        #expect(database["NETFS_SUPPORT"]?.selectedBy.map(\.symbol) == ["9P_FS"])
        #expect(database["VIRTIO"]?.selectedBy.map(\.symbol) == ["VIRTIO_PCI"])
        #expect(database["BLOCK"]?.definitions.first?.promptCondition == .symbol("EXPERT"))
        #expect(database["OVERLAY_FS_REDIRECT_ALWAYS_FOLLOW"]?.definitions.first?.defaults == [.init(value: .symbol("y"), condition: nil)])
    }

    @Test func menuAndChoiceDependenciesReachTheirSymbols() throws {
        // `menu "Core Netfilter Configuration"` / `depends on INET && NETFILTER`.
        #expect(database["NETFILTER_INGRESS"]?.dependencies?.description == "INET && NETFILTER")
        #expect(database["NETFILTER_SKIP_EGRESS"]?.definitions.first?.defaults.first?.value.description == "NETFILTER_EGRESS && (NET_CLS_ACT || IFB)")
        // The compression choice: its `depends on HAVE_KERNEL_GZIP || …` joins each entry's own.
        let gzip = try #require(database["KERNEL_GZIP"]?.dependencies)
        #expect(gzip.conjuncts.count == 2)
        #expect(gzip.conjuncts.last == .symbol("HAVE_KERNEL_GZIP"))
        #expect(database["KERNEL_ZSTD"]?.kind == .bool)
        let config = try KernelConfiguration(parsing: "CONFIG_HAVE_KERNEL_GZIP=y\n")
        #expect(database.explain("KERNEL_ZSTD", wanted: .yes, in: config).description.hasSuffix(
            "and HAVE_KERNEL_ZSTD is not set: no Kconfig file in this tree defines HAVE_KERNEL_ZSTD — no setting in a fragment can satisfy it, so drop the request"))
    }

    @Test func nineP_needsNetworking() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_BLOCK=y\n")
        let explanation = database.explain("CONFIG_9P_FS", wanted: .yes, in: config)
        #expect(explanation.reason == .unmetDependency(try KconfigExpression(parsing: "INET && NET_9P")))
        #expect(explanation.description == "CONFIG_9P_FS=y was requested but is not set: it depends on INET && NET_9P, and INET and NET_9P are not set (each depends on NET, which is not set) — add CONFIG_NET=y, CONFIG_INET=y and CONFIG_NET_9P=y")
        #expect(explanation.fixes.map(\.symbol) == ["NET", "INET", "NET_9P"])
    }

    @Test func nineP_asModuleOnlyWhenTransportIsModule() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_NET=y\nCONFIG_INET=y\nCONFIG_NET_9P=m\nCONFIG_9P_FS=m\n")
        let explanation = database.explain("9P_FS", wanted: .yes, in: config)
        #expect(explanation.description == "CONFIG_9P_FS=y was requested but is m: it depends on INET && NET_9P, and NET_9P is m — add CONFIG_NET_9P=y")
    }

    @Test func raid0NeedsMdCore() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_BLOCK=y\nCONFIG_MD=y\n# CONFIG_BLK_DEV_MD is not set\n")
        let explanation = database.explain("MD_RAID0", wanted: .yes, in: config)
        #expect(explanation.description == "CONFIG_MD_RAID0=y was requested but is not set: it depends on MD && BLK_DEV_MD, and BLK_DEV_MD is not set — add CONFIG_BLK_DEV_MD=y")
        let noMD = try KernelConfiguration(parsing: "CONFIG_BLOCK=y\n")
        #expect(database.explain("MD_RAID0", wanted: .module, in: noMD).description
            == "CONFIG_MD_RAID0=m was requested but is not set: it depends on MD && BLK_DEV_MD, and MD is not set and BLK_DEV_MD is not set (it depends on MD, which is not set) — add CONFIG_MD=m and CONFIG_BLK_DEV_MD=m")
    }

    @Test func symbolWithoutPrompt() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_NET=y\n")
        let explanation = database.explain("NETFS_SUPPORT", wanted: .yes, in: config)
        #expect(explanation.reason == .notUserSettable(selectedBy: ["9P_FS"]))
        #expect(explanation.description == "CONFIG_NETFS_SUPPORT=y was requested but is not set: it has no prompt, so only a select can set it, and nothing that selects it is enabled — enable CONFIG_9P_FS, which selects it")
    }

    @Test func promptHiddenBehindExpert() throws {
        let explanation = database.explain("BLOCK", wanted: .no, in: try KernelConfiguration(parsing: "CONFIG_BLOCK=y\n"))
        #expect(explanation.reason == .notUserSettable(selectedBy: []))
    }

    @Test func selectForcesAValue() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_PCI=y\nCONFIG_VIRTIO_MENU=y\nCONFIG_VIRTIO_PCI=y\nCONFIG_VIRTIO=y\n")
        let off = database.explain("VIRTIO", wanted: .no, in: config)
        #expect(off.reason == .forcedBySelect(by: ["VIRTIO_PCI"]))
        #expect(off.description == "CONFIG_VIRTIO=n was requested but is y: it is selected by VIRTIO_PCI (y), which forces it on — turn off CONFIG_VIRTIO_PCI (# CONFIG_… is not set), or drop the request")
        let module = database.explain("VIRTIO", wanted: .module, in: config)
        #expect(module.reason == .forcedBySelect(by: ["VIRTIO_PCI"]))
    }

    @Test func satisfiedAndUnknown() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_NET=y\n")
        #expect(database.explain("NET", wanted: .yes, in: config).reason == .satisfied)
        let unknown = database.explain("CONFIG_9P_FS_XATTR", wanted: .yes, in: config)
        #expect(unknown.reason == .unknownSymbol)
        #expect(unknown.description.hasPrefix("CONFIG_9P_FS_XATTR=y was requested but is not set: no Kconfig file in this tree defines 9P_FS_XATTR — check the spelling"))
        #expect(database.explain("9P_FS_POSIX_ACL", wanted: .module, in: config).reason == .notTristate)
    }

    @Test func numbersNeedTheirDependenciesToo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-kconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            config SMP
            \tbool "Symmetric multi-processing support"

            config NR_CPUS
            \tint "Maximum number of CPUs" if SMP
            \trange 2 512 if SMP
            \tdepends on X86_64 || X86_32
            \tdefault "1" if !SMP
            \tdefault "64"
            """.write(to: directory.appendingPathComponent("Kconfig"), atomically: true, encoding: .utf8)
        let small = try KconfigDatabase(tree: directory)
        #expect(small["NR_CPUS"]?.kind == .int)
        #expect(small["NR_CPUS"]?.definitions.first?.defaults.count == 2)
        let config = try KernelConfiguration(parsing: "CONFIG_X86_64=y\nCONFIG_NR_CPUS=1\n")
        let explanation = small.explain("NR_CPUS", wanted: .number("8"), in: config)
        #expect(explanation.description == "CONFIG_NR_CPUS=8 was requested but is 1: its prompt is shown only if SMP, and SMP is not set — add CONFIG_SMP=y")
    }

    /// A tree in memory reads like the same files on disk; a `source` that comes back to a file being read is an
    /// error naming the loop, where it used to recurse until the stack ran out.
    @Test func aSourceLoopIsAnErrorNotARecursion() throws {
        let files = ["Kconfig": "config A\n\tbool \"A\"\nosource \"missing/Kconfig\"\nsource \"net/Kconfig\"\n",
                     "net/Kconfig": "config NET\n\tbool \"Networking\"\n\tdepends on A\n"].mapValues { Array($0.utf8) }
        let database = try KconfigDatabase(files: files)
        #expect(database.fileCount == 2)
        #expect(database["NET"]?.dependencies?.description == "A")
        let loop = files.merging(["net/Kconfig": Array("source \"Kconfig\"\n".utf8)]) { $1 }
        let error = #expect(throws: KconfigError.self) { try KconfigDatabase(files: loop) }
        #expect(error?.description == "net/Kconfig:1: Kconfig sources itself (Kconfig → net/Kconfig → Kconfig); remove the source line that closes the loop")
        // A loop through differently spelled paths (./Kconfig, ././Kconfig, …) is no loop by name: it nests too deep.
        let chain = Dictionary(uniqueKeysWithValues: (0...70).map { ("k\($0)", Array("source \"k\($0 + 1)\"\n".utf8)) })
        let deep = #expect(throws: KconfigError.self) { try KconfigDatabase(files: chain, file: "k0") }
        #expect(deep?.message.hasPrefix("source nests more than 64 files deep") == true)
    }

    @Test func errorsNameFileAndLine() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-kconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "config A\n\tbool \"A\"\n\tdepends on B &&\n".write(to: directory.appendingPathComponent("Kconfig"), atomically: true, encoding: .utf8)
        let error = #expect(throws: KconfigError.self) { try KconfigDatabase(tree: directory) }
        #expect(error?.location == "Kconfig:3")
        try "if A\nsource \"net/Kconfig\"\nendif\n".write(to: directory.appendingPathComponent("Kconfig"), atomically: true, encoding: .utf8)
        let missing = #expect(throws: KconfigError.self) { try KconfigDatabase(tree: directory) }
        #expect(missing?.location == "Kconfig:2")
        try "if A\nconfig B\n\tbool\n".write(to: directory.appendingPathComponent("Kconfig"), atomically: true, encoding: .utf8)
        let unclosed = #expect(throws: KconfigError.self) { try KconfigDatabase(tree: directory) }
        #expect(unclosed?.description == "Kconfig:1: 'if' is never closed with 'endif'")
    }

    @Test func parsesTheWholeLinuxTree() async throws {
        let linuxTree = try await Fixtures.linuxTree()
        // CPU time of this thread, not wall time: other tests (and make) share the two cores.
        func cpuSeconds() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        let start = cpuSeconds()
        let full = try KconfigDatabase(tree: linuxTree)
        let elapsed = cpuSeconds() - start
        #expect(elapsed < 5)
        #expect(full.fileCount > 1000)
        #expect(full.symbols.count > 10000)
        let fs = try #require(full["9P_FS"])
        // fs/9p/Kconfig is sourced inside `if NETWORK_FILESYSTEMS` in fs/Kconfig.
        #expect(fs.dependencies?.description == "NETWORK_FILESYSTEMS && INET && NET_9P")
        #expect(full["NET_9P"]?.dependencies?.description == "NET")
        #expect(full["X86_64"] != nil)
        let explanation = full.explain("9P_FS", wanted: .yes, in: try KernelConfiguration(parsing: "CONFIG_64BIT=y\n"))
        #expect(explanation.fixes.map(\.symbol) == ["NET", "NETWORK_FILESYSTEMS", "INET", "NET_9P"])
        print("parsed \(full.fileCount) Kconfig files, \(full.symbols.count) symbols in \(elapsed) s of CPU")
    }
}
