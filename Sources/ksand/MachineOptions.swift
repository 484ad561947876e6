import ArgumentParser
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
