import Foundation
import ProjectFile

extension SuiteReport {
    /// The report as JUnit XML, the format CI systems read: a `<testsuite>` per suite file and a `<testcase>` per
    /// test. A failed expectation or a budget breach is a `<failure>`; a test that could not boot or run (panic,
    /// boot failure, timeout, no sandbox) is an `<error>`. The timeline goes to `<system-out>`, the last run's
    /// stderr to `<system-err>`.
    ///
    /// Rendered from the JSON ``document``, so a whole run and the merge of its shards' reports write the same XML.
    public func junit(timestamp: Date = Date()) -> String {
        document.junit(timestamp: timestamp)
    }
}

extension SuiteReport.Document {
    /// ``SuiteReport/junit(timestamp:)`` of the run this document reports.
    public func junit(timestamp: Date = Date()) -> String {
        let time = { (seconds: Double) in String(format: "%.3f", seconds) }
        var suites: [(String, [Test])] = []
        for test in tests {
            if let index = suites.firstIndex(where: { $0.0 == test.suite }) {
                suites[index].1.append(test)
            } else {
                suites.append((test.suite, [test]))
            }
        }
        let stamp = ISO8601DateFormatter().string(from: timestamp)
        var xml = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        xml.append("<testsuites name=\"ksand\" tests=\"\(tests.count)\" failures=\"\(tests.filter { $0.junitKind == .failure }.count)\" "
            + "errors=\"\(tests.filter { $0.junitKind == .error }.count)\" time=\"\(time(seconds))\">")
        for (name, tests) in suites {
            let failures = tests.filter { $0.junitKind == .failure }.count, errors = tests.filter { $0.junitKind == .error }.count
            xml.append("  <testsuite name=\"\(XML.escape(name))\" tests=\"\(tests.count)\" failures=\"\(failures)\" errors=\"\(errors)\" "
                + "skipped=\"0\" time=\"\(time(tests.map(\.seconds).reduce(0, +)))\" timestamp=\"\(stamp)\">")
            for test in tests {
                xml.append("    <testcase classname=\"\(XML.escape(name))\" name=\"\(XML.escape(test.name))\" time=\"\(time(test.seconds))\">")
                if test.junitKind != .none {
                    let element = test.junitKind == .error ? "error" : "failure"
                    var details = test.failures
                    for (metric, gaps) in test.orderedBlame {
                        details.append("largest \(metric) gaps (kernel clock):")
                        details += gaps.map { "  " + $0.blameLine }
                    }
                    xml.append("      <\(element) message=\"\(XML.escape(test.failures.first ?? "failed"))\" type=\"\(test.junitType)\">"
                        + XML.escape(details.joined(separator: "\n")) + "</\(element)>")
                }
                var out = ["timeline (\(test.accelerator ?? "?")\(test.runs.count > 1 ? ", median of \(test.runs.count) runs" : "")):",
                           TimelineTable.render(test.timeline)]
                out += test.budgets.map { "budget: " + $0.description }
                xml.append("      <system-out>\(XML.escape(out.joined(separator: "\n")))</system-out>")
                if let stderr = test.runs.last?.stderr, !stderr.isEmpty {
                    xml.append("      <system-err>\(XML.escape(String(stderr.suffix(Run.stderrLimit))))</system-err>")
                }
                xml.append("    </testcase>")
            }
            xml.append("  </testsuite>")
        }
        xml.append("</testsuites>")
        return xml.joined(separator: "\n") + "\n"
    }
}

extension SuiteReport.Document.Test {
    enum JUnitKind { case none, failure, error }

    /// A test that could not boot or run is an error, one that ran and failed a failure. A run's `status` is there
    /// exactly when its command ended: a sandbox that panicked, failed to boot, timed out or was interrupted has none.
    var junitKind: JUnitKind {
        if passed { return .none }
        if setupError != nil || runs.isEmpty { return .error }
        return runs.allSatisfy { $0.status != nil } ? .failure : .error
    }

    var junitType: String {
        switch junitKind {
        case .error: "sandbox"
        default: runs.allSatisfy(\.passed) ? "budget" : "expectation"
        }
    }

    /// The median timeline, from `phases`.
    var timeline: Timeline {
        Timeline(phases: Dictionary(uniqueKeysWithValues: phases.compactMap { key, value in Timeline.Phase(rawValue: key).map { ($0, value) } }))
    }

    /// `blame` in the order of the budgets it explains (boot, then shutdown).
    var orderedBlame: [(String, [ConsoleGap])] {
        guard let blame else { return [] }
        var seen = Set<String>()
        return (budgets.map(\.metric) + blame.keys.sorted()).compactMap { metric in
            seen.insert(metric).inserted ? blame[metric].map { (metric, $0) } : nil
        }
    }
}

extension SuiteReport.Document.BudgetResult {
    /// As ``BudgetCheck/description`` says it: `shutdown 1034 ms > budget 300 ms`.
    var description: String {
        guard let known = BudgetCheck.Metric(rawValue: metric) else {
            return measured.map { "\(metric) \(DurationText.milliseconds($0)) \(passed ? "≤" : ">") budget \(DurationText.milliseconds(limit))" }
                ?? "\(metric) not measured (budget \(DurationText.milliseconds(limit)))"
        }
        return BudgetCheck(metric: known, limit: limit, measured: measured).description
    }
}

/// Text for the XML reports ksand writes (JUnit).
public enum XML {
    /// Text safe in an attribute or element: the five entities, and characters XML 1.0 forbids dropped.
    public static func escape(_ text: String) -> String {
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
