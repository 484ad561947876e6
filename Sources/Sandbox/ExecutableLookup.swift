import Foundation

/// Finds programs and ksand's own companion files.
public enum ExecutableLookup {
    /// `name` if it has a slash and is executable, else the first executable `name` in PATH.
    public static func find(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The running executable's path (/proc/self/exe).
    public static var currentExecutable: String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    /// The guest init binary: `$KSAND_INIT`, else `ksand-init` beside the running executable.
    public static func guestInit(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SandboxError) -> String {
        var searched: [String] = []
        if let explicit = environment["KSAND_INIT"], !explicit.isEmpty {
            if access(explicit, R_OK) == 0 { return explicit }
            searched.append(explicit + " (KSAND_INIT)")
        }
        if let me = currentExecutable {
            let beside = (me as NSString).deletingLastPathComponent + "/ksand-init"
            if access(beside, R_OK) == 0 { return beside }
            searched.append(beside)
        }
        throw .initMissing(searched: searched)
    }
}
