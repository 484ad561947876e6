import Foundation
import Testing

/// `ksand stop --pid`: the reaper from the command line, on real processes.
@Suite struct StopCommandTests {
    func child(_ program: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", program]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // wait for "ready": the signal disposition is in place
        _ = out.fileHandleForReading.availableData
        return process
    }

    @Test func aSpinningProcessIgnoringSIGTERMIsKilledOnceItsIOStalls() throws {
        let spinner = try child("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\nwhile True: pass")
        defer { if spinner.isRunning { kill(spinner.processIdentifier, SIGKILL) } }
        let result = try KsandProcess.run(["stop", "--pid", String(spinner.processIdentifier), "--stall", "1", "-v"], limit: 30)
        spinner.waitUntilExit()
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(spinner.terminationReason == .uncaughtSignal && spinner.terminationStatus == SIGKILL)
        #expect(result.stderr.contains("sending SIGTERM"))
        #expect(result.stderr.contains("stopped by SIGKILL after 1."), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("(I/O had stalled)"))
    }

    @Test func aMissingProcessIsAnErrorNamingIt() throws {
        let result = try KsandProcess.run(["stop", "--pid", "999999999"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no running process 999999999"))
    }
}
