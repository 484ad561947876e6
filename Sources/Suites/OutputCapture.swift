import Foundation
import Glibc
import HostProcess

/// Files that receive a run's stdout and stderr, read back once the sandbox is gone. Files, not pipes: a
/// command that writes megabytes never blocks on a reader.
struct OutputCapture {
    let directory: String
    let stdout: Int32
    let stderr: Int32

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/ksand-test-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CaptureError(reason: String(cString: strerror(errno))) }
        directory = String(cString: made)
        stdout = open(directory + "/stdout", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        stderr = open(directory + "/stderr", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard stdout >= 0, stderr >= 0 else { throw CaptureError(reason: String(cString: strerror(errno))) }
    }

    /// How much of each stream is read back for the expectations and reports; a command may print without end.
    static let readLimit = 16 << 20

    func read() -> (String, String) {
        let text = { (name: String) -> String in
            guard let handle = FileHandle(forReadingAtPath: directory + "/" + name) else { return "" }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: OutputCapture.readLimit)) ?? nil
            let size = (try? handle.seekToEnd()) ?? 0
            let text = String(decoding: data ?? Data(), as: UTF8.self)
            let rest = size > UInt64(OutputCapture.readLimit) ? size - UInt64(OutputCapture.readLimit) : 0
            return rest > 0 ? text + "\n[ksand: \(rest) more bytes of \(name) were not read]" : text
        }
        return (text("stdout"), text("stderr"))
    }

    func remove() {
        close(stdout)
        close(stderr)
        try? FileManager.default.removeItem(atPath: directory)
    }

    struct CaptureError: Error, CustomStringConvertible {
        var reason: String
        var description: String { "cannot create files for the test's output: \(reason)" }
    }
}

/// A `host-after` step: a shell command run on the host once the sandbox is gone, in ksand's process group (a
/// Ctrl-C at the terminal stops it too), with /dev/null for its input.
enum HostStep {
    /// nil when the step exited 0; otherwise its status and output.
    static func run(_ command: String) async -> String? {
        let result: HostCommand.Captured
        do { result = try await HostCommand("/bin/sh", ["-c", command]).capture() } catch { return "cannot run /bin/sh: \(error.reason)" }
        guard result.status != 0 else { return nil }
        let shown = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return "status \(result.status)" + (shown.isEmpty ? "" : ": \(shown.prefix(300))")
    }
}
