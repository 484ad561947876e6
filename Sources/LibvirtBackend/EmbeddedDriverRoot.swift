import Foundation
import Glibc
import Sandbox

/// A directory made ready for the embedded QEMU driver, `qemu:///embed?root=DIR`: libvirt's QEMU driver running in
/// the calling process, with no libvirtd and no virtlogd.
///
/// The driver keeps everything under DIR: its configuration in DIR/etc, domain state, QEMU monitor sockets and pid
/// files in DIR/run/qemu, QEMU's logs in DIR/log/qemu, capability caches in DIR/cache/qemu. ``prepare(at:)``
/// creates DIR with mode 0700 (or accepts it if it already is a directory of the caller's, closed to others, and
/// not a symbolic link) and writes DIR/etc/qemu.conf atomically (``qemuConfiguration(asRoot:)`` says what it holds
/// and why).
///
/// libvirt runs one embedded QEMU driver per process, on the root of the first connection that opens one, until
/// the process exits: closing every connection does not stop it, and a connection to another root fails
/// (``LibvirtError/Kind/embeddedDriverOnAnotherRoot(openRoot:)``). A process that needs several sandboxes runs them
/// all under one root. Conversely libvirt locks a root (DIR/run/qemu/driver.pid) against a second process.
public struct EmbeddedDriverRoot: Sendable, Equatable {
    /// DIR, absolute.
    public let path: String

    /// The connection URI for this root.
    public var uri: String { LibvirtURI.embedded(root: path) }
    /// DIR/etc/qemu.conf, the driver's configuration.
    public var configurationPath: String { path + "/etc/qemu.conf" }
    /// DIR/run/qemu, where the driver writes `<name>.pid` for each running domain.
    public var pidDirectory: String { path + "/run/qemu" }
    /// DIR/log/qemu, where each domain's QEMU writes `<name>.log` (its command line and stderr).
    public var logDirectory: String { path + "/log/qemu" }
    /// DIR/run/qemu/driver.pid: the pid of the process whose driver holds the root, locked while it runs.
    public var driverPidFile: String { pidDirectory + "/driver.pid" }

    /// Another live process whose embedded driver holds this root (the pid in DIR/run/qemu/driver.pid); nil when
    /// none does, or when it is this process. The pid file is read, never locked: a lock taken and dropped here
    /// would drop this process's own driver's lock on it too (POSIX record locks belong to the process).
    public var holder: pid_t? {
        guard let text = try? String(contentsOfFile: driverPidFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, pid != getpid() else { return nil }
        // A zombie holds no lock (its descriptors are closed): only a live process counts.
        return ProcessIdentity.of(pid) != nil ? pid : nil
    }

    /// The first of `base`, `base-2`, `base-3`, … up to `base-N` that no other process holds: a pool of roots
    /// that lets several ksand processes run on the embedded driver at once, each reusing the capabilities
    /// libvirt cached in it. When all are held, `base` (the connection then says who holds it).
    public static func firstFree(base: String, count: Int = 16) -> EmbeddedDriverRoot {
        for index in 1...max(1, count) {
            let root = EmbeddedDriverRoot(path: index == 1 ? base : "\(base)-\(index)")
            if root.holder == nil { return root }
        }
        return EmbeddedDriverRoot(path: base)
    }

    /// Creates or checks DIR and writes its qemu.conf; `asRoot` decides the QEMU user (see
    /// ``qemuConfiguration(asRoot:)``).
    public static func prepare(at path: String, asRoot: Bool = geteuid() == 0) throws(EmbeddedDriverRootError) -> EmbeddedDriverRoot {
        guard path.hasPrefix("/") else { throw .notAbsolute(path) }
        let root = try PrivateDirectory.open(path, create: true)
        defer { close(root) }
        let etc = try PrivateDirectory.open("etc", in: root, displayPath: path + "/etc")
        defer { close(etc) }
        try PrivateDirectory.writeAtomically(qemuConfiguration(asRoot: asRoot), named: "qemu.conf", in: etc,
                                             displayPath: path + "/etc/qemu.conf")
        return EmbeddedDriverRoot(path: path)
    }

    /// A root already prepared at `path` (for reading its paths); checks nothing.
    public init(path: String) {
        self.path = path
    }

    /// The qemu.conf ``prepare(at:asRoot:)`` writes. Each setting is what running the driver without a daemon,
    /// possibly in a container, needs. With libvirt 9.0's defaults, as root, a domain does start here, but its QEMU
    /// runs as libvirt-qemu in a mount namespace of its own and a cgroup under /machine, and the kernel it boots is
    /// chowned to libvirt-qemu for the run and tagged with extended attributes:
    ///
    /// - `stdio_handler = "file"`: QEMU's stdout and stderr go straight to DIR/log/qemu/NAME.log. The default,
    ///   "logd", sends them through virtlogd, and without it running no domain starts.
    /// - `security_driver = "none"`: no AppArmor or SELinux labelling. The default uses whichever the host enables,
    ///   which for AppArmor means virt-aa-helper writing and loading a profile for each domain.
    /// - `user = "root"`, `group = "root"` (as root only): the driver is privileged as root and would run QEMU as
    ///   libvirt-qemu, which may not read a kernel in root's cache (/root is 0700). Unprivileged, QEMU runs as the
    ///   caller anyway, and naming a user would make the driver try to switch to it.
    /// - `dynamic_ownership = 0`, `remember_owner = 0`: as root the driver would chown the kernel and initrd to
    ///   QEMU's user for the run and record their owner in `trusted.libvirt.security.*` extended attributes: it would
    ///   write to the files ksand boots, in its cache or in /boot.
    /// - `namespaces = [ ]`: as root the driver gives each QEMU a private mount namespace with its own /dev, which
    ///   needs CAP_SYS_ADMIN, so it fails in an unprivileged container.
    /// - `cgroup_controllers = [ ]`: as root the driver puts each QEMU in cgroups of its own
    ///   (`/machine/qemu-embed-…` in every controller), through systemd-machined or by writing to /sys/fs/cgroup,
    ///   neither of which a container need allow; and it leaves them behind when it kills a domain it finds on
    ///   reopening a root.
    public static func qemuConfiguration(asRoot: Bool) -> String {
        var lines = [
            "# Written by ksand for libvirt's embedded QEMU driver (qemu:///embed?root=DIR): no libvirtd, no virtlogd.",
            "stdio_handler = \"file\"",
            "security_driver = \"none\"",
            "dynamic_ownership = 0",
            "remember_owner = 0",
            "namespaces = [ ]",
            "cgroup_controllers = [ ]",
        ]
        if asRoot {
            lines += ["user = \"root\"", "group = \"root\""]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
