import Foundation
import Subprocess
import SystemPackage
import Testing

/// Runs the built `ksand` binary as a user would, capturing stdout and stderr separately.
struct KsandProcess {
    struct Result {
        /// The exit status; 128 + the signal's number if a signal ended it.
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

    /// Each backend boots the same sandboxes: direct QEMU starting from the snapshot of its machine's boot (the
    /// default), direct QEMU booting (`qemu-cold`: `--cold`), and libvirt (by default its embedded driver: no daemon).
    static let backends = ["qemu", "qemu-cold", "libvirt"]

    /// The `ksand run` options that select `backend` (one of ``backends``).
    static func backendOptions(_ backend: String) -> [String] {
        backend == "qemu-cold" ? ["--backend", "qemu", "--cold"] : ["--backend", backend]
    }

    /// A unique text that marks this run's QEMU in the process table (see ``markerOptions(_:backend:)``).
    static func marker() -> String { "ksand.test=\(UUID().uuidString.prefix(8))" }

    /// How a run's QEMU carries `marker`: direct QEMU inherits ksand's environment (``run`` puts the marker there),
    /// so the kernel command line, which is part of a snapshot's key, stays the same from run to run; libvirt starts
    /// QEMU with an environment of its own, so there the marker is a kernel argument.
    static func markerOptions(_ marker: String, backend: String) -> [String] {
        backend == "libvirt" ? ["--append", marker] : []
    }

    /// The environment variable ``run`` sets to its `marker`.
    static let markerVariable = "KSAND_TEST_MARKER"

    /// A ksand still running, for a test that watches or signals it meanwhile.
    struct Running: Sendable {
        fileprivate let execution: Execution<FileDescriptorInput, SequenceOutput, SequenceOutput>

        var processIdentifier: Int32 { execution.processIdentifier.value }

        /// Whether it has not exited yet. It is reaped only once ``KsandProcess/run`` returns, so until then its
        /// process ID stays its own (a zombie once it has exited).
        var isRunning: Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(processIdentifier)/stat", encoding: .utf8),
                  let command = stat.range(of: ") ", options: .backwards) else { return false }
            return !stat[command.upperBound...].hasPrefix("Z")
        }

        func send(_ signal: Signal) { try? execution.send(signal: signal) }
    }

    /// Runs `ksand ARGS`, feeding `stdin` (or /dev/null), with a hard limit so a hang fails the test. `duringRun`
    /// is called once it has started, while its output is being read; the limit counts from its return.
    static func run(
        _ arguments: [String], stdin: FileHandle? = nil, limit: Double = 120, environment: [String: String] = [:],
        directory: String? = nil, marker: String? = nil, duringRun: ((Running) async -> Void)? = nil
    ) async throws -> Result {
        var updates: [Environment.Key: String?] = [:]
        if let marker { updates[Environment.Key(stringLiteral: markerVariable)] = marker }
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        let input = try stdin.map { FileDescriptor(rawValue: $0.fileDescriptor) } ?? FileDescriptor.open("/dev/null", .readOnly)
        defer { if stdin == nil { try? input.close() } }
        let started = Date()
        let run = try await Subprocess.run(
            .path(FilePath(binary)), arguments: Arguments(arguments), environment: .inherit.updating(updates),
            workingDirectory: directory.map { FilePath($0) }, input: .fileDescriptor(input, closeAfterSpawningProcess: false),
            output: .sequence, error: .sequence
        ) { execution in
            await withTaskGroup(of: Piece.self) { group in
                group.addTask { .stdout(await bytes(of: execution.standardOutput)) }
                group.addTask { .stderr(await bytes(of: execution.standardError)) }
                await duringRun?(Running(execution: execution))
                group.addTask { (try? await Task.sleep(for: .seconds(limit))) == nil ? .cancelled : .limitReached }
                var stdout: [UInt8]?, stderr: [UInt8]?
                while stdout == nil || stderr == nil, let piece = await group.next() {
                    switch piece {
                    case .stdout(let bytes): stdout = bytes
                    case .stderr(let bytes): stderr = bytes
                    case .limitReached:
                        try? execution.send(signal: .terminate)
                        Issue.record("ksand \(arguments.joined(separator: " ")) still running after \(limit)s")
                    case .cancelled: break
                    }
                }
                group.cancelAll()
                return (stdout: stdout ?? [], stderr: stderr ?? [])
            }
        }
        let status: Int32 = switch run.terminationStatus {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
        return Result(
            status: status, stdout: Data(run.closureResult.stdout), stderr: String(decoding: run.closureResult.stderr, as: UTF8.self),
            seconds: Date().timeIntervalSince(started))
    }

    private enum Piece: Sendable {
        case stdout([UInt8]), stderr([UInt8]), limitReached, cancelled
    }

    private static func bytes(of stream: SubprocessOutputSequence) async -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            for try await chunk in stream { chunk.withUnsafeBytes { bytes += $0 } }
        } catch {}
        return bytes
    }

    /// QEMU processes whose command line contains `marker` (left behind if ksand failed to reap them).
    static func qemuProcesses(containing marker: String) -> [Int32] {
        processes { $0.split(separator: "\0", maxSplits: 1).first?.contains("qemu-system") == true && $0.contains(marker) }
    }

    /// Processes whose command line (or, for `marker`s, environment) contains `text`.
    static func processes(containing text: String) -> [Int32] {
        processes { $0.contains(text) }
    }

    /// Matches a process's command line followed by its environment (both NUL-separated).
    private static func processes(where matches: (String) -> Bool) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return false }
            let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") ?? Data()
            return matches(String(decoding: data + [0] + environment, as: UTF8.self))
        }
    }
}
