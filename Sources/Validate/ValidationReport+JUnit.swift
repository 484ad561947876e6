import Foundation
import Suites

extension ValidationReport {
    /// The report as JUnit XML, for CI systems: a `<testsuite>` for the base and one per patch (`patch 3/4 md: sleep
    /// for a second…`), each with a `<testcase>` for the build, the new warnings, every test (by id), the boot time
    /// and the shutdown time against the compared prefix, and the budgets.
    ///
    /// Every case's name carries the patch's place and subject (`3/4 "md: …": build`, class `ksand.validate.patch03`),
    /// so a CI system that merges cases by name keeps the patches apart. A bad verdict is a `<failure>` whose message
    /// is the verdict and its first line of evidence and whose body is the evidence; a patch that does not apply or
    /// build is an `<error>` on its build case, with its other cases `<skipped>`; a patch that was not tested has
    /// every case `<skipped>`. Rendered from the report alone (``started`` is the timestamp), so a validation and the
    /// merge of its shards' reports write the same XML.
    public func junit() -> String {
        let suites = junitSuites
        let all = suites.flatMap(\.cases)
        func count(_ kind: JUnitCase.Kind, in cases: [JUnitCase]) -> Int { cases.filter { $0.kind == kind }.count }
        var xml = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        xml.append("<testsuites name=\"ksand validate\" tests=\"\(all.count)\" failures=\"\(count(.failure, in: all))\" "
            + "errors=\"\(count(.error, in: all))\" skipped=\"\(count(.skipped, in: all))\" time=\"\(Self.junitTime(seconds))\">")
        for suite in suites {
            xml.append("  <testsuite name=\"\(XML.escape(suite.name))\" tests=\"\(suite.cases.count)\" failures=\"\(count(.failure, in: suite.cases))\" "
                + "errors=\"\(count(.error, in: suite.cases))\" skipped=\"\(count(.skipped, in: suite.cases))\" "
                + "time=\"\(Self.junitTime(suite.cases.compactMap(\.seconds).reduce(0, +)))\""
                + (started.map { " timestamp=\"\(XML.escape($0))\"" } ?? "") + ">")
            for item in suite.cases {
                xml.append("    <testcase classname=\"\(XML.escape(suite.className))\" name=\"\(XML.escape(item.name))\""
                    + (item.seconds.map { " time=\"\(Self.junitTime($0))\"" } ?? "") + (item.kind == .passed && item.output.isEmpty ? "/>" : ">"))
                switch item.kind {
                case .passed: break
                case .skipped: xml.append("      <skipped message=\"\(XML.escape(item.message))\"/>")
                case .failure, .error:
                    let element = item.kind == .error ? "error" : "failure"
                    xml.append("      <\(element) message=\"\(XML.escape(item.message))\" type=\"\(XML.escape(item.type))\">"
                        + XML.escape(item.body.joined(separator: "\n")) + "</\(element)>")
                }
                if !item.output.isEmpty { xml.append("      <system-out>\(XML.escape(item.output.joined(separator: "\n")))</system-out>") }
                if item.kind != .passed || !item.output.isEmpty { xml.append("    </testcase>") }
            }
            xml.append("  </testsuite>")
        }
        xml.append("</testsuites>")
        return xml.joined(separator: "\n") + "\n"
    }

    /// One `<testcase>`: passed (with what it measured), skipped (why), a failure or an error (the verdict, the
    /// first line of evidence, the evidence).
    struct JUnitCase: Equatable {
        enum Kind { case passed, failure, error, skipped }
        var name: String
        var kind: Kind = .passed
        var seconds: Double?
        /// The `message` of a failure, error or skip.
        var message = ""
        /// The verdict, as the failure's or error's `type`.
        var type = ""
        var body: [String] = []
        /// `<system-out>`: what a case measured.
        var output: [String] = []

        static func bad(_ name: String, _ kind: Kind, verdict: PatchVerdict, evidence: [String], seconds: Double? = nil) -> JUnitCase {
            JUnitCase(name: name, kind: kind, seconds: seconds, message: verdict.rawValue + (evidence.first.map { ": " + $0.withoutIndent } ?? ""),
                      type: verdict.rawValue, body: evidence)
        }
    }

    struct JUnitSuite {
        var name: String
        var className: String
        var cases: [JUnitCase]
    }

    var junitSuites: [JUnitSuite] {
        var suites: [JUnitSuite] = []
        if let base {
            suites.append(JUnitSuite(name: "base (no patches of the series)", className: junitClass(0), cases: baseCases(base)))
        } else if let couldNotValidate {
            suites.append(JUnitSuite(name: "validation of \(series)", className: "ksand.validate", cases: [
                JUnitCase(name: "validate", kind: .error, message: "could not validate: " + (couldNotValidate.firstLine),
                          type: "could-not-validate", body: [couldNotValidate]),
            ]))
        }
        for patch in patches {
            suites.append(JUnitSuite(name: "patch \(patch.index)/\(seriesLength) \(patch.subject)", className: junitClass(patch.index),
                                     cases: patchCases(patch)))
        }
        return suites
    }

    /// `ksand.validate.patch03`: the index zero-padded to the series length's digits, two at least, so the classes
    /// sort in the series' order.
    func junitClass(_ index: Int) -> String {
        let width = max(2, String(seriesLength).count)
        return "ksand.validate.patch" + String(repeating: "0", count: max(0, width - String(index).count)) + String(index)
    }

    func baseCases(_ base: Base) -> [JUnitCase] {
        let name = { (what: String) in "0/\(seriesLength) base: \(what)" }
        var build = JUnitCase(name: name("build"), seconds: base.build.seconds, output: Self.buildOutput(base.build))
        switch base.build.state {
        case .doesNotApply, .failed:
            build = .bad(name("build"), .error, verdict: base.build.state == .failed ? .buildFailed : .doesNotApply,
                         evidence: Self.buildEvidence(base.build), seconds: base.build.seconds)
            return [build]
        case .built, .cached, .notBuilt:
            break
        }
        var cases = [build]
        if let couldNotValidate {
            cases.append(JUnitCase(name: name("tests"), kind: .error, message: "could not validate: " + couldNotValidate.firstLine,
                                   type: "could-not-validate", body: [couldNotValidate]))
            return cases
        }
        cases += (base.testIDs ?? []).map { JUnitCase(name: name("test \($0)")) }
        for (phase, value) in [("boot", base.bootMilliseconds), ("shutdown", base.shutdownMilliseconds)] {
            cases.append(JUnitCase(name: name("\(phase) time"), output: value.map {
                ["\(phase) \(Int($0.rounded())) ms (median of every run of every test: the reference for patch 1)"]
            } ?? []))
        }
        return cases
    }

    func patchCases(_ patch: Patch) -> [JUnitCase] {
        let name = { (what: String) in "\(patch.index)/\(seriesLength) \"\(patch.subject)\": \(what)" }
        let tests = patch.testIDs ?? Self.testIDs(patch)
        let rest = ["warnings"] + tests.map { "test \($0)" } + ["boot time", "shutdown time", "budget"]
        if patch.verdict == .notTested {
            let why = mode == .bisect ? "not tested: the bisection did not need this prefix" : "not tested: an earlier patch does not apply"
            return (["build"] + rest).map { JUnitCase(name: name($0), kind: .skipped, message: why) }
        }
        switch patch.build.state {
        case .doesNotApply, .failed, .notBuilt:
            let verdict: PatchVerdict = patch.build.state == .failed ? .buildFailed : .doesNotApply
            let why = verdict == .buildFailed ? "patches 1...\(patch.index) did not build" : "patch \(patch.index) does not apply"
            return [.bad(name("build"), .error, verdict: verdict, evidence: Self.buildEvidence(patch.build), seconds: patch.build.seconds)]
                + rest.map { JUnitCase(name: name($0), kind: .skipped, message: why) }
        case .built, .cached:
            break
        }
        let against = patch.comparedWith.map { $0 == 0 ? "the base" : "patch \($0)" } ?? "no earlier kernel"
        var cases = [JUnitCase(name: name("build"), seconds: patch.build.seconds, output: Self.buildOutput(patch.build))]
        if patch.verdicts.contains(.newWarnings) {
            cases.append(.bad(name("warnings"), .failure, verdict: .newWarnings, evidence: Self.warningEvidence(patch)))
        } else if !seeking.contains(.newWarnings) {
            cases.append(JUnitCase(name: name("warnings"), kind: .skipped, message: "not compared: --for leaves new-warnings out"))
        } else {
            cases.append(JUnitCase(name: name("warnings"), output: ["no new warnings in the files it touches (against \(against))"]))
        }
        for test in tests {
            guard let failure = patch.failures.first(where: { $0.test == test }) else {
                cases.append(JUnitCase(name: name("test \(test)")))
                continue
            }
            let booted = !(failure.bootFailed ?? patch.verdicts.contains(.bootFailed))
            var evidence = Self.failureEvidence(failure)
            if !failure.consoleTail.isEmpty { evidence += ["console, last lines:"] + failure.consoleTail.map { "  " + $0 } }
            cases.append(.bad(name("test \(test)"), .failure, verdict: booted ? .testsFailed : .bootFailed, evidence: evidence))
        }
        for phase in TimedPhase.allCases {
            let compared = patch.timing.filter { $0.phase == phase }
            if compared.contains(where: { $0.outcome == .slower }) {
                cases.append(.bad(name("\(phase.rawValue) time"), .failure, verdict: .regressed, evidence: Self.timingEvidence(patch, phase: phase)))
            } else {
                cases.append(JUnitCase(name: name("\(phase.rawValue) time"),
                                       output: compared.map { Self.timingLine($0) + " (against \(against))" }))
            }
        }
        let breaches = Self.budgetEvidence(patch)
        if patch.verdicts.contains(.budgetBreached) {
            cases.append(.bad(name("budget"), .failure, verdict: .budgetBreached, evidence: breaches))
        } else {
            cases.append(JUnitCase(name: name("budget"), output: breaches))
        }
        return cases
    }

    /// The tests of a patch's row when the report does not list them (one written before ``Patch/testIDs``): those its
    /// failures and comparisons name, in their order.
    static func testIDs(_ patch: Patch) -> [String] {
        var ids: [String] = []
        for id in patch.timing.map(\.test) + patch.failures.map(\.test) + patch.breaches.map(\.test) where !ids.contains(id) { ids.append(id) }
        return ids
    }

    static func buildOutput(_ build: Build) -> [String] {
        switch build.state {
        case .built: ["built" + (build.seconds.map { " in \(Int($0.rounded())) s" } ?? "") + (build.kernelRelease.map { ": Linux \($0)" } ?? "")]
        case .cached: ["from the cache" + (build.kernelRelease.map { ": Linux \($0)" } ?? "")]
        case .failed, .doesNotApply, .notBuilt: []
        }
    }

    static func junitTime(_ seconds: Double) -> String { String(format: "%.3f", seconds.isFinite ? seconds : 0) }
}

extension String {
    /// The text up to its first line break.
    var firstLine: String { String(prefix { $0 != "\n" }) }

    /// Without the leading spaces and `| ` that indent evidence lines.
    var withoutIndent: String {
        var text = Substring(self)
        while text.first == " " || text.hasPrefix("| ") { text = text.first == " " ? text.dropFirst() : text.dropFirst(2) }
        return String(text)
    }
}
