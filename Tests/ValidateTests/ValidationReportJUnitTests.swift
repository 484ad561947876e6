import Foundation
import Testing
@testable import Validate

/// `ksand validate --junit`: the XML pinned for a report made here, and read back by junitparser as CI tools read it.
@Suite struct ValidationReportJUnitTests {
    @Test func theXMLIsPinned() {
        let xml = SampleReports.small().junit()
        #expect(xml == Self.golden, "\(xml)")
    }

    static let golden = """
        <?xml version="1.0" encoding="UTF-8"?>
        <testsuites name="ksand validate" tests="20" failures="1" errors="1" skipped="9" time="123.400">
          <testsuite name="base (no patches of the series)" tests="4" failures="0" errors="0" skipped="0" time="0.000" timestamp="2026-12-02T01:00:00Z">
            <testcase classname="ksand.validate.patch00" name="0/3 base: build">
              <system-out>from the cache: Linux 6.1.158</system-out>
            </testcase>
            <testcase classname="ksand.validate.patch00" name="0/3 base: test smoke/boots"/>
            <testcase classname="ksand.validate.patch00" name="0/3 base: boot time">
              <system-out>boot 2000 ms (median of every run of every test: the reference for patch 1)</system-out>
            </testcase>
            <testcase classname="ksand.validate.patch00" name="0/3 base: shutdown time">
              <system-out>shutdown 100 ms (median of every run of every test: the reference for patch 1)</system-out>
            </testcase>
          </testsuite>
          <testsuite name="patch 1/3 md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless" tests="6" failures="1" errors="0" skipped="0" time="41.500" timestamp="2026-12-02T01:00:00Z">
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: build" time="41.500">
              <system-out>built in 42 s: Linux 6.1.158</system-out>
            </testcase>
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: warnings">
              <system-out>no new warnings in the files it touches (against the base)</system-out>
            </testcase>
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: test smoke/boots"/>
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: boot time">
              <system-out>smoke/boots boot: 2000 → 2004 ms, same: median +4 ms (+0.2 %), p = 0.69 (exact, 5 vs 5 runs) (against the base)</system-out>
            </testcase>
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: shutdown time">
              <failure message="regressed: smoke/boots shutdown: 100 → 1102 ms, slower: median +1002 ms (+1002 %), p = 0.0079 (exact, 5 vs 5 runs)" type="regressed">smoke/boots shutdown: 100 → 1102 ms, slower: median +1002 ms (+1002 %), p = 0.0079 (exact, 5 vs 5 runs)
          blame: 1080 ms after &quot;md: stopping all md devices&quot;; the parent&apos;s: 80 ms</failure>
            </testcase>
            <testcase classname="ksand.validate.patch01" name="1/3 &quot;md: &lt;sleep&gt; &amp; &quot;wait&quot; [31mless&quot;: budget"/>
          </testsuite>
          <testsuite name="patch 2/3 md: drop the check" tests="5" failures="0" errors="1" skipped="4" time="0.000" timestamp="2026-12-02T01:00:00Z">
            <testcase classname="ksand.validate.patch02" name="2/3 &quot;md: drop the check&quot;: build">
              <error message="does-not-apply: patch 2/3 &quot;md: drop the check&quot; does not apply:" type="does-not-apply">patch 2/3 &quot;md: drop the check&quot; does not apply:
        drivers/md/md.c, hunk @@ -9617,9 +9617,6 @@</error>
            </testcase>
            <testcase classname="ksand.validate.patch02" name="2/3 &quot;md: drop the check&quot;: warnings">
              <skipped message="patch 2 does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch02" name="2/3 &quot;md: drop the check&quot;: boot time">
              <skipped message="patch 2 does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch02" name="2/3 &quot;md: drop the check&quot;: shutdown time">
              <skipped message="patch 2 does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch02" name="2/3 &quot;md: drop the check&quot;: budget">
              <skipped message="patch 2 does not apply"/>
            </testcase>
          </testsuite>
          <testsuite name="patch 3/3 md: third" tests="5" failures="0" errors="0" skipped="5" time="0.000" timestamp="2026-12-02T01:00:00Z">
            <testcase classname="ksand.validate.patch03" name="3/3 &quot;md: third&quot;: build">
              <skipped message="not tested: an earlier patch does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch03" name="3/3 &quot;md: third&quot;: warnings">
              <skipped message="not tested: an earlier patch does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch03" name="3/3 &quot;md: third&quot;: boot time">
              <skipped message="not tested: an earlier patch does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch03" name="3/3 &quot;md: third&quot;: shutdown time">
              <skipped message="not tested: an earlier patch does not apply"/>
            </testcase>
            <testcase classname="ksand.validate.patch03" name="3/3 &quot;md: third&quot;: budget">
              <skipped message="not tested: an earlier patch does not apply"/>
            </testcase>
          </testsuite>
        </testsuites>

        """

    /// Per suite (tests, failures, errors, skipped) and per case its result (`failure`, `error`, `skipped` or ``)
    /// and type, as junitparser reads the file.
    struct Parsed: Decodable {
        var suites: [String: [Int]]
        var cases: [String: [String]]
        var totals: [Int]
    }

    static func parse(_ xml: String) async throws -> Parsed {
        let directory = try SampleReports.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "ksand-validate.xml")
        try Data(xml.utf8).write(to: file)
        let script = """
            import json, sys
            from junitparser import JUnitXml
            xml = JUnitXml.fromfile(sys.argv[1])
            suites, cases, totals = {}, {}, [0, 0, 0, 0]
            for suite in xml:
                suites[suite.name] = [suite.tests, suite.failures, suite.errors, suite.skipped]
                for case in suite:
                    kinds = [(r._tag, r.type or "") for r in case.result]
                    key = suite.name + " | " + case.classname + " | " + case.name
                    if key in cases: raise SystemExit("two cases named " + key)
                    cases[key] = list(kinds[0]) if kinds else ["", ""]
                    totals[0] += 1
                    for index, tag in ((1, "failure"), (2, "error"), (3, "skipped")):
                        totals[index] += any(r._tag == tag for r in case.result)
            print(json.dumps({"suites": suites, "cases": cases, "totals": totals}))
            """
        let output = try await SampleReports.python(script, [file.path])
        return try JSONDecoder().decode(Parsed.self, from: Data(output.utf8))
    }

    @Test func junitparserCountsTheCasesOfEachPatch() async throws {
        let report = try await SampleReports.series()
        #expect(report.patches.map(\.verdict) == [.pass, .testsFailed, .regressed, .buildFailed, .doesNotApply, .notTested])
        let parsed = try await Self.parse(report.junit())
        // Per patch: build, warnings, the one test, boot time, shutdown time, budget. The base: build, the test, boot
        // and shutdown time.
        #expect(parsed.suites["base (no patches of the series)"] == [4, 0, 0, 0])
        #expect(parsed.suites["patch 1/6 patch number 1"] == [6, 0, 0, 0])
        #expect(parsed.suites["patch 2/6 patch number 2"] == [6, 1, 0, 0])
        #expect(parsed.suites["patch 3/6 patch number 3"] == [6, 3, 0, 0])  // new warnings, shutdown time, budget
        #expect(parsed.suites["patch 4/6 patch number 4"] == [5, 0, 1, 4])  // no kernel: the test is not known
        #expect(parsed.suites["patch 5/6 patch number 5"] == [5, 0, 1, 4])
        #expect(parsed.suites["patch 6/6 patch number 6"] == [5, 0, 0, 5])
        #expect(parsed.totals == [37, 4, 2, 13])
        #expect(parsed.cases["patch 2/6 patch number 2 | ksand.validate.patch02 | 2/6 \"patch number 2\": test command"] == ["failure", "tests-failed"])
        #expect(parsed.cases["patch 3/6 patch number 3 | ksand.validate.patch03 | 3/6 \"patch number 3\": shutdown time"] == ["failure", "regressed"])
        #expect(parsed.cases["patch 3/6 patch number 3 | ksand.validate.patch03 | 3/6 \"patch number 3\": boot time"] == ["", ""])
        #expect(parsed.cases["patch 3/6 patch number 3 | ksand.validate.patch03 | 3/6 \"patch number 3\": warnings"] == ["failure", "new-warnings"])
        #expect(parsed.cases["patch 3/6 patch number 3 | ksand.validate.patch03 | 3/6 \"patch number 3\": budget"] == ["failure", "budget-breached"])
        #expect(parsed.cases["patch 4/6 patch number 4 | ksand.validate.patch04 | 4/6 \"patch number 4\": build"] == ["error", "build-failed"])
        #expect(parsed.cases["patch 5/6 patch number 5 | ksand.validate.patch05 | 5/6 \"patch number 5\": build"] == ["error", "does-not-apply"])
        #expect(parsed.cases["patch 6/6 patch number 6 | ksand.validate.patch06 | 6/6 \"patch number 6\": build"] == ["skipped", ""])
    }

    @Test func junitparserReadsTheEscapedSubjectBack() async throws {
        let parsed = try await Self.parse(SampleReports.small().junit())
        // The escape character and the bell are not XML 1.0 characters: dropped; the rest comes back as it was.
        #expect(parsed.suites["patch 1/3 md: <sleep> & \"wait\" [31mless"] == [6, 1, 0, 0])
        #expect(parsed.suites["patch 2/3 md: drop the check"] == [5, 0, 1, 4])
        #expect(parsed.totals == [20, 1, 1, 9])
    }

    @Test func aValidationThatCouldNotStartIsOneError() async throws {
        var report = ValidationReport(mode: .series, series: "/project/patches/series", seriesLength: 0, couldNotValidate: "the series has no patches")
        report.started = "2026-12-02T01:00:00Z"
        let parsed = try await Self.parse(report.junit())
        #expect(parsed.totals == [1, 0, 1, 0])
        let failing = try await SeriesValidator(series: "s", patches: SampleReports.patches(2), steps: FakeSteps([0: .init(testProblem: "wrong output")]))
            .validateSeries()
        let base = try await Self.parse(failing.junit())
        #expect(base.suites["base (no patches of the series)"] == [2, 0, 1, 0])
        #expect(base.cases["base (no patches of the series) | ksand.validate.patch00 | 0/2 base: tests"] == ["error", "could-not-validate"])
    }
}
