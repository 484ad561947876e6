import Foundation
import Testing

extension SerializedIntegrationTests {
/// Real VM boots of the host kernel under TCG.
@Suite struct RunCommandTests {
    /// `ksand run` with TCG (KVM is probed in its own test) and a marker to find its QEMU afterwards.
    /// Each test about the sandbox rather than QEMU itself runs on every backend (``KsandProcess/backends``).
    func run(_ command: [String], backend: String = "qemu", options: [String] = [], stdin: FileHandle? = nil, limit: Double = 120,
             duringRun: ((KsandProcess.Running) async -> Void)? = nil) async throws -> (KsandProcess.Result, marker: String) {
        let marker = KsandProcess.marker()
        let result = try await KsandProcess.run(
            ["run", "--accel", "tcg"] + KsandProcess.backendOptions(backend) + KsandProcess.markerOptions(marker, backend: backend) + options
                + ["--"] + command, stdin: stdin, limit: limit, marker: marker, duringRun: duringRun)
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty, "a QEMU process was left behind")
        return (result, marker)
    }

    @Test(arguments: KsandProcess.backends) func stdoutStderrAndExitStatusComeBackSeparately(backend: String) async throws {
        let (result, _) = try await run(["sh", "-c", "echo out; echo err >&2; exit 7"], backend: backend)
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(result.text == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test func theQ35MachineRunsTheSameWay() async throws {
        let (result, _) = try await run(["sh", "-c", "echo out; echo err >&2; exit 7"], options: ["--machine", "q35"])
        #expect(result.status == 7, "stderr: \(result.stderr)")
        #expect(result.text == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test(arguments: KsandProcess.backends) func aSignalBecomes128PlusItsNumber(backend: String) async throws {
        let (result, _) = try await run(["sh", "-c", "kill -9 $$"], backend: backend)
        #expect(result.status == 137, "stderr: \(result.stderr)")
    }

    @Test(arguments: KsandProcess.backends) func aGuestPanicHasItsOwnExitCodeAndShowsTheConsole(backend: String) async throws {
        let (result, _) = try await run(["sh", "-c", "echo c > /proc/sysrq-trigger"], backend: backend, options: ["--user", "0:0"])
        #expect(result.status == 120, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("guest kernel panic"))
        #expect(result.stderr.contains("sysrq"))
    }

    @Test(arguments: KsandProcess.backends) func timeoutStopsAHangingCommandPromptly(backend: String) async throws {
        let (result, _) = try await run(["sleep", "100"], backend: backend, options: ["--timeout", "5"])
        #expect(result.status == 124, "stderr: \(result.stderr)")
        #expect(result.seconds < 8, "took \(result.seconds)s")
        #expect(result.stderr.contains("timed out"))
    }

    /// A microvm without ACPI has no virtio devices, so the init never finds its channel; it reports that on the
    /// console and powers off, which without ACPI halts the kernel and leaves QEMU running. ksand must see the
    /// halt, reap QEMU and say what happened, not wait forever.
    @Test func aGuestThatHaltsInsteadOfPoweringOffIsReapedWithItsReason() async throws {
        let marker = KsandProcess.marker()
        let result = try await KsandProcess.run(
            ["run", "--kernel", "built", "--accel", "tcg", "--machine", "microvm", "--append", "acpi=off", "--append", marker, "--", "true"],
            limit: 60, directory: KsandProcess.repository)
        #expect(result.status == 121, "stderr: \(result.stderr)")
        // The snapshot's boot halted the same way, and said so (the run then booted cold to report it).
        #expect(result.stderr.contains("could not make a snapshot") && result.stderr.contains("before the init's hello"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("before it reached the command channel"))
        #expect(result.stderr.contains("no virtio-serial port named org.ksand.ctl"))
        #expect(result.stderr.contains("reboot: System halted"))
        // Two boots (the snapshot's, then the cold run) of ~10 s each: the init waits that long for its channel.
        #expect(result.seconds < 40, "took \(result.seconds)s")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }

    @Test(arguments: KsandProcess.backends) func ctrlCStopsTheVMAndLeavesNoQEMU(backend: String) async throws {
        let (result, _) = try await run(["sleep", "100"], backend: backend, duringRun: { process in
            try? await Task.sleep(for: .seconds(6))
            process.send(.interrupt)
        })
        #expect(result.status == 130, "stderr: \(result.stderr)")
        #expect(result.seconds < 12, "took \(result.seconds)s")
    }

    @Test(arguments: KsandProcess.backends) func largeBinaryOutputArrivesByteExact(backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("random.bin")
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(50 * 1024 * 1024 / 8)).flatMap { _ in withUnsafeBytes(of: generator.next()) { Array($0) } }
        try Data(bytes).write(to: file)
        let (result, _) = try await run(["cat", file.path], backend: backend, limit: 300)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.count == bytes.count)
        #expect(result.stdout == Data(bytes))
    }

    @Test(arguments: KsandProcess.backends) func stdinIsForwardedUntilEndOfFile(backend: String) async throws {
        let input = Pipe()
        let payload = Data((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        DispatchQueue.global().async {
            input.fileHandleForWriting.write(payload)
            try? input.fileHandleForWriting.close()
        }
        let (result, _) = try await run(["cat"], backend: backend, stdin: input.fileHandleForReading)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == payload)
    }

    @Test(arguments: KsandProcess.backends) func rootIsReadOnlyAndOverlaysAreWritableAndVanish(backend: String) async throws {
        let name = "ksand-it-\(UUID().uuidString)"
        let (touch, _) = try await run(["touch", "/usr/\(name)"], backend: backend)
        #expect(touch.status != 0)
        #expect(touch.stderr.contains("Read-only file system"))
        let (write, _) = try await run(["sh", "-c", "echo hi > /tmp/\(name); cat /tmp/\(name)"], backend: backend)
        #expect(write.status == 0, "stderr: \(write.stderr)")
        #expect(write.text == "hi\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(name)"))
        #expect(!FileManager.default.fileExists(atPath: "/usr/\(name)"))
    }

    @Test(arguments: KsandProcess.backends) func rwSharesAHostDirectoryWritable(backend: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-rw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (result, _) = try await run(["sh", "-c", "echo artifact > \(directory.path)/out.txt"], backend: backend, options: ["--rw", directory.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(try String(contentsOf: directory.appendingPathComponent("out.txt"), encoding: .utf8) == "artifact\n")
    }

    @Test(arguments: KsandProcess.backends) func missingCommandIs127AndCallerIdentityAndDirectoryCarryOver(backend: String) async throws {
        let (missing, _) = try await run(["no-such-command-ksand"], backend: backend)
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("no-such-command-ksand"))
        let (identity, _) = try await run(["sh", "-c", "id -u; pwd; echo $FOO"], backend: backend, options: ["--user", "1234:1234", "--cwd", "/usr/share", "--env", "FOO=bar baz"])
        #expect(identity.text == "1234\n/usr/share\nbar baz\n", "stderr: \(identity.stderr)")
    }

    @Test func missingKernelIsASetupErrorNamingThePath() async throws {
        let result = try await KsandProcess.run(["run", "--accel", "tcg", "--kernel", "/nonexistent/bzImage", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.contains("/nonexistent/bzImage"))
    }

    @Test func initramfsIsReproducible() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-initramfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("a.cpio").path, second = directory.appendingPathComponent("b.cpio").path
        let a = try await KsandProcess.run(["initramfs", "-o", first])
        let b = try await KsandProcess.run(["initramfs", "-o", second])
        #expect(a.status == 0 && b.status == 0, "stderr: \(a.stderr) \(b.stderr)")
        let bytesA = try Data(contentsOf: URL(fileURLWithPath: first)), bytesB = try Data(contentsOf: URL(fileURLWithPath: second))
        #expect(bytesA.count > 0)
        #expect(bytesA == bytesB)
    }

    @Test func autoAcceleratorFallsBackToTCGWithOneWarningWhenKVMCannotBoot() async throws {
        let marker = KsandProcess.marker()
        let result = try await KsandProcess.run(["run", "--append", marker, "--", "true"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains("warning") }
        // Either KVM works here (no warning) or there is exactly one line that says why and what to do.
        #expect(warnings.count <= 1)
        if let warning = warnings.first { #expect(warning.contains("TCG") && warning.contains("--accel tcg")) }
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }
}
}
