import Foundation

/// The host's TSC rate, which a microvm guest under TCG needs to be told.
///
/// Under TCG the guest's TSC ticks at the host's rate, and a microvm has no PIT/HPET/PM timer to calibrate it
/// against: the kernel marks the TSC unstable and hangs waiting for a clocksource. `tsc_early_khz=` gives it the
/// rate, and the guest's clock (every printk timestamp, so every phase and budget) runs at host rate ÷ that value:
/// it has to be the TSC's own rate, not /proc/cpuinfo's "cpu MHz", which on bare metal is a core's current clock.
///
/// Where the value comes from, first that answers:
/// 1. the host kernel's own calibration, from its log (`tsc: Refined TSC clocksource calibration: N MHz`, else
///    `tsc: Detected N MHz TSC`, else `tsc: Detected N MHz processor`): readable through /dev/kmsg only with
///    privileges (root, or CAP_SYSLOG where `kernel.dmesg_restrict` is set), and gone once the log has wrapped;
/// 2. CPUID leaf 0x15, when it gives all of the TSC/crystal ratio and the crystal's frequency (recent Intel);
/// 3. CPUID leaf 0x40000010, the TSC rate in kHz that VMware- and KVM-style hypervisors offer when their leaf
///    0x40000000 says it exists;
/// 4. RDTSC against CLOCK_MONOTONIC: three back-to-back windows of 10 ms, their median, refused when they
///    disagree by more than 0.5 %.
///
/// Nothing is passed, and `--machine auto` picks q35, when /proc/cpuinfo does not list `constant_tsc` (a TSC whose
/// rate follows the core clock cannot be given one rate) or no source answers with a plausible rate. The answer is
/// found once per process: ``current``.
public enum HostTSC {
    /// Where a rate came from.
    public enum Source: String, Sendable, CaseIterable, CustomStringConvertible {
        case kernelLog = "kernel log"
        case cpuidCrystal = "CPUID 0x15"
        case hypervisorLeaf = "CPUID 0x40000010"
        case measured = "RDTSC vs CLOCK_MONOTONIC"

        public var description: String { rawValue }
    }

    /// A TSC rate and its source.
    public struct Rate: Sendable, Equatable, CustomStringConvertible {
        public var kilohertz: Int
        public var source: Source

        public init(kilohertz: Int, source: Source) {
            self.kilohertz = kilohertz
            self.source = source
        }

        public var description: String { "\(kilohertz) kHz (\(source))" }
    }

    /// Rates outside this range (kHz) are taken for a misreading, not a TSC.
    static let plausibleKilohertz = 100_000...20_000_000

    /// The host's TSC rate, found on first use and kept for the process; nil when the TSC is not constant or no
    /// source gives a plausible rate. The first use costs up to ~35 ms (when it comes to measuring).
    public static var current: Rate? { cached }

    private static let cached: Rate? = choose(
        constant: hasConstantTSC(cpuinfo: (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""),
        sources: Source.allCases.map { source in (source, { kilohertz(from: source) }) })

    /// What `source` says now, not cached: the kernel log and CPUID take microseconds to a few milliseconds,
    /// measuring ~30 ms. nil when that source has no answer on this host.
    public static func kilohertz(from source: Source) -> Int? {
        switch source {
        case .kernelLog: return kernelLogKilohertz()
        case .cpuidCrystal: return CPUIDReader().crystalKilohertz()
        case .hypervisorLeaf: return CPUIDReader().hypervisorKilohertz()
        case .measured: return measureKilohertz()
        }
    }

    /// The first source, in order, that gives a plausible rate; later sources are not asked. nil for a TSC that is
    /// not constant.
    static func choose(constant: Bool, sources: [(Source, () -> Int?)]) -> Rate? {
        guard constant else { return nil }
        for (source, answer) in sources {
            if let kilohertz = answer(), plausibleKilohertz.contains(kilohertz) {
                return Rate(kilohertz: kilohertz, source: source)
            }
        }
        return nil
    }

    /// Whether /proc/cpuinfo's `flags` line lists `constant_tsc` (the kernel sets it for CPUs whose TSC keeps one
    /// rate across P-states).
    static func hasConstantTSC(cpuinfo: String) -> Bool {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "flags" else { continue }
            return parts[1].split(separator: " ").contains("constant_tsc")
        }
        return false
    }
}
