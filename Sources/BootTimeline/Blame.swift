/// One silence in the kernel's console: the time between two consecutive timestamped lines.
public struct ConsoleGap: Equatable, Sendable {
    /// Length of the silence, on the kernel's printk clock.
    public var seconds: Double
    /// printk time of the line before the silence.
    public var startsAt: Double
    /// The line before the silence and the line after it.
    public var before: String
    public var after: String
    /// Lines from timers and workqueues (clocksource switches, RNG readiness) that arrived inside the silence and
    /// were not counted as ending it.
    public var interjections: [String]

    public init(seconds: Double, startsAt: Double, before: String, after: String, interjections: [String] = []) {
        self.seconds = seconds
        self.startsAt = startsAt
        self.before = before
        self.after = after
        self.interjections = interjections
    }

    /// Whether a kernel message comes from a timer or workqueue rather than from the boot or shutdown path, so it
    /// says nothing about that path's progress: the clocksource watchdog switching clocks (about a second after
    /// boot, often during a fast sandbox's shutdown) or the RNG becoming ready.
    public static func isInterjection(_ text: String) -> Bool {
        text.hasPrefix("clocksource:") || text.hasPrefix("tsc: Refined TSC") || text.hasPrefix("tsc: Marking TSC unstable")
            || text.hasPrefix("random: crng init done")
    }

    /// What usually happens in a silence that follows `before`, when ksand knows: the power-off marker is followed
    /// by the kernel's reboot notifiers and device shutdown, which print nothing.
    public var hint: String? {
        before.hasPrefix("ksand: power-off") ? "the kernel's reboot notifiers and device shutdown run here" : nil
    }

    /// `1003 ms after "ksand: power-off" (the kernel's reboot notifiers … run here), before "ACPI: PM: …"`.
    public var blameLine: String {
        "\(DurationText.milliseconds(seconds)) after \"\(before)\"" + (hint.map { " (\($0))" } ?? "") + ", before \"\(after)\""
            + (interjections.isEmpty ? "" : " [meanwhile: " + interjections.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
    }
}

/// Where a boot and a shutdown spent their time: the largest gaps between consecutive kernel messages.
///
/// Boot runs from the kernel's first line to the init's `init-start` marker (or `Run /init` when the init never
/// wrote one); shutdown from the `command-exit` marker to the kernel's power-off line (or the last line). Times are
/// the kernel's printk clock, which is what the messages themselves carry.
public struct Blame: Equatable, Sendable {
    public var boot: [ConsoleGap]
    public var shutdown: [ConsoleGap]

    public init(boot: [ConsoleGap] = [], shutdown: [ConsoleGap] = []) {
        self.boot = boot
        self.shutdown = shutdown
    }

    /// The `top` largest gaps of each window, largest first.
    public static func compute(lines: [ConsoleLine], top: Int = 5) -> Blame {
        let stamped = lines.filter { $0.kernelSeconds != nil }
        var bootEnd: Int?, runInit: Int?, shutdownStart: Int?, shutdownEnd: Int?
        for (index, line) in stamped.enumerated() {
            switch BootEvent.recognise(line.text) {
            case .marker(name: "init-start", _): bootEnd = bootEnd ?? index
            case .runInit: runInit = runInit ?? index
            case .marker(name: "command-exit", _): shutdownStart = shutdownStart ?? index
            case .powerOff, .panic: if shutdownStart != nil { shutdownEnd = shutdownEnd ?? index }
            default: break
            }
        }
        var blame = Blame()
        if let end = bootEnd ?? runInit ?? (stamped.isEmpty ? nil : stamped.count - 1) {
            blame.boot = largestGaps(stamped[0...end], top: top)
        }
        if let start = shutdownStart {
            blame.shutdown = largestGaps(stamped[start...(shutdownEnd ?? stamped.count - 1)], top: top)
        }
        return blame
    }

    static func largestGaps(_ lines: ArraySlice<ConsoleLine>, top: Int) -> [ConsoleGap] {
        var gaps: [ConsoleGap] = []
        var previous: ConsoleLine?
        var interjections: [String] = []
        for line in lines {
            if previous != nil, ConsoleGap.isInterjection(line.text) {
                interjections.append(line.text)
                continue
            }
            if let previous, let from = previous.kernelSeconds, let to = line.kernelSeconds, to > from {
                gaps.append(ConsoleGap(seconds: to - from, startsAt: from, before: previous.text, after: line.text,
                                       interjections: interjections))
            }
            interjections = []
            previous = line
        }
        return Array(gaps.sorted { $0.seconds > $1.seconds }.prefix(top))
    }
}
