import Foundation
import Testing
@testable import LibvirtBackend

/// The embedded driver's root: created private, refused when it is not the caller's own, its qemu.conf written whole.
@Suite struct EmbeddedDriverRootTests {
    @Test func aNewRootIsPrivateAndHoldsTheDriversConfiguration() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/root"
        let root = try EmbeddedDriverRoot.prepare(at: path, asRoot: true)
        #expect(root.uri == "qemu:///embed?root=" + path)
        #expect(try scratch.mode(of: path) == 0o700)
        let conf = try String(contentsOfFile: root.configurationPath, encoding: .utf8)
        for setting in ["stdio_handler = \"file\"", "security_driver = \"none\"", "user = \"root\"", "group = \"root\"",
                        "namespaces = [ ]", "cgroup_controllers = [ ]", "dynamic_ownership = 0", "remember_owner = 0"] {
            #expect(conf.contains(setting + "\n"), "qemu.conf lacks \(setting)")
        }
        // Preparing again rewrites the file in place and leaves no temporary file behind.
        _ = try EmbeddedDriverRoot.prepare(at: path, asRoot: false)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path + "/etc") == ["qemu.conf"])
        #expect(try !String(contentsOfFile: root.configurationPath, encoding: .utf8).contains("user ="))
    }

    @Test func aSymbolicLinkIsRefused() throws {
        let scratch = try ScratchDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/real", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/link", withDestinationPath: scratch.path + "/real")
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: scratch.path + "/link") }
        #expect(error == .unsafe(path: scratch.path + "/link", problem: "it is a symbolic link"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/real/etc"))
    }

    @Test func aDirectoryOthersMayEnterIsRefused() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/open"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: path) }
        #expect(error.description.contains("its mode is 0755: others may enter it"))
        #expect(error.description.contains(path))
    }

    @Test(.enabled(if: geteuid() == 0)) func aDirectoryOfAnotherUserIsRefused() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/theirs"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        #expect(chown(path, 65534, 65534) == 0)
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: path) }
        #expect(error == .unsafe(path: path, problem: "it is owned by uid 65534, not by you (uid 0)"))
    }

    @Test func aRelativeRootIsRefused() throws {
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: "relative/root") }
        #expect(error == .notAbsolute("relative/root"))
    }
}
