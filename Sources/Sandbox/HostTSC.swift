import Foundation

/// The host's TSC frequency, which a microvm guest under TCG needs to be told.
///
/// Under TCG the guest's TSC ticks at the host's rate, and a microvm has no PIT/HPET/PM timer to calibrate it
/// against: the kernel marks the TSC unstable and hangs waiting for a clocksource. `tsc_early_khz=` gives it the
/// frequency; a wrong value would skew every printk timestamp, so ksand passes it only for a constant TSC.
public enum HostTSC {
    /// The TSC frequency in kHz from /proc/cpuinfo's text, when the CPU has a constant TSC; nil otherwise.
    public static func kilohertz(cpuinfo: String) -> Int? {
        var megahertz: Double?
        var constant = false
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0] == "cpu MHz", megahertz == nil { megahertz = Double(parts[1]) }
            if parts[0] == "flags", constant == false { constant = parts[1].split(separator: " ").contains("constant_tsc") }
            if megahertz != nil && constant { break }
        }
        guard constant, let megahertz, megahertz > 0 else { return nil }
        return Int((megahertz * 1000).rounded())
    }
}
