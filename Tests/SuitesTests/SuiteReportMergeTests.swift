import Foundation
import Sandbox
import Testing
@testable import Suites

/// `ksand report merge`: shards' reports of one plan become the whole run's report, and every way a set of reports
/// can be wrong is refused, naming the file and the fix.
@Suite struct SuiteReportMergeTests {
    typealias Document = SuiteReport.Document

    static func test(_ position: Int, passed: Bool = true, suite: String = "cases") -> Document.Test {
        Document.Test(suite: suite, name: "t\(position)", position: position, passed: passed, failures: passed ? [] : ["exit status 1, expected 0"],
                      seconds: 1 + Double(position) / 4, phases: ["total": 2], budgets: [],
                      runs: [Document.Run(passed: passed, problems: [], phases: ["total": 2], status: passed ? 0 : 1)], accelerator: "tcg")
    }

    /// Shard `index`/`count` of a plan of `planned` tests, as `ksand test --shard` writes it.
    static func shard(_ index: Int, of count: Int, planned: Int, seconds: Double = 3, failing: Set<Int> = [],
                      leaving out: Set<Int> = []) throws -> Document {
        let positions = Array(try Shard(index: index, count: count).indices(of: planned)).filter { !out.contains($0) }
        let tests = positions.map { test($0, passed: !failing.contains($0)) }
        let report = Document(passed: !tests.contains { !$0.passed }, seconds: seconds, tests: tests,
                              counts: Document.Counts(total: tests.count, failed: tests.filter { !$0.passed }.count),
                              shard: Document.ShardRecord(index: index, count: count, planned: planned))
        return report
    }

    /// The ReportError `body` throws; nil when it throws none.
    func error(_ body: () throws -> Void) -> ReportError? {
        do {
            try body()
        } catch let error as ReportError {
            return error
        } catch {
            Issue.record("not a ReportError: \(error)")
        }
        return nil
    }

    @Test func shardsMergeIntoTheWholeRunInPlanOrder() throws {
        let reports = [("b.json", try Self.shard(2, of: 3, planned: 7, seconds: 4, failing: [4])),
                       ("c.json", try Self.shard(3, of: 3, planned: 7, seconds: 2)),
                       ("a.json", try Self.shard(1, of: 3, planned: 7, seconds: 5))]
        let merge = try Document.merge(reports)
        #expect(merge.document.tests.map(\.position) == Array(0..<7))
        #expect(merge.document.tests.map(\.name) == (0..<7).map { "t\($0)" })
        #expect(merge.document.counts == Document.Counts(total: 7, failed: 1))
        #expect(!merge.document.passed)
        #expect(merge.document.seconds == 5)
        #expect(merge.document.shard == nil && merge.document.kind == "ksand-test")
        #expect(merge.shards.map(\.description) == ["1/3", "2/3", "3/3"])
        #expect(merge.missingShards.isEmpty && merge.missingTests.isEmpty && merge.planned == 7)

        let passing = try Document.merge([("1", try Self.shard(1, of: 2, planned: 3)), ("2", try Self.shard(2, of: 2, planned: 3))])
        #expect(passing.document.passed && passing.document.counts == Document.Counts(total: 3, failed: 0))
    }

    /// A CI matrix larger than the plan: the shards with no tests merge as well.
    @Test func emptyShardsMerge() throws {
        let reports = try (1...5).map { ("\($0).json", try Self.shard($0, of: 5, planned: 2)) }
        #expect(reports[4].1.tests.isEmpty)
        let merge = try Document.merge(reports)
        #expect(merge.document.tests.map(\.position) == [0, 1] && merge.document.passed)
    }

    /// The merged whole renders the JUnit of the whole run: the same XML as the unsharded run's document.
    @Test func theMergeIsTheWholeRunsDocument() throws {
        let whole = try SuiteReportDocumentTests.report()
        let document = whole.document
        #expect(document.tests.map(\.position) == [0, 1, 1], "the fixture reuses its second test")
        let tests = [document.tests[0], document.tests[1]]
        func part(_ index: Int, _ tests: [Document.Test], seconds: Double) -> Document {
            Document(passed: false, seconds: seconds, tests: tests, counts: Document.Counts(total: tests.count, failed: 0),
                     shard: Document.ShardRecord(index: index, count: 2, planned: 2))
        }
        let merge = try Document.merge([("2.json", part(2, [tests[1]], seconds: 10.5)), ("1.json", part(1, [tests[0]], seconds: 3))])
        let expected = Document(passed: false, seconds: 10.5, tests: tests, counts: Document.Counts(total: 2, failed: 1))
        #expect(merge.document == expected)
        #expect(merge.document.junit(timestamp: SuiteReportJUnitTests.epoch) == expected.junit(timestamp: SuiteReportJUnitTests.epoch))
    }

    @Test func aMissingShardIsNamedUnlessAllowed() throws {
        let reports = [("a.json", try Self.shard(1, of: 4, planned: 10)), ("c.json", try Self.shard(3, of: 4, planned: 10))]
        let refused = error { _ = try Document.merge(reports) }
        #expect(refused == ReportError(file: nil, problem: .missingShards([try Shard(index: 2, count: 4), try Shard(index: 4, count: 4)], tests: 5)))
        #expect(refused?.description == "shards 2/4 and 4/4 are missing (5 tests of the plan): pass every shard's report, "
            + "or --allow-missing to merge what there is")
        let merge = try Document.merge(reports, allowMissing: true)
        #expect(merge.document.tests.map(\.position) == [0, 2, 4, 6, 8])
        #expect(merge.missingShards.map(\.description) == ["2/4", "4/4"])
        #expect(merge.missingTests == [1, 3, 5, 7, 9])
        #expect(merge.document.passed)
    }

    @Test func aShardThatLacksTestsIsNamedUnlessAllowed() throws {
        let reports = [("a.json", try Self.shard(1, of: 2, planned: 7, leaving: [2, 6])), ("b.json", try Self.shard(2, of: 2, planned: 7))]
        let refused = error { _ = try Document.merge(reports) }
        #expect(refused?.description == "a.json lacks 2 of the 4 tests of shard 1/2 (positions 2 and 6): the run was interrupted or cut "
            + "short; rerun that shard, or --allow-missing to merge what there is")
        let merge = try Document.merge(reports, allowMissing: true)
        #expect(merge.missingTests == [2, 6] && merge.missingShards.isEmpty)
        #expect(merge.document.counts.total == 5)
    }

    @Test func refusesShardsOfAnotherPlan() throws {
        let otherCount = error { _ = try Document.merge([("a.json", try Self.shard(1, of: 2, planned: 7)), ("b.json", try Self.shard(2, of: 3, planned: 7))]) }
        #expect(otherCount?.description == "b.json is shard 2/3 of a plan of 7 tests, but a.json is shard 1/2 of 7: merge the shards of one "
            + "run (the same suites, --filter and N)")
        let otherPlan = error { _ = try Document.merge([("a.json", try Self.shard(1, of: 2, planned: 7)), ("b.json", try Self.shard(2, of: 2, planned: 8))]) }
        #expect(otherPlan?.file == "b.json")
    }

    @Test func refusesAShardOrATestTwice() throws {
        let first = try Self.shard(1, of: 2, planned: 4)
        let twice = error { _ = try Document.merge([("a.json", first), ("b.json", try Self.shard(2, of: 2, planned: 4)), ("copy.json", first)]) }
        #expect(twice?.description == "copy.json is shard 1/2, as a.json is: pass each shard's report once")
        #expect(error { _ = try Document.merge([("a.json", first), ("a.json", first)]) }?.description
            == "a.json is given twice: pass each shard's report once")

        var repeated = first
        repeated.tests.append(repeated.tests[0])
        let test = error { _ = try Document.merge([("a.json", repeated)]) }
        #expect(test?.description == "a.json holds test cases/t0 (position 0) twice: pass the file ksand wrote, unchanged")
    }

    @Test func refusesATestOutsideItsShardOrWithoutAPosition() throws {
        var stray = try Self.shard(1, of: 2, planned: 4)
        stray.tests[1].position = 3
        #expect(error { _ = try Document.merge([("a.json", stray)]) }?.description
            == "a.json holds test cases/t2 at position 3, which is not one of shard 1/2's in a plan of 4: pass the file ksand wrote, unchanged")
        stray.tests[1].position = 4
        #expect(error { _ = try Document.merge([("a.json", stray)]) }?.problem
            == .notInShard(test: "cases/t2", position: 4, shard: try Shard(index: 1, count: 2), planned: 4))
        stray.tests[1].position = nil
        #expect(error { _ = try Document.merge([("a.json", stray)]) }?.problem == .noPosition(test: "cases/t2"))
    }

    @Test func refusesAWholeRunAndABadShard() throws {
        var whole = try Self.shard(1, of: 1, planned: 2)
        whole.shard = nil
        #expect(error { _ = try Document.merge([("whole.json", whole)]) }?.description
            == "whole.json is the report of a whole run (it has no `shard`): merge the reports of `ksand test --shard K/N --json`")
        var bad = try Self.shard(1, of: 1, planned: 2)
        bad.shard = Document.ShardRecord(index: 3, count: 2, planned: 2)
        #expect(error { _ = try Document.merge([("bad.json", bad)]) }?.description
            == "bad.json has a `shard` that is no shard (3/2: K must be between 1 and N (2)): pass the file ksand wrote, unchanged")
        bad.shard = Document.ShardRecord(index: 1, count: 1, planned: -1)
        #expect(error { _ = try Document.merge([("bad.json", bad)]) }?.description
            == "bad.json is not a readable `ksand-test` report (at shard.planned: a negative number of tests): pass the file ksand wrote, unchanged")
    }

    // Reading: the kind of document first, then the document.

    func read(_ text: String) -> ReportError? {
        error { _ = try Document.read(Data(text.utf8), file: "r.json") }
    }

    @Test func readsAReportOfThisKsandAndOfEarlierOnes() throws {
        let report = try SuiteReportDocumentTests.report()
        #expect(try Document.read(report.json(), file: "r.json") == report.document)
        let old = try Document.read(Data(SuiteReportDocumentTests.goldenBeforeShards.utf8), file: "old.json")
        #expect(old.kind == nil && old.shard == nil && old.tests.count == 3 && old.tests.allSatisfy { $0.position == nil })
        #expect(try ReportKind.of(Data(SuiteReportDocumentTests.goldenBeforeShards.utf8)) == "ksand-test")
    }

    @Test func refusesWhatIsNotATestReport() throws {
        #expect(read("{\"tests\": [")?.problem.isNotJSON == true)
        #expect(read("")?.problem.isNotJSON == true)
        #expect(read("[1, 2]")?.problem == .notAReport)
        #expect(read("{\"passed\": true}")?.problem == .notAReport)
        #expect(read("{\"kind\": 7}")?.problem == .notAReport)
        #expect(read("{\"exitStatus\": 0, \"outcome\": \"completed\"}")?.description
            == "r.json is not a ksand report (it has no `kind`, nor the `tests`, `counts` and `passed` of a test report): pass the report "
            + "that ksand wrote with --json")
        #expect(read("{\"kind\": \"ksand-validate\", \"patches\": []}")?.description
            == "r.json is a `ksand-validate` report, which cannot be merged (only `ksand-test` reports can)")
        #expect(read("{\"kind\": \"ksand-test\", \"passed\": true}")?.description
            == "r.json is not a readable `ksand-test` report (no `seconds`): pass the file ksand wrote, unchanged")
        #expect(read(#"{"kind": "ksand-test", "passed": true, "seconds": 1, "counts": {"total": 1, "failed": 0}, "tests": [{"suite": 1}]}"#)?
            .description.hasPrefix("r.json is not a readable `ksand-test` report (at tests[0].suite: ") == true)
    }

    @Test func reportsOfTwoKindsAreRefused() throws {
        let test = try SuiteReportDocumentTests.report().json()
        let refused = error { _ = try ReportKind.common([("a.json", test), ("v.json", Data("{\"kind\": \"ksand-validate\"}".utf8))]) }
        #expect(refused?.description == "v.json is a `ksand-validate` report but a.json is a `ksand-test` report: merge reports of one kind")
        #expect(try ReportKind.common([("a.json", test), ("b.json", test)]) == "ksand-test")
    }
}

extension ReportError.Problem {
    var isNotJSON: Bool { if case .notJSON = self { true } else { false } }
}
