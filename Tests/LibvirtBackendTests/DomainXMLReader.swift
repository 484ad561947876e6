import Foundation
import FoundationXML
import LibvirtBackend

/// Reads rendered domain XML back into a ``DomainDefinition`` with FoundationXML's parser, so tests compare values,
/// not bytes. The kernel command line comes back as one argument.
enum DomainXMLReader {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ xml: String) throws -> DomainDefinition {
        let document = try XMLDocument(xmlString: xml, options: [])
        guard let domain = document.rootElement(), domain.name == "domain" else { throw Unreadable(description: "no <domain>") }
        let os = try child(domain, "os")
        let osType = try child(os, "type")
        guard attribute(osType, "arch") == "x86_64", osType.stringValue == "hvm" else { throw Unreadable(description: "os type") }
        let devices = try child(domain, "devices")
        let metadata = try child(domain, "metadata")
        // XPath, not elements(forLocalName:uri:): FoundationXML's localName crashes on some elements.
        let namespace = DomainDefinition.metadataNamespace
        func ksand(_ name: String) -> String { "*[local-name()='\(name)' and namespace-uri()='\(namespace)']" }
        let sandboxNames = try metadata.nodes(forXPath: ksand("sandbox") + "/" + ksand("name"))
        let runDirectories = try metadata.nodes(forXPath: ksand("sandbox") + "/" + ksand("run-directory"))
        guard sandboxNames.count == 1, runDirectories.count == 1,
              let sandboxName = sandboxNames[0].stringValue, let runDirectory = runDirectories[0].stringValue
        else { throw Unreadable(description: "no ksand metadata in \(namespace)") }
        guard let type = attribute(domain, "type").flatMap(DomainDefinition.DomainType.init(rawValue:)),
              let machine = attribute(osType, "machine").flatMap(DomainDefinition.Machine.init(rawValue:)),
              let vcpus = Int(try child(domain, "vcpu").stringValue ?? ""),
              attribute(try child(domain, "memory"), "unit") == "MiB",
              let memoryMiB = Int(try child(domain, "memory").stringValue ?? "")
        else { throw Unreadable(description: "type, machine, vcpu or memory") }

        let filesystems = try devices.elements(forName: "filesystem").map { filesystem in
            guard let source = attribute(try child(filesystem, "source"), "dir"),
                  let tag = attribute(try child(filesystem, "target"), "dir")
            else { throw Unreadable(description: "filesystem source or target") }
            return DomainDefinition.Filesystem(hostPath: source, tag: tag, readOnly: !filesystem.elements(forName: "readonly").isEmpty)
        }
        let channel = try devices.elements(forName: "channel").first.map { channel in
            guard let path = attribute(try child(channel, "source"), "path"), let name = attribute(try child(channel, "target"), "name")
            else { throw Unreadable(description: "channel source or target") }
            return DomainDefinition.Channel(socketPath: path, portName: name)
        }
        let credentials = try domain.elements(forName: "seclabel").first.map { seclabel in
            let ids = (try child(seclabel, "label").stringValue ?? "").split(separator: ":").map { UInt32($0.dropFirst()) }
            guard ids.count == 2, let uid = ids[0], let gid = ids[1] else { throw Unreadable(description: "seclabel label") }
            return DomainDefinition.ProcessCredentials(uid: uid, gid: gid)
        }
        let definition = DomainDefinition(
            name: try child(domain, "name").stringValue ?? "",
            uuid: domain.elements(forName: "uuid").first?.stringValue.flatMap(UUID.init(uuidString:)),
            type: type, emulator: try child(devices, "emulator").stringValue ?? "", machine: machine, vcpus: vcpus,
            memoryMiB: memoryMiB, kernel: try child(os, "kernel").stringValue ?? "",
            initrd: os.elements(forName: "initrd").first?.stringValue,
            kernelArguments: [try child(os, "cmdline").stringValue ?? ""], filesystems: filesystems, channel: channel,
            owner: .init(sandbox: sandboxName, runDirectory: runDirectory), processCredentials: credentials)
        guard attribute(try child(domain, "cpu"), "mode") == definition.cpuMode.rawValue else { throw Unreadable(description: "cpu mode") }
        return definition
    }

    private static func child(_ element: XMLElement, _ name: String) throws -> XMLElement {
        let matches = element.elements(forName: name)
        guard matches.count == 1 else { throw Unreadable(description: "\(matches.count) <\(name)> in <\(element.name ?? "")>") }
        return matches[0]
    }

    private static func attribute(_ element: XMLElement, _ name: String) -> String? {
        element.attribute(forName: name)?.stringValue
    }
}
