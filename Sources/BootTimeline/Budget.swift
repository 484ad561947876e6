/// Time limits a run must stay within: boot (vmm + kernel + init) and shutdown (shutdown + teardown), in seconds.
/// Budgets are per accelerator: KVM and TCG differ about tenfold.
public struct Budget: Equatable, Sendable {
    public var boot: Double?
    public var shutdown: Double?

    public init(boot: Double? = nil, shutdown: Double? = nil) {
        self.boot = boot
        self.shutdown = shutdown
    }

    public var isEmpty: Bool { boot == nil && shutdown == nil }

    /// This budget with the limits `override` sets replacing ours.
    public func overridden(by override: Budget?) -> Budget {
        guard let override else { return self }
        return Budget(boot: override.boot ?? boot, shutdown: override.shutdown ?? shutdown)
    }

    /// Judges one run or several repeats of it: one check per limit that is set, on the median over the runs of
    /// the metric (so one noisy run does not decide). A limit no run could measure fails.
    public func check(_ runs: [Timeline]) -> [BudgetCheck] {
        var checks: [BudgetCheck] = []
        if let boot { checks.append(BudgetCheck(metric: .boot, limit: boot, measured: median(runs.compactMap(\.boot)))) }
        if let shutdown {
            checks.append(BudgetCheck(metric: .shutdown, limit: shutdown, measured: median(runs.compactMap(\.shutdownTotal))))
        }
        return checks
    }
}

/// One limit against what was measured.
public struct BudgetCheck: Equatable, Sendable {
    public enum Metric: String, Sendable, CaseIterable {
        case boot, shutdown

        /// The phases the metric adds up.
        public var phases: [Timeline.Phase] {
            switch self {
            case .boot: [.vmm, .kernel, .`init`]
            case .shutdown: [.shutdown, .teardown]
            }
        }
    }

    public var metric: Metric
    public var limit: Double
    /// nil when a phase it needs was not measured (the guest never got that far).
    public var measured: Double?

    public init(metric: Metric, limit: Double, measured: Double?) {
        self.metric = metric
        self.limit = limit
        self.measured = measured
    }

    public var passed: Bool { measured.map { $0 <= limit } ?? false }

    /// `shutdown 1034 ms > budget 300 ms`, `boot 1805 ms ≤ budget 2500 ms`, `shutdown not measured (budget 300 ms)`.
    public var description: String {
        guard let measured else { return "\(metric.rawValue) not measured (budget \(DurationText.milliseconds(limit)))" }
        return "\(metric.rawValue) \(DurationText.milliseconds(measured)) \(passed ? "≤" : ">") budget \(DurationText.milliseconds(limit))"
    }
}

/// Durations as people write them in budgets: `2.5s`, `400ms`, `1500 us`, `1m`.
public enum DurationText {
    /// Seconds, or nil when the text is not a positive duration with a unit.
    public static func seconds(_ text: String) -> Double? {
        let trimmed = text.trimmingSpaces()
        let units: [(String, Double)] = [("ms", 0.001), ("us", 0.000_001), ("µs", 0.000_001), ("s", 1), ("m", 60)]
        for (unit, scale) in units where trimmed.hasSuffix(unit) {
            let number = String(trimmed.dropLast(unit.count)).trimmingSpaces()
            guard let value = Double(number), value > 0, value.isFinite else { return nil }
            return value * scale
        }
        return nil
    }

    /// `1034 ms`.
    public static func milliseconds(_ seconds: Double) -> String { "\(Int((seconds * 1000).rounded())) ms" }
}

extension Timeline {
    /// Shutdown as budgets see it: shutdown + teardown, when both are known.
    public var shutdownTotal: Double? {
        guard let shutdown = phases[.shutdown], let teardown = phases[.teardown] else { return nil }
        return shutdown + teardown
    }

    /// The per-phase median of several runs (each phase over the runs that measured it), for showing repeats.
    public static func median(of timelines: [Timeline]) -> Timeline {
        guard timelines.count > 1 else { return timelines.first ?? Timeline() }
        var result = Timeline()
        for phase in Phase.allCases {
            if let value = BootTimeline.median(timelines.compactMap { $0.phases[phase] }) { result.phases[phase] = value }
        }
        result.panicReason = timelines.compactMap(\.panicReason).first
        return result
    }
}

/// The median of some values; nil when there are none.
public func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted(), middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
