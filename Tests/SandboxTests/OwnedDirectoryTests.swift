import Foundation
import Testing
@testable import Sandbox

/// The runtime directory, the registry and the cache are used only when they are the caller's own. The tests run
/// as root; a directory chowned to uid 65534 (nobody) plays another user's.
@Suite struct OwnedDirectoryTests {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-owned-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// A directory under the scratch root with `mode`, and `owner` if given.
    func directory(_ name: String, mode: Int = 0o700, owner: uid_t? = nil) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        chmod(path, mode_t(mode))
        if let owner { try #require(chown(path, owner, 65534) == 0, "chown needs root") }
        return path
    }

    func refusal(_ path: String, _ role: OwnedDirectory.Role) -> String? {
        do {
            try OwnedDirectory(path: path, role: role).prepare()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aMissingRuntimeDirectoryIsCreatedPrivate() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/runtime"
        #expect(try RuntimeDirectory.prepare(environment: ["KSAND_RUNTIME_DIR": path]) == path)
        var status = stat()
        #expect(lstat(path, &status) == 0)
        #expect(status.st_mode & 0o7777 == 0o700)
        // Once it is there, preparing it again only checks it.
        #expect(try RuntimeDirectory.prepare(environment: ["KSAND_RUNTIME_DIR": path]) == path)
    }

    @Test func anotherUsersRuntimeDirectoryIsRefusedWithItsOwnerAndTheFix() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = try directory("foreign", owner: 65534)
        #expect {
            try RuntimeDirectory.prepare(environment: ["KSAND_RUNTIME_DIR": path])
        } throws: { error in
            let text = "\(error)"
            return text.contains("refusing the runtime directory \(path)") && text.contains("owned by uid 65534, not by you (uid \(getuid()))")
                && text.contains("remove it (ksand creates it with mode 0700), or set KSAND_RUNTIME_DIR to a directory of your own")
        }
    }

    @Test func aRuntimeDirectoryOthersMayEnterIsRefusedWithChmod() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        for mode in [0o755, 0o750, 0o701] {
            let path = try directory("open-\(String(mode, radix: 8))", mode: mode)
            let message = try #require(refusal(path, .runtime))
            #expect(message.contains("its mode is 0\(String(mode, radix: 8))"), "\(message)")
            #expect(message.contains("chmod 700 \(path)"), "\(message)")
        }
        #expect(refusal(try directory("group-writable", mode: 0o770), .runtime)?.contains("its group may write to it") == true)
        #expect(refusal(try directory("private", mode: 0o700), .runtime) == nil)
    }

    @Test func aSymbolicLinkOrAFileIsNotARuntimeDirectory() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let target = try directory("target")
        let link = root + "/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let linked = try #require(refusal(link, .runtime))
        #expect(linked.contains("refusing the runtime directory \(link): it is a symbolic link (to \(target)), not a directory"), "\(linked)")
        let file = root + "/file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(refusal(file, .registry)?.contains("refusing the sandbox registry \(file): it is not a directory") == true)
    }

    @Test func aCacheMayBeALinkOrReadableButNotAnotherUsers() throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let mine = try directory("cache", mode: 0o755)
        let link = root + "/cache-link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: mine)
        #expect(refusal(mine, .cache) == nil)
        #expect(refusal(link, .cache) == nil)
        let missing = root + "/new/cache"
        #expect(try CacheDirectory(path: missing).subdirectory("vmlinux") == missing + "/vmlinux")

        let foreign = try directory("foreign-cache", mode: 0o755, owner: 65534)
        #expect {
            try CacheDirectory(path: foreign).subdirectory("vmlinux")
        } throws: { error in
            let text = "\(error)"
            return text.contains("refusing the cache directory \(foreign): it is owned by uid 65534")
                && text.contains("the kernels and initramfs archives ksand boots") && text.contains("KSAND_CACHE_DIR")
        }
        #expect(!FileManager.default.fileExists(atPath: foreign + "/vmlinux"))
        let shared = try directory("shared-cache", mode: 0o777)
        #expect(refusal(shared, .cache)?.contains("its mode is 0777: anyone may write to it") == true)
        #expect(refusal(shared, .cache)?.contains("chmod o-w \(shared)") == true)
    }
}
