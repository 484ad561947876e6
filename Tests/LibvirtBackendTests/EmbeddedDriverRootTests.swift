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

    /// A root's holder is the live process named by DIR/run/qemu/driver.pid, never this one, nor a dead one.
    @Test func theHolderOfARootIsTheLiveProcessInItsDriverPidFile() throws {
        let scratch = try ScratchDirectory()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        try sleeper.run()
        defer { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
        func root(_ name: String, pid: Int32?) throws -> EmbeddedDriverRoot {
            let root = EmbeddedDriverRoot(path: scratch.path + "/" + name)
            try FileManager.default.createDirectory(atPath: root.pidDirectory, withIntermediateDirectories: true)
            if let pid { try Data("\(pid)\n".utf8).write(to: URL(fileURLWithPath: root.driverPidFile)) }
            return root
        }
        #expect(try root("held", pid: sleeper.processIdentifier).holder == sleeper.processIdentifier)
        #expect(try root("mine", pid: getpid()).holder == nil)
        #expect(try root("none", pid: nil).holder == nil)
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        #expect(try root("dead", pid: exited.processIdentifier).holder == nil)

        // The pool: the base is held, so the next free one is taken; with the base free again, the base.
        _ = try root("pool", pid: sleeper.processIdentifier)
        _ = try root("pool-2", pid: sleeper.processIdentifier)
        #expect(EmbeddedDriverRoot.firstFree(base: scratch.path + "/pool").path == scratch.path + "/pool-3")
        #expect(EmbeddedDriverRoot.firstFree(base: scratch.path + "/pool", count: 2).path == scratch.path + "/pool")
        try FileManager.default.removeItem(atPath: scratch.path + "/pool/run/qemu/driver.pid")
        #expect(EmbeddedDriverRoot.firstFree(base: scratch.path + "/pool").path == scratch.path + "/pool")
    }
}
