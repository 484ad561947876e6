import Foundation
import QEMU
import SandboxProtocol

/// A sandbox whose inputs have all been checked: the kernel exists and is a bzImage, its initramfs is packed,
/// QEMU is found, the accelerator is decided. ``SandboxRunner`` boots it.
public struct PreparedSandbox: Sendable {
    public var spec: SandboxSpec
    public var kernel: KernelImage
    /// What QEMU loads: the bzImage, or its unpacked PVH-capable ELF.
    public var bootImage: String
    public var initramfs: String
    public var qemuPath: String
    public var accelerator: QEMUCommandLine.Accelerator
    /// The machine type, with `auto` resolved.
    public var machine: QEMUCommandLine.Machine
    /// Set when `auto` fell back to TCG: the one warning to show.
    public var acceleratorWarning: String?
    /// What the guest init is told.
    public var runSpec: RunSpec
    /// The host's TSC frequency, for a microvm guest under TCG (see ``HostTSC``).
    public var hostTSCKilohertz: Int?
    /// The snapshot this run starts from instead of booting (set by ``SandboxRunner`` for the run it restores).
    public var restore: SnapshotClaim?

    /// The kernel command line ksand always passes, before the spec's extra arguments.
    public static let baseKernelArguments = [
        "console=ttyS0", "panic=-1", "printk.time=1", "printk.devkmsg=on", "rdinit=/init",
        // No keyboard or mouse is attached; probing the i8042 controller only costs time.
        "i8042.noaux", "i8042.nokbd",
    ]

    /// Kernel arguments that depend on the machine and accelerator.
    public var machineKernelArguments: [String] {
        guard machine == .microvm, accelerator == .tcg, let khz = hostTSCKilohertz else { return [] }
        return ["tsc_early_khz=\(khz)"]
    }

    /// The QMP socket's name in a run's directory.
    public static let qmpSocketName = "qmp.sock"

    /// The QEMU command line for one run whose sockets live in `runDirectory`.
    public func commandLine(runDirectory: String) -> QEMUCommandLine {
        var shares = [QEMUCommandLine.Share(id: "root", hostPath: "/", tag: RunSpec.rootTag, readOnly: true)]
        for share in runSpec.shares {
            shares.append(.init(id: share.tag, hostPath: share.path, tag: share.tag, readOnly: !share.writable))
        }
        var line = QEMUCommandLine(
            executable: qemuPath, machine: machine, accelerator: accelerator, cpus: spec.cpus,
            memoryMiB: spec.memoryMiB, kernel: bootImage, initrd: initramfs,
            kernelArguments: PreparedSandbox.baseKernelArguments + machineKernelArguments + spec.kernelArguments, shares: shares,
            channelSocket: runDirectory + "/channel.sock", channelPortName: Frame.portName,
            qmpSocket: runDirectory + "/" + PreparedSandbox.qmpSocketName)
        if let network = spec.network {
            line.userNetwork = QEMUCommandLine.UserNetwork(
                restricted: !network.outbound, hostForwards: network.publish.map(\.hostForwardRule),
                network: SandboxNetwork.Addressing.network, host: SandboxNetwork.Addressing.host,
                nameserver: SandboxNetwork.Addressing.nameserver)
        }
        if let restore {
            // The snapshot's RAM mapped privately: this guest's writes are its own, the file stays as it was saved.
            line.memory = .file(path: restore.memoryPath, shared: false)
            line.incoming = .deferred
        }
        return line
    }
}
