import Foundation

/// Whole files written so that a reader, in this process or another, sees the old contents or the new, never half:
/// cache artifacts (the unpacked kernel, probe verdicts) and a detached sandbox's record, result and stop request.
public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`. On failure nothing is left
    /// behind but what was at `path` before.
    public static func write(_ bytes: some Sequence<UInt8>, to path: String) throws(SandboxError) {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            let code = errno
            unlink(temporary)
            throw .io(what: "cannot write", path: temporary, errno: code == 0 ? EIO : code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .io(what: "cannot move into place", path: path, errno: code)
        }
    }
}
