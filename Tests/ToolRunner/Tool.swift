import Foundation

/// What a finished tool run left: its exit status and what it wrote.
public struct ToolRun: Sendable {
    public var status: Int32
    /// Standard output; with `mergingStandardError`, both streams as they interleaved.
    public var stdout: Data
    public var stderr: Data

    public var text: String { String(decoding: stdout, as: UTF8.self) }
    public var errorText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs the real tools tests compare against (cpio, zstd, make, tar, merge_config.sh, …).
public enum Tool {
    /// Runs `executable` (a path, or a name looked up on PATH) with `arguments` until it exits. Both streams are
    /// read at once, so a tool filling one of them cannot stall on the other.
    public static func run(
        _ executable: String, _ arguments: [String], in directory: URL? = nil, mergingStandardError: Bool = false
    ) throws -> ToolRun {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = mergingStandardError ? out : err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let collected = Streams()
        let group = DispatchGroup()
        for (pipe, isOutput) in mergingStandardError ? [(out, true)] : [(out, true), (err, false)] {
            group.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.set(data, isOutput: isOutput)
                group.leave()
            }
        }
        group.wait()
        process.waitUntilExit()
        return ToolRun(status: process.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
    }

    private final class Streams: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data(), err = Data()
        func set(_ data: Data, isOutput: Bool) { lock.withLock { if isOutput { out = data } else { err = data } } }
        var stdout: Data { lock.withLock { out } }
        var stderr: Data { lock.withLock { err } }
    }
}
