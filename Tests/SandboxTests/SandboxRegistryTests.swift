import Foundation
import Testing
@testable import Sandbox

/// Names are path components, and the registry lists, hands out and removes only the state directories it made.
@Suite struct SandboxRegistryTests {
    let registry: SandboxRegistry
    /// Beside the registry: where `../victim` from inside it leads.
    let outside: String

    init() throws {
        registry = try DetachedSandboxTests.scratchRegistry()
        outside = registry.directory + "-victim"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: registry.directory)
        try? FileManager.default.removeItem(atPath: outside)
    }

    /// A directory with an old modification time, as a stale entry would have.
    func plantOld(_ path: String, marker: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let marker { try marker.write(toFile: path + "/" + SandboxRegistry.markerName, atomically: false, encoding: .utf8) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86400)], ofItemAtPath: path)
    }

    @Test func namesThatArePathsAreRefusedWithTheRule() throws {
        defer { cleanUp() }
        for name in ["../victim", "/etc", "a/b", ".", "..", ""] {
            #expect(throws: SandboxError.self) { try registry.sandbox(named: name) }
            #expect(throws: SandboxError.self) { try registry.create(named: name) }
        }
        let message = "\(SandboxError.invalidSandboxName("../victim"))"
        #expect(message == "../victim is not a sandbox name: a name is a file name, never a path: letters, digits, '.', '_' and '-', starting with a letter or digit, 40 characters at most")
        #expect(FileManager.default.fileExists(atPath: outside))
        #expect(try registry.all().isEmpty)
    }

    @Test func onlyMarkedEntriesOfTheCallerAreListed() throws {
        defer { cleanUp() }
        let made = try registry.create(named: "real")
        #expect(FileManager.default.contents(atPath: made.directory + "/.ksand-sandbox") == Data("ksand sandbox state directory\nuid \(getuid())\n".utf8))
        // Without a marker, with a marker ksand did not write, a link to a marked directory, another user's, a file.
        try plantOld(registry.directory + "/planted")
        try plantOld(registry.directory + "/forged", marker: "not ksand's\n")
        try plantOld(outside + "/marked", marker: SandboxRegistry.markerText)
        try FileManager.default.createSymbolicLink(atPath: registry.directory + "/linked", withDestinationPath: outside + "/marked")
        try plantOld(registry.directory + "/foreign", marker: SandboxRegistry.markerText)
        try #require(chown(registry.directory + "/foreign", 65534, 65534) == 0, "chown needs root")
        #expect(FileManager.default.createFile(atPath: registry.directory + "/file", contents: Data()))
        try plantOld(registry.directory + "/.hidden", marker: SandboxRegistry.markerText)

        #expect(try registry.all().map(\.name) == ["real"])
        for name in ["planted", "forged", "linked", "foreign", "file"] {
            #expect(try registry.sandbox(named: name) == nil, "\(name)")
        }
        #expect(SandboxRegistry.whyNotAnEntry(registry.directory + "/planted") == "no .ksand-sandbox marker")
        #expect(SandboxRegistry.whyNotAnEntry(registry.directory + "/forged") == "its .ksand-sandbox is not ksand's")
        #expect(SandboxRegistry.whyNotAnEntry(registry.directory + "/linked") == "a symbolic link")
        #expect(SandboxRegistry.whyNotAnEntry(registry.directory + "/foreign") == "owned by uid 65534")
        #expect(SandboxRegistry.whyNotAnEntry(registry.directory + "/file") == "not a directory")
    }

    @Test func onlyMarkedEntriesAreRemoved() throws {
        defer { cleanUp() }
        try plantOld(registry.directory + "/planted")
        try plantOld(outside + "/marked", marker: SandboxRegistry.markerText)
        try SandboxRegistry.markerText.write(toFile: registry.directory + "/" + SandboxRegistry.markerName, atomically: false, encoding: .utf8)
        for path in [registry.directory + "/planted", outside, outside + "/marked", registry.directory + "/../" + (outside as NSString).lastPathComponent,
                     registry.directory + "/."] {
            #expect(!registry.remove(DetachedSandbox(directory: path)), "\(path)")
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        // Claiming the name of a directory ksand did not make leaves it and says why.
        #expect {
            try registry.create(named: "planted")
        } throws: { error in
            "\(error)" == "\(registry.directory)/planted was not made by ksand (no .ksand-sandbox marker), so ksand leaves it alone; remove it yourself or choose another --name"
        }
        #expect(FileManager.default.fileExists(atPath: registry.directory + "/planted"))
        #expect(registry.freshName() == "sandbox-1")
        try plantOld(registry.directory + "/sandbox-1")
        #expect(registry.freshName() == "sandbox-2")

        let stale = try registry.create(named: "stale")
        #expect(stale.state == .running(ready: false))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86400)], ofItemAtPath: stale.directory)
        #expect(stale.state == .stale)
        #expect(registry.remove(stale))
        #expect(!FileManager.default.fileExists(atPath: stale.directory))
    }

    @Test func aSupervisorTakesOnlyAMarkedEntryOfItsRegistry() throws {
        defer { cleanUp() }
        let made = try registry.create(named: "web")
        #expect(try registry.sandbox(atPath: made.directory).directory == made.directory)
        try plantOld(outside + "/marked", marker: SandboxRegistry.markerText)
        #expect(throws: SandboxError.self) { try registry.sandbox(atPath: outside + "/marked") }
        try plantOld(registry.directory + "/planted")
        #expect(throws: SandboxError.self) { try registry.sandbox(atPath: registry.directory + "/planted") }
    }

    @Test func aRegistryOrRuntimeDirectoryOfAnotherUserIsRefused() throws {
        defer { cleanUp() }
        let runtime = registry.directory + "-runtime"
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        let fromEnvironment = SandboxRegistry(environment: ["KSAND_RUNTIME_DIR": runtime])
        #expect(try fromEnvironment.all().isEmpty, "a registry not made yet is empty")
        _ = try fromEnvironment.create(named: "web")
        var status = stat()
        for path in [runtime, runtime + "/sandboxes"] {
            #expect(lstat(path, &status) == 0 && status.st_mode & 0o7777 == 0o700, "\(path)")
        }
        try #require(chown(runtime + "/sandboxes", 65534, 65534) == 0, "chown needs root")
        #expect { try fromEnvironment.all() } throws: { "\($0)".contains("refusing the sandbox registry \(runtime)/sandboxes: it is owned by uid 65534") }
        #expect(throws: SandboxError.self) { try fromEnvironment.sandbox(named: "web") }
        #expect(throws: SandboxError.self) { try fromEnvironment.create(named: "other") }
        chown(runtime + "/sandboxes", getuid(), getgid())
        chmod(runtime, 0o755)
        #expect { try fromEnvironment.all() } throws: { "\($0)".contains("refusing the runtime directory \(runtime): its mode is 0755") }
    }
}
