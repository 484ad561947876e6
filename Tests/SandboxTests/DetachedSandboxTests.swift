import Foundation
import Testing
@testable import Sandbox

@Suite struct DetachedSandboxTests {
    /// A registry of its own, as ksand makes one (mode 0700).
    static func scratchRegistry() throws -> SandboxRegistry {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-registry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return SandboxRegistry(directory: directory)
    }

    func scratchRegistry() throws -> SandboxRegistry { try Self.scratchRegistry() }

    /// A result document as `ksand run` writes it when its command exited with `exitStatus`.
    static func result(exitStatus: Int32) -> Data {
        SandboxResult(outcome: .completed(.exited(exitStatus)), timeline: Timeline(), consoleTail: [], consoleLines: [],
                      qemuStderr: "", accelerator: .tcg).jsonReport(exitStatus: exitStatus)
    }

    /// A line of /proc/PID/stat recorded from a process whose name holds a space and a parenthesis.
    @Test func processIdentityReadsTheStartTimeAfterTheCommandName() {
        let stat = "6023 (we ird) R) R 6017 6017 1409 0 -1 4194304 103 0 0 0 0 0 0 0 20 0 1 0 59925 3133440 403 18446744073709551615"
        let parsed = ProcessIdentity.parse(stat: stat)
        #expect(parsed?.state == "R")
        #expect(parsed?.startTicks == 59925)
        #expect(ProcessIdentity.parse(stat: "6023 (cut") == nil)
    }

    @Test func aLiveProcessIsRecognisedAndARecycledPIDIsNot() throws {
        let me = try #require(ProcessIdentity.of(getpid()))
        #expect(me.isAlive)
        #expect(!ProcessIdentity(pid: me.pid, startTicks: me.startTicks + 1).isAlive)
        #expect(ProcessIdentity.of(999_999_999) == nil)
    }

    @Test func namesAreFileNames() {
        for good in ["a", "web-1", "ci.run_7", String(repeating: "x", count: 40)] { #expect(SandboxRegistry.isValidName(good), "\(good)") }
        for bad in ["", "-x", ".hidden", "a/b", "a b", "é", String(repeating: "x", count: 41)] { #expect(!SandboxRegistry.isValidName(bad), "\(bad)") }
    }

    @Test func stateFollowsTheRecordTheResultAndTheProcesses() throws {
        let registry = try scratchRegistry()
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let sandbox = try registry.create(named: "one")
        // Just created, no record yet: being started.
        #expect(sandbox.state == .running(ready: false))
        let me = try #require(ProcessIdentity.of(getpid()))
        var record = DetachedSandbox.Record(name: "one", supervisor: me, command: ["true"], startedAt: 0)
        try sandbox.write(record)
        #expect(sandbox.state == .running(ready: false))
        record.ready = true
        try sandbox.write(record)
        #expect(sandbox.state == .running(ready: true))
        // A supervisor that is gone, with a QEMU that still runs (here: this process stands in for it).
        record.supervisor = ProcessIdentity(pid: me.pid, startTicks: me.startTicks + 1)
        record.qemu = me
        try sandbox.write(record)
        #expect(sandbox.state == .orphaned)
        record.qemu = nil
        try sandbox.write(record)
        #expect(sandbox.state == .stale)
        // Only a whole result document is a result.
        try sandbox.writeResult(Data(#"{"exitStatus": 3}"#.utf8))
        #expect(sandbox.state == .stale)
        try sandbox.writeResult(Self.result(exitStatus: 3))
        #expect(sandbox.state == .exited(status: 3))
    }

    @Test func aLiveNameIsRefusedAndAnEndedOneIsReplaced() throws {
        let registry = try scratchRegistry()
        defer { try? FileManager.default.removeItem(atPath: registry.directory) }
        let first = try registry.create(named: "web")
        let me = try #require(ProcessIdentity.of(getpid()))
        try first.write(DetachedSandbox.Record(name: "web", supervisor: me, command: ["sleep", "9"], startedAt: 0))
        #expect(throws: SandboxError.self) { try registry.create(named: "web") }
        do {
            _ = try registry.create(named: "web")
        } catch {
            #expect("\(error)".contains("ksand stop web"))
        }
        try first.writeResult(Self.result(exitStatus: 0))
        let second = try registry.create(named: "web")
        #expect(second.record == nil && second.result == nil)
        #expect(registry.freshName() == "sandbox-1")
        _ = try registry.create(named: "sandbox-1")
        #expect(registry.freshName() == "sandbox-2")
        #expect(try registry.all().map(\.name) == ["sandbox-1", "web"])
    }
}
