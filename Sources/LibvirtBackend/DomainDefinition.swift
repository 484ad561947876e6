import Foundation

/// The libvirt domain of one sandbox run, as typed data: a transient domain that boots the sandbox kernel straight
/// from its files, shares host directories over virtio-9p, talks to the guest init over one virtio-serial port and
/// has a serial console, and nothing else (no disk, network, graphics, USB or balloon).
///
/// ``xmlString()`` renders it as libvirt domain XML through FoundationXML, which escapes every attribute and text;
/// nothing is pasted into a string. It mirrors what the direct QEMU backend's command line asks QEMU for:
/// `-cpu max` under TCG is `<cpu mode='maximum'/>`, `-cpu host` under KVM is `<cpu mode='host-passthrough'/>`,
/// `-fsdev local,security_model=none,multidevs=remap` is `<filesystem accessmode='squash' multidevs='remap'>`
/// with `<driver type='path'/>`, `-no-reboot` is `<on_reboot>destroy</on_reboot>`, and the channel's
/// `-chardev socket` without `server` is `<source mode='connect'/>`. The direct backend's QMP socket has no
/// counterpart: libvirt owns QEMU's monitor, and presses the ACPI power button for `virDomainShutdownFlags`.
/// What libvirt adds on its own: on q35 a `pcie-root-port` for each PCI device (and one spare), `-no-shutdown`
/// (it ends the domain itself when the guest powers off or resets), and its seccomp `-sandbox`.
public struct DomainDefinition: Equatable, Sendable {
    /// The hypervisor libvirt drives the guest with: the domain's `type` attribute.
    public enum DomainType: String, Sendable, CaseIterable {
        /// Hardware virtualization through /dev/kvm.
        case kvm
        /// QEMU's TCG emulator, where KVM is not usable.
        case qemu
    }

    /// The QEMU machine type.
    public enum Machine: String, Sendable, CaseIterable {
        /// PC with PCI Express and ACPI, firmware SeaBIOS; works with every x86 kernel.
        case q35
        /// Minimal machine with virtio-mmio devices and no PCI; needs CONFIG_VIRTIO_MMIO.
        ///
        /// libvirt 9.0 puts virtio devices on PCI unless told otherwise ("No PCI buses available"), so each gets
        /// `<address type='virtio-mmio'/>`. libvirt has no setting for microvm's `pit`, `pic` and `rtc`: QEMU's
        /// `auto` turns all three on under TCG, as the direct backend's `pit=on,pic=on,rtc=on` does; under KVM the
        /// RTC stays off and kvmclock keeps the wall time. Under TCG the kernel still needs `tsc_early_khz=`.
        case microvm
    }

    /// How the guest's CPU is modelled: the `<cpu mode>` libvirt maps to QEMU's `-cpu`.
    public enum CPUMode: String, Sendable, CaseIterable {
        /// The host's own CPU (`-cpu host`); KVM only.
        case hostPassthrough = "host-passthrough"
        /// Every feature the emulator can offer (`-cpu max`).
        case maximum
    }

    /// A host directory exported to the guest over virtio-9p.
    public struct Filesystem: Equatable, Sendable {
        /// The absolute host path.
        public var hostPath: String
        /// The 9p mount tag the guest mounts it by.
        public var tag: String
        /// Whether the guest may only read it.
        public var readOnly: Bool

        public init(hostPath: String, tag: String, readOnly: Bool) {
            self.hostPath = hostPath
            self.tag = tag
            self.readOnly = readOnly
        }

        /// The host's root directory, read-only, under `tag` (the guest init's root tag, `RunSpec.rootTag`).
        public static func hostRoot(tag: String) -> Filesystem {
            Filesystem(hostPath: "/", tag: tag, readOnly: true)
        }
    }

    /// The command channel: a virtio-serial port backed by a unix socket that ksand listens on and QEMU connects to.
    public struct Channel: Equatable, Sendable {
        /// The listening socket's absolute path.
        public var socketPath: String
        /// The port's name, as the guest sees it (`Frame.portName`).
        public var portName: String

        public init(socketPath: String, portName: String) {
            self.socketPath = socketPath
            self.portName = portName
        }
    }

    /// Whose domain this is, kept in the domain's `<metadata>` under ``metadataNamespace`` so that
    /// `virsh dumpxml` shows it.
    public struct Owner: Equatable, Sendable {
        /// The sandbox's name.
        public var sandbox: String
        /// The run's own directory on the host (its sockets and logs).
        public var runDirectory: String

        public init(sandbox: String, runDirectory: String) {
            self.sandbox = sandbox
            self.runDirectory = runDirectory
        }
    }

    /// The user and group QEMU runs as, without libvirt relabelling any file: a DAC `<seclabel>` of type `static`.
    /// With the caller's uid, QEMU reads and writes the shares with the caller's rights, as the direct backend's
    /// QEMU does. Needs libvirt's DAC security driver (not there with `security_driver = "none"`). Under
    /// qemu:///system the gid must be qemu.conf's group (`libvirt-qemu` on Debian): libvirt keeps each domain's
    /// private files (its master key) in /var/lib/libvirt/qemu, which only that group may enter, and QEMU started
    /// with another group fails to read them.
    public struct ProcessCredentials: Equatable, Sendable {
        public var uid: UInt32
        public var gid: UInt32

        public init(uid: UInt32, gid: UInt32) {
            self.uid = uid
            self.gid = gid
        }
    }

    /// The domain's name, unique among the connection's domains; it must pass ``isValidName(_:)``.
    public var name: String
    /// The domain's UUID; libvirt makes one up when it is nil.
    public var uuid: UUID?
    public var type: DomainType
    /// The absolute path of the QEMU binary.
    public var emulator: String
    public var machine: Machine
    public var vcpus: Int
    public var memoryMiB: Int
    /// The image QEMU loads: a bzImage, or an uncompressed ELF vmlinux with a PVH entry point.
    public var kernel: String
    public var initrd: String?
    /// The kernel command line's arguments, joined by single spaces.
    public var kernelArguments: [String]
    /// The 9p shares, the host root first; each tag once.
    public var filesystems: [Filesystem]
    public var channel: Channel?
    public var owner: Owner
    /// Who QEMU runs as; nil leaves it to libvirt's configuration (`user`, `group` and `dynamic_ownership` in qemu.conf).
    public var processCredentials: ProcessCredentials?

    public init(
        name: String, uuid: UUID? = nil, type: DomainType, emulator: String, machine: Machine = .q35, vcpus: Int,
        memoryMiB: Int, kernel: String, initrd: String?, kernelArguments: [String], filesystems: [Filesystem],
        channel: Channel?, owner: Owner, processCredentials: ProcessCredentials? = nil
    ) {
        self.name = name
        self.uuid = uuid
        self.type = type
        self.emulator = emulator
        self.machine = machine
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.kernel = kernel
        self.initrd = initrd
        self.kernelArguments = kernelArguments
        self.filesystems = filesystems
        self.channel = channel
        self.owner = owner
        self.processCredentials = processCredentials
    }

    /// The CPU model that follows from ``type``, as the direct backend's `-cpu` does.
    public var cpuMode: CPUMode {
        switch type {
        case .kvm: .hostPassthrough
        case .qemu: .maximum
        }
    }

    /// The kernel command line as one string.
    public var kernelCommandLine: String { kernelArguments.joined(separator: " ") }

    /// The XML namespace of ksand's `<metadata>` element.
    public static let metadataNamespace = "https://ksand.org/xmlns/sandbox/1"
    /// The prefix the namespace is rendered with.
    public static let metadataPrefix = "ksand"

    /// The longest domain name: a sandbox name (40 characters) with room for a prefix. libvirt keeps files named by
    /// the domain (its log, pid file and channel directories), so the name stays well within a file name.
    public static let maxNameLength = 64

    /// A domain name is a file name: ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit,
    /// ``maxNameLength`` characters at most.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= maxNameLength else { return false }
        func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
        }
        return isAlphanumeric(first) && name.unicodeScalars.allSatisfy { isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }
    }

    /// The naming rule, for error messages.
    public static let nameRule = "a domain name is a file name, never a path: ASCII letters, digits, '.', '_' and '-', "
        + "starting with a letter or digit, \(maxNameLength) characters at most"

    /// Checks every value against what libvirt's domain schema and XML itself can carry, and against what a sandbox
    /// needs (a positive size, an absolute path, one filesystem per tag). ``xmlDocument()`` calls it first.
    public func validate() throws(DomainDefinitionError) {
        guard DomainDefinition.isValidName(name) else { throw .invalidName(name) }
        guard vcpus >= 1 else { throw .invalidSize(field: "vcpus", value: vcpus) }
        guard memoryMiB >= 1 else { throw .invalidSize(field: "memoryMiB", value: memoryMiB) }
        try DomainDefinition.checkPath(emulator, field: "emulator")
        try DomainDefinition.checkPath(kernel, field: "kernel")
        if let initrd { try DomainDefinition.checkPath(initrd, field: "initrd") }
        for argument in kernelArguments {
            try DomainDefinition.checkText(argument, field: "kernel argument", allowsEmpty: true)
        }
        var tags: Set<String> = []
        for filesystem in filesystems {
            try DomainDefinition.checkPath(filesystem.hostPath, field: "filesystem source", isDirectory: true)
            try DomainDefinition.checkText(filesystem.tag, field: "filesystem tag")
            guard tags.insert(filesystem.tag).inserted else { throw .duplicateTag(filesystem.tag) }
        }
        if let channel {
            try DomainDefinition.checkPath(channel.socketPath, field: "channel socket")
            try DomainDefinition.checkText(channel.portName, field: "channel port name")
        }
        try DomainDefinition.checkText(owner.sandbox, field: "sandbox name")
        try DomainDefinition.checkPath(owner.runDirectory, field: "run directory", isDirectory: true)
    }

    /// libvirt's schema takes a path as `/` and one line (XML Schema's `.` stops at a line break); XML 1.0 cannot
    /// carry the other control characters at all. So: absolute, more than `/` alone where a file is meant, and no
    /// control character.
    private static func checkPath(_ path: String, field: String, isDirectory: Bool = false) throws(DomainDefinitionError) {
        guard path.hasPrefix("/") else { throw .invalidPath(field: field, path: path, rule: "it must be absolute") }
        guard isDirectory || path.utf8.count > 1 else {
            throw .invalidPath(field: field, path: path, rule: "it must name a file, not the root directory")
        }
        guard !path.unicodeScalars.contains(where: isControl) else {
            throw .invalidPath(field: field, path: path, rule: Self.controlRule)
        }
    }

    private static func checkText(_ text: String, field: String, allowsEmpty: Bool = false) throws(DomainDefinitionError) {
        guard allowsEmpty || !text.isEmpty else { throw .invalidText(field: field, text: text, rule: "it must not be empty") }
        guard !text.unicodeScalars.contains(where: isControl) else {
            throw .invalidText(field: field, text: text, rule: Self.controlRule)
        }
    }

    private static let controlRule = "it must not hold a control character (a line break, a tab, NUL...): "
        + "libvirt's schema reads it as one line and XML cannot carry the others"

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F
    }
}
