import Foundation
import Glibc
import QEMU
import Testing
@testable import Sandbox

/// `--publish` and `--net`: what a user types, what QEMU is given, what the guest init is told.
@Suite struct SandboxNetworkTests {
    @Test func publishedPortsParseWithTheirDefaults() throws {
        #expect(try PortPublish(parsing: "18080:8000") == PortPublish(hostPort: 18080, guestPort: 8000))
        #expect(try PortPublish(parsing: "0.0.0.0:8080:80/tcp") == PortPublish(hostAddress: "0.0.0.0", hostPort: 8080, guestPort: 80))
        let udp = try PortPublish(parsing: "5353:53/UDP")
        #expect(udp == PortPublish(hostPort: 5353, guestPort: 53, transport: .udp))
        #expect(udp.hostForwardRule == "udp:127.0.0.1:5353-:53")
        #expect(udp.description == "127.0.0.1:5353->53/udp")
    }

    @Test(arguments: [
        ("80", "a host port and a guest port are needed"),
        ("1:2:3:4", "too many colons"),
        ("0:80", "host port \"0\" is not 1 to 65535"),
        ("8080:65536", "guest port \"65536\" is not 1 to 65535"),
        ("8080:http", "guest port \"http\" is not 1 to 65535"),
        ("8080:80/sctp", "\"sctp\" is not tcp or udp"),
        ("::1:8080:80", "too many colons"),
        ("localhost:8080:80", "host address \"localhost\" is not an IPv4 address"),
        ("1.2.3:8080:80", "host address \"1.2.3\" is not an IPv4 address"),
    ])
    func aMalformedPublishNamesTheValueWhatIsWrongAndTheForm(text: String, why: String) {
        do {
            _ = try PortPublish(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            let message = "\(error)"
            #expect(message.contains("--publish \(text): \(why)"), "\(message)")
            #expect(message.contains(PortPublish.syntax), "\(message)")
        }
    }

    @Test func aPortInUseIsFoundBeforeTheVMStarts() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let busy = PortPublish(hostPort: port, guestPort: 80)
        #expect(busy.hostSideProblem() == "127.0.0.1:\(port)/tcp is in use; pick another host port")
        // The same number over UDP is another port.
        #expect(PortPublish(hostPort: port, guestPort: 80, transport: .udp).hostSideProblem() == nil)
        #expect(PortPublish(hostAddress: "192.0.2.1", hostPort: port, guestPort: 80).hostSideProblem() == "192.0.2.1 is not an address of this host")
    }

    @Test func aHostPortPublishedTwiceIsRefused() {
        let network = SandboxNetwork(publish: [PortPublish(hostPort: 9000, guestPort: 80), PortPublish(hostPort: 9000, guestPort: 81)])
        #expect(throws: SandboxError.self) { try network.check() }
        let distinct = SandboxNetwork(publish: [PortPublish(hostPort: 9000, guestPort: 80), PortPublish(hostPort: 9000, guestPort: 80, transport: .udp)])
        #expect(throws: Never.self) { try distinct.check() }
    }

    func commandLine(machine: QEMUCommandLine.Machine, network: QEMUCommandLine.UserNetwork?) -> [String] {
        var line = QEMUCommandLine(
            executable: "qemu", machine: machine, accelerator: .tcg, cpus: 1, memoryMiB: 256, kernel: "k", initrd: nil,
            kernelArguments: [], shares: [], channelSocket: nil, channelPortName: "p")
        line.userNetwork = network
        return line.arguments
    }

    @Test func theUserNetworkIsRestrictedUnlessOutboundAndForwardsOnlyThePublishedPorts() {
        let published = QEMUCommandLine.UserNetwork(
            restricted: true, hostForwards: ["tcp:127.0.0.1:18080-:8000", "udp:0.0.0.0:5353-:53"],
            network: "10.0.2.0/24", host: "10.0.2.2", nameserver: "10.0.2.3")
        let argv = commandLine(machine: .microvm, network: published)
        let netdev = argv[argv.firstIndex(of: "-netdev")! + 1]
        #expect(netdev == "user,id=net,restrict=on,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3,hostfwd=tcp:127.0.0.1:18080-:8000,hostfwd=udp:0.0.0.0:5353-:53")
        #expect(argv[argv.firstIndex(of: "virtio-net-device,netdev=net")! - 1] == "-device")
        var outbound = published
        outbound.restricted = false
        outbound.hostForwards = []
        let q35 = commandLine(machine: .q35, network: outbound)
        #expect(q35.contains("user,id=net,restrict=off,ipv6=off,net=10.0.2.0/24,host=10.0.2.2,dns=10.0.2.3"))
        #expect(q35.contains("virtio-net-pci,netdev=net"))
        let none = commandLine(machine: .microvm, network: nil)
        #expect(!none.contains("-netdev") && !none.contains { $0.hasPrefix("virtio-net") })
    }

    @Test func theInitIsToldTheAddressAndARouteAndNameServerOnlyForOutbound() {
        let preparer = SandboxPreparer(environment: ["PATH": "/usr/bin"])
        let none = preparer.runSpec(for: SandboxSpec(command: ["true"]))
        #expect(none.networkAddress == nil && none.networkGateway == nil && none.nameservers.isEmpty)
        let published = preparer.runSpec(for: SandboxSpec(command: ["true"], network: SandboxNetwork(publish: [PortPublish(hostPort: 18080, guestPort: 8000)])))
        #expect(published.networkAddress == "10.0.2.15/24")
        #expect(published.networkGateway == nil && published.nameservers.isEmpty)
        let outbound = preparer.runSpec(for: SandboxSpec(command: ["true"], network: SandboxNetwork(outbound: true)))
        #expect(outbound.networkAddress == "10.0.2.15/24" && outbound.networkGateway == "10.0.2.2")
        #expect(outbound.nameservers == ["10.0.2.3"])
    }
}
