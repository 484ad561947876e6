import Foundation
import Subprocess
import Testing

extension SerializedIntegrationTests {
/// Real VMs whose init is hostile (HostileInit/hostile-init.c in place of ksand-init): ksand must end each with its
/// documented status and message, leave no QEMU and no run directory behind, and keep its memory bounded, on
/// every backend.
@Suite struct HostileGuestTests {
    struct Run {
        var result: KsandProcess.Result
        /// ksand's peak resident memory during the run, and at its fifth second, in KiB.
        var peakRSS: Int
        var rssAtFiveSeconds: Int?
    }

    /// The hostile init, built static once per test process.
    static let hostileInit = Task<String, Never> {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("HostileInit/hostile-init.c").path
        let output = NSTemporaryDirectory() + "ksand-hostile-init-\(getpid())"
        _ = try? await Subprocess.run(
            .path("/usr/bin/gcc"), arguments: ["-static", "-Os", "-Wall", "-o", output, source],
            output: .currentStandardOutput, error: .currentStandardError)
        return output
    }

    /// `ksand run` of the built sandbox kernel with the hostile init in `mode`; `interruptAfter` sends SIGINT.
    func run(_ mode: String, backend: String, options: [String] = [], limit: Double = 90, interruptAfter: Double? = nil) async throws -> Run {
        let hostileInit = await Self.hostileInit.value
        #expect(FileManager.default.isExecutableFile(atPath: hostileInit), "gcc -static could not build the hostile init")
        let marker = KsandProcess.marker()
        let runtime = NSTemporaryDirectory() + "ksand-hostile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        var peak = 0, atFive: Int?
        let result = try await KsandProcess.run(
            ["run", "--kernel", "built", "--accel", "tcg"] + KsandProcess.backendOptions(backend) + ["--append", "ksand.hostile=" + mode]
                + KsandProcess.markerOptions(marker, backend: backend) + options + ["--", "true"],
            limit: limit, environment: ["KSAND_INIT": hostileInit, "KSAND_RUNTIME_DIR": runtime], directory: KsandProcess.repository, marker: marker
        ) { process in
            let started = Date()
            var interrupted = false
            while process.isRunning {
                let rss = Self.residentKiB(of: process.processIdentifier)
                peak = max(peak, rss)
                let elapsed = Date().timeIntervalSince(started)
                if atFive == nil && elapsed >= 5 { atFive = rss }
                if let interruptAfter, !interrupted, elapsed >= interruptAfter {
                    process.send(.interrupt)
                    interrupted = true
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty, "a QEMU process was left behind")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: runtime)) ?? []
        #expect(left.isEmpty, "the run left \(left) in its runtime directory")
        return Run(result: result, peakRSS: peak, rssAtFiveSeconds: atFive)
    }

    static func residentKiB(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ")[1]) ?? 0
    }

    @Test(arguments: KsandProcess.backends, [
        ("huge-length", "exceeds"),
        ("unknown-kind", "unknown frame kind 0x7f"),
        ("truncated", "truncated frame"),
        ("bad-exit", "out-of-range signal 2147483647"),
        ("hello-flood", "second hello"),
    ])
    func aProtocolErrorStopsTheVMWithItsOwnStatus(backend: String, error: (mode: String, message: String)) async throws {
        let (mode, message) = error
        let run = try await run(mode, backend: backend)
        #expect(run.result.status == 122, "stderr: \(run.result.stderr)")
        #expect(run.result.stderr.contains("the guest broke the command channel's protocol"), "stderr: \(run.result.stderr)")
        #expect(run.result.stderr.contains(message), "stderr: \(run.result.stderr)")
        #expect(run.result.seconds < 30, "took \(run.result.seconds)s")
    }

    @Test(arguments: KsandProcess.backends) func anEndlessOutputStreamEndsAtTheTimeout(backend: String) async throws {
        let run = try await run("stdout-flood", backend: backend, options: ["--timeout", "6", "--stall", "1", "--max-wait", "3"])
        #expect(run.result.status == 124, "stderr: \(run.result.stderr)")
        #expect(run.result.stdout.count > 4096)
        #expect(run.result.stdout.allSatisfy { $0 == UInt8(ascii: "y") })
        #expect(run.result.seconds < 20, "took \(run.result.seconds)s")
    }

    /// A console flood keeps ksand's memory flat and its log at the size limit.
    @Test(arguments: KsandProcess.backends) func aConsoleFloodKeepsMemoryFlatAndTheLogCapped(backend: String) async throws {
        let log = NSTemporaryDirectory() + "ksand-flood-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let run = try await run("console-flood", backend: backend, options: [
            "--timeout", "20", "--stall", "1", "--max-wait", "3", "--console-log", log, "--console-log-limit", "1M",
        ])
        #expect(run.result.status == 124, "stderr: \(run.result.stderr)")
        let size = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
        #expect(size > 1 << 20 && size < (1 << 20) + 512, "console log of \(size) bytes")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.hasSuffix("more bytes were not written (--console-log-limit)]\n"))
        #expect(run.peakRSS < 200 * 1024, "peak RSS \(run.peakRSS) KiB")
        if let early = run.rssAtFiveSeconds { #expect(run.peakRSS - early < 48 * 1024, "RSS grew from \(early) to \(run.peakRSS) KiB") }
        print("console flood: peak RSS \(run.peakRSS) KiB, at 5 s \(run.rssAtFiveSeconds ?? 0) KiB, \(run.result.seconds) s")
    }

    /// After the exit status a guest that keeps its I/O moving cannot hold ksand: Ctrl-C and --timeout end it
    /// at once, and the command's status stands.
    @Test(arguments: KsandProcess.backends) func ctrlCAfterTheExitStopsAGuestThatKeepsWriting(backend: String) async throws {
        let run = try await run("exit-then-flood", backend: backend, interruptAfter: 10)
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        #expect(run.result.seconds < 16, "took \(run.result.seconds)s")
    }

    @Test(arguments: KsandProcess.backends) func aTimeoutAfterTheExitStopsAGuestThatKeepsWriting(backend: String) async throws {
        let run = try await run("exit-then-flood", backend: backend, options: ["--timeout", "10"])
        #expect(run.result.status == 0, "stderr: \(run.result.stderr)")
        #expect(run.result.seconds < 16, "took \(run.result.seconds)s")
    }

    /// The init's failure message is shown escaped, and an init that does not power off after it is reaped.
    @Test(arguments: KsandProcess.backends) func theInitsMessageReachesTheTerminalWithoutControlSequences(backend: String) async throws {
        let run = try await run("escape-failure", backend: backend, options: ["--stall", "1"])
        #expect(run.result.seconds < 20, "took \(run.result.seconds)s")
        #expect(run.result.status == 121, "stderr: \(run.result.stderr)")
        #expect(run.result.stderr.contains("\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred"), "stderr: \(run.result.stderr)")
        #expect(!run.result.stderr.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b })
    }
}
}
