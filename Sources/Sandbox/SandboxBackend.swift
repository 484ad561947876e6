import Foundation

/// What starts a prepared sandbox's VM and keeps it for the runner: direct QEMU (``QEMUDirectBackend``), or another
/// VMM manager behind the same calls.
///
/// The runner never names the VMM: it gets a ``RunningMachine`` that offers the console, the ACPI power button, a
/// stop target for the ``Reaper`` (progress samples and the two escalation steps), and the machine's identity for
/// detached records. The command channel is the runner's own: the VM connects to the socket `channel.sock` in the
/// run's directory, whichever backend started it.
public protocol SandboxBackend: Sendable {
    /// `qemu`, `libvirt`: what records and reports call it.
    var name: String { get }

    /// Whether it can start a sandbox from a snapshot (``PreparedSandbox/restore``).
    var restoresSnapshots: Bool { get }

    /// Starts `sandbox`'s VM (its sockets in `runDirectory`), runs `body` with it while it lives, and returns what
    /// `body` returned with how the VM ended. The VM is gone when this returns, whatever `body` did; `body` returns
    /// once the machine's console has closed.
    func run<Body: Sendable>(
        _ sandbox: PreparedSandbox, runDirectory: String, body: @Sendable (any RunningMachine) async throws -> Body
    ) async throws(SandboxError) -> MachineRun<Body>
}

extension SandboxBackend {
    public var restoresSnapshots: Bool { false }
}

/// A VM while it runs.
public protocol RunningMachine: Sendable {
    /// What a detached record knows it by.
    var identity: MachineIdentity { get }
    /// What the reaper watches and escalates on.
    var stopTarget: any StopTarget { get }
    /// Reads the serial console until it closes (the VM is gone), handing each chunk over as it arrives, so that
    /// the caller's timestamps are arrival times.
    func readConsole(_ consume: (UnsafeRawBufferPointer) -> Void) async throws
    /// Presses the ACPI power button: the request a guest that watches it turns into a clean power-off.
    func pressPowerButton() throws
    /// How the stop log says the power button was pressed.
    var powerButtonDescription: String { get }
    /// Returns once a machine started from a snapshot has loaded it and runs; throws, saying why, when it could not
    /// load it (the VM then ends by itself).
    func waitUntilRestored() async throws(SandboxError)
}

extension RunningMachine {
    public func waitUntilRestored() async throws(SandboxError) {}
}

/// How a VM ended, with what the runner's body returned while it ran.
public struct MachineRun<Body: Sendable>: Sendable {
    public var body: Body
    /// The VMM's termination, as messages say it: `exited(0)`, `unhandledException(9)`.
    public var termination: String
    /// The VMM's exit code when it exited by itself (nil when a signal or a manager ended it).
    public var exitCode: Int32?
    /// What the VMM printed about itself (QEMU's stderr), bounded.
    public var diagnostics: String

    public init(body: Body, termination: String, exitCode: Int32?, diagnostics: String) {
        self.body = body
        self.termination = termination
        self.exitCode = exitCode
        self.diagnostics = diagnostics
    }
}

/// What a running machine is known by outside the process that started it: the backend, and the VMM process when
/// it is local (a libvirt domain adds its connection URI and UUID).
public struct MachineIdentity: Codable, Equatable, Sendable {
    /// ``SandboxBackend/name``.
    public var backend: String
    /// The VMM's process, when it runs on this host and is known.
    public var process: ProcessIdentity?
    /// A managed domain's connection URI and UUID.
    public var connectURI: String?
    public var domainUUID: String?

    public init(backend: String, process: ProcessIdentity?, connectURI: String? = nil, domainUUID: String? = nil) {
        self.backend = backend
        self.process = process
        self.connectURI = connectURI
        self.domainUUID = domainUUID
    }
}
