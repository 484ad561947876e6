import Glibc

/// Why a directory could not be prepared as an embedded QEMU driver's root. Each says what, where, and what to do.
public enum EmbeddedDriverRootError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The embedded driver needs an absolute root.
    case notAbsolute(String)
    /// The directory exists but is not the caller's own private directory.
    case unsafe(path: String, problem: String)
    /// A file system call failed.
    case io(what: String, path: String, errno: Int32)
    /// libvirt cannot run its driver on this path: it puts the path into QEMU options of its own without escaping.
    case unusablePath(path: String, character: Character)
    /// Another process's embedded driver holds the root.
    case inUse(path: String, pid: Int32?)

    public var description: String {
        switch self {
        case .notAbsolute(let path):
            return "the embedded libvirt driver's root \(path) is not an absolute path: pass /an/absolute/dir"
        case .unsafe(let path, let problem):
            return "refusing \(path) as the embedded libvirt driver's root: \(problem); it holds the driver's "
                + "configuration and QEMU's monitor sockets, so it must be a directory of yours with mode 0700. "
                + "Remove it (it is created with mode 0700) or choose another directory"
        case .inUse(let path, let pid):
            let who = pid.map { "process \($0)" } ?? "another process"
            return "the embedded libvirt driver's root \(path) is in use by \(who) (it holds \(path)/ksand.lock or \(path)/run/qemu/driver.pid): "
                + "libvirt lets one process at a time run its embedded driver on a root. Wait for it to end, pass "
                + "--connect qemu:///embed?root=ANOTHER-DIR, or use qemu:///system"
        case .unusablePath(let path, let character):
            return "the embedded libvirt driver cannot use \(path) as its root: the path holds '\(character)', which splits the "
                + "QEMU options libvirt builds from it (its capability probe's -qmp socket), so no domain would start. "
                + "Choose a root without '\(character)' (--connect qemu:///embed?root=DIR), or set KSAND_CACHE_DIR to a "
                + "directory without one for the default root"
        case .io(let what, let path, let code):
            return "cannot \(what) \(path): \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
