import Foundation
import Testing
@testable import QEMU

/// The TSC rate measured on this host, against what the host kernel says it calibrated (root can read its log).
@Suite struct HostTSCMeasurementTests {
    /// /proc/cpuinfo's first "cpu MHz", in kHz: the core clock, shown for contrast.
    static var cpuinfoKilohertz: Int? {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("cpu MHz") }
        return line.flatMap { Double($0.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) }
            .map { Int(($0 * 1000).rounded()) }
    }

    /// Against the host kernel's calibration when its log is readable (root) and still holds the line; otherwise
    /// against one long measurement (a second against CLOCK_MONOTONIC), which the short one must agree with.
    @Test func theMeasuredRateIsWithinOnePercentOfAReference() throws {
        var reference = HostTSC.kilohertz(from: .kernelLog), name = "kernel log"
        if reference == nil {
            reference = HostTSC.measureKilohertz(windows: 1, window: .seconds(1))
            name = "1 s measurement"
        }
        let kilohertz = try #require(reference, "no reference: the kernel log has no calibration and the long measurement failed")
        let measured = try #require(HostTSC.kilohertz(from: .measured), "the measurement was unstable")
        let deviation = Double(measured - kilohertz) / Double(kilohertz)
        print("TSC kHz: \(name) \(kilohertz), measured \(measured) (\(String(format: "%+.4f", deviation * 100)) %)")
        #expect(abs(deviation) < 0.01)
    }

    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.1f", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
    }

    /// Prints what every source says here and what each costs (median of five runs), and checks that measuring
    /// is quick and gives the same rate each time.
    @Test func measuringIsQuickAndRepeatable() throws {
        let clock = ContinuousClock()
        for source in HostTSC.Source.allCases {
            var answers: [Int?] = []
            let costs = (0..<5).map { _ in clock.measure { answers.append(HostTSC.kilohertz(from: source)) } }.sorted()
            print("TSC from \(source): \(answers.map { $0.map { "\($0) kHz" } ?? "none" }.joined(separator: ", ")); "
                + "median cost \(Self.milliseconds(costs[2])) ms")
            guard source == .measured else { continue }
            #expect(costs[2] < .milliseconds(50))
            let rates = try answers.map { try #require($0, "the measurement was unstable") }.sorted()
            #expect(Double(rates.last! - rates.first!) / Double(rates[2]) < 0.005)
        }
        print("cpu MHz (/proc/cpuinfo), for contrast: \(Self.cpuinfoKilohertz.map { "\($0) kHz" } ?? "none")")
    }

    @Test func theProcessMeasuresOnceAndNamesTheSource() {
        let first = HostTSC.current
        let clock = ContinuousClock()
        var second: HostTSC.Rate?
        let cost = clock.measure { second = HostTSC.current }
        #expect(first == second)
        #expect(cost < .milliseconds(1))
        print("HostTSC.current: \(first.map(String.init(describing:)) ?? "none")")
    }
}
