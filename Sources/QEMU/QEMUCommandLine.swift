import KsandFoundation

/// A QEMU invocation as typed data. ``arguments`` renders it to argv; it is never a shell string.
///
/// Values inside QEMU's `key=value,...` options (`-fsdev`, `-device`, `-chardev`) go through
/// ``optionValue(_:)``, so a path with a comma stays one value. Options that take the whole argv element as their
/// value (`-kernel`, `-initrd`, `-append`) are passed as they are: QEMU does not split them (it splits `-initrd` at
/// commas only for a multiboot kernel, which Linux is not), and a doubled comma there would reach the file name.
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

    /// Where guest RAM lives.
    public enum MemoryBacking: Equatable, Sendable {
        /// Anonymous memory, QEMU's default.
        case anonymous
        /// A file mapped as guest RAM (`memory-backend-file`): `shared` maps it MAP_SHARED, so the guest's writes
        /// land in the file (a snapshot's RAM being made); otherwise MAP_PRIVATE, so the guest starts from the
        /// file's pages and its writes stay its own (copy-on-write; concurrent guests share the untouched pages).
        case file(path: String, shared: Bool)
    }

    /// How QEMU takes an incoming migration.
    public enum Incoming: Equatable, Sendable {
        /// `-incoming defer`: QEMU waits for `migrate-incoming` over QMP (after `migrate-set-capabilities`, which
        /// has to come first: QEMU 7.2 takes `x-ignore-shared` only that way).
        case deferred
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
    public var memory: MemoryBacking = .anonymous
    /// Start from a saved state instead of booting.
    public var incoming: Incoming?
    /// A virtio-net interface on QEMU's user-mode network; nil: no network device.
    public var userNetwork: UserNetwork?

    /// QEMU's user-mode network (slirp): NAT out when not `restricted`, and host ports forwarded in.
    public struct UserNetwork: Equatable, Sendable {
        /// `restrict=on`: the guest cannot reach the host or the outside; forwarded ports still come in.
        public var restricted: Bool
        /// `hostfwd=` rules: `tcp:127.0.0.1:18080-:8000`.
        public var hostForwards: [String]
        /// The network, QEMU's own address on it and its DNS forwarder (`10.0.2.0/24`, `10.0.2.2`, `10.0.2.3`).
        public var network: String
        public var host: String
        public var nameserver: String

        public init(restricted: Bool, hostForwards: [String], network: String, host: String, nameserver: String) {
            self.restricted = restricted
            self.hostForwards = hostForwards
            self.network = network
            self.host = host
            self.nameserver = nameserver
        }
    }

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
        case .q35: argv += ["-machine", "q35" + memoryBackendOption]
        case .microvm: argv += ["-machine", "microvm,pit=on,pic=on,rtc=on" + memoryBackendOption]
        }
        let value = QEMUCommandLine.optionValue
        if case .file(let path, let shared) = memory {
            argv += [
                "-object",
                "memory-backend-file,id=\(QEMUCommandLine.memoryBackendID),size=\(memoryMiB)M,mem-path=\(value(path)),share=\(shared ? "on" : "off")",
            ]
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
            var fsdev = "local,id=\(value(share.id)),path=\(value(share.hostPath)),security_model=none,multidevs=remap"
            if share.readOnly { fsdev += ",readonly=on" }
            argv += ["-fsdev", fsdev, "-device", "virtio-9p-\(bus),fsdev=\(value(share.id)),mount_tag=\(value(share.tag))"]
        }
        if let channelSocket {
            argv += [
                "-device", "virtio-serial-\(bus),max_ports=2",
                "-chardev", "socket,id=channel,path=\(value(channelSocket))",
                "-device", "virtserialport,chardev=channel,name=\(value(channelPortName))",
            ]
        }
        if let userNetwork {
            var netdev = "user,id=net,restrict=\(userNetwork.restricted ? "on" : "off"),ipv6=off,net=\(value(userNetwork.network))"
                + ",host=\(value(userNetwork.host)),dns=\(value(userNetwork.nameserver))"
            for rule in userNetwork.hostForwards { netdev += ",hostfwd=\(value(rule))" }
            argv += ["-netdev", netdev, "-device", "virtio-net-\(bus),netdev=net"]
        }
        if let qmpSocket {
            // Not `-qmp unix:PATH,…`: there the path is an unnamed first value, which QEMU reads as a key when it
            // holds a `=`.
            argv += ["-chardev", "socket,id=qmp,path=\(value(qmpSocket)),server=on,wait=off", "-mon", "chardev=qmp,mode=control"]
        }
        if incoming == .deferred { argv += ["-incoming", "defer"] }
        return argv
    }

    /// The memory backend's object id.
    static let memoryBackendID = "ksand-ram"

    private var memoryBackendOption: String {
        memory == .anonymous ? "" : ",memory-backend=\(QEMUCommandLine.memoryBackendID)"
    }

    /// The migration URI that reads a saved state from `path`.
    public static func incomingURI(file path: String) -> String { "exec:cat " + ShellWord.quoted(path) }

    /// The QMP arguments of `migrate-set-capabilities` that leave shared RAM out of migration streams
    /// (`x-ignore-shared`): a snapshot's RAM stays in its memory file, and its state file holds only the devices'
    /// state and the small RAM blocks (ROMs, firmware tables).
    public static var ignoreSharedMemoryCapability: [String: JSONValue] {
        ["capabilities": .array([.object(["capability": .string("x-ignore-shared"), "state": .bool(true)])])]
    }


    /// `text` as one value of a QEMU `key=value,...` option: QEMU's option parser ends a value at a comma and reads
    /// `,,` as a comma that belongs to it. Nothing else needs escaping there (`=`, spaces and non-ASCII bytes are
    /// taken as they are); what the argv element holds reaches QEMU without a shell.
    public static func optionValue(_ text: String) -> String {
        text.replacingOccurrences(of: ",", with: ",,")
    }
}
