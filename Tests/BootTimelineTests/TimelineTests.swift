import Foundation
import Testing
@testable import BootTimeline

@Suite struct ConsoleLineTests {
    @Test func splitsPrintkTimestamps() {
        let line = ConsoleLine(raw: Array("[    2.530751] Kernel Offset: disabled\r\n".utf8), hostSeconds: 3)
        #expect(line.kernelSeconds == 2.530751)
        #expect(line.text == "Kernel Offset: disabled")
        let plain = ConsoleLine(raw: Array("Probing EDD (edd=off to disable)... ok\n".utf8), hostSeconds: 0.1)
        #expect(plain.kernelSeconds == nil)
        #expect(plain.text == "Probing EDD (edd=off to disable)... ok")
    }

    /// Found by fuzzing (Fuzz/regressions/console): `[1.0e300]` parsed as a printk time, and a timeline built on it
    /// trapped where the reports turn seconds into whole milliseconds. Only what the kernel prints is a timestamp.
    @Test func onlyKernelShapedTimestampsAreTimes() {
        for text in ["[1.0e300] ksand: init-start", "[nan.0] x", "[ inf.] x", "[999999999999.0] x", "[1.] x", "[.5] x", "[+1.5] x"] {
            let line = ConsoleLine(raw: Array(text.utf8), hostSeconds: 0)
            #expect(line.kernelSeconds == nil, "\(text)")
            #expect(line.text == text)
        }
        #expect(ConsoleLine(raw: Array("[18446744073.709551] late".utf8), hostSeconds: 0).kernelSeconds == 18446744073.709551)
        #expect(ConsoleLine(raw: Array("[ 0.5 ] spaced".utf8), hostSeconds: 0).kernelSeconds == 0.5)
        let lines = ["[1.0e300] ksand: init-start", "[    1.000000] ksand: command-start"].map { ConsoleLine(raw: Array($0.utf8), hostSeconds: 1) }
        #expect(TimelineTable.render(Timeline.compute(lines: lines, exitedAtHostSeconds: 2)).contains("total        2000 ms"))
    }

    @Test func recognisesEvents() {
        #expect(BootEvent.recognise("Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)") == .kernelStart)
        #expect(BootEvent.recognise("ksand: command-exit status=7") == .marker(name: "command-exit", detail: "status=7"))
        #expect(BootEvent.recognise("reboot: Power down") == .powerOff)
        #expect(BootEvent.recognise("Kernel panic - not syncing: sysrq triggered crash") == .panic(reason: "sysrq triggered crash"))
        #expect(BootEvent.recognise("md: stopping all md devices.") == nil)
    }
}

@Suite struct TimelineFixtureTests {
    /// A real boot of Debian's 6.1 kernel under TCG with no initramfs: it panics when it finds no root.
    @Test func panicWithoutRoot() throws {
        let fixture = try ConsoleFixture(named: "panic-no-root.log")
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        #expect(timeline.panicReason == "VFS: Unable to mount root fs on unknown-block(0,0)")
        #expect(abs(try #require(timeline.phases[.vmm]) - 0.894460) < 0.001)
        #expect(timeline.phases[.kernel] == nil)
        #expect(timeline.phases[.command] == nil)
        #expect(timeline.phases[.total] == 3.565721)
        #expect(try #require(timeline.phases[.teardown]) < 0.05)
    }

    /// The same log cut off mid-line, as when QEMU is killed: what arrived still yields its phases.
    @Test func truncatedLogKeepsWhatArrived() throws {
        let bytes = try ConsoleFixture.rawBytes(named: "panic-no-root.log")
        let cut = try ConsoleFixture(bytes: Array(bytes.prefix(bytes.count / 2 + 17)))
        let timeline = Timeline.compute(lines: cut.lines, exitedAtHostSeconds: nil)
        #expect(timeline.phases[.vmm] != nil)
        #expect(timeline.panicReason == nil)
        #expect(timeline.phases[.total] == nil)
    }

    /// Serial noise — invalid UTF-8, carriage returns, escape sequences — must not break parsing.
    @Test func garbageBytesAreTolerated() throws {
        var bytes = try ConsoleFixture.rawBytes(named: "panic-no-root.log")
        var generator = SeededGenerator(seed: 42)
        var noisy: [UInt8] = []
        for (index, byte) in bytes.enumerated() {
            noisy.append(byte)
            if byte == 0x0a && index % 7 == 0 {
                // a whole line of noise, with a plausible host time so it is parsed as console output
                noisy += Array("  1.000000 ".utf8) + (0..<40).map { _ in UInt8.random(in: 0...255, using: &generator) }.filter { $0 != 0x0a } + [0x0a]
            }
        }
        bytes = noisy
        let fixture = try ConsoleFixture(bytes: bytes)
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        #expect(timeline.panicReason == "VFS: Unable to mount root fs on unknown-block(0,0)")
        #expect(timeline.phases[.total] == 3.565721)
    }
}

/// A small deterministic generator so noise tests are repeatable.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

@Suite struct NormalBootTimelineTests {
    /// `ksand run --accel tcg -- true` on Debian's 6.1 kernel, recorded with its `--json` report:
    /// vmm 0.900, kernel 3.796, init 0.555, command 0.165, shutdown 0.007, teardown 0.008, total 5.588.
    @Test func phasesMatchTheRunsOwnReport() throws {
        let fixture = try ConsoleFixture(named: "normal-true.log")
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        let expected: [Timeline.Phase: Double] = [
            .vmm: 0.900, .kernel: 3.796, .`init`: 0.555, .command: 0.165, .shutdown: 0.007, .teardown: 0.008, .total: 5.588,
        ]
        for (phase, seconds) in expected {
            let measured = try #require(timeline.phases[phase], "\(phase) missing")
            #expect(abs(measured - seconds) < 0.002, "\(phase): \(measured) vs \(seconds)")
        }
        #expect(timeline.markedExitStatus == 0)
        #expect(timeline.panicReason == nil)
        #expect(abs(try #require(timeline.boot) - 5.251) < 0.002)
        // 5.588156 s on the host; the phases add up to 5.431676 s.
        #expect(abs(try #require(timeline.unaccounted) - 0.15648) < 0.0001)
    }

    @Test func tableShowsEveryPhaseInMilliseconds() throws {
        let fixture = try ConsoleFixture(named: "normal-true.log")
        let table = TimelineTable.render(Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt))
        #expect(table.contains("kernel       3796 ms"))
        // Every phase but restore (a booted run has none), and the line about the guest's clock.
        #expect(table.split(separator: "\n").count == Timeline.Phase.allCases.count - 1 + 1)
        #expect(!table.contains("restore"))
        #expect(table.contains("the guest clock saw 156 ms less than the host's total"))
    }
}

@Suite struct RestoredTimelineTests {
    /// `ksand run --accel tcg -- true` started from a snapshot of the sandbox kernel's boot, recorded with its
    /// `--json` report: restore 0.092, init 0.096, command 0.110, shutdown 0.027, teardown 0.006, total 0.329. The
    /// guest's clock goes on from the snapshot's 0.59 s, so only the host's clock can say what the restore took.
    @Test func aRestoredRunHasARestorePhaseAndNoBoot() throws {
        let fixture = try ConsoleFixture(named: "restored-true.log")
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt, start: .snapshot)
        let expected: [Timeline.Phase: Double] = [
            .restore: 0.092, .`init`: 0.096, .command: 0.110, .shutdown: 0.027, .teardown: 0.006, .total: 0.329,
        ]
        for (phase, seconds) in expected {
            let measured = try #require(timeline.phases[phase], "\(phase) missing")
            #expect(abs(measured - seconds) < 0.002, "\(phase): \(measured) vs \(seconds)")
        }
        #expect(timeline.phases[.vmm] == nil && timeline.phases[.kernel] == nil)
        #expect(abs(try #require(timeline.boot) - 0.188) < 0.002)
        #expect(timeline.markedExitStatus == 0)
        let table = TimelineTable.render(timeline)
        #expect(table.contains("restore") && !table.contains("vmm") && !table.contains("kernel "))
    }

    /// The same lines read as a cold boot would make the guest's clock the host's: a "kernel" phase of 0.59 s that
    /// never happened in this run. The start kind decides.
    @Test func theStartKindDecidesWhichClockCounts() throws {
        let fixture = try ConsoleFixture(named: "restored-true.log")
        let cold = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        #expect(cold.phases[.restore] == nil)
        #expect(cold.boot == nil, "a cold reading has no init-start, so no boot")
    }
}
