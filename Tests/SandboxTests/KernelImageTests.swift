import Foundation
import KernelConfig
import Testing
@testable import Sandbox

@Suite struct KernelImageTests {
    /// A minimal bzImage header as the kernel's arch/x86/boot/header.S lays it out.
    static func syntheticHeader(version: String, setupSectors: UInt8 = 27) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x4000)
        bytes[0x1f1] = setupSectors
        bytes[0x1fe] = 0x55
        bytes[0x1ff] = 0xaa
        bytes.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        bytes[0x206] = 0x0f
        bytes[0x207] = 0x02
        bytes[0x20e] = 0x00  // version string at 0x200 + 0x3000
        bytes[0x20f] = 0x30
        bytes.replaceSubrange(0x3200..<(0x3200 + version.utf8.count), with: Array(version.utf8))
        bytes[0x248] = 0x10  // payload offset 0x110
        bytes[0x249] = 0x01
        bytes[0x24c] = 0x00  // payload length 0x2000
        bytes[0x24d] = 0x20
        return bytes
    }

    @Test func parsesVersionAndPayloadFromTheSetupHeader() throws {
        let header = try #require(BzImageHeader(bytes: Self.syntheticHeader(version: "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP")))
        #expect(header.release == "6.1.0-56-amd64")
        #expect(header.protocolVersion == 0x020f)
        let start = (27 + 1) * 512 + 0x110
        #expect(header.payloadRange == start..<(start + 0x2000))
    }

    @Test func rejectsFilesThatAreNotBzImages() {
        #expect(BzImageHeader(bytes: Array("\u{7f}ELF".utf8) + [UInt8](repeating: 0, count: 4096)) == nil)
        var noMagic = Self.syntheticHeader(version: "6.1")
        noMagic[0x202] = 0
        #expect(BzImageHeader(bytes: noMagic) == nil)
        #expect(BzImageHeader(bytes: [1, 2, 3]) == nil)
    }

    @Test func recognisesPayloadCompressionByMagic() {
        #expect(BzImageHeader.payloadCompression([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]) == "xz")
        #expect(BzImageHeader.payloadCompression([0x28, 0xb5, 0x2f, 0xfd]) == "zstd")
        #expect(BzImageHeader.payloadCompression([0x1f, 0x8b, 8]) == "gzip")
        #expect(BzImageHeader.payloadCompression([0, 0]) == nil)
    }

    @Test func ordersReleasesNumerically() {
        #expect(KernelRelease.precedes("6.1.0-9-amd64", "6.1.0-56-amd64"))
        #expect(KernelRelease.precedes("5.10.0-30-amd64", "6.1.0-1-amd64"))
        #expect(!KernelRelease.precedes("6.1.0-56-amd64", "6.1.0-56-amd64"))
    }

    @Test func openingAMissingOrWrongFileNamesThePathAndTheFix() throws {
        #expect {
            try KernelImage.open("/nonexistent/bzImage")
        } throws: { error in
            "\(error)".contains("/nonexistent/bzImage") && "\(error)".contains("--kernel")
        }
        let notKernel = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-not-a-kernel-\(getpid())").path
        #expect(FileManager.default.createFile(atPath: notKernel, contents: Data(repeating: 7, count: 8192)))
        defer { unlink(notKernel) }
        #expect {
            try KernelImage.open(notKernel)
        } throws: { error in
            "\(error)".contains("is not an x86 bzImage")
        }
    }

    @Test func emptyBootDirectoryExplainsHowToGetAKernel() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-empty-boot-\(getpid())").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect {
            try KernelImage.defaultKernel(bootDirectory: empty)
        } throws: { error in
            "\(error)".contains("apt-get install linux-image-amd64") && "\(error)".contains(empty)
        }
    }

    /// The kernel linux-image-amd64 installs (ci/install-deps.sh installs it).
    @Test func readsTheHostKernel() throws {
        let kernel = try KernelImage.defaultKernel()
        #expect(!kernel.release.isEmpty)
        #expect(kernel.path.hasPrefix("/boot/vmlinuz-"))
        #expect(kernel.path.hasSuffix(kernel.release))
    }

    /// The .config is read through KernelConfig; a file beside the image that only has a config's name is passed over.
    @Test func readsTheFirstCandidateThatIsAKernelConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-kernel-config-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(FileManager.default.createFile(atPath: directory + "/bzImage", contents: Data(Self.syntheticHeader(version: "6.1.0-configtest"))))
        try "[core]\n\tbare = false\n".write(toFile: directory + "/.config", atomically: true, encoding: .utf8)
        try "# CONFIG_C is not set\nCONFIG_A=y\nCONFIG_B=m\nCONFIG_D=\"x y\"\nCONFIG_E=0x10\n".write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        let config = try #require(try KernelImage.open(directory + "/bzImage", modulesRoot: directory + "/modules").config)
        #expect(config.origin == directory + "/config")
        #expect(config.isBuiltIn("CONFIG_A") && config.isEnabled("A"))
        #expect(config.isEnabled("CONFIG_B") && !config.isBuiltIn("CONFIG_B"))
        #expect(!config.isEnabled("CONFIG_C") && config["CONFIG_C"] == .no)
        #expect(config["CONFIG_D"] == .string("x y"))
        #expect(config["CONFIG_E"] == .number("0x10"))
        #expect(config["CONFIG_F"] == nil)
    }
}
