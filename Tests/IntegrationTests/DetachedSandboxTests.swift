import Foundation
import Sandbox
import Testing

extension SerializedIntegrationTests {
/// `ksand run --detach`, `ksand ps` and `ksand stop NAME` on real VMs of the project's sandbox kernel under TCG,
/// each test with its own state directory (KSAND_RUNTIME_DIR).
@Suite struct DetachedSandboxTests {
    let runtime = "/tmp/ksand-t-\(UUID().uuidString.prefix(8))"

    func ksand(_ arguments: [String], limit: Double = 120, marker: String? = nil) async throws -> KsandProcess.Result {
        try await KsandProcess.run(arguments, limit: limit, environment: ["KSAND_RUNTIME_DIR": runtime], directory: KsandProcess.repository, marker: marker)
    }

    /// Starts a detached sandbox marked with `marker` on `backend`; returns when ksand does (the guest's init is up).
    func start(_ name: String, marker: String, backend: String = "qemu", options: [String] = [], _ command: [String]) async throws -> KsandProcess.Result {
        try await ksand(
            ["run", "--detach", "--name", name, "--kernel", "built", "--accel", "tcg"] + KsandProcess.backendOptions(backend)
                + KsandProcess.markerOptions(marker, backend: backend) + options + ["--"] + command, marker: marker)
    }

    func directory(_ name: String) -> String { runtime + "/sandboxes/" + name }

    func read(_ name: String, _ file: String) -> String {
        (try? String(contentsOfFile: directory(name) + "/" + file, encoding: .utf8)) ?? ""
    }

    func waitFor(_ what: String, seconds: Double = 60, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { throw TimeoutError(what: what) }
            usleep(50_000)
        }
    }

    struct TimeoutError: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// After a test, pass or fail: kill whatever it left running and remove its state directories.
    func cleanUp(_ marker: String?) {
        for pid in KsandProcess.processes(containing: runtime) + (marker.map(KsandProcess.qemuProcesses(containing:)) ?? []) {
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: runtime)
    }

    /// Nothing of the sandbox may be left: no QEMU with its marker, no supervising ksand of this state directory.
    func expectNothingLeft(_ marker: String) {
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty, "a QEMU process was left behind")
        #expect(KsandProcess.processes(containing: runtime).isEmpty, "a supervising ksand was left behind")
    }

    @Test func detachThenStopPowersTheGuestOffCleanly() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let started = try await start("web", marker: marker, ["sh", "-c", "echo started; exec sleep 600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        #expect(started.text == "web\n")
        #expect(started.stderr.contains("ksand stop web"))
        let ps = try await ksand(["ps", "--json"])
        let listed = try #require(try JSONSerialization.jsonObject(with: ps.stdout) as? [[String: Any]])
        #expect(listed.count == 1)
        #expect(listed.first?["name"] as? String == "web")
        #expect(listed.first?["state"] as? String == "running")
        #expect(KsandProcess.qemuProcesses(containing: marker).count == 1)
        try waitFor("the command's output") { read("web", "stdout") == "started\n" }

        let stop = try await ksand(["stop", "web", "--keep", "-v"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("web: stopped after"), "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("the guest powered off"))
        #expect(stop.stderr.contains("pressed the ACPI power button"))
        let console = read("web", "console.log")
        #expect(console.contains("ksand: stop-requested power-button"), "console: \(console)")
        #expect(console.contains("ksand: power-off"))
        #expect(console.contains("reboot: Power down"))
        expectNothingLeft(marker)

        // The kept entry is listed as exited; stopping it again removes it.
        let after = try await ksand(["ps"])
        #expect(after.text.contains("exited 130"), "ps: \(after.text)")
        let again = try await ksand(["stop", "web"])
        #expect(again.status == 0)
        #expect(again.stderr.contains("had already exited with status 130"))
        #expect(!FileManager.default.fileExists(atPath: directory("web")))
        #expect(try await ksand(["ps"]).text == "NAME  STATE  UPTIME  QEMU PID  COMMAND\n")
    }

    /// On q35 with ACPI the power button reaches the init; without ACPI (`acpi=off`; PCI still works) the init says
    /// it has no button and gets the command channel's terminate message instead, then its kernel halts rather than
    /// powering off, and QEMU is reaped once idle. Stopped right after start, so a terminate racing the command's
    /// own session setup is covered too: the command must still end by SIGTERM (143), not by the grace's SIGKILL.
    @Test(arguments: [([String](), "power-button", "the guest powered off"),
                      (["--append", "acpi=off"], "host-request", "the guest shut down but its kernel halted")])
    func onQ35TheGuestIsAskedTheWayItCanHear(options: [String], request: String, summary: String) async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let started = try await start("m", marker: marker, options: ["--machine", "q35"] + options, ["sleep", "600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        let stop = try await ksand(["stop", "m", "--keep", "-v"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains(summary), "stderr: \(stop.stderr)")
        let console = read("m", "console.log")
        #expect(console.contains("ksand: stop-requested \(request)"), "console: \(console)")
        #expect(console.contains("ksand: command-exit status=143"))
        #expect(console.contains("ksand: power-off"))
        expectNothingLeft(marker)
    }

    @Test(arguments: KsandProcess.backends) func aGuestIgnoringThePowerOffIsKilledAfterTheStallWindow(backend: String) async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        // The command ignores SIGTERM and the init's grace is long: the guest never powers off by itself.
        let started = try await start("stubborn", marker: marker, backend: backend, options: ["--grace", "600"],
                                ["sh", "-c", "trap '' TERM; echo ready; sleep 600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        try waitFor("the command to ignore SIGTERM") { read("stubborn", "stdout") == "ready\n" }
        let stop = try await ksand(["stop", "stubborn", "--stall", "1", "--keep", "--json", runtime + "/stop.json"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("did not power off; QEMU ended on SIGTERM"), "stderr: \(stop.stderr)")
        let reports = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runtime + "/stop.json"))) as? [[String: Any]])
        let seconds = try #require(reports.first?["seconds"] as? Double)
        // One stall window after the power button (plus sampling), not the 600 s grace.
        #expect(seconds >= 1 && seconds < 4, "stopped after \(seconds)s")
        #expect(reports.first?["endedBy"] as? String == "SIGTERM")
        let console = read("stubborn", "console.log")
        #expect(console.contains("ksand: stop-requested power-button"))
        #expect(!console.contains("ksand: power-off"))
        expectNothingLeft(marker)
    }

    @Test(arguments: KsandProcess.backends) func aGuestStillWritingIntoAnRWShareFinishesItsFile(backend: String) async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let shared = runtime + "/shared"
        // The runtime directory must be private, as ksand would have made it.
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: false)
        // Writes 48 MiB in 1 MiB blocks (block i is all byte i), fsyncing each, 0.1 s apart; on SIGTERM it
        // finishes the file before it exits, as a program flushing its data does.
        let writer = """
            import os, signal, time
            signal.signal(signal.SIGTERM, lambda *_: print('SIGTERM: finishing the file', flush=True))
            with open('\(shared)/big.part', 'wb') as f:
                for i in range(48):
                    f.write(bytes([i]) * (1 << 20)); f.flush(); os.fsync(f.fileno())
                    time.sleep(0.1)
            os.rename('\(shared)/big.part', '\(shared)/big')
            print('done', flush=True)
            """
        let started = try await start("writer", marker: marker, backend: backend, options: ["--rw", shared, "--grace", "120"], ["python3", "-c", writer])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        try waitFor("the first blocks") { ((try? FileManager.default.attributesOfItem(atPath: shared + "/big.part")[.size] as? Int) ?? 0) >= 2 << 20 }
        let stop = try await ksand(["stop", "writer", "--stall", "1", "--keep", "-v"], limit: 300)
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("the guest powered off"), "stderr: \(stop.stderr)")
        #expect(read("writer", "stdout") == "SIGTERM: finishing the file\ndone\n")
        let data = try Data(contentsOf: URL(fileURLWithPath: shared + "/big"))
        #expect(data.count == 48 << 20)
        for block in 0..<min(48, data.count >> 20) {
            #expect(data[(block << 20)..<((block + 1) << 20)].allSatisfy { $0 == UInt8(block) }, "block \(block)")
        }
        expectNothingLeft(marker)
    }

    @Test func aKilledSupervisorLeavesNoQEMUAndPsCleansItsEntry() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        let started = try await start("doomed", marker: marker, ["sleep", "600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory("doomed") + "/state.json"))) as? [String: Any])
        let supervisor = try #require((record["supervisor"] as? [String: Any])?["pid"] as? Int)
        kill(Int32(supervisor), SIGKILL)
        // Its command channel closes with it: the init stops the command and powers the guest off by itself.
        try waitFor("QEMU to power off", seconds: 30) { KsandProcess.qemuProcesses(containing: marker).isEmpty }
        let ps = try await ksand(["ps"])
        #expect(ps.stderr.contains("removed the stale entry doomed"), "stderr: \(ps.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory("doomed")))
        expectNothingLeft(marker)
    }

    @Test func anOrphanedQEMUIsReapedByStopThroughQMP() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        // A guest that outlives its ksand: the init's stop (channel closed) meets a command ignoring SIGTERM.
        let started = try await start("orphan", marker: marker, options: ["--grace", "600"], ["sh", "-c", "trap '' TERM; echo ready; sleep 600"])
        #expect(started.status == 0, "stderr: \(started.stderr)")
        try waitFor("the command to ignore SIGTERM") { read("orphan", "stdout") == "ready\n" }
        let record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory("orphan") + "/state.json"))) as? [String: Any])
        let supervisor = try #require((record["supervisor"] as? [String: Any])?["pid"] as? Int)
        kill(Int32(supervisor), SIGKILL)
        try waitFor("the supervisor to die") { ProcessIdentity.of(Int32(supervisor)) == nil }
        #expect(KsandProcess.qemuProcesses(containing: marker).count == 1)
        #expect(try await ksand(["ps"]).text.contains("orphaned"))
        let stop = try await ksand(["stop", "orphan", "--stall", "1", "-v"])
        #expect(stop.status == 0, "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("its ksand was gone; the guest did not power off; QEMU ended on SIGTERM"), "stderr: \(stop.stderr)")
        #expect(stop.stderr.contains("pressed the ACPI power button"))
        #expect(!FileManager.default.fileExists(atPath: directory("orphan")))
        expectNothingLeft(marker)
    }

    @Test func ctrlCWhileTheSandboxBootsCancelsIt() async throws {
        let marker = KsandProcess.marker()
        defer { cleanUp(marker) }
        // The distro kernel takes seconds to boot under TCG: the interrupt lands before the init is up.
        let result = try await KsandProcess.run(
            ["run", "--detach", "--name", "slow", "--accel", "tcg", "--cold", "--append", marker, "--", "sleep", "600"], limit: 120,
            environment: ["KSAND_RUNTIME_DIR": runtime]
        ) { process in
            try? await Task.sleep(for: .milliseconds(1500))
            process.send(.interrupt)
        }
        #expect(result.status == 130, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("sandbox slow was stopped"))
        #expect(!FileManager.default.fileExists(atPath: directory("slow")))
        expectNothingLeft(marker)
    }

    @Test func namesAndMisuseGetClearErrors() async throws {
        defer { cleanUp(nil) }
        let missing = try await ksand(["stop", "nosuch"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no detached sandbox named nosuch"))
        let noDetach = try await ksand(["run", "--name", "x", "--", "true"])
        #expect(noDetach.status != 0)
        #expect(noDetach.stderr.contains("--name names a detached sandbox: add --detach"))
        let badName = try await ksand(["run", "--detach", "--name", "a/b", "--", "true"])
        #expect(badName.stderr.contains("--name a/b"))
        let nothing = try await ksand(["stop"])
        #expect(nothing.stderr.contains("sandbox names, --all, or --pid PID"))
        let brokenKernel = try await ksand(["run", "--detach", "--kernel", "/nonexistent/bzImage", "--", "true"])
        #expect(brokenKernel.status == 125, "stderr: \(brokenKernel.stderr)")
        #expect(brokenKernel.stderr.contains("/nonexistent/bzImage"))
        #expect(try await ksand(["ps"]).text == "NAME  STATE  UPTIME  QEMU PID  COMMAND\n")
    }
}
}
