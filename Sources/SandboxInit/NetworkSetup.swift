import CGuestSyscalls
import Glibc
import SandboxProtocol

/// The guest's network: the loopback always; the one virtio-net interface, its route and the name servers when the
/// spec has an address. No DHCP client: the addresses are QEMU's user network's, which the host states in the spec.
struct NetworkSetup {
    let spec: RunSpec

    /// The resolver file staged in the initramfs and bind-mounted over the sandbox's /etc/resolv.conf: the host's
    /// file on the read-only root stays as it is.
    static let stagedResolver = "/ksand-resolv.conf"

    /// Brings the interfaces up; before the root switch, while /sys is the initramfs's.
    func configureInterfaces() throws(InitFailure) {
        guard ksand_interface_up("lo") == 0 else { throw .system("bring the loopback interface up") }
        guard let address = spec.networkAddress else { return }
        let parts = address.split(separator: "/")
        guard parts.count == 2, let prefix = Int32(parts[1]) else {
            throw InitFailure("network address \(address): expected ADDRESS/PREFIX")
        }
        let names = (FileSystem.entries("/sys/class/net") ?? []).filter { $0 != "lo" }.sorted()
        guard let interface = names.first else {
            throw InitFailure(
                "the guest has no network interface for \(address): the kernel needs CONFIG_VIRTIO_NET (and, on a "
                    + "modular kernel, the virtio_net module)")
        }
        guard ksand_interface_set_address(interface, String(parts[0]), prefix) == 0 else {
            throw .system("give \(interface) the address \(address)")
        }
        guard ksand_interface_up(interface) == 0 else { throw .system("bring \(interface) up") }
        if let gateway = spec.networkGateway, ksand_add_default_route(gateway) != 0 {
            throw .system("add the default route through \(gateway)")
        }
    }

    /// Puts the name servers over `root`'s /etc/resolv.conf, following a symbolic link inside `root` (a systemd
    /// host's points into /run, which in the guest is a tmpfs where the file can be made).
    func installResolver(root: String) throws(InitFailure) {
        guard !spec.nameservers.isEmpty else { return }
        let content = spec.nameservers.map { "nameserver \($0)\n" }.joined()
        try write(content, to: NetworkSetup.stagedResolver)
        let target = try resolverTarget(root: root)
        if FileSystem.status(target) == nil {
            let directory = String(target[..<(target.lastIndex(of: "/") ?? target.startIndex)])
            do {
                try FileSystem.makeDirectories(directory)
                try write("", to: target)
            } catch {
                throw InitFailure(
                    "/etc/resolv.conf leads to \(target.dropFirst(root.count)), which does not exist and cannot be "
                        + "made on the read-only root (\(error))")
            }
        }
        guard Glibc.mount(NetworkSetup.stagedResolver, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw .system("bind \(NetworkSetup.stagedResolver) over \(target)")
        }
    }

    /// `root`/etc/resolv.conf with its symbolic links followed inside `root` (at most 8).
    private func resolverTarget(root: String) throws(InitFailure) -> String {
        var guestPath = "/etc/resolv.conf"
        for _ in 0..<8 {
            guard let link = FileSystem.linkTarget(root + guestPath) else { return root + guestPath }
            if link.hasPrefix("/") {
                guestPath = link
            } else {
                let directory = guestPath[..<(guestPath.lastIndex(of: "/") ?? guestPath.startIndex)]
                guestPath = RootSetup.normalized(String(directory) + "/" + link)
            }
            guestPath = NetworkSetup.resolvingDotDot(guestPath)
        }
        throw InitFailure("/etc/resolv.conf: more than 8 symbolic links deep")
    }

    /// "/a/b/../c" → "/a/c"; ".." at the root stays at the root.
    static func resolvingDotDot(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                _ = parts.popLast()
            } else {
                parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    private func write(_ content: String, to path: String) throws(InitFailure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("create \(path)") }
        defer { close(fd) }
        let bytes = Array(content.utf8)
        guard bytes.isEmpty || Glibc.write(fd, bytes, bytes.count) == bytes.count else { throw .system("write \(path)") }
    }
}
