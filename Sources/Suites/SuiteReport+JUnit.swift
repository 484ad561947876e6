import Foundation
import ProjectFile

extension SuiteReport {
    /// The report as JUnit XML, the format CI systems read: a `<testsuite>` per suite file and a `<testcase>` per
    /// test. A failed expectation or a budget breach is a `<failure>`; a test that could not boot or run (panic,
    /// boot failure, timeout, no sandbox) is an `<error>`. The timeline goes to `<system-out>`.
    public func junit(timestamp: Date = Date()) -> String {
        let time = { (seconds: Double) in String(format: "%.3f", seconds) }
        var suites: [(String, [TestResult])] = []
        for result in results {
            if let index = suites.firstIndex(where: { $0.0 == result.item.suite }) {
                suites[index].1.append(result)
            } else {
                suites.append((result.item.suite, [result]))
            }
        }
        let stamp = ISO8601DateFormatter().string(from: timestamp)
        var xml = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        xml.append("<testsuites name=\"ksand\" tests=\"\(results.count)\" failures=\"\(results.filter { $0.junitKind == .failure }.count)\" "
            + "errors=\"\(results.filter { $0.junitKind == .error }.count)\" time=\"\(time(seconds))\">")
        for (name, tests) in suites {
            let failures = tests.filter { $0.junitKind == .failure }.count, errors = tests.filter { $0.junitKind == .error }.count
            xml.append("  <testsuite name=\"\(XML.escape(name))\" tests=\"\(tests.count)\" failures=\"\(failures)\" errors=\"\(errors)\" "
                + "skipped=\"0\" time=\"\(time(tests.map(\.seconds).reduce(0, +)))\" timestamp=\"\(stamp)\">")
            for test in tests {
                xml.append("    <testcase classname=\"\(XML.escape(name))\" name=\"\(XML.escape(test.item.test.name))\" time=\"\(time(test.seconds))\">")
                if test.junitKind != .none {
                    let element = test.junitKind == .error ? "error" : "failure"
                    var details = test.failures
                    for (metric, gaps) in test.blame() {
                        details.append("largest \(metric.rawValue) gaps (kernel clock):")
                        details += gaps.map { "  " + $0.blameLine }
                    }
                    xml.append("      <\(element) message=\"\(XML.escape(test.failures.first ?? "failed"))\" type=\"\(test.junitType)\">"
                        + XML.escape(details.joined(separator: "\n")) + "</\(element)>")
                }
                var out = ["timeline (\(test.accelerator ?? "?")\(test.runs.count > 1 ? ", median of \(test.runs.count) runs" : "")):",
                           TimelineTable.render(test.timeline)]
                out += test.budgetChecks.map { "budget: " + $0.description }
                xml.append("      <system-out>\(XML.escape(out.joined(separator: "\n")))</system-out>")
                if let stderr = test.runs.last?.stderr, !stderr.isEmpty {
                    xml.append("      <system-err>\(XML.escape(String(stderr.suffix(8000))))</system-err>")
                }
                xml.append("    </testcase>")
            }
            xml.append("  </testsuite>")
        }
        xml.append("</testsuites>")
        return xml.joined(separator: "\n") + "\n"
    }
}

extension TestResult {
    enum JUnitKind { case none, failure, error }

    var junitKind: JUnitKind {
        if passed { return .none }
        if setupError != nil || runs.isEmpty { return .error }
        let ran = runs.allSatisfy { if case .completed = $0.outcome { true } else { false } }
        return ran ? .failure : .error
    }

    var junitType: String {
        switch junitKind {
        case .error: "sandbox"
        default: runs.allSatisfy(\.passed) ? "budget" : "expectation"
        }
    }
}

enum XML {
    /// Text safe in an attribute or element: the five entities, and characters XML 1.0 forbids dropped.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default:
                let value = scalar.value
                let allowed = (0x20...0xD7FF).contains(value) || (0xE000...0xFFFD).contains(value) || (0x10000...0x10FFFF).contains(value)
                if allowed { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }
}
