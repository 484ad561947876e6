import CHostCPU
import Foundation

extension HostTSC {
    /// The TSC and CLOCK_MONOTONIC read at one instant.
    struct ClockReading: Equatable {
        var ticks: UInt64
        var nanoseconds: UInt64
    }

    /// Measures the TSC against CLOCK_MONOTONIC over `windows` back-to-back windows of `window` each: the
    /// median of their rates, or nil when the rates disagree (see ``stableMedian(_:tolerance:)``), a reading could
    /// not be taken cleanly, or there is no TSC to read.
    static func measureKilohertz(windows: Int = 3, window: Duration = .milliseconds(10)) -> Int? {
        guard ksand_cpu_has_tsc() != 0, windows >= 1 else { return nil }
        var readings: [ClockReading] = []
        for index in 0...windows {
            if index > 0 { sleep(window) }
            guard let reading = reading() else { return nil }
            readings.append(reading)
        }
        return stableMedian(rates(readings)).map { Int($0.rounded()) }
    }

    /// The rates, in kHz, between consecutive readings.
    static func rates(_ readings: [ClockReading]) -> [Double] {
        zip(readings, readings.dropFirst()).compactMap { start, end in
            guard end.nanoseconds > start.nanoseconds, end.ticks > start.ticks else { return nil }
            return Double(end.ticks - start.ticks) * 1_000_000 / Double(end.nanoseconds - start.nanoseconds)
        }
    }

    /// The median of `rates`, or nil when there are none or they spread (largest − smallest) by more than
    /// `tolerance` of the median: a TSC whose rate moves, or a clock that jumped, gives no one rate to pass on.
    static func stableMedian(_ rates: [Double], tolerance: Double = 0.005) -> Double? {
        guard !rates.isEmpty else { return nil }
        let sorted = rates.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        guard median > 0, (sorted.last! - sorted.first!) / median <= tolerance else { return nil }
        return median
    }

    /// The TSC between two CLOCK_MONOTONIC reads, paired with their midpoint. A pair more than 10 µs apart (the
    /// thread was preempted in between) is read again, up to 20 times.
    static func reading() -> ClockReading? {
        for _ in 0..<20 {
            let before = monotonicNanoseconds()
            let ticks = ksand_rdtsc()
            let after = monotonicNanoseconds()
            if after >= before, after - before <= 10_000 {
                return ClockReading(ticks: ticks, nanoseconds: before + (after - before) / 2)
            }
        }
        return nil
    }

    static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private static func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
