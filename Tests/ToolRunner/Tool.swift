import Foundation
import Subprocess
import SystemPackage

/// What a finished tool run left: its exit status and what it wrote.
public struct ToolRun: Sendable {
    /// The exit status; 128 + the signal's number for a tool a signal ended.
    public var status: Int32
    /// Standard output; with `mergingStandardError`, both streams as they interleaved.
    public var stdout: Data
    public var stderr: Data

    public var text: String { String(decoding: stdout, as: UTF8.self) }
    public var errorText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs the real tools tests compare against (cpio, zstd, make, tar, merge_config.sh, …).
public enum Tool {
    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` until it exits, its standard input
    /// on /dev/null. Both streams are read at once, so a tool filling one of them cannot stall on the other.
    public static func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, mergingStandardError: Bool = false
    ) async throws -> ToolRun {
        let configuration = Configuration(
            executable: executable.contains("/") ? .path(FilePath(executable)) : .name(executable),
            arguments: Arguments(arguments), workingDirectory: directory.map { FilePath($0.path) })
        if mergingStandardError {
            let result = try await Subprocess.run(configuration, input: .none, output: .bytes(limit: .max), error: .combinedWithOutput)
            return ToolRun(status: status(result.terminationStatus), stdout: Data(result.standardOutput), stderr: Data())
        }
        let result = try await Subprocess.run(configuration, input: .none, output: .bytes(limit: .max), error: .bytes(limit: .max))
        return ToolRun(status: status(result.terminationStatus), stdout: Data(result.standardOutput), stderr: Data(result.standardError))
    }

    private static func status(_ termination: TerminationStatus) -> Int32 {
        switch termination {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }
}
