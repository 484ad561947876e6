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
                let machine = QEMUProcessMachine(pid: pid, console: execution.standardOutput, qmp: QMPClient(socketPath: qmpSocket))
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

    var identity: MachineIdentity { MachineIdentity(backend: "qemu", process: ProcessIdentity.of(pid)) }
    var stopTarget: any StopTarget { ProcessStopTarget(pid: pid) }

    func readConsole(_ consume: (UnsafeRawBufferPointer) -> Void) async throws {
        for try await chunk in console { chunk.withUnsafeBytes { consume($0) } }
    }

    func pressPowerButton() throws { try qmp.execute("system_powerdown") }
    var powerButtonDescription: String { "pressed the ACPI power button (QMP system_powerdown)" }
}
