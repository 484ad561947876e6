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

    /// libvirt builds QEMU options from the root's path without escaping commas: such a root is refused up front,
    /// naming the fix, rather than failing in libvirt's capability probe.
    @Test func aRootWithACommaIsRefused() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/a,b"
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: path) }
        #expect(error == .unusablePath(path: path, character: ","))
        #expect(error.description.contains("KSAND_CACHE_DIR"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aRelativeRootIsRefused() throws {
        let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: "relative/root") }
        #expect(error == .notAbsolute("relative/root"))
    }

    /// Another process that locks `file`: with a flock (as ksand claims a root), or a POSIX record lock (the kind
    /// libvirt takes on driver.pid). Returns once /proc/locks shows the lock.
    private func locker(_ file: String, posix: Bool) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let take = posix ? "fcntl.lockf(f, fcntl.LOCK_EX)" : "fcntl.flock(f, fcntl.LOCK_EX)"
        process.arguments = ["-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a')\n\(take)\ntime.sleep(60)", file]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while FileLockTable.current().holders(of: file).isEmpty && Date() < deadline { usleep(10_000) }
        return process
    }

    private func stop(_ process: Process) {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A root's holder is another process locking its claim file or its driver's pid file, as /proc/locks shows;
    /// never this process, and never a pid the pid file merely names (a process may have ended, its pid reused).
    @Test func theHolderOfARootIsTheProcessLockingIt() throws {
        let scratch = try ScratchDirectory()
        func root(_ name: String, pidFile: String? = nil) throws -> EmbeddedDriverRoot {
            let root = EmbeddedDriverRoot(path: scratch.path + "/" + name)
            try FileManager.default.createDirectory(atPath: root.pidDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            if let pidFile { try Data(pidFile.utf8).write(to: URL(fileURLWithPath: root.driverPidFile)) }
            return root
        }
        let driver = try root("driver", pidFile: "1\n")
        let libvirtClient = try locker(driver.driverPidFile, posix: true)
        defer { stop(libvirtClient) }
        #expect(driver.holder == libvirtClient.processIdentifier)
        let claimed = try root("claimed")
        FileManager.default.createFile(atPath: claimed.claimFile, contents: nil)
        let otherKsand = try locker(claimed.claimFile, posix: false)
        defer { stop(otherKsand) }
        #expect(claimed.holder == otherKsand.processIdentifier)
        // A pid file naming a live process that locks nothing: nobody holds the root.
        #expect(try root("stale", pidFile: "\(libvirtClient.processIdentifier)\n").holder == nil)
        #expect(try root("none").holder == nil)

        // Preparing a held root is refused with the holder's pid, and writes nothing into it.
        for held in [driver, claimed] {
            let error = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.prepare(at: held.path) }
            #expect(error == .inUse(path: held.path, pid: held.holder))
            #expect(!FileManager.default.fileExists(atPath: held.configurationPath))
        }
        // This process's own claim is not another's: its holder stays nil, and preparing again is allowed.
        let mine = try EmbeddedDriverRoot.prepare(at: scratch.path + "/mine")
        #expect(FileLockTable.current().holders(of: mine.claimFile, excluding: -1) == [getpid()])
        #expect(mine.holder == nil)
        #expect(try EmbeddedDriverRoot.prepare(at: mine.path) == mine)

        // Once the holder has exited, the root is free.
        stop(otherKsand)
        #expect(claimed.holder == nil)
        #expect(try EmbeddedDriverRoot.prepare(at: claimed.path) == claimed)
    }

    /// The pool: held members are passed over; a process keeps the member it claimed first; all held is an error.
    @Test func thePoolGivesTheFirstRootNoOtherProcessHoldsAndKeepsIt() throws {
        let scratch = try ScratchDirectory()
        let base = scratch.path + "/pool"
        var holders: [Process] = []
        defer { holders.forEach(stop) }
        for path in [base, base + "-2"] {
            let root = EmbeddedDriverRoot(path: path)
            try FileManager.default.createDirectory(atPath: root.pidDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            FileManager.default.createFile(atPath: root.claimFile, contents: nil)
            holders.append(try locker(root.claimFile, posix: false))
        }
        let all = try #require(throws: EmbeddedDriverRootError.self) { try EmbeddedDriverRoot.claimFirstFree(base: base, count: 2) }
        #expect(all == .inUse(path: base, pid: holders[0].processIdentifier))
        #expect(all.description.contains("is in use by process \(holders[0].processIdentifier)"))
        #expect(try EmbeddedDriverRoot.claimFirstFree(base: base).path == base + "-3")
        // The base comes free, but this process's driver would already be on -3: it stays there.
        stop(holders[0])
        #expect(try EmbeddedDriverRoot.claimFirstFree(base: base).path == base + "-3")
    }
}
