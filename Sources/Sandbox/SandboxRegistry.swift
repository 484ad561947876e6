import Foundation

/// Where detached sandboxes keep their state: `<runtime directory>/sandboxes/<name>/`, one directory each.
///
/// A name is a path component, never a path. Every state directory gets a marker file when ksand creates it, and
/// only a marked entry (a real directory, owned by the caller, its marker the caller's) is ever listed, stopped or
/// removed: anything else in the registry is left alone.
public struct SandboxRegistry: Sendable {
    /// `<runtime directory>/sandboxes`: one state directory per sandbox, named by the sandbox.
    public let directory: String
    /// The runtime directory holding ``directory``, checked with it; nil when the registry was given directly.
    let runtimeDirectory: String?

    /// The registry in the caller's runtime directory (see ``RuntimeDirectory``).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let base = RuntimeDirectory.base(environment: environment)
        runtimeDirectory = base
        directory = base + "/sandboxes"
    }

    /// A registry at `directory` itself, whatever holds it.
    public init(directory: String) {
        self.directory = directory
        runtimeDirectory = nil
    }

    /// The longest name: the state directory holds unix sockets, whose paths must stay under 108 bytes.
    public static let maxNameLength = 40

    /// A name is a file name: letters, digits, `.`, `_` and `-`, starting with a letter or digit, 40 at most.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= maxNameLength else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        return CharacterSet.alphanumerics.contains(first) && name.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    /// The naming rule, for error messages.
    public static let nameRule = "a name is a file name, never a path: letters, digits, '.', '_' and '-', "
        + "starting with a letter or digit, \(maxNameLength) characters at most"

    /// The file each state directory gets when ksand creates it, and what it says.
    static let markerName = ".ksand-sandbox"
    static var markerText: String { "ksand sandbox state directory\nuid \(getuid())\n" }

    /// The sandbox called `name`, if ksand made an entry of that name. Throws for a name that is not a name and
    /// for a registry that is not the caller's own.
    public func sandbox(named name: String) throws(SandboxError) -> DetachedSandbox? {
        guard SandboxRegistry.isValidName(name) else { throw .invalidSandboxName(name) }
        return try checkDirectories() ? entry(name) : nil
    }

    /// Every entry ksand made, by name; anything else in the registry is ignored.
    public func all() throws(SandboxError) -> [DetachedSandbox] {
        guard try checkDirectories() else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().filter(SandboxRegistry.isValidName).compactMap(entry)
    }

    /// The entry of a state directory handed to a supervising ksand: it must be one of this registry's.
    public func sandbox(atPath path: String) throws(SandboxError) -> DetachedSandbox {
        let name = (path as NSString).lastPathComponent
        guard (path as NSString).deletingLastPathComponent == directory else {
            throw .notASandboxEntry(path: path, reason: "not in the sandbox registry \(directory)")
        }
        guard let sandbox = try sandbox(named: name) else {
            throw .notASandboxEntry(path: path, reason: SandboxRegistry.whyNotAnEntry(path) ?? "gone")
        }
        return sandbox
    }

    /// Claims `name` for a new sandbox: an entry that ended (or is stale) is replaced, a live one is an error.
    public func create(named name: String) throws(SandboxError) -> DetachedSandbox {
        if let existing = try sandbox(named: name) {
            let state = existing.state
            if state.isActive {
                throw .invalidOption("a sandbox named \(name) is \(state.label); stop it with `ksand stop \(name)` or choose another --name")
            }
            remove(existing)
        }
        if let runtimeDirectory { try OwnedDirectory(path: runtimeDirectory, role: .runtime).prepare() }
        try OwnedDirectory(path: directory, role: .registry).prepare()
        let path = directory + "/" + name
        if let reason = SandboxRegistry.whyNotAnEntry(path), reason != SandboxRegistry.missing {
            throw .notASandboxEntry(path: path, reason: reason)
        }
        // The entry appears whole, marker and all, by a rename; of two starts racing for one name, one fails.
        let staging = try SandboxRegistry.markedDirectory(in: directory)
        guard rename(staging, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: staging)
            if code == EEXIST || code == ENOTEMPTY { throw .invalidOption("a sandbox named \(name) is being started; choose another --name") }
            throw .io(what: "cannot create the sandbox's state directory", path: path, errno: code)
        }
        return DetachedSandbox(directory: path)
    }

    /// A new directory in `registry` with a hidden name (not a sandbox name), holding the marker.
    private static func markedDirectory(in registry: String) throws(SandboxError) -> String {
        var template = Array((registry + "/.new-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .io(what: "cannot create a state directory in", path: registry, errno: errno) }
        let staging = String(cString: made)
        let marker = staging + "/" + markerName
        // A fresh mkdtemp directory: nobody else can have put anything (a link) in it.
        guard FileManager.default.createFile(atPath: marker, contents: Data(markerText.utf8), attributes: [.posixPermissions: 0o600]) else {
            let code = errno
            try? FileManager.default.removeItem(atPath: staging)
            throw .io(what: "cannot mark the sandbox's state directory", path: marker, errno: code)
        }
        return staging
    }

    /// The first free `sandbox-N`: no entry of that name, marked or not.
    public func freshName() -> String {
        var number = 1
        var status = stat()
        while lstat(directory + "/sandbox-\(number)", &status) == 0 { number += 1 }
        return "sandbox-\(number)"
    }

    /// Removes a sandbox's state directory, if it is still an entry ksand made; returns whether it did.
    @discardableResult
    public func remove(_ sandbox: DetachedSandbox) -> Bool {
        guard (sandbox.directory as NSString).deletingLastPathComponent == directory, SandboxRegistry.isValidName(sandbox.name),
              SandboxRegistry.whyNotAnEntry(sandbox.directory) == nil else { return false }
        return (try? FileManager.default.removeItem(atPath: sandbox.directory)) != nil
    }

    /// The marked entry called `name`, if there is one.
    private func entry(_ name: String) -> DetachedSandbox? {
        SandboxRegistry.whyNotAnEntry(directory + "/" + name) == nil ? DetachedSandbox(directory: directory + "/" + name) : nil
    }

    /// Checks the runtime directory and the registry when they exist: false when the registry does not.
    private func checkDirectories() throws(SandboxError) -> Bool {
        if let runtimeDirectory, try !OwnedDirectory(path: runtimeDirectory, role: .runtime).check() { return false }
        return try OwnedDirectory(path: directory, role: .registry).check()
    }

    /// Why the entry at `path` is not one ksand made, or nil when it is: a real directory owned by the caller,
    /// holding a marker file that is the caller's and says what ksand writes.
    static let missing = "it does not exist"

    static func whyNotAnEntry(_ path: String) -> String? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return missing }
        guard status.st_mode & S_IFMT == S_IFDIR else {
            return status.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "not a directory"
        }
        guard status.st_uid == getuid() else { return "owned by uid \(status.st_uid)" }
        let marker = path + "/" + markerName
        guard lstat(marker, &status) == 0 else { return "no \(markerName) marker" }
        guard status.st_mode & S_IFMT == S_IFREG, status.st_uid == getuid(), status.st_size < 4096,
              FileManager.default.contents(atPath: marker) == Data(markerText.utf8) else {
            return "its \(markerName) is not ksand's"
        }
        return nil
    }
}
