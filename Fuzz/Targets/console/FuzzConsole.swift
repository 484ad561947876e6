import BootTimeline
import FuzzSupport

/// The guest's serial console, which the guest writes as it likes: raw lines through the console line parser, the
/// event recogniser, the timeline, blame and initcall durations, and the text the reports make of them.
///
/// The input is the raw console (what QEMU writes to its stdout); the host stamps line `n` at `n` milliseconds, as
/// the console recorder would when lines arrive one a millisecond. Property: every duration the reports print is
/// a finite number of milliseconds that an `Int` holds (the reports convert them so).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConsole(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated().map { index, raw in
        ConsoleLine(raw: Array(raw) + [0x0a], hostSeconds: Double(index) / 1000)
    }
    for line in lines {
        require(!line.text.utf8.contains { $0 < 0x20 && $0 != 0x09 }, "control characters left in \(line.text.debugDescription)")
        if let seconds = line.kernelSeconds { requirePrintable(seconds, "printk time of \(line.text.debugDescription)") }
        _ = BootEvent.recognise(line.text)
    }
    let exitedAt = Double(lines.count) / 1000 + 0.5
    let timeline = Timeline.compute(lines: lines, exitedAtHostSeconds: exitedAt)
    for (phase, seconds) in timeline.phases { requirePrintable(seconds, "phase \(phase)") }
    if let unaccounted = timeline.unaccounted { requirePrintable(unaccounted, "unaccounted time") }
    _ = TimelineTable.render(timeline)
    for check in Budget(boot: 2.5, shutdown: 0.3).check([timeline, timeline]) { _ = check.description }
    let blame = Blame.compute(lines: lines)
    for gap in blame.boot + blame.shutdown {
        requirePrintable(gap.seconds, "gap after \(gap.before.debugDescription)")
        _ = gap.blameLine
    }
    for initcall in InitcallDuration.slowest(in: lines) { requirePrintable(initcall.seconds, "initcall \(initcall.name)") }
    return 0
}

/// A duration the reports print as `Int((seconds * 1000).rounded())` must not trap there.
func requirePrintable(_ seconds: Double, _ what: @autoclosure () -> String) {
    let milliseconds = (seconds * 1000).rounded()
    require(milliseconds.isFinite && abs(milliseconds) < 0x1p62, "\(what()): \(seconds) s cannot be printed in milliseconds")
    _ = DurationText.milliseconds(seconds)
}
