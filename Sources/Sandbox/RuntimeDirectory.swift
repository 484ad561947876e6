import Foundation

/// A private directory per run for its sockets: `$KSAND_RUNTIME_DIR`, `$XDG_RUNTIME_DIR/ksand` or `/tmp/ksand-UID`.
enum RuntimeDirectory {
    static func base(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["KSAND_RUNTIME_DIR"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty { return xdg + "/ksand" }
        return "/tmp/ksand-\(getuid())"
    }

    static func create() throws(SandboxError) -> String {
        let base = base()
        mkdir(base, 0o700)
        var template = Array((base + "/run-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .io(what: "cannot create run directory in", path: base, errno: errno) }
        return String(cString: made)
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
