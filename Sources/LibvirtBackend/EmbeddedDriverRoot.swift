import Foundation
import Glibc
import Sandbox
import Synchronization

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
/// all under one root. Conversely libvirt locks a root (DIR/run/qemu/driver.pid) against a second process, and
/// ksand claims it (DIR/ksand.lock) from the moment it picks it, before libvirt's lock exists (see ``holder``).
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

    /// DIR/ksand.lock: flock-ed by the ksand process using the root, from the moment it chose it until it exits.
    public var claimFile: String { path + "/ksand.lock" }

    /// Another process holding this root: a ksand that claimed it (DIR/ksand.lock), or any process whose embedded
    /// driver runs on it (libvirt's lock on DIR/run/qemu/driver.pid: virsh, another libvirt program). nil when none
    /// does, or only this process. Read from /proc/locks: neither file is opened here, because opening and closing
    /// driver.pid would drop the lock this process's own driver holds on it (POSIX record locks belong to the
    /// process, and any close drops them). A process that has exited holds no lock, whatever its pid file says.
    public var holder: pid_t? {
        let table = FileLockTable.current()
        return (table.holders(of: claimFile) + table.holders(of: driverPidFile)).first
    }

    /// The roots this process has claimed, by path, each with the descriptor whose flock it keeps until it exits:
    /// libvirt runs one embedded driver per process for the process's life, so the claim lasts as long.
    private static let claims = Mutex<[String: Int32]>([:])

    /// Claims DIR for this process: takes DIR/ksand.lock (flock, not waiting) and checks that no other process's
    /// driver holds DIR/run/qemu/driver.pid. A claim is kept until the process exits; claiming again is a no-op.
    /// The flock is separate from libvirt's POSIX lock, so taking it disturbs nothing of the driver's.
    private static func claim(_ directory: Int32, path: String) throws(EmbeddedDriverRootError) {
        try claims.withLock { claims throws(EmbeddedDriverRootError) in
            guard claims[path] == nil else { return }
            let root = EmbeddedDriverRoot(path: path)
            let lock = openat(directory, "ksand.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard lock >= 0 else { throw .io(what: "open", path: root.claimFile, errno: errno) }
            if flock(lock, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(lock)
                guard code == EWOULDBLOCK else { throw .io(what: "lock", path: root.claimFile, errno: code) }
                throw .inUse(path: path, pid: FileLockTable.current().holders(of: root.claimFile).first)
            }
            if let other = FileLockTable.current().holders(of: root.driverPidFile).first {
                close(lock)
                throw .inUse(path: path, pid: other)
            }
            claims[path] = lock
        }
    }

    /// Prepares and claims the first of `base`, `base-2`, `base-3`, … up to `base-N` that no other process holds:
    /// a pool of roots that lets several ksand processes run on the embedded driver at once, each reusing the
    /// capabilities libvirt cached in it. Throws ``EmbeddedDriverRootError/inUse(path:pid:)`` for `base` when all
    /// are held, and any other error of ``prepare(at:asRoot:)`` as it comes.
    public static func claimFirstFree(base: String, count: Int = 16, asRoot: Bool = geteuid() == 0) throws(EmbeddedDriverRootError) -> EmbeddedDriverRoot {
        let candidates = (1...max(1, count)).map { $0 == 1 ? base : "\(base)-\($0)" }
        // This process's driver stays on the root it started on: a member claimed already is the answer.
        if let mine = claims.withLock({ claims in candidates.first { claims[$0] != nil } }) {
            return try prepare(at: mine, asRoot: asRoot)
        }
        var firstRefusal: EmbeddedDriverRootError?
        for candidate in candidates {
            do throws(EmbeddedDriverRootError) {
                return try prepare(at: candidate, asRoot: asRoot)
            } catch {
                guard case .inUse = error else { throw error }
                if firstRefusal == nil { firstRefusal = error }
            }
        }
        throw firstRefusal ?? .inUse(path: base, pid: nil)
    }

    /// Creates or checks DIR, claims it for this process (see ``holder``) and writes its qemu.conf; `asRoot`
    /// decides the QEMU user (see ``qemuConfiguration(asRoot:)``). Throws ``EmbeddedDriverRootError/inUse(path:pid:)``
    /// when another process holds DIR, before writing anything in it.
    public static func prepare(at path: String, asRoot: Bool = geteuid() == 0) throws(EmbeddedDriverRootError) -> EmbeddedDriverRoot {
        guard path.hasPrefix("/") else { throw .notAbsolute(path) }
        // libvirt 9.0 passes DIR/lib/qemu/… to the QEMU it probes as `-qmp unix:PATH,server=on` without doubling
        // commas, and QEMU refuses the option.
        if path.contains(",") { throw .unusablePath(path: path, character: ",") }
        let root = try PrivateDirectory.open(path, create: true)
        defer { close(root) }
        try claim(root, path: path)
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
