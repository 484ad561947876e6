import Foundation
import Glibc
import QEMU
import Subprocess
import SystemPackage

/// QEMU started directly: ksand's own child, in a process group of its own (so a Ctrl-C at the terminal reaches
/// ksand, which stops QEMU through the ``Reaper``), its stdout the serial console, its QMP socket the power button,
/// /proc/PID/io its progress.
public struct QEMUDirectBackend: SandboxBackend {
    public var name: String { "qemu" }
    public var restoresSnapshots: Bool { true }

    public init() {}

    public func run<Body: Sendable>(
        _ sandbox: PreparedSandbox, runDirectory: String, body: @Sendable (any RunningMachine) async throws -> Body
    ) async throws(SandboxError) -> MachineRun<Body> {
        let argv = sandbox.commandLine(runDirectory: runDirectory).arguments
        var options = PlatformOptions()
        options.processGroupID = 0
        let qmpSocket = runDirectory + "/" + PreparedSandbox.qmpSocketName
        let execution: ExecutionResult<(Body, String), SequenceOutput, SequenceOutput>
        do {
            execution = try await Subprocess.run(
                .path(FilePath(argv[0])), arguments: Arguments(Array(argv.dropFirst())), platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                let pid = execution.processIdentifier.value
                async let stderrText = Self.collect(execution.standardError, limit: 64 * 1024)
                let machine = QEMUProcessMachine(
                    pid: pid, console: execution.standardOutput, qmp: QMPClient(socketPath: qmpSocket), snapshotState: sandbox.restore?.statePath)
                let result = try await body(machine)
                return (result, await stderrText)
            }
        } catch {
            throw .qemuFailed(status: "could not run \(argv[0])", stderr: "\(error)")
        }
        var exitCode: Int32?
        if case .exited(let code) = execution.terminationStatus { exitCode = code }
        return MachineRun(body: execution.closureResult.0, termination: "\(execution.terminationStatus)", exitCode: exitCode,
                          diagnostics: execution.closureResult.1)
    }

    static func collect(_ sequence: SubprocessOutputSequence, limit: Int) async -> String {
        var bytes: [UInt8] = []
        do {
            for try await chunk in sequence {
                chunk.withUnsafeBytes { raw in
                    if bytes.count < limit { bytes += raw.prefix(limit - bytes.count) }
                }
            }
        } catch {}
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A QEMU process started by ``QEMUDirectBackend``.
struct QEMUProcessMachine: RunningMachine {
    let pid: pid_t
    let console: SubprocessOutputSequence
    let qmp: QMPClient
    /// The state file of the snapshot it loads (QEMU waits for it: `-incoming defer`).
    let snapshotState: String?

    var identity: MachineIdentity { MachineIdentity(backend: "qemu", process: ProcessIdentity.of(pid)) }
    var stopTarget: any StopTarget { ProcessStopTarget(pid: pid) }

    func readConsole(_ consume: (UnsafeRawBufferPointer) -> Void) async throws {
        for try await chunk in console { chunk.withUnsafeBytes { consume($0) } }
    }

    func pressPowerButton() throws { try qmp.execute("system_powerdown") }

    /// Has QEMU load the snapshot's state, then asks QMP for the run state until the guest runs again.
    func waitUntilRestored() async throws(SandboxError) {
        guard let snapshotState else { return }
        let deadline = ContinuousClock.now + .seconds(30)
        var lastError = ""
        var loading = false
        while ContinuousClock.now < deadline && !loading {
            guard ProcessProgress.sample(pid: pid) != nil else { throw .snapshotRestoreFailed("QEMU ended before it took the snapshot") }
            do {
                try qmp.execute("migrate-set-capabilities", arguments: QEMUCommandLine.ignoreSharedMemoryCapability)
                try qmp.execute("migrate-incoming", arguments: ["uri": .string(QEMUCommandLine.incomingURI(file: snapshotState))])
                loading = true
            } catch {
                // The QMP socket appears once QEMU has parsed its options; until then there is nothing to ask.
                if error.reason.hasPrefix("cannot connect") {
                    lastError = "\(error)"
                    try? await Task.sleep(for: .milliseconds(1))
                    continue
                }
                throw .snapshotRestoreFailed("\(error)")
            }
        }
        while ContinuousClock.now < deadline {
            guard ProcessProgress.sample(pid: pid) != nil else { throw .snapshotRestoreFailed("QEMU ended while loading the snapshot") }
            do {
                let status = try qmp.execute("query-status")
                switch status["status"]?.string {
                case "running": return
                case "paused":
                    // The snapshot was saved paused, so the loaded machine is paused too: it goes on from here.
                    try qmp.execute("cont")
                    return
                case "inmigrate", "prelaunch", "restore-vm", nil:
                    lastError = "the machine is \(status["status"]?.string ?? "in an unknown state")"
                case let other?: throw SandboxError.snapshotRestoreFailed("the machine is \(other) after loading the snapshot")
                }
            } catch let error as SandboxError {
                throw error
            } catch {
                lastError = "\(error)"
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        throw .snapshotRestoreFailed("the snapshot did not load within 30 s (\(lastError))")
    }
    var powerButtonDescription: String { "pressed the ACPI power button (QMP system_powerdown)" }
}
