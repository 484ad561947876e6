import Foundation
import Testing
@testable import BootTimeline

/// Timelines and blame of boots recorded from ksand's own sandbox kernel (tinyconfig + sandbox.config) under TCG.
@Suite struct SandboxKernelFixtureTests {
    func expectPhases(_ timeline: Timeline, _ expected: [Timeline.Phase: Double]) throws {
        for (phase, seconds) in expected {
            let measured = try #require(timeline.phases[phase], "\(phase) missing")
            #expect(abs(measured - seconds) < 0.002, "\(phase): \(measured) vs \(seconds)")
        }
    }

    /// `ksand run --kernel built --accel tcg -- true`, with the phases its `--json` report gave.
    @Test func normalBootMatchesTheRunsReport() throws {
        let fixture = try ConsoleFixture(named: "sandbox-true.log")
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        try expectPhases(timeline, [.vmm: 0.184809, .kernel: 1.760360, .`init`: 0.127343, .command: 0.153315,
                                    .shutdown: 0.069735, .teardown: 0.008431, .total: 2.648068])
        let blame = Blame.compute(lines: fixture.lines)
        #expect(try #require(blame.shutdown.first).seconds < 0.1)
        #expect(blame.boot.count == 5)
        #expect(blame.boot == blame.boot.sorted { $0.seconds > $1.seconds })
    }

    /// The same kernel without patches/0001, the command creating an md array: power-off waits a second in md's
    /// reboot notifier, which prints nothing, so the gap sits right after the init's power-off marker.
    @Test func mdDelayIsTheLargestShutdownGap() throws {
        let fixture = try ConsoleFixture(named: "md-delay.log")
        let timeline = Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)
        try expectPhases(timeline, [.vmm: 0.128510, .kernel: 1.506092, .`init`: 0.151714, .command: 0.348100,
                                    .shutdown: 1.111114, .teardown: 0.010479, .total: 3.536214])
        let gap = try #require(Blame.compute(lines: fixture.lines).shutdown.first)
        #expect(abs(gap.seconds - 1.044628) < 0.000001)
        #expect(gap.before == "ksand: power-off")
        #expect(gap.after == "ACPI: PM: Preparing to enter system sleep state S5")
        #expect(gap.hint != nil)
        let checks = Budget(boot: DurationText.seconds("3s"), shutdown: DurationText.seconds("300ms")).check([timeline])
        #expect(checks.map(\.passed) == [true, false])
        #expect(checks[1].description == "shutdown 1122 ms > budget 300 ms")
    }

    /// A boot that panics has no init and no shutdown: boot blame runs to the last line, shutdown blame is empty.
    @Test func panicHasBootBlameOnly() throws {
        let fixture = try ConsoleFixture(named: "panic-no-root.log")
        let blame = Blame.compute(lines: fixture.lines, top: 3)
        #expect(blame.boot.count == 3)
        #expect(blame.shutdown.isEmpty)
        #expect(Budget(shutdown: 0.3).check([Timeline.compute(lines: fixture.lines, exitedAtHostSeconds: fixture.exitedAt)])
            == [BudgetCheck(metric: .shutdown, limit: 0.3, measured: nil)])
    }

    /// A boot with `initcall_debug ignore_loglevel`: the kernel has no KALLSYMS, so its System.map names the calls.
    @Test func slowestInitcallsNamedFromSystemMap() throws {
        let fixture = try ConsoleFixture(named: "initcall-debug.log")
        let unnamed = InitcallDuration.slowest(in: fixture.lines, top: 3)
        #expect(unnamed.count == 3)
        #expect(unnamed.allSatisfy { $0.name.hasPrefix("0x") })
        let map = SymbolMap(systemMap: String(decoding: try ConsoleFixture.rawBytes(named: "initcall-debug.System.map"), as: UTF8.self))
        let named = InitcallDuration.slowest(in: fixture.lines, top: 3, symbols: map)
        #expect(named.map(\.name) == ["cacheinfo_sysfs_init", "kswapd_init", "acpi_init"])
        #expect(named[0].seconds == 0.095795)
        #expect(InitcallDuration.slowest(in: fixture.lines, top: 1000).count == 261)
    }

    /// Found by fuzzing (Fuzz/regressions/console): `after 1e300 usecs` was a duration no report could print.
    @Test func initcallDurationsAreWholeMicroseconds() {
        let lines = ["initcall a returned 0 after 1e300 usecs", "initcall b returned 0 after nan usecs", "initcall c returned -19 after 1500 usecs"]
            .map { ConsoleLine(hostSeconds: 0, kernelSeconds: 1, text: $0) }
        #expect(InitcallDuration.slowest(in: lines) == [InitcallDuration(name: "c", seconds: 0.0015, returned: -19)])
    }
}

@Suite struct BudgetTests {
    @Test func durationsNeedAUnit() {
        #expect(DurationText.seconds("2.5s") == 2.5)
        #expect(DurationText.seconds("400ms") == 0.4)
        #expect(DurationText.seconds("700ms") == 0.7)
        #expect(DurationText.seconds("1500us") == 0.0015)
        #expect(DurationText.seconds(" 1500 us ") == 0.0015)
        #expect(DurationText.seconds("1m") == 60)
        #expect(DurationText.seconds("2.5") == nil)
        #expect(DurationText.seconds("-1s") == nil)
        #expect(DurationText.seconds("fast") == nil)
    }

    @Test func repeatsAreJudgedOnTheMedian() {
        let runs = [1.0, 0.2, 0.25].map { Timeline(phases: [.vmm: 0.1, .kernel: 1, .`init`: 0.1, .shutdown: $0, .teardown: 0.01]) }
        let check = Budget(shutdown: 0.3).check(runs)
        #expect(check == [BudgetCheck(metric: .shutdown, limit: 0.3, measured: 0.26)])
        #expect(check[0].passed)
        #expect(Timeline.median(of: runs).phases[.shutdown] == 0.25)
        #expect(Budget(boot: 2).overridden(by: Budget(shutdown: 0.1)) == Budget(boot: 2, shutdown: 0.1))
    }
}

@Suite struct InterjectionTests {
    /// The clocksource watchdog can print in the middle of md's one-second sleep; the gap still runs from the
    /// power-off marker to the next shutdown message, with the interjection noted.
    @Test func aClocksourceSwitchDoesNotSplitTheGap() throws {
        var lines = try ConsoleFixture(named: "md-delay.log").lines
        let powerOff = try #require(lines.firstIndex { $0.text == "ksand: power-off" })
        let at = try #require(lines[powerOff].kernelSeconds) + 0.097
        lines.insert(ConsoleLine(hostSeconds: lines[powerOff].hostSeconds + 0.1, kernelSeconds: at,
                                 text: "clocksource: Switched to clocksource tsc"), at: powerOff + 1)
        let gap = try #require(Blame.compute(lines: lines).shutdown.first)
        #expect(gap.before == "ksand: power-off")
        #expect(abs(gap.seconds - 1.044628) < 0.000001)
        #expect(gap.interjections == ["clocksource: Switched to clocksource tsc"])
        #expect(gap.blameLine.hasSuffix("[meanwhile: \"clocksource: Switched to clocksource tsc\"]"))
    }
}
