import ArgumentParser
import Foundation
import LibvirtBackend
import ProjectFile
import Sandbox

extension SandboxSpec.AcceleratorChoice: ExpressibleByArgument {}
extension SandboxSpec.MachineChoice: ExpressibleByArgument {}

/// The virtual machine's shape, shared by `ksand run` and `ksand test`: each option overrides the project's
/// `[sandbox]` value, which overrides ksand's default.
struct MachineOptions: ParsableArguments {
    @Option(help: "Accelerator: auto (KVM if it can boot the kernel, else TCG), kvm or tcg.") var accel: SandboxSpec.AcceleratorChoice?
    @Option(help: "Machine type: auto (microvm when the kernel has virtio-mmio), q35 or microvm.") var machine: SandboxSpec.MachineChoice?
    @Option(help: "Guest memory in MiB (default 512).") var memory: Int?
    @Option(help: "Guest CPUs (default 1).") var cpus: Int?
    @Option(help: "What starts the VM: qemu (ksand runs QEMU itself, the default) or libvirt (a transient libvirt domain).")
    var backend: BackendChoice?
    @Option(help: ArgumentHelp("libvirt's connection URI (with --backend libvirt): qemu:///system, qemu:///session, or qemu:///embed?root=DIR (no daemon; the default, under ksand's cache).", valueName: "uri"))
    var connect: String?

    enum BackendChoice: String, ExpressibleByArgument, CaseIterable {
        case qemu, libvirt
    }

    /// The backend the options and the project choose. Without a URI, libvirt's embedded driver under ksand's
    /// cache: libvirt with no daemon to run. libvirt lets one process use a root at a time, so a ksand started
    /// while another runs (a second terminal, a detached sandbox) takes the next free root of a small pool
    /// (`libvirt-embed`, `libvirt-embed-2`, …), claimed when its first sandbox starts.
    func sandboxBackend(project defaults: ProjectFile.SandboxDefaults?) -> any SandboxBackend {
        let choice = backend ?? defaults?.backend.flatMap(BackendChoice.init(rawValue:)) ?? .qemu
        switch choice {
        case .qemu: return QEMUDirectBackend()
        case .libvirt:
            if let uri = connect ?? defaults?.connect { return LibvirtSandboxBackend(uri: uri) }
            return LibvirtSandboxBackend(embeddedPoolBase: CacheDirectory.standard().path + "/libvirt-embed")
        }
    }

    /// The options given on the command line, as they were given (for a command that reproduces a result).
    var givenArguments: [String] {
        var words: [String] = []
        if let accel { words += ["--accel", accel.rawValue] }
        if let machine { words += ["--machine", machine.rawValue] }
        if let memory { words += ["--memory", String(memory)] }
        if let cpus { words += ["--cpus", String(cpus)] }
        if let backend { words += ["--backend", backend.rawValue] }
        if let connect { words += ["--connect", connect] }
        return words
    }

    func validateBackend() throws {
        if connect != nil && backend == .qemu { throw ValidationError("--connect is libvirt's connection URI; it needs --backend libvirt, not qemu") }
        if let connect {
            guard let uri = LibvirtURI(connect), uri.hasKnownDriver else {
                throw ValidationError("--connect \(connect): not a libvirt URI with a known driver (e.g. qemu:///system, qemu:///embed?root=DIR)")
            }
            if uri.isEmbedded, uri.embeddedRoot?.hasPrefix("/") != true {
                throw ValidationError("--connect \(connect): the embedded driver needs root=ABSOLUTE-DIR, e.g. qemu:///embed?root=/var/tmp/ksand-libvirt")
            }
        }
    }

    /// Sets the spec's accelerator, machine, memory and CPUs, and its timeout and extra kernel arguments from the
    /// project (`timeout` and `kernelArguments` given on the command line win or come after).
    func apply(to spec: inout SandboxSpec, project defaults: ProjectFile.SandboxDefaults?, timeout: Double? = nil, kernelArguments: [String] = []) {
        spec.accelerator = accel ?? defaults?.accel.flatMap(SandboxSpec.AcceleratorChoice.init(rawValue:)) ?? .auto
        spec.machine = machine ?? defaults?.machine.flatMap(SandboxSpec.MachineChoice.init(rawValue:)) ?? .auto
        spec.memoryMiB = memory ?? defaults?.memory ?? 512
        spec.cpus = cpus ?? defaults?.cpus ?? 1
        spec.timeout = timeout ?? defaults?.timeout
        spec.kernelArguments = (defaults?.append ?? []) + kernelArguments
    }
}
