import Foundation
import FoundationXML
import Testing
@testable import LibvirtBackend

@Suite struct DomainDefinitionTests {
    /// A sandbox as `ksand run --rw '/srv/out dir' -- true` under TCG asks for one: the host root read-only, one
    /// writable share, the command channel, the direct backend's kernel arguments.
    static let typical = DomainDefinition(
        name: "ksand-sandbox-1", type: .qemu, emulator: "/usr/bin/qemu-system-x86_64", machine: .q35, vcpus: 1,
        memoryMiB: 512, kernel: "/cache/vmlinux/k.elf", initrd: "/cache/initramfs/i.cpio",
        kernelArguments: ["console=ttyS0", "panic=-1", "printk.time=1", "printk.devkmsg=on", "rdinit=/init", "i8042.noaux", "i8042.nokbd"],
        filesystems: [.hostRoot(tag: "ksand-root"), .init(hostPath: "/srv/out dir", tag: "ksand-rw0", readOnly: false)],
        channel: .init(socketPath: "/run/ksand/run-1/channel.sock", portName: "org.ksand.ctl"),
        owner: .init(sandbox: "sandbox-1", runDirectory: "/run/ksand/run-1"))

    /// Under KVM, with a UUID, QEMU run as the caller, and writable and read-only extra shares.
    static let kvmWithShares: DomainDefinition = {
        var definition = typical
        definition.type = .kvm
        definition.uuid = UUID(uuidString: "6F1C2D3E-4A5B-4C6D-8E9F-0A1B2C3D4E5F")
        definition.vcpus = 4
        definition.memoryMiB = 2048
        definition.filesystems += [
            .init(hostPath: "/home/dev/src", tag: "ksand-rw1", readOnly: false),
            .init(hostPath: "/opt/data", tag: "ksand-ro0", readOnly: true),
        ]
        definition.processCredentials = .init(uid: 1000, gid: 1000)
        return definition
    }()

    /// Pins the XML of the typical sandbox; a change here is a change in what libvirt is asked to run.
    @Test func typicalSandboxSnapshot() throws {
        let url = try #require(Bundle.module.url(forResource: "sandbox-domain", withExtension: "xml", subdirectory: "Fixtures"))
        let expected = try String(contentsOf: url, encoding: .utf8)
        let rendered = try Self.typical.xmlString()
        #expect(rendered == expected, "rendered:\n\(rendered)")
        #expect(try Self.typical.xmlString() == rendered)
    }

    @Test func typicalSandboxPassesLibvirtSchema() throws {
        let result = try SchemaCheck.run(try Self.typical.xmlString())
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func kvmSandboxWithSharesPassesLibvirtSchema() throws {
        let xml = try Self.kvmWithShares.xmlString()
        let result = try SchemaCheck.run(xml)
        #expect(result.status == 0, "\(result.output)\n\(xml)")
        #expect(xml.contains("<cpu mode=\"host-passthrough\"/>"))
        #expect(!xml.contains("<address"))
        #expect(xml.contains("<uuid>6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f</uuid>"))
        #expect(try DomainXMLReader.read(xml) == Self.kvmWithShares.withJoinedKernelArguments)
    }

    /// microvm has no PCI: every virtio device is placed on virtio-mmio, the one way libvirt 9.0 starts it.
    @Test func microvmPutsVirtioDevicesOnMMIO() throws {
        var definition = Self.typical
        definition.machine = .microvm
        let xml = try definition.xmlString()
        #expect(xml.contains("<type arch=\"x86_64\" machine=\"microvm\">hvm</type>"))
        let document = try XMLDocument(xmlString: xml, options: [])
        let virtioDevices = try document.nodes(forXPath: "/domain/devices/filesystem | /domain/devices/controller[@type='virtio-serial']")
        #expect(virtioDevices.count == 3)
        for device in virtioDevices {
            #expect(try device.nodes(forXPath: "address/@type").map(\.stringValue) == ["virtio-mmio"])
        }
        #expect(try document.nodes(forXPath: "//address").count == 3)
        #expect(try DomainXMLReader.read(xml) == definition.withJoinedKernelArguments)
        let result = try SchemaCheck.run(xml)
        #expect(result.status == 0, "\(result.output)\n\(xml)")
    }

    /// Markup characters in every path and in the kernel command line are escaped by the XML library: the XML parses
    /// back to the same values, and libvirt's schema still takes it.
    @Test func hostileValuesRoundTripAndValidate() throws {
        var definition = Self.typical
        definition.emulator = "/opt/q&emu/<bin>/qemu-system-x86_64"
        definition.kernel = "/cache/it's \"k\" & <v>.elf"
        definition.initrd = "/cache/]]>/i.cpio"
        definition.kernelArguments = ["console=ttyS0", "ksand.note=\"a & b\"", "x='<y>'", "z=&amp;", "ü"]
        definition.filesystems = [
            .hostRoot(tag: "ksand-root"),
            .init(hostPath: "/srv/a<b>&c'd\"e f/ü", tag: "ksand-rw0", readOnly: false),
            .init(hostPath: "/srv/&lt;not-an-entity;", tag: "ksand-rw1", readOnly: true),
        ]
        definition.channel = .init(socketPath: "/run/a'b\"c&d/channel.sock", portName: "org.ksand.ctl")
        definition.owner = .init(sandbox: "sandbox-<1>&'\"", runDirectory: "/run/a'b\"c&d")
        let xml = try definition.xmlString()
        #expect(try DomainXMLReader.read(xml) == definition.withJoinedKernelArguments, "\(xml)")
        let result = try SchemaCheck.run(xml)
        #expect(result.status == 0, "\(result.output)\n\(xml)")
    }

    @Test(arguments: ["a/b", "", String(repeating: "a", count: DomainDefinition.maxNameLength + 1), "-x", ".x", "a b", "é", "a\nb"])
    func unsafeNameIsRefused(name: String) throws {
        var definition = Self.typical
        definition.name = name
        let error = try #require(throws: DomainDefinitionError.self) { try definition.xmlString() }
        #expect(error == .invalidName(name))
        #expect(error.description.contains(String(reflecting: name)))
        #expect(error.description.contains(DomainDefinition.nameRule))
    }

    @Test func longestNameIsTaken() throws {
        var definition = Self.typical
        definition.name = String(repeating: "a", count: DomainDefinition.maxNameLength)
        #expect(try definition.xmlString().contains("<name>\(definition.name)</name>"))
    }

    /// A line break in a path is what libvirt's schema cannot take (its paths are `/` and one line), so the
    /// definition refuses it rather than hand libvirt a domain its own check fails.
    @Test func lineBreakInPathIsRefused() throws {
        var definition = Self.typical
        definition.filesystems.append(.init(hostPath: "/srv/a\nb", tag: "ksand-rw1", readOnly: false))
        let error = try #require(throws: DomainDefinitionError.self) { try definition.xmlString() }
        guard case .invalidPath(let field, let path, _) = error else {
            Issue.record("expected invalidPath, got \(error)")
            return
        }
        #expect(field == "filesystem source" && path == "/srv/a\nb")
        #expect(error.description.contains("\"/srv/a\\nb\""))
        #expect(error.description.contains("line break"))
    }

    @Test func invalidValuesAreRefused() throws {
        var relative = Self.typical
        relative.kernel = "cache/k.elf"
        #expect(throws: DomainDefinitionError.invalidPath(field: "kernel", path: "cache/k.elf", rule: "it must be absolute")) {
            try relative.xmlString()
        }
        var twice = Self.typical
        twice.filesystems.append(.init(hostPath: "/srv", tag: "ksand-rw0", readOnly: true))
        #expect(throws: DomainDefinitionError.duplicateTag("ksand-rw0")) { try twice.xmlString() }
        var noMemory = Self.typical
        noMemory.memoryMiB = 0
        #expect(throws: DomainDefinitionError.invalidSize(field: "memoryMiB", value: 0)) { try noMemory.xmlString() }
        var emptyTag = Self.typical
        emptyTag.filesystems[1].tag = ""
        #expect(throws: DomainDefinitionError.self) { try emptyTag.xmlString() }
    }

    @Test func withoutChannelThereIsNoVirtioSerial() throws {
        var definition = Self.typical
        definition.channel = nil
        definition.initrd = nil
        let xml = try definition.xmlString()
        #expect(!xml.contains("virtio-serial") && !xml.contains("<channel") && !xml.contains("<initrd"))
        #expect(try SchemaCheck.run(xml).status == 0)
    }
}

extension DomainDefinition {
    /// The definition with its kernel arguments as the one command-line string the XML holds.
    var withJoinedKernelArguments: DomainDefinition {
        var copy = self
        copy.kernelArguments = [kernelCommandLine]
        return copy
    }
}
