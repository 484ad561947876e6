import Foundation
import Testing
@testable import QEMU

/// The pure parts of finding the host's TSC rate: choosing a source, the CPUID arithmetic, the measurement's
/// median and the kernel log's lines.
@Suite struct HostTSCTests {
    /// From this machine's /proc/cpuinfo (AMD EPYC under a hypervisor).
    static let cpuinfo = """
        processor\t: 0
        vendor_id\t: AuthenticAMD
        model name\t: AMD EPYC
        cpu MHz\t\t: 1996.249
        flags\t\t: fpu vme de pse tsc msr pae constant_tsc rep_good nopl nonstop_tsc cpuid tsc_known_freq pni
        """

    @Test func aConstantTSCIsTheOneInTheFlagsLine() {
        #expect(HostTSC.hasConstantTSC(cpuinfo: Self.cpuinfo))
        #expect(!HostTSC.hasConstantTSC(cpuinfo: Self.cpuinfo.replacingOccurrences(of: " constant_tsc", with: "")))
        #expect(!HostTSC.hasConstantTSC(cpuinfo: "model name : constant_tsc\nflags : fpu tsc"))
        #expect(!HostTSC.hasConstantTSC(cpuinfo: ""))
    }

    /// A source that records whether it was asked.
    final class Asked: @unchecked Sendable {
        var sources: [HostTSC.Source] = []
        func answer(_ source: HostTSC.Source, _ value: Int?) -> (HostTSC.Source, () -> Int?) {
            (source, { self.sources.append(source); return value })
        }
    }

    @Test func theFirstSourceThatAnswersWinsAndLaterOnesAreNotAsked() {
        let asked = Asked()
        let rate = HostTSC.choose(constant: true, sources: [
            asked.answer(.kernelLog, nil), asked.answer(.cpuidCrystal, 2_100_000),
            asked.answer(.hypervisorLeaf, 2_000_000), asked.answer(.measured, 2_099_990),
        ])
        #expect(rate == HostTSC.Rate(kilohertz: 2_100_000, source: .cpuidCrystal))
        #expect(asked.sources == [.kernelLog, .cpuidCrystal])
    }

    @Test func anImplausibleAnswerFallsThroughToTheNextSource() {
        let asked = Asked()
        let rate = HostTSC.choose(constant: true, sources: [
            asked.answer(.kernelLog, 0), asked.answer(.hypervisorLeaf, 99_999_999), asked.answer(.measured, 2_445_406),
        ])
        #expect(rate == HostTSC.Rate(kilohertz: 2_445_406, source: .measured))
    }

    @Test func aVariableTSCHasNoRateAndNoSourceIsAsked() {
        let asked = Asked()
        #expect(HostTSC.choose(constant: false, sources: [asked.answer(.kernelLog, 2_445_406)]) == nil)
        #expect(asked.sources.isEmpty)
        #expect(HostTSC.choose(constant: true, sources: [asked.answer(.measured, nil)]) == nil)
    }

    @Test func leaf15IsTheCrystalTimesTheRatio() {
        // A Skylake-SP Xeon: 25 MHz crystal, ratio 168/2.
        #expect(HostTSC.kilohertz(denominator: 2, numerator: 168, crystalHertz: 25_000_000) == 2_100_000)
        // Goldmont: 19.2 MHz crystal, ratio 100/1 (not a whole number of MHz per tick of the ratio).
        #expect(HostTSC.kilohertz(denominator: 1, numerator: 100, crystalHertz: 19_200_000) == 1_920_000)
        // Rounded to the nearest kHz: 25,000,001 × 200 / 3 Hz = 1,666,666,733 Hz.
        #expect(HostTSC.kilohertz(denominator: 3, numerator: 200, crystalHertz: 25_000_001) == 1_666_667)
        // Client parts that leave the crystal (ECX) at 0, and CPUs that do not enumerate the ratio.
        #expect(HostTSC.kilohertz(denominator: 2, numerator: 300, crystalHertz: 0) == nil)
        #expect(HostTSC.kilohertz(denominator: 0, numerator: 0, crystalHertz: 24_000_000) == nil)
    }

    /// A made-up CPU: its highest basic leaf, leaf 0x15, whether a hypervisor is present and its leaves.
    static func cpu(maxLeaf: UInt32, leaf15: [UInt32], hypervisor: Bool, hypervisorMax: UInt32, timingKHz: UInt32)
        -> HostTSC.CPUIDReader
    {
        HostTSC.CPUIDReader { leaf, _ in
            switch leaf {
            case 0: return [maxLeaf, 0, 0, 0]
            case 1: return [0, 0, hypervisor ? 1 << 31 : 0, 0]
            case 0x15: return leaf15
            case 0x4000_0000: return [hypervisorMax, 0, 0, 0]
            case 0x4000_0010: return [timingKHz, 1_000_000, 0, 0]
            default: return [0, 0, 0, 0]
            }
        }
    }

    @Test func leaf15CountsOnlyWhenTheCPUEnumeratesIt() {
        let intel = Self.cpu(maxLeaf: 0x16, leaf15: [2, 168, 25_000_000, 0], hypervisor: false, hypervisorMax: 0, timingKHz: 0)
        #expect(intel.crystalKilohertz() == 2_100_000)
        // Above the highest basic leaf the CPU answers with another leaf's data: not to be read as leaf 0x15.
        let amd = Self.cpu(maxLeaf: 0x10, leaf15: [2, 168, 25_000_000, 0], hypervisor: false, hypervisorMax: 0, timingKHz: 0)
        #expect(amd.crystalKilohertz() == nil)
    }

    @Test func theHypervisorLeafCountsOnlyWhenTheHypervisorOffersIt() {
        let offered = Self.cpu(maxLeaf: 0x10, leaf15: [], hypervisor: true, hypervisorMax: 0x4000_0010, timingKHz: 2_445_406)
        #expect(offered.hypervisorKilohertz() == 2_445_406)
        // This machine's KVM: leaves up to 0x40000001 only.
        let kvm = Self.cpu(maxLeaf: 0x10, leaf15: [], hypervisor: true, hypervisorMax: 0x4000_0001, timingKHz: 2_445_406)
        #expect(kvm.hypervisorKilohertz() == nil)
        let bareMetal = Self.cpu(maxLeaf: 0x16, leaf15: [], hypervisor: false, hypervisorMax: 0x4000_0010, timingKHz: 2_445_406)
        #expect(bareMetal.hypervisorKilohertz() == nil)
        let zero = Self.cpu(maxLeaf: 0x10, leaf15: [], hypervisor: true, hypervisorMax: 0x4000_0010, timingKHz: 0)
        #expect(zero.hypervisorKilohertz() == nil)
    }

    @Test func ratesAreTicksPerMillisecondBetweenReadings() {
        let readings = [
            HostTSC.ClockReading(ticks: 1_000, nanoseconds: 5_000_000),
            HostTSC.ClockReading(ticks: 1_000 + 24_454_060, nanoseconds: 15_000_000),
            HostTSC.ClockReading(ticks: 1_000 + 24_454_060, nanoseconds: 25_000_000),  // a TSC that stood still
            HostTSC.ClockReading(ticks: 1_000 + 2 * 24_454_060, nanoseconds: 35_000_000),
        ]
        #expect(HostTSC.rates(readings) == [2_445_406, 2_445_406])
        #expect(HostTSC.rates(Array(readings.prefix(1))).isEmpty)
    }

    @Test func theMedianIsRefusedWhenTheRatesSpread() {
        #expect(HostTSC.stableMedian([2_445_410, 2_445_400, 2_445_405]) == 2_445_405)
        #expect(HostTSC.stableMedian([2_445_400, 2_445_410]) == 2_445_405)
        #expect(HostTSC.stableMedian([2_000_000]) == 2_000_000)
        // 0.5 % is the limit: 0.4 % passes, 1 % does not.
        #expect(HostTSC.stableMedian([2_000_000, 2_004_000, 2_008_000]) == 2_004_000)
        #expect(HostTSC.stableMedian([2_000_000, 2_010_000, 2_020_000]) == nil)
        #expect(HostTSC.stableMedian([]) == nil)
    }

    static func calibration(_ lines: [String]) -> HostTSC.KernelLogCalibration {
        var calibration = HostTSC.KernelLogCalibration()
        for line in lines { calibration.read(line) }
        return calibration
    }

    @Test func theKernelLogOfAGuestGivesTheDetectedProcessorRate() {
        // This machine's `dmesg`: under KVM the kernel takes the rate from kvm-clock and prints one line.
        let calibration = Self.calibration([
            "[    0.000000] [Firmware Bug]: TSC doesn't count with P0 frequency!",
            "[    0.000019] tsc: Detected 2445.406 MHz processor",
            "[    0.145757] clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x233fc4eb620, max_idle_ns: 440795316590 ns",
            "[    0.274048] clocksource: tsc: mask: 0xffffffffffffffff max_cycles: 0x233fc4eb620, max_idle_ns: 440795316590 ns",
        ])
        #expect(calibration.kilohertz == 2_445_406)
    }

    @Test func theRefinedCalibrationBeatsTheDetectedRates() {
        // Bare metal: cpu_khz and tsc_khz differ, and the calibration is refined a second into boot.
        let lines = [
            "6,91,0,-;tsc: Detected 3600.000 MHz processor",
            "6,92,0,-;tsc: Detected 3599.998 MHz TSC",
            "6,400,1234567,-;tsc: Refined TSC clocksource calibration: 3600.011 MHz",
        ]
        #expect(Self.calibration(Array(lines.prefix(1))).kilohertz == 3_600_000)
        #expect(Self.calibration(Array(lines.prefix(2))).kilohertz == 3_599_998)
        #expect(Self.calibration(lines).kilohertz == 3_600_011)
        #expect(Self.calibration(lines.reversed()).kilohertz == 3_600_011)
    }

    @Test func otherAndMalformedLinesAreIgnored() {
        let calibration = Self.calibration([
            "tsc: Detected 2445.4 MHz processor",
            "tsc: Detected 2445.4060 MHz processor",
            "tsc: Detected abc.def MHz processor",
            "tsc: Detected -1.000 MHz processor",
            "tsc: Detected  MHz TSC",
            "tsc: Fast TSC calibration using PIT",
            "tsc: Marking TSC unstable due to clocksource watchdog",
            "clocksource: tsc: mask: 0xffffffffffffffff",
            "TSC freq recalibrated by [HPET]:\t 2445.000 MHz",
        ])
        #expect(calibration == HostTSC.KernelLogCalibration())
        #expect(calibration.kilohertz == nil)
    }
}
