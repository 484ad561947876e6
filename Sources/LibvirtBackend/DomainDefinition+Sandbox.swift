import Foundation
import Glibc
import Sandbox
import SandboxProtocol

extension DomainDefinition {
    /// The domain that boots `sandbox` as the direct QEMU backend would: the same boot image, initramfs, kernel
    /// arguments, machine and accelerator, the host root read-only over 9p and the sandbox's shares, and the command
    /// channel connecting to `channel.sock` in `runDirectory`.
    ///
    /// Under `qemu:///system` QEMU runs as the caller with the group libvirt's own files belong to (libvirt-qemu on
    /// Debian), so it can reach the run's sockets and the caller's kernels; the embedded driver runs it as qemu.conf says.
    public init(sandbox: PreparedSandbox, runDirectory: String, name: String, systemURI: Bool) {
        var filesystems = [Filesystem.hostRoot(tag: RunSpec.rootTag)]
        for share in sandbox.runSpec.shares {
            filesystems.append(Filesystem(hostPath: share.path, tag: share.tag, readOnly: !share.writable))
        }
        var credentials: ProcessCredentials?
        if systemURI, let group = getgrnam("libvirt-qemu") { credentials = ProcessCredentials(uid: geteuid(), gid: group.pointee.gr_gid) }
        self.init(
            name: name, type: sandbox.accelerator == .kvm ? .kvm : .qemu, emulator: sandbox.qemuPath,
            machine: sandbox.machine == .microvm ? .microvm : .q35, vcpus: sandbox.spec.cpus, memoryMiB: sandbox.spec.memoryMiB,
            kernel: sandbox.bootImage, initrd: sandbox.initramfs,
            kernelArguments: PreparedSandbox.baseKernelArguments + sandbox.machineKernelArguments + sandbox.spec.kernelArguments,
            filesystems: filesystems, channel: Channel(socketPath: runDirectory + "/channel.sock", portName: Frame.portName),
            owner: Owner(sandbox: name, runDirectory: runDirectory), processCredentials: credentials)
    }
}
