import Foundation
import Sandbox
import Testing

/// Names that are paths, directories ksand did not make, and runtime directories that are not the caller's, given
/// to the real `ksand` binary. None of these boots a VM: each is refused before.
@Suite struct HostileInputTests {
    let runtime = "/tmp/ksand-t-\(UUID().uuidString.prefix(8))"
    var registry: String { runtime + "/sandboxes" }
    /// Beside the registry, where `ksand stop ../victim` points.
    var victim: String { runtime + "/victim" }
    /// In the registry, but not made by ksand.
    var planted: String { registry + "/planted" }

    func ksand(_ arguments: [String]) async throws -> KsandProcess.Result {
        try await KsandProcess.run(arguments, limit: 60, environment: ["KSAND_RUNTIME_DIR": runtime])
    }

    /// A directory holding a file, last modified a day ago: what ksand once took for a stale entry.
    func plantOld(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try "precious\n".write(toFile: path + "/data", atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -86400)], ofItemAtPath: path)
    }

    func expectIntact(_ paths: [String], after step: String) {
        for path in paths {
            #expect(FileManager.default.contents(atPath: path + "/data") == Data("precious\n".utf8), "\(path) after \(step)")
        }
    }

    static let rule = "is not a sandbox name: a name is a file name, never a path: letters, digits, '.', '_' and '-', starting with a letter or digit, 40 characters at most"

    /// `ksand run` hands back the command's status, so its usage errors exit with 125, never with a status a
    /// command could have (ArgumentParser's own is 64).
    @Test(arguments: [["run"], ["run", "--stall", "-1", "--", "true"], ["run", "--console-log-limit", "lots", "--", "true"], ["run", "--bogus", "--", "true"],
                          ["run", "--timeout", "inf", "--", "true"], ["run", "--stall", "nan", "--", "true"], ["run", "--max-wait", "1e300", "--", "true"]])
    func runUsageErrorsAreSetupErrors(arguments: [String]) async throws {
        let result = try await ksand(arguments)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("Error:") || result.stderr.contains("error:"), "stderr: \(result.stderr)")
    }

    /// Bad input to `ksand validate` is named, with exit status 125 ("could not validate"), before anything is built.
    @Test(arguments: [
        (["validate", "--series", "/nonexistent/series", "--command", "true"], "the series /nonexistent/series does not exist"),
        (["validate", "--git", "/", "a..b", "--command", "true"], "/ is not a git tree"),
        (["validate", "--patches", "0", "--command", "true"], "--patches 0: expected N or A-B"),
        (["validate", "--repeat", "0", "--command", "true"], "--repeat 0: must be at least 1"),
        (["validate", "--alpha", "1.5", "--command", "true"], "--alpha 1.5: must be between 0 and 1"),
        (["validate", "--for", "slower", "--command", "true"], "slower"),
        (["validate", "--bisect", "--one", "--command", "true"], "--bisect and --one exclude each other"),
        (["validate", "--series", KsandProcess.repository + "/Tests/IntegrationTests/Fixtures/validate/eight", "--patches", "9-12", "--command", "true"],
         "patches 9-12 were asked for, but the series"),
        (["validate", "--series", KsandProcess.repository + "/README.md", "--command", "true"], "README.md"),
    ])
    func validateRefusesBadInput(arguments: [String], says: String) async throws {
        let result = try await KsandProcess.run(arguments, limit: 120, directory: KsandProcess.repository)
        #expect(result.status == 125, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(says), "stderr: \(result.stderr)")
    }

    @Test func namesThatArePathsAndEntriesKsandDidNotMakeAreLeftAlone() async throws {
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        try plantOld(runtime)
        try plantOld(registry)
        try plantOld(victim)
        try plantOld(planted)
        let everything = [runtime, registry, victim, planted]

        for name in ["../victim", "/etc", "planted/../../victim"] {
            let stop = try await ksand(["stop", name])
            #expect(stop.status == 1, "ksand stop \(name): \(stop.stderr)")
            #expect(stop.stderr.contains("ksand: error: \(name) \(Self.rule)"), "ksand stop \(name): \(stop.stderr)")
            expectIntact(everything, after: "ksand stop \(name)")
        }
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))

        let unknown = try await ksand(["stop", "planted"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no detached sandbox named planted"), "\(unknown.stderr)")
        let ps = try await ksand(["ps"])
        #expect(ps.status == 0, "\(ps.stderr)")
        #expect(ps.text == "NAME  STATE  UPTIME  QEMU PID  COMMAND\n")
        #expect(!ps.stderr.contains("removed"), "\(ps.stderr)")
        let all = try await ksand(["stop", "--all"])
        #expect(all.status == 0, "\(all.stderr)")
        expectIntact(everything, after: "ksand ps and ksand stop --all")

        let path = try await ksand(["run", "--detach", "--name", "../victim", "--", "true"])
        #expect(path.status == 125, "\(path.stderr)")
        #expect(path.stderr.contains("ksand: error: --name ../victim \(Self.rule)"), "\(path.stderr)")
        let taken = try await ksand(["run", "--detach", "--name", "planted", "--", "true"])
        #expect(taken.status == 125, "\(taken.stderr)")
        #expect(taken.stderr.contains("\(planted) was not made by ksand (no .ksand-sandbox marker), so ksand leaves it alone"), "\(taken.stderr)")
        expectIntact(everything, after: "ksand run --detach --name")
        #expect(try FileManager.default.contentsOfDirectory(atPath: registry).sorted() == ["data", "planted"])
    }

    /// A sandbox's state files are outside input: a record with a start time no clock can show and a result whose
    /// exit status is no Int32 (each trapped `ksand ps` once) are listed or ignored, never a crash.
    @Test func stateFilesOutOfRangeDoNotTrap() async throws {
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        try FileManager.default.createDirectory(atPath: registry, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let sandboxes = SandboxRegistry(directory: registry)
        // This test process stands in for their supervisors, so both are running; nothing here may stop them.
        let me = try #require(ProcessIdentity.of(getpid()))
        let early = try sandboxes.create(named: "early")
        try early.write(DetachedSandbox.Record(name: "early", supervisor: me, command: ["true"], startedAt: -1e300))
        let big = try sandboxes.create(named: "big")
        try big.write(DetachedSandbox.Record(name: "big", supervisor: me, command: ["true"], startedAt: Date().timeIntervalSince1970))
        try big.writeResult(Data(#"{"exitStatus": 99999999999}"#.utf8))

        let table = try await ksand(["ps"])
        #expect(table.status == 0, "stderr: \(table.stderr)")
        #expect(table.text.contains("early  booting  277777h"), "\(table.text)")
        let json = try await ksand(["ps", "--json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        let listed = try JSONDecoder().decode([DetachedSandbox.Listing].self, from: json.stdout)
        #expect(listed.map(\.name) == ["big", "early"])
        #expect(listed.allSatisfy { $0.exitStatus == nil && $0.supervisorPid == getpid() })
        #expect(listed.first { $0.name == "early" }?.startedAt == -1e300)
    }

    /// A runtime directory another user made (here: uid 65534), one others may enter, and a link are refused by
    /// every command that would put sockets there or read them, with what is wrong and the fix.
    @Test(arguments: [("owner", "it is owned by uid 65534, not by you (uid \(getuid()))", "remove it (ksand creates it with mode 0700)"),
                      ("mode", "its mode is 0755: anyone may enter it", "run `chmod 700 "),
                      ("link", "it is a symbolic link (to /tmp), not a directory", "remove it (ksand creates it with mode 0700)")])
    func aRuntimeDirectoryThatIsNotTheCallersIsRefused(problem: String, says: String, fix: String) async throws {
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        switch problem {
        case "owner":
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            try #require(chown(runtime, 65534, 65534) == 0, "chown needs root")
        case "mode":
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
        default:
            try FileManager.default.createSymbolicLink(atPath: runtime, withDestinationPath: "/tmp")
        }
        let expected = "ksand: error: refusing the runtime directory \(runtime): \(says); it holds the sockets that control ksand's VMs. To fix it, \(fix)"
        for (arguments, status) in [(["run", "--", "true"], Int32(125)), (["run", "--detach", "--name", "web", "--", "true"], 125),
                                    (["ps"], 1), (["stop", "web"], 1), (["stop", "--all"], 1)] {
            let result = try await ksand(arguments)
            #expect(result.status == status, "ksand \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(result.stderr.contains(expected), "ksand \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(result.stderr.contains("set KSAND_RUNTIME_DIR to a directory of your own"))
        }
        if problem != "link" { #expect(try FileManager.default.contentsOfDirectory(atPath: runtime).isEmpty, "ksand wrote into it") }
    }
}
