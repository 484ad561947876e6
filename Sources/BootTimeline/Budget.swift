/// Time limits a run must stay within: boot (vmm + kernel + init) and shutdown (shutdown + teardown), in seconds.
/// Budgets are per accelerator (KVM and TCG differ about tenfold), and may differ per backend on one accelerator
/// (libvirt's own start and end add a few hundred milliseconds to vmm and teardown): see ``BudgetKey``.
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

/// How budget files key their limits: `tcg`, `kvm` for an accelerator, `kvm.libvirt` for a backend on one.
public enum BudgetKey {
    public static let accelerators = ["tcg", "kvm"]
    public static let backends = ["qemu", "libvirt"]

    public static func key(accelerator: String, backend: String?) -> String {
        backend.map { "\(accelerator).\($0)" } ?? accelerator
    }

    /// The accelerator and the backend (nil for an accelerator's own limits) of a key.
    public static func parts(of key: String) -> (accelerator: String, backend: String?) {
        guard let dot = key.firstIndex(of: ".") else { return (key, nil) }
        return (String(key[..<dot]), String(key[key.index(after: dot)...]))
    }

    /// The limits that hold for `accelerator` on `backend`: the backend's resolved limits where there are some, else
    /// the accelerator's.
    public static func budget(in budgets: [String: Budget], accelerator: String, backend: String?) -> Budget? {
        if let backend, let own = budgets[key(accelerator: accelerator, backend: backend)] { return own }
        return budgets[accelerator]
    }

    /// Budget files from the least to the most specific, merged: for each accelerator, each file's accelerator
    /// limits over the previous files', and for each backend named anywhere, each file's accelerator and then
    /// backend limits over the previous files'. A later file's accelerator limit thus beats an earlier file's backend
    /// limit (a test's own budget wins over the project's allowance for a backend), and within one file the backend's
    /// limit beats the accelerator's. Empty results are left out.
    public static func merge(_ files: [[String: Budget]]) -> [String: Budget] {
        let keys = Set(files.flatMap(\.keys))
        var merged: [String: Budget] = [:]
        for key in keys {
            let (accelerator, backend) = parts(of: key)
            var budget = Budget()
            for file in files {
                budget = budget.overridden(by: file[accelerator])
                if backend != nil { budget = budget.overridden(by: file[key]) }
            }
            if !budget.isEmpty { merged[key] = budget }
        }
        return merged
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
        // Divided rather than multiplied by a fraction, so that "700ms" is 0.7 and not 0.7000000000000001.
        let units: [(unit: String, multiplier: Double, divisor: Double)] = [
            ("ms", 1, 1000), ("us", 1, 1_000_000), ("µs", 1, 1_000_000), ("s", 1, 1), ("m", 60, 1),
        ]
        for (unit, multiplier, divisor) in units where trimmed.hasSuffix(unit) {
            let number = String(trimmed.dropLast(unit.count)).trimmingSpaces()
            guard let value = Double(number), value > 0, value.isFinite else { return nil }
            return value * multiplier / divisor
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
        result.start = timelines.first?.start ?? .cold
        return result
    }
}

/// The median of some values; nil when there are none.
public func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted(), middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
