import Foundation
import ProjectFile

extension SuiteReport {
    /// The report as JSON: per test its verdict, failures, median phases (seconds), budget checks, the blame
    /// behind each breach, and each run's status and phases.
    public func json() -> Data {
        let tests: [[String: Any]] = results.map { result in
            var test: [String: Any] = [
                "suite": result.item.suite, "name": result.item.test.name, "passed": result.passed,
                "failures": result.failures, "seconds": result.seconds,
                "phases": result.timeline.phasesBySeconds,
                "budgets": result.budgetChecks.map { check -> [String: Any] in
                    var entry: [String: Any] = ["metric": check.metric.rawValue, "limit": check.limit, "passed": check.passed]
                    if let measured = check.measured { entry["measured"] = measured }
                    return entry
                },
                "runs": result.runs.map { run -> [String: Any] in
                    var entry: [String: Any] = ["passed": run.passed, "problems": run.problems, "phases": run.timeline.phasesBySeconds]
                    if let status = run.status { entry["status"] = Int(status) }
                    return entry
                },
            ]
            if let accelerator = result.accelerator { test["accelerator"] = accelerator }
            if let boot = result.timeline.boot { test["boot"] = boot }
            if let shutdown = result.timeline.shutdownTotal { test["shutdown"] = shutdown }
            var blame: [String: Any] = [:]
            for (metric, gaps) in result.blame() {
                blame[metric.rawValue] = gaps.map(\.jsonObject)
            }
            if !blame.isEmpty { test["blame"] = blame }
            return test
        }
        let document: [String: Any] = [
            "passed": passed, "seconds": seconds, "tests": tests,
            "counts": ["total": results.count, "failed": failed.count],
        ]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }
}
