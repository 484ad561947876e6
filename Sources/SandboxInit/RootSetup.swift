import Glibc
import SandboxProtocol

/// Builds the sandbox's root under ``newRoot`` and switches to it.
///
/// The host's root comes read-only over 9p. Nothing can be created on it, so every mount point must already
/// exist on the host, except below a writable layer (tmpfs, overlay, writable share) set up earlier.
/// Overlays keep their upper and work directories in one tmpfs staged in the initramfs (``stagingDirectory``).
struct RootSetup {
    static let newRoot = "/newroot"
    static let stagingDirectory = "/run/ksand"

    let spec: RunSpec

    /// The initramfs's /dev (devtmpfs), first of all: /dev/kmsg carries the init's start marker. The initramfs is
    /// writable, so missing mount points (an initramfs packed by other tools) are made.
    static func mountDevices() throws(InitFailure) {
        for directory in ["/dev", "/proc", "/sys", newRoot] { _ = mkdir(directory, 0o755) }
        try mount("devtmpfs", at: "/dev", type: "devtmpfs", flags: MS_NOSUID, options: "mode=0755")
    }

    /// The initramfs's /proc and /sys (where the init finds its channel); both move into the new root later.
    static func mountKernelFileSystems() throws(InitFailure) {
        try mount("proc", at: "/proc", type: "proc", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC)
        try mount("sysfs", at: "/sys", type: "sysfs", flags: MS_NOSUID | MS_NODEV | MS_NOEXEC)
    }

    /// Mounts the root, the system file systems, the overlays, tmpfs and shares under ``newRoot``.
    func prepare() throws(InitFailure) {
        let root = RootSetup.newRoot
        try RootSetup.mount(
            RunSpec.rootTag, at: root, type: "9p", flags: MS_RDONLY,
            options: "trans=virtio,version=9p2000.L,msize=\(spec.msize),cache=loose,access=client")
        try mountSystemFileSystems()

        // Parents before children, so that a share inside an overlaid directory lands on top of the overlay.
        var planned: [(path: String, order: Int, kind: PlannedMount)] = []
        for (index, path) in spec.overlays.enumerated() { planned.append((path, planned.count, .overlay(index))) }
        for path in spec.tmpfs { planned.append((path, planned.count, .tmpfs)) }
        for share in spec.shares { planned.append((share.path, planned.count, .share(share))) }
        planned.sort { a, b in
            let depthA = a.path.split(separator: "/").count, depthB = b.path.split(separator: "/").count
            return depthA != depthB ? depthA < depthB : a.order < b.order
        }
        var stagingMounted = false
        for mount in planned {
            let path = RootSetup.normalized(mount.path)
            guard path != "/" else { throw InitFailure("cannot mount over the sandbox's root: \(mount.path)") }
            let target = root + path
            switch mount.kind {
            case .overlay(let index):
                if !stagingMounted {
                    try FileSystem.makeDirectories(RootSetup.stagingDirectory)
                    try RootSetup.mount("tmpfs", at: RootSetup.stagingDirectory, type: "tmpfs", options: "mode=0700")
                    stagingMounted = true
                }
                try overlay(target, guestPath: path, index: index)
            case .tmpfs:
                try tmpfs(target, guestPath: path)
            case .share(let share):
                try mountPoint(target, guestPath: path, what: "share \(share.tag)")
                let cache = share.writable ? "mmap" : "loose"
                try RootSetup.mount(
                    share.tag, at: target, type: "9p", flags: share.writable ? 0 : MS_RDONLY,
                    options: "trans=virtio,version=9p2000.L,msize=\(spec.msize),cache=\(cache),access=client")
            }
        }
        if sethostname(spec.hostname, spec.hostname.utf8.count) != 0 {
            throw .system("sethostname \(spec.hostname)")
        }
    }

    /// Makes ``newRoot`` the root: move it onto "/", chroot into it.
    func switchRoot() throws(InitFailure) {
        guard chdir(RootSetup.newRoot) == 0 else { throw .system("chdir \(RootSetup.newRoot)") }
        guard Glibc.mount(".", "/", nil, UInt(MS_MOVE), nil) == 0 else { throw .system("move \(RootSetup.newRoot) to /") }
        guard chroot(".") == 0 else { throw .system("chroot \(RootSetup.newRoot)") }
        guard chdir("/") == 0 else { throw .system("chdir / in the new root") }
    }

    private enum PlannedMount {
        case overlay(Int)
        case tmpfs
        case share(RunSpec.Share)
    }

    /// /proc, /sys, /dev (moved from the initramfs, so open descriptors such as /dev/kmsg stay valid), /dev/pts,
    /// /dev/shm and /run, each only where the host has the mount point and the spec does not mount something there.
    private func mountSystemFileSystems() throws(InitFailure) {
        let root = RootSetup.newRoot
        let claimed = Set(spec.overlays.map(RootSetup.normalized) + spec.tmpfs.map(RootSetup.normalized)
            + spec.shares.map { RootSetup.normalized($0.path) })
        func wanted(_ path: String) -> Bool { !claimed.contains(path) && FileSystem.isDirectory(root + path) }
        if wanted("/proc") { try RootSetup.move("/proc", to: root + "/proc") }
        if wanted("/sys") { try RootSetup.move("/sys", to: root + "/sys") }
        guard wanted("/dev") else { return }
        try RootSetup.move("/dev", to: root + "/dev")
        // devtmpfs is writable: these mount points can be made.
        _ = mkdir(root + "/dev/pts", 0o755)
        _ = mkdir(root + "/dev/shm", 0o1777)
        try RootSetup.mount(
            "devpts", at: root + "/dev/pts", type: "devpts", flags: MS_NOSUID | MS_NOEXEC,
            options: "gid=5,mode=0620,ptmxmode=0666")
        try RootSetup.mount("shm", at: root + "/dev/shm", type: "tmpfs", flags: MS_NOSUID | MS_NODEV, options: "mode=1777")
        if wanted("/run") {
            try RootSetup.mount("tmpfs", at: root + "/run", type: "tmpfs", flags: MS_NOSUID | MS_NODEV, options: "mode=0755")
        }
    }

    /// A tmpfs-backed overlay over the host directory. The upper directory takes the lower one's owner and mode,
    /// because the overlay's root shows the upper directory's (a root-owned 0755 /tmp would lock users out).
    private func overlay(_ target: String, guestPath: String, index: Int) throws(InitFailure) {
        let status = FileSystem.status(target)
        guard let lower = status, lower.st_mode & S_IFMT == S_IFDIR else {
            throw InitFailure(
                "overlay \(guestPath): needs an existing directory in the host's root (the root is read-only, so no "
                    + "mount point can be created)", errno: status == nil ? errno : ENOTDIR)
        }
        let stage = RootSetup.stagingDirectory + "/ov\(index)"
        let upper = stage + "/upper", work = stage + "/work"
        for directory in [stage, upper, work] where mkdir(directory, 0o755) != 0 {
            throw .system("mkdir \(directory) (overlay \(guestPath))")
        }
        guard chown(upper, lower.st_uid, lower.st_gid) == 0 else { throw .system("chown \(upper)") }
        guard chmod(upper, lower.st_mode & 0o7777) == 0 else { throw .system("chmod \(upper)") }
        try RootSetup.mount(
            "overlay", at: target, type: "overlay",
            options: "lowerdir=\(RootSetup.escaped(target)),upperdir=\(RootSetup.escaped(upper)),"
                + "workdir=\(RootSetup.escaped(work))")
    }

    /// An empty tmpfs with the same owner and mode as the directory it hides.
    private func tmpfs(_ target: String, guestPath: String) throws(InitFailure) {
        try mountPoint(target, guestPath: guestPath, what: "tmpfs")
        let info = FileSystem.status(target)!
        try RootSetup.mount(
            "tmpfs", at: target, type: "tmpfs", flags: MS_NOSUID | MS_NODEV,
            options: "mode=\(String(info.st_mode & 0o7777, radix: 8)),uid=\(info.st_uid),gid=\(info.st_gid)")
    }

    /// Makes sure `target` is a directory: it exists on the host, or lies below a writable layer where it can be made.
    private func mountPoint(_ target: String, guestPath: String, what: String) throws(InitFailure) {
        if FileSystem.isDirectory(target) { return }
        do {
            try FileSystem.makeDirectories(target)
        } catch {
            throw InitFailure(
                "\(what) \(guestPath): no such directory in the host's root, and it cannot be created there (\(error))")
        }
    }

    static func mount(
        _ source: String, at target: String, type: String, flags: Int = 0, options: String? = nil
    ) throws(InitFailure) {
        let result: Int32
        if let options {
            result = Glibc.mount(source, target, type, UInt(flags), options)
        } else {
            result = Glibc.mount(source, target, type, UInt(flags), nil)
        }
        guard result == 0 else {
            throw .system("mount \(type) \(source) on \(target)" + (options.map { " (\($0))" } ?? ""))
        }
    }

    private static func move(_ source: String, to target: String) throws(InitFailure) {
        guard Glibc.mount(source, target, nil, UInt(MS_MOVE), nil) == 0 else {
            throw .system("move mount \(source) to \(target)")
        }
    }

    /// "/a//b/" → "/a/b".
    static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// Overlay options split on commas and lowerdir on colons; a backslash escapes them.
    private static func escaped(_ path: String) -> String {
        var out = ""
        for character in path {
            if character == "," || character == ":" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out
    }
}
