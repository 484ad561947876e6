import BootTimeline
import Foundation
import Initramfs
import KernelConfig
import QEMU
import SandboxProtocol
import SystemPackage

/// Checks a ``SandboxSpec`` against the host and produces a bootable ``PreparedSandbox``.
public struct SandboxPreparer: Sendable {
    /// The modules a modular kernel needs for ksand's devices and mounts, and for the init to see the ACPI power
    /// button (built-in ones are skipped).
    public static let guestModules = [
        "virtio_pci", "virtio_mmio", "virtio_console", "9pnet_virtio", "9p", "overlay", "button", "evdev",
    ]

    public var cache: CacheDirectory
    public var environment: [String: String]

    public init(cache: CacheDirectory = .standard(), environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.cache = cache
        self.environment = environment
    }

    public func prepare(_ spec: SandboxSpec) async throws(SandboxError) -> PreparedSandbox {
        try check(spec)
        guard let qemuPath = ExecutableLookup.find(spec.qemu) else { throw .qemuMissing(name: spec.qemu) }
        let kernel: KernelImage
        if let path = spec.kernel { kernel = try KernelImage.open(path) } else { kernel = try KernelImage.defaultKernel() }
        let initBinary = try ExecutableLookup.guestInit(environment: environment)
        if spec.network != nil, let config = kernel.config, !config.isEnabled("CONFIG_VIRTIO_NET") {
            throw .invalidOption(
                "--publish and --net need a kernel with CONFIG_VIRTIO_NET; \(kernel.path) does not have it set. Add "
                    + "CONFIG_VIRTIO_NET=y (with CONFIG_NETDEVICES=y) to its config, or run without a network")
        }
        let initramfs = try buildInitramfs(kernel: kernel, initBinary: initBinary, network: spec.network != nil)
        let bootImage = spec.directBoot ? (try DirectBootImage.prepare(kernel, cache: cache) ?? kernel.path) : kernel.path
        let verdict = await AcceleratorProbe(qemuPath: qemuPath, cache: cache)
            .resolve(spec.accelerator, bootImage: bootImage, kernelIdentity: kernel.fileIdentity)
        let warning = verdict.reason.map {
            "KVM is not usable (\($0)); using TCG software emulation, roughly 10x slower. Pass --accel tcg to skip this check."
        }
        let tsc = verdict.accelerator == .tcg ? HostTSC.current?.kilohertz : nil
        let machine = try SandboxPreparer.machine(for: spec.machine, kernel: kernel, accelerator: verdict.accelerator, hostTSCKilohertz: tsc)
        return PreparedSandbox(
            spec: spec, kernel: kernel, bootImage: bootImage, initramfs: initramfs, qemuPath: qemuPath,
            accelerator: verdict.accelerator, machine: machine, acceleratorWarning: warning, runSpec: runSpec(for: spec),
            hostTSCKilohertz: tsc)
    }

    /// `prepared`'s boot — kernel, initramfs, accelerator, machine — running `spec`'s command instead, so that many
    /// runs on one kernel (a test suite) prepare once. `spec` may differ from the prepared one only in what the guest
    /// init is told (command, environment, identity, directory, stdin, mounts) and in timeout and kernel arguments.
    public func reuse(_ prepared: PreparedSandbox, for spec: SandboxSpec) throws(SandboxError) -> PreparedSandbox {
        try check(spec)
        var sandbox = prepared
        sandbox.spec = spec
        sandbox.runSpec = runSpec(for: spec)
        return sandbox
    }

    /// The checks of a spec that need no kernel: options in range, sandbox paths absolute, --rw directories present.
    func check(_ spec: SandboxSpec) throws(SandboxError) {
        guard !spec.command.isEmpty else { throw .invalidOption("no command given: ksand run [options] -- COMMAND [ARGS...]") }
        guard spec.memoryMiB >= 64 else { throw .invalidOption("--memory \(spec.memoryMiB): at least 64 MiB is needed") }
        guard spec.cpus >= 1 else { throw .invalidOption("--cpus \(spec.cpus): at least 1") }
        // Seconds become whole milliseconds and sleeps: a value must be finite, and a week is more than any run needs.
        let seconds: [(String, Double?)] = [
            ("--timeout", spec.timeout), ("--stall", spec.stallWindowSeconds), ("--max-wait", spec.maxStopWaitSeconds),
        ]
        for (option, value) in seconds {
            if let value, !DurationLimit.accepts(value) {
                throw .invalidOption("\(option) \(value): must be a positive number of seconds, at most \(Int(DurationLimit.longestSeconds)) (a week)")
            }
        }
        if !(spec.terminateGraceSeconds == 0 || DurationLimit.accepts(spec.terminateGraceSeconds)) {
            throw .invalidOption("--grace \(spec.terminateGraceSeconds): must be 0 to \(Int(DurationLimit.longestSeconds)) seconds")
        }
        if let network = spec.network {
            try network.check()
            for publish in network.publish {
                if let problem = publish.hostSideProblem() { throw .invalidOption("--publish \(publish): \(problem)") }
            }
        }
        for path in spec.readWrite + spec.overlays + spec.tmpfs {
            guard path.hasPrefix("/") else { throw .invalidOption("\(path): sandbox paths must be absolute") }
        }
        for path in spec.readWrite {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw .directoryMissing(option: "--rw", path: path)
            }
        }
    }

    /// Resolves the machine type. microvm needs virtio-mmio in the kernel (it has no PCI) and, under TCG, the
    /// host's TSC frequency (it has no timer to calibrate against); it skips SeaBIOS and PCI enumeration.
    public static func machine(
        for choice: SandboxSpec.MachineChoice, kernel: KernelImage, accelerator: QEMUCommandLine.Accelerator, hostTSCKilohertz: Int?
    ) throws(SandboxError) -> QEMUCommandLine.Machine {
        let hasMMIO = kernel.config?.isEnabled("CONFIG_VIRTIO_MMIO") ?? false
        let hasClock = accelerator == .kvm || hostTSCKilohertz != nil
        switch choice {
        case .q35: return .q35
        case .auto: return hasMMIO && hasClock ? .microvm : .q35
        case .microvm:
            guard hasMMIO else {
                throw .invalidOption("--machine microvm needs a kernel with CONFIG_VIRTIO_MMIO (microvm has no PCI); \(kernel.path) does not show it set. Use --machine q35.")
            }
            guard hasClock else {
                throw .invalidOption("--machine microvm under TCG needs the host's TSC rate, and it is not known: /proc/cpuinfo does not list constant_tsc, or no source gave a stable rate (see the README's Machine section). Use --machine q35.")
            }
            return .microvm
        }
    }

    /// The guest init's instructions: the command, a clean environment, the caller's identity and directory.
    public func runSpec(for spec: SandboxSpec) -> RunSpec {
        var env = SandboxSpec.cleanEnvironment(from: environment)
        for (key, value) in spec.environment { env[key] = value }
        let shares = spec.readWrite.enumerated().map { index, path in
            RunSpec.Share(tag: "ksand-rw\(index)", path: path, writable: true)
        }
        return RunSpec(
            argv: spec.command, environment: env.keys.sorted().map { "\($0)=\(env[$0]!)" },
            workingDirectory: spec.workingDirectory ?? FileManager.default.currentDirectoryPath,
            uid: spec.uid ?? getuid(), gid: spec.gid ?? getgid(), supplementaryGroups: [],
            overlays: spec.overlays, tmpfs: spec.tmpfs, shares: shares, forwardsStdin: spec.forwardStdin,
            terminateGraceMilliseconds: UInt32(clamping: Int((spec.terminateGraceSeconds * 1000).rounded())),
            networkAddress: spec.network.map { _ in "\(SandboxNetwork.Addressing.guest)/\(SandboxNetwork.Addressing.prefixLength)" },
            // Published ports need no route: replies go back on the interface's own network, to QEMU's host address.
            networkGateway: spec.network?.outbound == true ? SandboxNetwork.Addressing.host : nil,
            nameservers: spec.network?.outbound == true ? [SandboxNetwork.Addressing.nameserver] : [])
    }

    /// Packs (or finds in the cache) the initramfs with the init and, for a modular kernel, its modules.
    public func buildInitramfs(kernel: KernelImage, initBinary: String, network: Bool = false) throws(SandboxError) -> String {
        let request = try initramfsRequest(kernel: kernel, initBinary: initBinary, compression: .none, network: network)
        do {
            return try InitramfsBuilder.build(request, cacheDirectory: FilePath(try cache.subdirectory(""))).path.string
        } catch {
            throw .initramfs("\(error)")
        }
    }

    /// Packs the initramfs to `output` (for `ksand initramfs -o`). Returns the path written.
    public func writeInitramfs(kernel: KernelImage, initBinary: String, compression: String, to output: String) throws(SandboxError) -> String {
        guard let compression = InitramfsCompression(rawValue: compression) else {
            throw .invalidOption("--compression \(compression): expected one of \(InitramfsCompression.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let request = try initramfsRequest(kernel: kernel, initBinary: initBinary, compression: compression)
        do {
            return try InitramfsBuilder.write(request, to: FilePath(output)).path.string
        } catch {
            throw .initramfs("\(error)")
        }
    }

    /// What goes into the initramfs for this kernel: the init, and the modules it cannot run without.
    func initramfsRequest(
        kernel: KernelImage, initBinary: String, compression: InitramfsCompression, network: Bool = false
    ) throws(SandboxError) -> InitramfsRequest {
        var modules: ModuleSelection?
        let modular = kernel.config.map { $0.isBuiltIn("CONFIG_MODULES") } ?? (kernel.modulesDirectory != nil)
        let allBuiltIn = kernel.config.map { config in SandboxPreparer.requiredSymbols.allSatisfy { config.isBuiltIn($0) } } ?? false
        if modular && !allBuiltIn {
            guard let directory = kernel.modulesDirectory else {
                throw .modulesMissing(release: kernel.release, searched: "/lib/modules/\(kernel.release)")
            }
            var decompresses: Set<ModuleCompression> = []
            if let config = kernel.config, config.isBuiltIn("CONFIG_MODULE_DECOMPRESS") {
                // The in-kernel decompressor handles the algorithm the modules were built with.
                if config.isBuiltIn("CONFIG_MODULE_COMPRESS_GZIP") { decompresses.insert(.gzip) }
                if config.isBuiltIn("CONFIG_MODULE_COMPRESS_XZ") { decompresses.insert(.xz) }
                if config.isBuiltIn("CONFIG_MODULE_COMPRESS_ZSTD") { decompresses.insert(.zstd) }
            }
            modules = ModuleSelection(
                modulesDirectory: FilePath(directory), kernelRelease: kernel.release,
                wanted: SandboxPreparer.guestModules + (network ? SandboxPreparer.networkModules : []),
                kernelDecompresses: decompresses)
        }
        return InitramfsRequest(initBinary: FilePath(initBinary), modules: modules, extraFiles: [], compression: compression)
    }

    /// The modules a modular kernel needs for the guest's network interface (`--publish`, `--net`).
    public static let networkModules = ["virtio_net"]

    /// Symbols whose being built in means the initramfs needs no modules.
    static let requiredSymbols = [
        "CONFIG_VIRTIO_PCI", "CONFIG_VIRTIO_CONSOLE", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS", "CONFIG_OVERLAY_FS",
    ]
}
