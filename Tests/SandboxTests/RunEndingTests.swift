import Testing
@testable import Sandbox

@Suite struct RunEndingTests {
    @Test func anExitBeforeAnyStopIsTheCommandsWhateverFollows() throws {
        let ending = RunEnding(exit: .exited(3), exitArrivedFirst: true, stopReason: .timeout, panicReason: "late panic",
                               protocolError: "garbage after the exit")
        #expect(try ending.outcome() == .completed(.exited(3)))
        #expect(try RunEnding(exit: .signaled(9)).outcome() == .completed(.signaled(9)))
    }

    @Test func anExitThatArrivedDuringAStopIsTheStops() throws {
        #expect(try RunEnding(exit: .exited(143), stopReason: .timeout, timeoutSeconds: 5).outcome() == .timedOut(seconds: 5))
        #expect(try RunEnding(exit: .exited(143), stopReason: .interrupt).outcome() == .interrupted)
    }

    @Test func aPanicIsNamedBeforeAStopOrABrokenChannel() throws {
        let ending = RunEnding(stopReason: .protocolError, panicReason: "Attempted to kill init!", protocolError: "bad frame")
        #expect(try ending.outcome() == .guestPanic("Attempted to kill init!"))
        #expect(try RunEnding(stopReason: .timeout, panicReason: "x").outcome() == .guestPanic("x"))
    }

    @Test func theInitsOwnFailureComesBeforeTheProtocolError() throws {
        let ending = RunEnding(stopReason: .protocolError, initFailure: "mount /: EIO", protocolError: "frame after the end")
        #expect(try ending.outcome() == .bootFailed("the guest init failed: mount /: EIO"))
    }

    @Test func aProtocolErrorIsItsOwnOutcome() throws {
        let ending = RunEnding(stopReason: .protocolError, protocolError: "command channel: unknown frame kind 0x7f", sawHello: true)
        #expect(try ending.outcome() == .protocolError("command channel: unknown frame kind 0x7f"))
        #expect(SandboxExitCode.status(for: try ending.outcome()) == 122)
        // A protocol error seen only as the channel closed (no stop was needed: the guest was already gone).
        #expect(try RunEnding(protocolError: "truncated frame").outcome() == .protocolError("truncated frame"))
    }

    @Test func qemuFailingBeforeAnyConsoleLineIsAHostError() {
        let ending = RunEnding(consoleEmpty: true, qemuExitCode: 1, qemuStderr: "qemu: could not load kernel\n")
        #expect { try ending.outcome() } throws: { error in
            guard case SandboxError.qemuFailed(let status, let stderr) = error else { return false }
            return status == "exit status 1" && stderr == "qemu: could not load kernel"
        }
    }

    @Test func aVMThatStoppedEarlySaysHowFarItGot() throws {
        let early = try RunEnding(qemuTermination: "exited(0)").outcome()
        #expect(early == .bootFailed("the VM stopped before the guest init started (QEMU exited(0))"))
        let inInit = try RunEnding(qemuTermination: "exited(0)", initStarted: true).outcome()
        guard case .bootFailed(let reason) = inInit else { Issue.record("not a boot failure: \(inInit)"); return }
        #expect(reason.contains("before it reached the command channel"))
    }

    @Test func aKernelThatHaltedBeforeTheExitIsABootFailureNamingTheLine() throws {
        let halted = try RunEnding(qemuTermination: "unhandled(15)", sawHello: true, initStarted: true,
                                   kernelEndLine: "reboot: System halted").outcome()
        #expect(halted == .bootFailed(
            "the VM stopped after the init started, before the command ended (the kernel printed \"reboot: System halted\"; QEMU unhandled(15))"))
        // The same halt after the exit status: the command's result.
        let afterExit = RunEnding(exit: .exited(0), sawHello: true, initStarted: true, kernelEndLine: "reboot: System halted")
        #expect(try afterExit.outcome() == .completed(.exited(0)))
    }

    @Test func aTimeoutAndAnInterruptWithoutAnExitAreTheirOwnOutcomes() throws {
        #expect(try RunEnding(stopReason: .timeout, sawHello: true, timeoutSeconds: 30).outcome() == .timedOut(seconds: 30))
        #expect(try RunEnding(stopReason: .interrupt, protocolError: "truncated frame").outcome() == .interrupted)
        // QEMU died mid-run (a signal from outside): the console got lines, so this is a result, not a host error.
        let died = try RunEnding(qemuTermination: "unhandled(9)", sawHello: true, initStarted: true).outcome()
        #expect(died == .bootFailed("the VM stopped after the init started, before the command ended (QEMU unhandled(9))"))
    }
}

@Suite struct RunControlTests {
    final class Calls: @unchecked Sendable {
        var kinds: [RunControl.StopKind] = []
    }

    @Test func aStopAfterTheExitIsPromptAndHappensOnce() {
        let control = RunControl(), calls = Calls()
        control.attach { _, kind in calls.kinds.append(kind) }
        control.markExit()
        control.requestStop(.interrupt)
        control.requestStop(.timeout)
        #expect(calls.kinds == [.prompt])
        #expect(control.exitArrivedFirst)
    }

    @Test func aStopBeforeTheExitIsGracefulAndAnExitDuringItHurriesAFurtherStop() {
        let control = RunControl(), calls = Calls()
        control.attach { _, kind in calls.kinds.append(kind) }
        control.requestStop(.timeout)
        control.requestStop(.interrupt)
        #expect(calls.kinds == [.graceful])
        control.markExit()
        control.requestStop(.interrupt)
        #expect(calls.kinds == [.graceful, .prompt])
        #expect(!control.exitArrivedFirst)
        #expect(control.stopReason == .timeout)
    }

    @Test func aStopAskedBeforeTheRunStartsBeginsWhenItDoes() {
        let control = RunControl(), calls = Calls()
        control.interrupt()
        control.attach { _, kind in calls.kinds.append(kind) }
        #expect(calls.kinds == [.graceful])
    }
}
