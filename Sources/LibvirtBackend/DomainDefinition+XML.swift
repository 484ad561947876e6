import Foundation
import FoundationXML

extension DomainDefinition {
    /// The domain as libvirt domain XML, after ``validate()``.
    ///
    /// Every value becomes an attribute or a text node of FoundationXML's tree, so libxml2 escapes it when the tree is
    /// written out. Elements come in the order `virsh dumpxml` shows them and each element's attributes in a fixed
    /// order, so the same definition always renders the same bytes.
    public func xmlDocument() throws(DomainDefinitionError) -> XMLDocument {
        try validate()
        let domain = node("domain", ["type": type.rawValue])
        domain.addChild(node("name", text: name))
        if let uuid { domain.addChild(node("uuid", text: uuid.uuidString.lowercased())) }
        domain.addChild(metadataElement)
        domain.addChild(node("memory", ["unit": "MiB"], text: String(memoryMiB)))
        domain.addChild(node("vcpu", text: String(vcpus)))
        domain.addChild(osElement)
        // ACPI: the guest init stops the sandbox on the power button, which libvirt presses through ACPI.
        domain.addChild(node("features", children: [node("acpi")]))
        domain.addChild(node("cpu", ["mode": cpuMode.rawValue]))
        // Every way the guest ends ends the domain, as `-no-reboot` does for the direct backend's QEMU.
        for event in ["on_poweroff", "on_reboot", "on_crash"] {
            domain.addChild(node(event, text: "destroy"))
        }
        domain.addChild(devicesElement)
        if let processCredentials {
            let label = "+\(processCredentials.uid):+\(processCredentials.gid)"
            domain.addChild(node("seclabel", ["type": "static", "model": "dac", "relabel": "no"],
                                 children: [node("label", text: label)]))
        }
        let document = XMLDocument(rootElement: domain)
        document.characterEncoding = "UTF-8"
        return document
    }

    /// ``xmlDocument()`` written out: indented by two spaces, without an XML declaration, ending in a line break;
    /// what `virDomainCreateXML` takes.
    public func xmlString() throws(DomainDefinitionError) -> String {
        let document = try xmlDocument()
        // The root element, not the document: the document would begin with an XML declaration libvirt does not need.
        let text = document.rootElement()!.xmlString(options: [.nodePrettyPrint, .nodeCompactEmptyElement])
        return text.hasSuffix("\n") ? text : text + "\n"
    }

    private var metadataElement: XMLElement {
        // Prefixed names under one namespace declaration: FoundationXML's element URIs would give every element an
        // xmlns of its own.
        let prefix = DomainDefinition.metadataPrefix
        let sandbox = node("\(prefix):sandbox", children: [
            node("\(prefix):name", text: owner.sandbox),
            node("\(prefix):run-directory", text: owner.runDirectory),
        ])
        sandbox.addNamespace(XMLNode.namespace(withName: prefix, stringValue: DomainDefinition.metadataNamespace) as! XMLNode)
        return node("metadata", children: [sandbox])
    }

    private var osElement: XMLElement {
        let os = node("os", children: [node("type", ["arch": "x86_64", "machine": machine.rawValue], text: "hvm")])
        os.addChild(node("kernel", text: kernel))
        if let initrd { os.addChild(node("initrd", text: initrd)) }
        os.addChild(node("cmdline", text: kernelCommandLine))
        return os
    }

    private var devicesElement: XMLElement {
        let devices = node("devices", children: [node("emulator", text: emulator)])
        for filesystem in filesystems {
            // squash is QEMU's security_model=none: files are read and made with QEMU's own rights, as with the
            // direct backend's `-fsdev local,security_model=none`; remap keeps inode numbers unique across host
            // filesystems (multidevs=remap).
            let share = node("filesystem", ["type": "mount", "accessmode": "squash", "multidevs": "remap"], children: [
                node("driver", ["type": "path"]),
                node("source", ["dir": filesystem.hostPath]),
                node("target", ["dir": filesystem.tag]),
            ])
            if filesystem.readOnly { share.addChild(node("readonly")) }
            if let address = virtioAddress { share.addChild(address) }
            devices.addChild(share)
        }
        // No USB controller (libvirt adds one by default); two ports on the virtio-serial bus, as `max_ports=2`.
        devices.addChild(node("controller", ["type": "usb", "model": "none"]))
        if channel != nil {
            let controller = node("controller", ["type": "virtio-serial", "index": "0", "ports": "2"])
            if let address = virtioAddress { controller.addChild(address) }
            devices.addChild(controller)
        }
        // The console: a pty libvirt opens, which the backend reads through a libvirt stream.
        devices.addChild(node("serial", ["type": "pty"], children: [node("target", ["port": "0"])]))
        devices.addChild(node("console", ["type": "pty"], children: [node("target", ["type": "serial", "port": "0"])]))
        if let channel {
            // mode='connect': QEMU connects to the socket ksand listens on, as `-chardev socket` without `server`.
            devices.addChild(node("channel", ["type": "unix"], children: [
                node("source", ["mode": "connect", "path": channel.socketPath]),
                node("target", ["type": "virtio", "name": channel.portName]),
            ]))
        }
        devices.addChild(node("memballoon", ["model": "none"]))
        return devices
    }

    /// Where a virtio device goes when libvirt's default (a PCI slot) is wrong: on microvm, which has no PCI.
    private var virtioAddress: XMLElement? {
        switch machine {
        case .q35: nil
        case .microvm: node("address", ["type": "virtio-mmio"])
        }
    }

    /// An element with attributes in the order given, an optional text child and child elements.
    private func node(
        _ name: String, _ attributes: KeyValuePairs<String, String> = [:], text: String? = nil, children: [XMLElement] = []
    ) -> XMLElement {
        let element = XMLElement(name: name, stringValue: text)
        for (attribute, value) in attributes {
            element.addAttribute(XMLNode.attribute(withName: attribute, stringValue: value) as! XMLNode)
        }
        for child in children { element.addChild(child) }
        return element
    }
}
