import Foundation
import KernelConfig
import KsandFoundation
import QEMU
@testable import Sandbox
import SandboxProtocol
import Testing

@Suite struct QEMUCommandLineTests {
    /// Pins the exact argv for the default q35/TCG sandbox; a change here is a change users see in `ps`.
    @Test func q35CommandLineSnapshot() {
        let line = QEMUCommandLine(
            executable: "/usr/bin/qemu-system-x86_64", machine: .q35, accelerator: .tcg, cpus: 1, memoryMiB: 512,
            kernel: "/cache/vmlinux/k.elf", initrd: "/cache/initramfs/i.cpio",
            kernelArguments: ["console=ttyS0", "panic=-1"],
            shares: [
                .init(id: "root", hostPath: "/", tag: "ksand-root", readOnly: true),
                .init(id: "ksand-rw0", hostPath: "/srv/out dir", tag: "ksand-rw0", readOnly: false),
            ],
            channelSocket: "/run/ksand/run-1/channel.sock", channelPortName: "org.ksand.ctl")
        #expect(line.arguments == [
            "/usr/bin/qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-machine", "q35", "-accel", "tcg", "-cpu", "max", "-smp", "1", "-m", "512M",
            "-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
            "-kernel", "/cache/vmlinux/k.elf", "-initrd", "/cache/initramfs/i.cpio", "-append", "console=ttyS0 panic=-1",
            "-fsdev", "local,id=root,path=/,security_model=none,multidevs=remap,readonly=on",
            "-device", "virtio-9p-pci,fsdev=root,mount_tag=ksand-root",
            "-fsdev", "local,id=ksand-rw0,path=/srv/out dir,security_model=none,multidevs=remap",
            "-device", "virtio-9p-pci,fsdev=ksand-rw0,mount_tag=ksand-rw0",
            "-device", "virtio-serial-pci,max_ports=2",
            "-chardev", "socket,id=channel,path=/run/ksand/run-1/channel.sock",
            "-device", "virtserialport,chardev=channel,name=org.ksand.ctl",
        ])
    }

    @Test func microvmUsesMMIODevicesAndKVMUsesHostCPU() {
        let line = QEMUCommandLine(
            executable: "qemu", machine: .microvm, accelerator: .kvm, cpus: 2, memoryMiB: 256, kernel: "k", initrd: nil,
            kernelArguments: [], shares: [.init(id: "root", hostPath: "/", tag: "ksand-root", readOnly: true)],
            channelSocket: "/s", channelPortName: "p")
        let argv = line.arguments
        #expect(argv.contains("virtio-9p-device,fsdev=root,mount_tag=ksand-root"))
        #expect(argv.contains("virtio-serial-device,max_ports=2"))
        #expect(!argv.contains { $0.contains("-pci") })
        #expect(argv.joined(separator: " ").contains("-accel kvm -cpu host"))
        #expect(!argv.contains("-initrd"))
    }

    /// Pins the argv for paths with commas, `=`, spaces and non-ASCII, from `-kernel` on (what comes before is the
    /// q35 snapshot's): a comma is doubled inside `key=value,...` options, and only there.
    @Test func oddPathsCommandLineSnapshot() {
        let line = QEMUCommandLine(
            executable: "/opt/q,emu/qemu-system-x86_64", machine: .microvm, accelerator: .tcg, cpus: 1, memoryMiB: 256,
            kernel: "/cache,1/vmlinux/k.elf", initrd: "/cache,1/initramfs/i,x.cpio", kernelArguments: ["console=ttyS0"],
            shares: [
                .init(id: "ksand-rw0", hostPath: "/srv/a,b dir", tag: "ksand-rw0", readOnly: false),
                .init(id: "ksand-rw1", hostPath: "/srv/k=v,,ü", tag: "ksand-rw1", readOnly: true),
            ],
            channelSocket: "/run/a,b=c/channel.sock", channelPortName: "org.ksand.ctl", qmpSocket: "/run/a,b=c/qmp.sock")
        #expect(line.arguments.first == "/opt/q,emu/qemu-system-x86_64")
        #expect(Array(line.arguments.drop { $0 != "-kernel" }) == [
            "-kernel", "/cache,1/vmlinux/k.elf", "-initrd", "/cache,1/initramfs/i,x.cpio", "-append", "console=ttyS0",
            "-fsdev", "local,id=ksand-rw0,path=/srv/a,,b dir,security_model=none,multidevs=remap",
            "-device", "virtio-9p-device,fsdev=ksand-rw0,mount_tag=ksand-rw0",
            "-fsdev", "local,id=ksand-rw1,path=/srv/k=v,,,,ü,security_model=none,multidevs=remap,readonly=on",
            "-device", "virtio-9p-device,fsdev=ksand-rw1,mount_tag=ksand-rw1",
            "-device", "virtio-serial-device,max_ports=2",
            "-chardev", "socket,id=channel,path=/run/a,,b=c/channel.sock",
            "-device", "virtserialport,chardev=channel,name=org.ksand.ctl",
            "-chardev", "socket,id=qmp,path=/run/a,,b=c/qmp.sock,server=on,wait=off", "-mon", "chardev=qmp,mode=control",
        ])
    }

    /// Mount tags and device ids come from a share's position, never its path: whatever the path holds, each is a
    /// valid QEMU id, and each share has its own.
    @Test func oddPathsGetValidUniqueMountTags() {
        let paths = ["/srv/a,b dir", "/srv/k=v", "/srv/ü ñ", "/srv/a,b dir", "/srv/" + String(repeating: "x", count: 200)]
        let preparer = SandboxPreparer(cache: CacheDirectory(path: "/nonexistent"), environment: [:])
        let spec = SandboxSpec(command: ["true"], readWrite: paths)
        let prepared = PreparedSandbox(
            spec: spec, kernel: MachineChoiceTests.kernel(config: nil), bootImage: "/k", initramfs: "/i", qemuPath: "qemu",
            accelerator: .tcg, machine: .q35, runSpec: preparer.runSpec(for: spec))
        let shares = prepared.commandLine(runDirectory: "/run/r").shares
        #expect(shares.map(\.hostPath) == ["/"] + paths)
        #expect(Set(shares.map(\.tag)).count == shares.count)
        #expect(Set(shares.map(\.id)).count == shares.count)
        for share in shares {
            let valid = share.tag.first!.isLetter && share.tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            #expect(valid && share.tag.count <= 31, "\(share.tag)")
            #expect(share.id == share.tag || share.id == "root")
        }
    }

    @Test func preparedSandboxSharesRootReadOnlyAndRwDirectoriesWritable() {
        let spec = SandboxSpec(command: ["true"], readWrite: ["/srv/out"])
        let preparer = SandboxPreparer(cache: CacheDirectory(path: "/nonexistent"), environment: ["HOME": "/home/u", "USER": "u"])
        let runSpec = preparer.runSpec(for: spec)
        #expect(runSpec.shares == [.init(tag: "ksand-rw0", path: "/srv/out", writable: true)])
        #expect(runSpec.overlays == ["/tmp", "/home"])
        #expect(runSpec.environment.contains("HOME=/home/u"))
        #expect(runSpec.environment.contains { $0.hasPrefix("PATH=") })
        #expect(!runSpec.environment.contains { $0.hasPrefix("SSH_AUTH_SOCK=") })
    }

    @Test func cleanEnvironmentKeepsOnlyTheDocumentedVariables() {
        let env = SandboxSpec.cleanEnvironment(from: ["HOME": "/root", "SECRET": "x", "TERM": "xterm", "USER": "root"])
        #expect(Set(env.keys) == ["PATH", "HOME", "TERM", "LANG", "USER"])
        #expect(env["TERM"] == "xterm")
        #expect(env["LANG"] == "C.UTF-8")
    }
}

@Suite struct MachineChoiceTests {
    static func kernel(config: String?) -> KernelImage {
        var header = BzImageHeader(bytes: KernelImageTests.syntheticHeader(version: "6.1.0-test"))!
        header.versionString = "6.1.0-test"
        return KernelImage(path: "/boot/vmlinuz-6.1.0-test", header: header, modulesDirectory: nil,
                           config: config.map { try! KernelConfiguration(parsing: $0) }, fileIdentity: "x")
    }

    @Test func autoPicksMicrovmOnlyWithVirtioMMIOAndAClock() throws {
        let mmio = Self.kernel(config: "CONFIG_VIRTIO_MMIO=m\n")
        #expect(try SandboxPreparer.machine(for: .auto, kernel: mmio, accelerator: .tcg, hostTSCKilohertz: 1_996_249) == .microvm)
        #expect(try SandboxPreparer.machine(for: .auto, kernel: mmio, accelerator: .tcg, hostTSCKilohertz: nil) == .q35)
        #expect(try SandboxPreparer.machine(for: .auto, kernel: mmio, accelerator: .kvm, hostTSCKilohertz: nil) == .microvm)
        let noMMIO = Self.kernel(config: "# CONFIG_VIRTIO_MMIO is not set\n")
        #expect(try SandboxPreparer.machine(for: .auto, kernel: noMMIO, accelerator: .kvm, hostTSCKilohertz: 1) == .q35)
        #expect(try SandboxPreparer.machine(for: .auto, kernel: Self.kernel(config: nil), accelerator: .kvm, hostTSCKilohertz: 1) == .q35)
    }

    @Test func explicitMicrovmOnAKernelWithoutMMIOSaysWhatToDo() {
        #expect {
            try SandboxPreparer.machine(for: .microvm, kernel: Self.kernel(config: ""), accelerator: .kvm, hostTSCKilohertz: nil)
        } throws: { "\($0)".contains("CONFIG_VIRTIO_MMIO") && "\($0)".contains("--machine q35") }
    }
}

@Suite struct QEMUSnapshotCommandLineTests {
    func line(memory: QEMUCommandLine.MemoryBacking, incoming: QEMUCommandLine.Incoming? = nil, machine: QEMUCommandLine.Machine = .microvm) -> [String] {
        var line = QEMUCommandLine(
            executable: "qemu", machine: machine, accelerator: .tcg, cpus: 1, memoryMiB: 384, kernel: "k", initrd: nil,
            kernelArguments: [], shares: [], channelSocket: nil, channelPortName: "p")
        line.memory = memory
        line.incoming = incoming
        return line.arguments
    }

    /// A snapshot being made: its RAM is a shared file of exactly the guest's size, named by the machine.
    @Test func aSnapshotsRAMIsASharedFileTheMachineUses() {
        let argv = line(memory: .file(path: "/cache/snapshot/.making-1/memory", shared: true))
        #expect(argv.contains("microvm,pit=on,pic=on,rtc=on,memory-backend=ksand-ram"))
        #expect(argv.contains("memory-backend-file,id=ksand-ram,size=384M,mem-path=/cache/snapshot/.making-1/memory,share=on"))
        #expect(argv.joined(separator: " ").contains("-m 384M"))
        #expect(!argv.contains("-incoming"))
    }

    /// A restore maps it privately and waits for the state over QMP.
    @Test func aRestoreMapsTheRAMPrivatelyAndWaitsForItsState() {
        let argv = line(memory: .file(path: "/c,1/memory", shared: false), incoming: .deferred, machine: .q35)
        #expect(argv.contains("q35,memory-backend=ksand-ram"))
        #expect(argv.contains("memory-backend-file,id=ksand-ram,size=384M,mem-path=/c,,1/memory,share=off"))
        #expect(argv.suffix(2) == ["-incoming", "defer"])
    }

    @Test func anonymousMemoryNamesNoBackend() {
        let argv = line(memory: .anonymous)
        #expect(argv.contains("microvm,pit=on,pic=on,rtc=on"))
        #expect(!argv.contains { $0.contains("memory-backend") })
    }

    /// `exec:` runs through /bin/sh: every path is one word, whatever it holds.
    @Test func theStatesPathIsOneShellWord() throws {
        #expect(QEMUCommandLine.incomingURI(file: "/c/state") == "exec:cat '/c/state'")
        #expect(ShellWord.quoted("/a b/it's $HOME;`x`") == "'/a b/it'\\''s $HOME;`x`'")
        let odd = "/tmp/it's a $(dir);\"x\""
        let echoed = try ShellEcho.run(ShellWord.quoted(odd))
        #expect(echoed == odd)
    }
}

/// Runs `printf %s WORD` through /bin/sh, as QEMU runs an `exec:` migration command.
enum ShellEcho {
    static func run(_ word: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf %s " + word]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
