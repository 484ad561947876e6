import Foundation
import Subprocess
import Testing

/// `ksand stop --pid`: the reaper from the command line, on real processes.
@Suite struct StopCommandTests {
    /// Runs `python3 -c program`, waits until it prints "ready" (its signal disposition is in place), then hands
    /// its pid to `body`. Returns what `body` returned and how the child ended.
    func withChild<Result: Sendable>(
        _ program: String, _ body: (Int32) async throws -> Result
    ) async throws -> (Result, TerminationStatus) {
        let run = try await Subprocess.run(
            .name("python3"), arguments: ["-c", program], input: .none, output: .sequence, error: .currentStandardError
        ) { execution in
            var lines = execution.standardOutput.strings().makeAsyncIterator()
            _ = try await lines.next()
            return try await body(execution.processIdentifier.value)
        }
        return (run.closureResult, run.terminationStatus)
    }

    @Test func aSpinningProcessIgnoringSIGTERMIsKilledOnceItsIOStalls() async throws {
        let (result, spinner) = try await withChild(
            "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\nwhile True: pass"
        ) { pid in
            try await KsandProcess.run(["stop", "--pid", String(pid), "--stall", "1", "-v"], limit: 30)
        }
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(spinner == .signaled(SIGKILL))
        #expect(result.stderr.contains("sending SIGTERM"))
        #expect(result.stderr.contains("stopped by SIGKILL after 1."), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("(I/O had stalled)"))
    }

    @Test func aMissingProcessIsAnErrorNamingIt() async throws {
        let result = try await KsandProcess.run(["stop", "--pid", "999999999"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no running process 999999999"))
    }
}
