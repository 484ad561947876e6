import Foundation
import SandboxProtocol
import Synchronization
import Testing
@testable import Sandbox

/// The runner through a backend that is not QEMU: it gets the console, the stop target and the VM's ending only
/// from the ``RunningMachine`` it is handed, and stops it only through the target's two steps.
@Suite struct SandboxBackendTests {
    @Test func aPanicOnTheConsoleAMachineHandsOverIsTheRunsResult() async throws {
        let backend = ScriptedBackend(console: [
            "[    0.000000] Linux version 6.1.0-scripted",
            "[    0.912000] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)",
        ], endsByItself: true)
        let result = try await SandboxRunner(io: Self.quietIO, backend: backend).run(try Self.prepared())
        #expect(result.outcome == .guestPanic("VFS: Unable to mount root fs on unknown-block(0,0)"))
        #expect(result.consoleLines.map(\.text).first == "Linux version 6.1.0-scripted")
        #expect(backend.target.steps == [])
    }

    @Test func aStopOfAMachineWhoseGuestCannotBeAskedEscalatesThroughItsTarget() async throws {
        // The guest never reaches the command channel: Ctrl-C cannot ask it, so the runner goes straight to the
        // target's polite end, and the machine ends on it.
        let backend = ScriptedBackend(console: ["[    0.000000] Linux version 6.1.0-scripted"], endsByItself: false)
        let control = RunControl()
        let runner = SandboxRunner(io: Self.quietIO, control: control, backend: backend)
        let prepared = try Self.prepared()
        async let result = runner.run(prepared)
        while backend.target.progress() == nil || backend.started == false { try await Task.sleep(for: .milliseconds(10)) }
        control.interrupt(policy: StopPolicy(stallWindow: .milliseconds(200), maxWait: .seconds(5), sampleInterval: .milliseconds(20)))
        let ended = try await result
        #expect(ended.outcome == .interrupted)
        #expect(backend.target.steps == ["terminate"])
        #expect(ended.stopReport?.endedBy == .sigterm)
        #expect(ended.stopReport?.log.contains { $0.contains("could not ask scripted machine to stop") } == true)
        #expect(ended.stopReport?.log.contains { $0.contains("ending the scripted machine politely") } == true)
    }

    static let quietIO = SandboxIO(stdin: nil, stdout: open("/dev/null", O_WRONLY), stderr: open("/dev/null", O_WRONLY))

    /// A sandbox prepared without QEMU's preparer: the installed distro kernel, no initramfs needed.
    static func prepared() throws -> PreparedSandbox {
        let spec = SandboxSpec(command: ["true"], accelerator: .tcg, stallWindowSeconds: 0.2, maxStopWaitSeconds: 5)
        return PreparedSandbox(
            spec: spec, kernel: try KernelImage.defaultKernel(), bootImage: "/nonexistent/bzImage", initramfs: "/nonexistent/initrd",
            qemuPath: "/nonexistent/qemu", accelerator: .tcg, machine: .q35, acceleratorWarning: nil,
            runSpec: SandboxPreparer().runSpec(for: spec), hostTSCKilohertz: nil)
    }
}

/// A backend whose machine prints a fixed console and then either ends by itself or runs until its target ends it.
final class ScriptedBackend: SandboxBackend {
    let console: [String]
    let endsByItself: Bool
    let target = ScriptedTarget()
    private let startedFlag = Mutex(false)
    var started: Bool { startedFlag.withLock { $0 } }

    init(console: [String], endsByItself: Bool) {
        self.console = console
        self.endsByItself = endsByItself
    }

    var name: String { "scripted" }

    func run<Body: Sendable>(
        _ sandbox: PreparedSandbox, runDirectory: String, body: @Sendable (any RunningMachine) async throws -> Body
    ) async throws(SandboxError) -> MachineRun<Body> {
        target.start()
        startedFlag.withLock { $0 = true }
        let machine = ScriptedMachine(console: console, endsByItself: endsByItself, target: target)
        do {
            let result = try await body(machine)
            return MachineRun(body: result, termination: "ended(scripted)", exitCode: nil, diagnostics: "")
        } catch {
            throw .qemuFailed(status: "scripted", stderr: "\(error)")
        }
    }
}

struct ScriptedMachine: RunningMachine {
    let console: [String]
    let endsByItself: Bool
    let target: ScriptedTarget

    var identity: MachineIdentity { MachineIdentity(backend: "scripted", process: nil) }
    var stopTarget: any StopTarget { target }

    func readConsole(_ consume: (UnsafeRawBufferPointer) -> Void) async throws {
        for line in console {
            Array((line + "\r\n").utf8).withUnsafeBytes { consume($0) }
        }
        if !endsByItself {
            while target.progress() != nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        target.end()
    }

    struct NoPowerButton: Error {}
    func pressPowerButton() throws { throw NoPowerButton() }
    var powerButtonDescription: String { "pressed the scripted button" }
}

/// Alive from start until a step ends it; remembers the steps taken. Its counters never move: a stalled VM.
final class ScriptedTarget: StopTarget {
    private let state = Mutex<(alive: Bool, steps: [String])>((false, []))
    var steps: [String] { state.withLock { $0.steps } }

    func start() { state.withLock { $0.alive = true } }
    func end() { state.withLock { $0.alive = false } }

    var name: String { "scripted machine" }
    func progress() -> ProcessProgress? {
        state.withLock { $0.alive } ? ProcessProgress(readChars: 0, writtenChars: 0, readBytes: 0, writtenBytes: 0, cpuTicks: 0) : nil
    }
    var terminateStep: String { "ending the scripted machine politely" }
    func terminate() { state.withLock { $0.steps.append("terminate"); $0.alive = false } }
    var killStep: String { "ending the scripted machine by force" }
    func kill() { state.withLock { $0.steps.append("kill"); $0.alive = false } }
}
