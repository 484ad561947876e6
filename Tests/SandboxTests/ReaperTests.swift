import Foundation
import Subprocess
import Testing
@testable import Sandbox

/// The reaper against real child processes: it must wait for a child still writing, and kill a stuck one promptly.
@Suite(.serialized) struct ReaperTests {
    static let policy = StopPolicy(stallWindow: .seconds(1), maxWait: .seconds(30), sampleInterval: .milliseconds(100))

    /// Runs `python3 -c script` through swift-subprocess (as ksand spawns QEMU), waits until it prints "ready"
    /// (its signal handlers are installed), then hands its pid to `body`. Returns how the child ended.
    static func withChild(_ script: String, _ body: @Sendable @escaping (pid_t) async -> StopReport) async throws -> (StopReport, TerminationStatus) {
        let result = try await Subprocess.run(
            .name("python3"), arguments: ["-u", "-c", script], input: .none, output: .sequence, error: .discarded
        ) { execution -> StopReport in
            var iterator = execution.standardOutput.strings().makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first == "ready")
            return await body(execution.processIdentifier.value)
        }
        return (result.closureResult, result.terminationStatus)
    }

    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ksand-reaper-\(UUID().uuidString)").path
    }

    @Test func aChildStillWritingAfterSIGTERMIsNotKilled() async throws {
        let file = Self.temporaryFile()
        defer { unlink(file) }
        // On SIGTERM it flushes 6 s of data (60 chunks of 64 KiB, one per 100 ms), then exits.
        let (report, status) = try await Self.withChild("""
            import os, signal, sys, time
            def flush(*_):
                with open('\(file)', 'wb') as f:
                    for i in range(60):
                        f.write(bytes([i]) * 65536); f.flush(); os.fsync(f.fileno()); time.sleep(0.1)
                sys.exit(0)
            signal.signal(signal.SIGTERM, flush)
            print('ready')
            while True: time.sleep(1)
            """) { pid in await Reaper.stop(pid: pid, policy: Self.policy) }
        #expect(report.endedBy == .sigterm, "\(report.log)")
        #expect(report.duration > .seconds(5))
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        #expect(size == 60 * 65536, "the file is incomplete: \(size) bytes")
        #expect(status == .exited(0))
    }

    @Test func aChildSpinningWithoutIOIsKilledAboutOneStallWindowLater() async throws {
        let (report, status) = try await Self.withChild("""
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print('ready')
            while True: pass
            """) { pid in await Reaper.stop(pid: pid, policy: Self.policy) }
        #expect(report.endedBy == .sigkill, "\(report.log)")
        #expect(!report.ioMovingWhenKilled)
        #expect(report.duration >= .seconds(1) && report.duration < .seconds(2.5), "\(report.duration)")
        #expect(status == .signaled(SIGKILL))
    }

    @Test func anIdleChildIgnoringSIGTERMIsKilledPromptly() async throws {
        let (report, status) = try await Self.withChild("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            print('ready')
            while True: time.sleep(10)
            """) { pid in await Reaper.stop(pid: pid, policy: Self.policy) }
        #expect(report.endedBy == .sigkill)
        #expect(report.duration < .seconds(2.5), "\(report.duration)")
        #expect(status == .signaled(SIGKILL))
    }

    @Test func aChildThatHonoursSIGTERMEndsThere() async throws {
        let (report, status) = try await Self.withChild("import time\nprint('ready')\nwhile True: time.sleep(1)") { pid in
            await Reaper.stop(pid: pid, policy: Self.policy)
        }
        #expect(report.endedBy == .sigterm)
        #expect(report.duration < .seconds(1))
        #expect(status == .signaled(SIGTERM))
    }

    @Test func askingFirstLetsTheProcessEndOnItsOwn() async throws {
        let (report, _) = try await Self.withChild("import time\nprint('ready')\nwhile True: time.sleep(1)") { pid in
            await Reaper.stop(pid: pid, policy: Self.policy, ask: {
                kill(pid, SIGINT)  // stands in for a power-off request
                return "SIGINT"
            })
        }
        #expect(report.endedBy == .ask, "\(report.log)")
    }

    @Test func aProcessAlreadyGoneIsReportedSo() async throws {
        let (report, _) = try await Self.withChild("print('ready')\nimport sys; sys.stdout.close()") { pid in
            // wait for the child to be gone before stopping it
            while ProcessProgress.sample(pid: pid) != nil { try? await Task.sleep(for: .milliseconds(10)) }
            return await Reaper.stop(pid: pid, policy: Self.policy)
        }
        #expect(report.endedBy == .alreadyGone)
    }
}
