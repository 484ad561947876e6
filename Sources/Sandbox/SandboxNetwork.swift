import Foundation
import Glibc

/// A guest port reachable from the host: `--publish [ADDRESS:]HOST_PORT:GUEST_PORT[/tcp|/udp]`.
public struct PortPublish: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Transport: String, Codable, Sendable, CaseIterable {
        case tcp, udp
    }

    /// The host address QEMU listens on: 127.0.0.1 unless one is given.
    public var hostAddress: String
    public var hostPort: UInt16
    public var guestPort: UInt16
    public var transport: Transport

    public init(hostAddress: String = PortPublish.defaultHostAddress, hostPort: UInt16, guestPort: UInt16, transport: Transport = .tcp) {
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestPort = guestPort
        self.transport = transport
    }

    /// Only this host can reach a published port unless the user names another address.
    public static let defaultHostAddress = "127.0.0.1"

    /// The form `--publish` takes, for messages.
    public static let syntax = "[ADDRESS:]HOST_PORT:GUEST_PORT[/tcp|/udp], e.g. 8080:80, 0.0.0.0:8080:80 or 5353:53/udp"

    /// Parses the option's value; the error names the value and the expected form.
    public init(parsing text: String) throws(SandboxError) {
        func refuse(_ why: String) -> SandboxError { .invalidOption("--publish \(text): \(why); expected \(PortPublish.syntax)") }
        var body = Substring(text)
        var transport = Transport.tcp
        if let slash = body.lastIndex(of: "/") {
            guard let named = Transport(rawValue: body[body.index(after: slash)...].lowercased()) else {
                throw refuse("\"\(body[body.index(after: slash)...])\" is not tcp or udp")
            }
            transport = named
            body = body[..<slash]
        }
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2 else { throw refuse("a host port and a guest port are needed") }
        guard parts.count <= 3 else { throw refuse("too many colons") }
        func port(_ part: Substring, _ role: String) throws(SandboxError) -> UInt16 {
            guard let number = UInt16(part), number > 0 else { throw refuse("\(role) port \"\(part)\" is not 1 to 65535") }
            return number
        }
        var address = PortPublish.defaultHostAddress
        if parts.count == 3 {
            var parsed = in_addr()
            guard inet_pton(AF_INET, String(parts[0]), &parsed) == 1 else {
                throw refuse("host address \"\(parts[0])\" is not an IPv4 address (QEMU's user network forwards IPv4 only)")
            }
            address = String(parts[0])
        }
        self.init(
            hostAddress: address, hostPort: try port(parts[parts.count - 2], "host"),
            guestPort: try port(parts[parts.count - 1], "guest"), transport: transport)
    }

    /// `127.0.0.1:18080->8000/tcp`.
    public var description: String { "\(hostAddress):\(hostPort)->\(guestPort)/\(transport.rawValue)" }

    /// QEMU's `hostfwd=` value: `tcp:127.0.0.1:18080-:8000`.
    public var hostForwardRule: String { "\(transport.rawValue):\(hostAddress):\(hostPort)-:\(guestPort)" }

    /// Whether the host can listen there now: the port is free and the address is the host's. A clear error before
    /// the VM starts instead of QEMU's "could not set up host forwarding rule" after. nil when it can; else why not.
    public func hostSideProblem() -> String? {
        let type = transport == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return "socket: \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        // QEMU's user network sets SO_REUSEADDR on its listening sockets too, so a port in TIME_WAIT is no obstacle.
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = hostPort.bigEndian
        guard inet_pton(AF_INET, hostAddress, &address.sin_addr) == 1 else { return "\(hostAddress) is not an IPv4 address" }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            switch code {
            case EADDRINUSE: return "\(hostAddress):\(hostPort)/\(transport.rawValue) is in use; pick another host port"
            case EADDRNOTAVAIL: return "\(hostAddress) is not an address of this host"
            case EACCES: return "ports below 1024 need root (or CAP_NET_BIND_SERVICE); pick a port from 1024"
            default: return "cannot listen on \(hostAddress):\(hostPort): \(String(cString: strerror(code)))"
            }
        }
        if transport == .tcp && listen(fd, 1) != 0 && errno == EADDRINUSE {
            return "\(hostAddress):\(hostPort)/tcp is in use; pick another host port"
        }
        return nil
    }
}

/// The guest's network, off unless asked for: ports published from the host and, with `outbound`, a way out.
public struct SandboxNetwork: Codable, Sendable, Equatable {
    public var publish: [PortPublish]
    /// Whether the guest may open connections (through QEMU's user-mode NAT); else nothing leaves the VM.
    public var outbound: Bool

    public init(publish: [PortPublish] = [], outbound: Bool = false) {
        self.publish = publish
        self.outbound = outbound
    }

    /// The addresses of QEMU's user network, named in its `-netdev` so they never depend on QEMU's defaults.
    public enum Addressing {
        public static let network = "10.0.2.0/24"
        public static let host = "10.0.2.2"
        public static let nameserver = "10.0.2.3"
        public static let guest = "10.0.2.15"
        public static let prefixLength: UInt8 = 24
    }

    /// Refuses a host port published twice (for one transport and address: QEMU could only bind it once).
    func check() throws(SandboxError) {
        var seen: Set<String> = []
        for publish in publish {
            let key = "\(publish.hostAddress):\(publish.hostPort)/\(publish.transport.rawValue)"
            guard seen.insert(key).inserted else { throw .invalidOption("--publish: host port \(key) is published twice") }
        }
    }
}
