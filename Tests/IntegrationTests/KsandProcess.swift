import Foundation
import Testing

/// Runs the built `ksand` binary as a user would, capturing stdout and stderr separately.
struct KsandProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var seconds: Double
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// The directory holding the built products (ksand, ksand-init): the test bundle's own.
    static var productsDirectory: String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = (me as NSString).deletingLastPathComponent
        while !directory.isEmpty && directory != "/" {
            if FileManager.default.isExecutableFile(atPath: directory + "/ksand") { return directory }
            directory = (directory as NSString).deletingLastPathComponent
        }
        return (me as NSString).deletingLastPathComponent
    }

    static var binary: String { productsDirectory + "/ksand" }

    /// The repository's root, where ksand.toml names the default sandbox kernel's inputs.
    static var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A unique kernel argument that marks this run's QEMU in the process table.
    static func marker() -> String { "ksand.test=\(UUID().uuidString.prefix(8))" }

    /// Runs `ksand ARGS`, feeding `stdin` (or /dev/null), with a hard limit so a hang fails the test.
    static func run(
        _ arguments: [String], stdin: FileHandle? = nil, limit: Double = 120, environment: [String: String] = [:],
        directory: String? = nil, duringRun: ((Process) -> Void)? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin ?? FileHandle.nullDevice
        let started = Date()
        try process.run()
        let stdoutData = Collected(), stderrData = Collected()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, stdoutData), (err, stderrData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.data = pipe.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
        }
        duringRun?(process)
        if group.wait(timeout: .now() + limit) == .timedOut {
            process.terminate()
            Issue.record("ksand \(arguments.joined(separator: " ")) still running after \(limit)s")
        }
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: stdoutData.data, stderr: String(decoding: stderrData.data, as: UTF8.self),
            seconds: Date().timeIntervalSince(started))
    }

    /// QEMU processes whose command line contains `marker` (left behind if ksand failed to reap them).
    static func qemuProcesses(containing marker: String) -> [Int32] {
        processes { $0.contains("qemu") && $0.contains(marker) }
    }

    /// Processes whose command line contains `text`.
    static func processes(containing text: String) -> [Int32] {
        processes { $0.contains(text) }
    }

    private static func processes(where matches: (String) -> Bool) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
            return matches(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Bytes read on another thread; read only after the reader has finished.
final class Collected: @unchecked Sendable {
    var data = Data()
}
