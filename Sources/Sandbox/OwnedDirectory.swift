import Foundation

/// A directory ksand keeps its own files in, and the rules it must follow before ksand uses it.
///
/// The runtime directory and the sandbox registry hold QMP and command-channel sockets: whoever can reach them
/// controls the VM. So, as tmux and `$XDG_RUNTIME_DIR` do, ksand uses such a directory only when it is a real
/// directory (not a symbolic link), owned by the caller, and closed to group and others; it creates a missing one
/// with mode 0700. The cache holds the kernels and initramfs archives ksand boots: it must be the caller's own and
/// not writable by others, but may be a symbolic link and readable by anyone.
public struct OwnedDirectory: Sendable, Equatable {
    /// What the directory is for, which decides the rules and the advice.
    public enum Role: Sendable, Equatable {
        /// `$KSAND_RUNTIME_DIR`, `$XDG_RUNTIME_DIR/ksand` or `/tmp/ksand-UID`.
        case runtime
        /// `<runtime directory>/sandboxes`, the detached sandboxes' state directories.
        case registry
        /// `$KSAND_CACHE_DIR`, `$XDG_CACHE_HOME/ksand` or `~/.cache/ksand`.
        case cache

        var name: String {
            switch self {
            case .runtime: "runtime directory"
            case .registry: "sandbox registry"
            case .cache: "cache directory"
            }
        }

        var purpose: String {
            switch self {
            case .runtime, .registry: "it holds the sockets that control ksand's VMs"
            case .cache: "it holds the kernels and initramfs archives ksand boots"
            }
        }

        var variable: String { self == .cache ? "KSAND_CACHE_DIR" : "KSAND_RUNTIME_DIR" }

        /// Only the caller may enter it (the cache may be readable by others).
        var isPrivate: Bool { self != .cache }
    }

    /// Why a directory was refused.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case symbolicLink(to: String)
        case notADirectory
        case ownedBy(uid: UInt32, caller: UInt32)
        /// Group or others have some access (runtime directories) or write access (the cache).
        case openTo(mode: UInt32)

        public var description: String {
            switch self {
            case .symbolicLink(let target): "it is a symbolic link (to \(target)), not a directory"
            case .notADirectory: "it is not a directory"
            case .ownedBy(let uid, let caller): "it is owned by uid \(uid), not by you (uid \(caller))"
            case .openTo(let mode):
                "its mode is 0" + String(mode, radix: 8) + ": "
                    + (mode & 0o022 != 0 ? (mode & 0o002 != 0 ? "anyone" : "its group") + " may write to it"
                                         : (mode & 0o007 != 0 ? "anyone" : "its group") + " may enter it")
            }
        }
    }

    public var path: String
    public var role: Role

    /// The rules of `role` for the directory at `path`; nothing is checked until ``prepare()`` or ``check()``.
    public init(path: String, role: Role) {
        self.path = path
        self.role = role
    }

    /// Creates the directory (mode 0700; for the cache, with its parents) unless it exists, then checks it.
    public func prepare() throws(SandboxError) {
        if role == .cache {
            try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } else if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .io(what: "cannot create the \(role.name)", path: path, errno: errno)
        }
        guard try check() else { throw .io(what: "cannot create the \(role.name)", path: path, errno: ENOENT) }
    }

    /// Checks the directory if it exists: false when it does not, an error when it breaks a rule.
    @discardableResult
    public func check() throws(SandboxError) -> Bool {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return false }
            throw .io(what: "cannot inspect the \(role.name)", path: path, errno: errno)
        }
        if status.st_mode & S_IFMT == S_IFLNK {
            // The cache may live elsewhere through a link; its target is what must be the caller's.
            guard role == .cache, stat(path, &status) == 0 else {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                throw refusal(.symbolicLink(to: target))
            }
        }
        if let problem = OwnedDirectory.problem(status, role: role) { throw refusal(problem) }
        return true
    }

    /// What is wrong with a directory with this status for `role`, if anything.
    static func problem(_ status: stat, role: Role) -> Problem? {
        guard status.st_mode & S_IFMT == S_IFDIR else { return .notADirectory }
        guard status.st_uid == getuid() else { return .ownedBy(uid: status.st_uid, caller: getuid()) }
        let forbidden: mode_t = role.isPrivate ? 0o077 : 0o002
        guard status.st_mode & forbidden == 0 else { return .openTo(mode: UInt32(status.st_mode & 0o7777)) }
        return nil
    }

    private func refusal(_ problem: Problem) -> SandboxError {
        let own = "set \(role.variable) to a directory of your own"
        let fix: String
        switch problem {
        case .openTo: fix = "run `chmod \(role.isPrivate ? "700" : "o-w") \(path)`, or \(own)"
        case .symbolicLink, .notADirectory, .ownedBy:
            fix = "remove it (ksand creates it\(role.isPrivate ? " with mode 0700" : "")), or \(own)"
        }
        return .unsafeDirectory(path: path, role: role.name, problem: "\(problem); \(role.purpose)", fix: fix)
    }
}
