import Foundation

/// The caller's private directory for the sockets of running sandboxes: `$KSAND_RUNTIME_DIR`,
/// `$XDG_RUNTIME_DIR/ksand` or `/tmp/ksand-UID`. It must be the caller's own (see ``OwnedDirectory``); each run
/// gets a `run-XXXXXX` directory in it, detached sandboxes their state directories under `sandboxes/`.
public enum RuntimeDirectory {
    /// The path, created or not.
    public static func base(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["KSAND_RUNTIME_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/ksand" }
        return "/tmp/ksand-\(getuid())"
    }

    /// The directory, created with mode 0700 if missing; refused unless it is the caller's own.
    @discardableResult
    public static func prepare(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SandboxError) -> String {
        let base = base(environment: environment)
        try OwnedDirectory(path: base, role: .runtime).prepare()
        return base
    }

    static func create() throws(SandboxError) -> String {
        let base = try prepare()
        var template = Array((base + "/run-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .io(what: "cannot create run directory in", path: base, errno: errno) }
        return String(cString: made)
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
