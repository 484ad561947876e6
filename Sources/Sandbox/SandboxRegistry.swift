import Foundation

/// Where detached sandboxes keep their state: `<runtime directory>/sandboxes/<name>/`, one directory each.
public struct SandboxRegistry: Sendable {
    public let directory: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        directory = RuntimeDirectory.base(environment: environment) + "/sandboxes"
    }

    public init(directory: String) { self.directory = directory }

    /// The longest name: the state directory holds unix sockets, whose paths must stay under 108 bytes.
    public static let maxNameLength = 40

    /// A name is a file name: letters, digits, `.`, `_` and `-`, starting with a letter or digit, 40 at most.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= maxNameLength else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        return CharacterSet.alphanumerics.contains(first) && name.unicodeScalars.allSatisfy { $0.isASCII && allowed.contains($0) }
    }

    public func sandbox(named name: String) -> DetachedSandbox? {
        let path = directory + "/" + name
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        return DetachedSandbox(directory: path)
    }

    /// What is wrong with `name`, for an error message.
    public static func nameRule(_ name: String) -> String {
        "--name \(name): use letters, digits, '.', '_' and '-' (\(maxNameLength) at most), starting with a letter or digit"
    }

    /// Every entry, by name.
    public func all() -> [DetachedSandbox] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().compactMap { sandbox(named: $0) }
    }

    /// Claims `name` for a new sandbox: an entry that ended (or is stale) is replaced, a live one is an error.
    public func create(named name: String) throws(SandboxError) -> DetachedSandbox {
        guard SandboxRegistry.isValidName(name) else {
            throw .invalidOption(SandboxRegistry.nameRule(name))
        }
        if let existing = sandbox(named: name) {
            let state = existing.state
            if state.isActive {
                throw .invalidOption("a sandbox named \(name) is \(state.label); stop it with `ksand stop \(name)` or choose another --name")
            }
            remove(existing)
        }
        mkdir(RuntimeDirectory.base(), 0o700)
        mkdir(directory, 0o700)
        let path = directory + "/" + name
        // mkdir is the claim: of two starts racing for one name, one gets EEXIST.
        guard mkdir(path, 0o700) == 0 else {
            let code = errno
            if code == EEXIST { throw .invalidOption("a sandbox named \(name) is being started; choose another --name") }
            throw .io(what: "cannot create the sandbox's state directory", path: path, errno: code)
        }
        return DetachedSandbox(directory: path)
    }

    /// The first free `sandbox-N`.
    public func freshName() -> String {
        var number = 1
        while sandbox(named: "sandbox-\(number)") != nil { number += 1 }
        return "sandbox-\(number)"
    }

    public func remove(_ sandbox: DetachedSandbox) {
        try? FileManager.default.removeItem(atPath: sandbox.directory)
    }
}
