/// A QEMU invocation as typed data. ``arguments`` renders it to argv; it is never a shell string.
public struct QEMUCommandLine: Equatable, Sendable {
    public enum Machine: String, Sendable, Codable, CaseIterable {
        /// PC with PCI and ACPI, firmware SeaBIOS; works with every x86 kernel.
        case q35
        /// Minimal machine with virtio-mmio devices and no PCI; needs CONFIG_VIRTIO_MMIO.
        case microvm
    }

    public enum Accelerator: String, Sendable, Codable, CaseIterable {
        case kvm, tcg
    }

    /// A host directory exported over virtio-9p.
    public struct Share: Equatable, Sendable {
        public var id: String
        public var hostPath: String
        public var tag: String
        public var readOnly: Bool

        public init(id: String, hostPath: String, tag: String, readOnly: Bool) {
            self.id = id
            self.hostPath = hostPath
            self.tag = tag
            self.readOnly = readOnly
        }
    }

    public var executable: String
    public var machine: Machine
    public var accelerator: Accelerator
    public var cpus: Int
    public var memoryMiB: Int
    /// The image QEMU loads: a bzImage, or an uncompressed ELF vmlinux with a PVH entry point.
    public var kernel: String
    public var initrd: String?
    public var kernelArguments: [String]
    public var shares: [Share]
    /// The unix socket (listening on the host side) that backs the command channel's virtio-serial port.
    public var channelSocket: String?
    /// The channel's port name, as the guest sees it.
    public var channelPortName: String
    /// A QMP control socket QEMU listens on, for power-button requests.
    public var qmpSocket: String?

    public init(
        executable: String, machine: Machine, accelerator: Accelerator, cpus: Int, memoryMiB: Int, kernel: String,
        initrd: String?, kernelArguments: [String], shares: [Share], channelSocket: String?, channelPortName: String,
        qmpSocket: String? = nil
    ) {
        self.executable = executable
        self.machine = machine
        self.accelerator = accelerator
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.kernel = kernel
        self.initrd = initrd
        self.kernelArguments = kernelArguments
        self.shares = shares
        self.channelSocket = channelSocket
        self.channelPortName = channelPortName
        self.qmpSocket = qmpSocket
    }

    /// The full argv, `executable` first.
    public var arguments: [String] {
        var argv = [executable, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"]
        switch machine {
        case .q35: argv += ["-machine", "q35"]
        case .microvm: argv += ["-machine", "microvm,pit=on,pic=on,rtc=on"]
        }
        switch accelerator {
        case .kvm: argv += ["-accel", "kvm", "-cpu", "host"]
        case .tcg: argv += ["-accel", "tcg", "-cpu", "max"]
        }
        argv += ["-smp", String(cpus), "-m", "\(memoryMiB)M"]
        // The console goes to QEMU's stdout; ksand reads it there and timestamps each line as it arrives.
        argv += ["-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console"]
        argv += ["-kernel", kernel]
        if let initrd { argv += ["-initrd", initrd] }
        argv += ["-append", kernelArguments.joined(separator: " ")]
        let bus = machine == .q35 ? "pci" : "device"
        for share in shares {
            var fsdev = "local,id=\(share.id),path=\(share.hostPath),security_model=none,multidevs=remap"
            if share.readOnly { fsdev += ",readonly=on" }
            argv += ["-fsdev", fsdev, "-device", "virtio-9p-\(bus),fsdev=\(share.id),mount_tag=\(share.tag)"]
        }
        if let channelSocket {
            argv += [
                "-device", "virtio-serial-\(bus),max_ports=2",
                "-chardev", "socket,id=channel,path=\(channelSocket)",
                "-device", "virtserialport,chardev=channel,name=\(channelPortName)",
            ]
        }
        if let qmpSocket { argv += ["-qmp", "unix:\(qmpSocket),server=on,wait=off"] }
        return argv
    }
}
