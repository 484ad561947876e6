import Foundation
import Testing
@testable import KernelConfig

@Suite struct KernelConfigurationTests {
    @Test func parsesEveryKindOfValue() throws {
        let config = try Fixtures.fragment("base.config")
        #expect(config["NET"] == .yes)
        #expect(config["CONFIG_9P_FS"] == .module)
        #expect(config["BLK_DEV_MD"] == .no)
        #expect(config["NR_CPUS"] == .number("64"))
        #expect(config["PHYSICAL_START"] == .number("0x1000000"))
        #expect(config["CC_VERSION_TEXT"] == .string("gcc (Debian 12.2.0-14) 12.2.0"))
        #expect(config["LOCALVERSION"] == .string(""))
        #expect(config["SOUND"] == nil)
        #expect(config.value(of: "SOUND") == .no)
        #expect(config.symbols.first == "CC_VERSION_TEXT")
        #expect(config.symbols.count == 15)
    }

    @Test func rendersTheTextItParsed() throws {
        for name in ["base.config", "sandbox.config", "trim.config"] {
            let url = try Fixtures.fragmentURL(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            let config = try KernelConfiguration(parsing: text)
            #expect(config.rendered == text)
            #expect(try KernelConfiguration(parsing: config.rendered) == config)
        }
    }

    @Test func escapesStringsBothWays() throws {
        var config = KernelConfiguration()
        config["CMDLINE"] = .string(#"console=ttyS0 init="/init" path=C:\x"#)
        #expect(config.rendered == #"CONFIG_CMDLINE="console=ttyS0 init=\"/init\" path=C:\\x""# + "\n")
        #expect(try KernelConfiguration(parsing: config.rendered)["CMDLINE"] == config["CMDLINE"])
    }

    @Test func laterSettingOfTheSameSymbolWins() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_NET=y\n# CONFIG_NET is not set\n")
        #expect(config["NET"] == .no)
        #expect(config.symbols == ["NET"])
    }

    @Test func explicitNIsNotSet() throws {
        let config = try KernelConfiguration(parsing: "CONFIG_SOUND=n\n")
        #expect(config["SOUND"] == .no)
        #expect(config.rendered == "# CONFIG_SOUND is not set\n")
    }

    @Test func malformedLinesNameFileAndLine() throws {
        let cases: [(String, Int, String)] = [
            ("CONFIG_NET=y\nNET=y\n", 2, "expected CONFIG_SYMBOL=value"),
            ("\n\nCONFIG_LOCALVERSION=ksand\n", 3, "quote strings"),
            ("CONFIG_CMDLINE=\"console=ttyS0\n", 1, "not y, m, n"),
            ("CONFIG_9P-FS=y\n", 1, "not a symbol name"),
            ("CONFIG_NET=\n", 1, "not y, m, n"),
        ]
        for (text, line, message) in cases {
            let error = #expect(throws: KernelConfigurationError.self) {
                try KernelConfiguration(parsing: text, origin: "kernel-config/sandbox.config")
            }
            #expect(error?.line == line)
            #expect(error?.description.hasPrefix("kernel-config/sandbox.config:\(line): ") == true)
            #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
        }
    }

    @Test func commentsThatMerelyMentionASymbolAreComments() throws {
        let config = try KernelConfiguration(parsing: "# CONFIG_NET is needed for 9p\n#CONFIG_X=y\n")
        #expect(config.symbols.isEmpty)
    }
}

@Suite struct ConfigVerificationTests {
    @Test func reportsWhatDidNotSurvive() throws {
        let requested = try Fixtures.fragment("sandbox.config")
        let final = try KernelConfiguration(parsing: """
            CONFIG_NET_9P=y
            CONFIG_NET_9P_VIRTIO=y
            CONFIG_9P_FS=m
            CONFIG_OVERLAY_FS=y
            CONFIG_VIRTIO_PCI=y
            CONFIG_LOCALVERSION="-ksand"
            CONFIG_BLK_DEV_MD=y
            """)
        let mismatches = ConfigVerification.check(requested: requested, final: final)
        #expect(mismatches == [
            Mismatch(symbol: "9P_FS", requested: .yes, actual: .module),
            Mismatch(symbol: "9P_FS_POSIX_ACL", requested: .yes, actual: .no),
            Mismatch(symbol: "MD_RAID0", requested: .yes, actual: .no),
        ])
        #expect(mismatches[1].description == "CONFIG_9P_FS_POSIX_ACL=y was requested but the final .config has it not set")
    }

    @Test func absentCountsAsNotSet() throws {
        let requested = try Fixtures.fragment("trim.config")
        let final = try KernelConfiguration(parsing: "CONFIG_NR_CPUS=8\nCONFIG_MD_RAID0=m\nCONFIG_DEFAULT_HOSTNAME=\"ksand\"\nCONFIG_OVERLAY_FS=m\n")
        #expect(ConfigVerification.check(requested: requested, final: final) == [
            Mismatch(symbol: "OVERLAY_FS", requested: .no, actual: .module),
        ])
    }
}
