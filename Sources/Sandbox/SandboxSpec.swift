import Foundation

/// What to run and how: plain data, as the CLI or a project file states it. ``SandboxPreparer`` turns it into a
/// ``PreparedSandbox`` after checking every path.
public struct SandboxSpec: Codable, Sendable, Equatable {
    public enum AcceleratorChoice: String, Codable, Sendable, CaseIterable {
        /// KVM when it can actually boot the kernel, else TCG with one warning.
        case auto
        case kvm, tcg
    }

    public enum MachineChoice: String, Codable, Sendable, CaseIterable {
        /// microvm when the kernel has virtio-mmio (and, under TCG, the host's TSC frequency is known); else q35.
        case auto
        case q35, microvm
    }

    /// The bzImage to boot; nil: the host's newest /boot/vmlinuz-*.
    public var kernel: String?
    /// The command and its arguments.
    public var command: [String]
    /// Variables added to (or replacing) the clean default environment.
    public var environment: [String: String]
    /// The command's working directory; nil: the caller's.
    public var workingDirectory: String?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Directories that get a tmpfs-backed overlay (writable, empty of changes, discarded at exit).
    public var overlays: [String]
    /// Directories that get an empty tmpfs.
    public var tmpfs: [String]
    /// Host directories shared read-write at the same path: the one way out of the sandbox.
    public var readWrite: [String]
    public var memoryMiB: Int
    public var cpus: Int
    public var accelerator: AcceleratorChoice
    public var machine: MachineChoice
    /// Seconds from spawn until the sandbox is stopped and ksand reports a timeout.
    public var timeout: Double?
    /// Extra kernel command-line arguments.
    public var kernelArguments: [String]
    /// Boot the kernel's unpacked ELF through its PVH entry point (skips firmware decompression; cached).
    public var directBoot: Bool
    /// The QEMU binary (name looked up in PATH, or a path).
    public var qemu: String
    /// Whether the command's stdin is ksand's stdin (else /dev/null).
    public var forwardStdin: Bool
    /// How a stop escalates (power-off request, then SIGTERM and SIGKILL once QEMU's I/O has stalled).
    public var stallWindowSeconds: Double
    public var maxStopWaitSeconds: Double
    /// When the guest is asked to stop: how long the command's process group has between SIGTERM and SIGKILL.
    public var terminateGraceSeconds: Double
    /// The guest's network; nil: no network device, only the guest's loopback.
    public var network: SandboxNetwork?

    public init(
        kernel: String? = nil, command: [String], environment: [String: String] = [:], workingDirectory: String? = nil,
        uid: UInt32? = nil, gid: UInt32? = nil, overlays: [String] = ["/tmp", "/home"], tmpfs: [String] = [],
        readWrite: [String] = [], memoryMiB: Int = 512, cpus: Int = 1, accelerator: AcceleratorChoice = .auto,
        machine: MachineChoice = .auto, timeout: Double? = nil, kernelArguments: [String] = [],
        directBoot: Bool = true, qemu: String = "qemu-system-x86_64", forwardStdin: Bool = true,
        stallWindowSeconds: Double = 2, maxStopWaitSeconds: Double = 300, terminateGraceSeconds: Double = 2,
        network: SandboxNetwork? = nil
    ) {
        self.kernel = kernel
        self.command = command
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.overlays = overlays
        self.tmpfs = tmpfs
        self.readWrite = readWrite
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.accelerator = accelerator
        self.machine = machine
        self.timeout = timeout
        self.kernelArguments = kernelArguments
        self.directBoot = directBoot
        self.qemu = qemu
        self.forwardStdin = forwardStdin
        self.stallWindowSeconds = stallWindowSeconds
        self.maxStopWaitSeconds = maxStopWaitSeconds
        self.terminateGraceSeconds = terminateGraceSeconds
        self.network = network
    }

    /// The environment a command gets before `--env`: PATH, HOME, USER, LOGNAME, TERM and LANG from the caller
    /// (PATH and TERM with safe defaults), nothing else.
    public static func cleanEnvironment(from caller: [String: String]) -> [String: String] {
        var env: [String: String] = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM": caller["TERM"] ?? "dumb",
            "LANG": caller["LANG"] ?? "C.UTF-8",
        ]
        for key in ["HOME", "USER", "LOGNAME"] { if let value = caller[key] { env[key] = value } }
        if env["HOME"] == nil { env["HOME"] = "/" }
        return env
    }
}
