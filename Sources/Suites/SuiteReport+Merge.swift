import Foundation

extension SuiteReport.Document {
    /// The `ksand test --json` report in `data` (from `file`, named in errors): a `ksand-test` report, or a document of no
    /// kind that has a test report's keys.
    public static func read(_ data: Data, file: String) throws(ReportError) -> Self {
        let kind: String
        do { kind = try ReportKind.of(data) } catch { throw ReportError(file: file, problem: error) }
        guard kind == ReportKind.test else { throw ReportError(file: file, problem: .unknownKind(kind, known: [ReportKind.test])) }
        do {
            return try JSONDecoder().decode(Self.self, from: data)
        } catch {
            throw ReportError(file: file, problem: .malformed(kind: kind, reason: ReportError.Problem.reason(error)))
        }
    }

    /// What ``merge(_:allowMissing:)`` made of some shards' reports.
    public struct Merge: Equatable, Sendable {
        /// The report of the whole run: every test in plan order, counts recomputed, the longest shard's seconds, no
        /// `shard`.
        public var document: SuiteReport.Document
        /// The shards merged, in order.
        public var shards: [Shard]
        /// The plan's shards no report held (only with `allowMissing`).
        public var missingShards: [Shard]
        /// Positions of the plan's tests that no report held (only with `allowMissing`), in order.
        public var missingTests: [Int]
        /// How many tests the whole plan holds.
        public var planned: Int
    }

    /// Merges the reports of shards of one `ksand test` run (`--shard K/N --json`) into the report the whole run
    /// would have written. Each report (file, document) must be a shard of the same plan (the same N and number of
    /// tests) and each shard is given once; each test must stand at a position of its shard, once. Every shard, and
    /// every test of each, must be there, unless `allowMissing`.
    public static func merge(_ reports: [(file: String, document: Self)], allowMissing: Bool = false) throws(ReportError) -> Merge {
        var plan: (file: String, shard: Shard, planned: Int)?
        var files: [Shard: String] = [:]
        var byPosition: [Int: (file: String, test: Test)] = [:]
        var missingTests: [Int] = []
        for (file, document) in reports {
            func fail(_ problem: ReportError.Problem) -> ReportError { ReportError(file: file, problem: problem) }
            guard let record = document.shard else { throw fail(.notAShard) }
            let shard: Shard
            do { shard = try Shard(index: record.index, count: record.count) } catch { throw fail(.invalidShard(error)) }
            if record.planned < 0 { throw fail(.malformed(kind: ReportKind.test, reason: "at shard.planned: a negative number of tests")) }
            if let plan, plan.shard.count != shard.count || plan.planned != record.planned {
                throw fail(.otherPlan(shard: shard, planned: record.planned, other: plan.file, otherShard: plan.shard, otherPlanned: plan.planned))
            }
            plan = plan ?? (file, shard, record.planned)
            if let other = files[shard] { throw fail(.duplicateShard(shard, other: other)) }
            files[shard] = file
            for test in document.tests {
                guard let position = test.position else { throw fail(.noPosition(test: test.id)) }
                guard position < record.planned, shard.owns(index: position) else {
                    throw fail(.notInShard(test: test.id, position: position, shard: shard, planned: record.planned))
                }
                if let other = byPosition[position] { throw fail(.duplicateTest(test: test.id, position: position, other: other.file)) }
                byPosition[position] = (file, test)
            }
            let absent = shard.indices(of: record.planned).filter { byPosition[$0] == nil }
            if !absent.isEmpty && !allowMissing {
                throw fail(.incompleteShard(shard, missing: absent, of: shard.size(of: record.planned)))
            }
            missingTests += absent
        }
        guard let plan else { return Merge(document: Self(passed: false, seconds: 0, tests: [], counts: Counts(total: 0, failed: 0)),
                                           shards: [], missingShards: [], missingTests: [], planned: 0) }
        let missingShards = (1...plan.shard.count).compactMap { index in
            let shard = try? Shard(index: index, count: plan.shard.count)
            return shard.flatMap { files[$0] == nil ? $0 : nil }
        }
        let notMerged = missingShards.map { $0.size(of: plan.planned) }.reduce(0, +)
        if !missingShards.isEmpty && !allowMissing { throw ReportError(file: nil, problem: .missingShards(missingShards, tests: notMerged)) }
        missingTests += missingShards.flatMap { Array($0.indices(of: plan.planned)) }
        let tests = byPosition.sorted { $0.key < $1.key }.map(\.value.test)
        let failed = tests.filter { !$0.passed }.count
        let document = Self(passed: !tests.isEmpty && failed == 0, seconds: reports.map(\.document.seconds).max() ?? 0, tests: tests,
                            counts: Counts(total: tests.count, failed: failed))
        return Merge(document: document, shards: files.keys.sorted { $0.index < $1.index }, missingShards: missingShards,
                     missingTests: missingTests.sorted(), planned: plan.planned)
    }
}
