import Foundation
import Subprocess
import Testing

extension SerializedIntegrationTests {
/// `ksand test --shard K/N` as a CI matrix runs it, then `ksand report merge` on the shards' JSON reports: three
/// boots in all.
@Suite struct ShardedTestCommandTests {
    func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test func shardsRunTheirPartAndMergeIntoTheWholeRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-shards-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = KsandProcess.marker()
        let suite = ["first": "true", "second": "exit 3", "third": "true"].sorted { $0.key < $1.key }
            .map { "[[test]]\nname = \"\($0.key)\"\ncommand = \"\($0.value)\"\nappend = [\"\(marker)\"]\n" }.joined(separator: "\n")
        try suite.write(toFile: directory + "/cases.toml", atomically: true, encoding: .utf8)
        func shard(_ shard: String) async throws -> KsandProcess.Result {
            try await KsandProcess.run(
                ["test", directory + "/cases.toml", "--accel", "tcg", "--shard", shard, "--json", directory + "/\(shard.first!)of\(shard.last!).json"],
                limit: 600, directory: KsandProcess.repository)
        }
        // The plan is first, second, third (file order): shard 1/2 holds first and third, shard 2/2 second.
        let one = try await shard("1/2")
        #expect(one.status == 0, "stdout: \(one.text)\nstderr: \(one.stderr)")
        #expect(one.stderr.contains("shard 1/2: 2 of 3 tests"))
        #expect(one.text.contains("2 passed, 0 failed"))
        let two = try await shard("2/2")
        #expect(two.status == 1, "stdout: \(two.text)\nstderr: \(two.stderr)")
        #expect(two.stderr.contains("shard 2/2: 1 of 3 tests"))
        #expect(two.text.contains("0 passed, 1 failed"))
        // A matrix larger than the plan: nothing to boot, and it passes.
        let four = try await shard("4/4")
        #expect(four.status == 0, "stdout: \(four.text)\nstderr: \(four.stderr)")
        #expect(four.stderr.contains("shard 4/4: 0 of 3 tests") && four.stderr.contains("this shard passes"))
        #expect(try json(directory + "/4of4.json")["shard"] as? [String: Int] == ["index": 4, "count": 4, "planned": 3])

        let merge = try await KsandProcess.run(["report", "merge", "--json", directory + "/merged.json", "--junit", directory + "/merged.xml",
                                                directory + "/2of2.json", directory + "/1of2.json"])
        #expect(merge.status == 1, "stdout: \(merge.text)\nstderr: \(merge.stderr)")
        #expect(merge.text.contains("2 shards, 3 tests: 2 passed, 1 failed") && merge.text.contains("FAIL cases/second"))
        let merged = try json(directory + "/merged.json")
        let tests = try #require(merged["tests"] as? [[String: Any]])
        #expect(tests.map { $0["name"] as? String } == ["first", "second", "third"])
        #expect(tests.map { $0["position"] as? Int } == [0, 1, 2])
        #expect(tests.map { $0["passed"] as? Bool } == [true, false, true])
        #expect(merged["counts"] as? [String: Int] == ["total": 3, "failed": 1])
        #expect(merged["passed"] as? Bool == false && merged["shard"] == nil && merged["kind"] as? String == "ksand-test")
        let junit = try String(contentsOfFile: directory + "/merged.xml", encoding: .utf8)
        #expect(junit.contains("<testsuite name=\"cases\" tests=\"3\" failures=\"1\" errors=\"0\""))
        #expect(junit.contains("<failure message=\"exit status 3, expected 0\" type=\"expectation\">"))

        // The passing shard alone merges only when a missing one is allowed; a shard of another matrix never.
        let missing = try await KsandProcess.run(["report", "merge", "--json", directory + "/m.json", directory + "/1of2.json"])
        #expect(missing.status == 125 && missing.stderr.contains("shard 2/2 is missing (1 test of the plan)"), "stderr: \(missing.stderr)")
        let allowed = try await KsandProcess.run(["report", "merge", "--allow-missing", "--json", directory + "/m.json", directory + "/1of2.json"])
        #expect(allowed.status == 0 && allowed.stderr.contains("shard 2/2 missing"), "stderr: \(allowed.stderr)")
        let other = try await KsandProcess.run(["report", "merge", "--json", directory + "/m.json", directory + "/1of2.json",
                                                directory + "/4of4.json"])
        #expect(other.status == 125 && other.stderr.contains("4of4.json is shard 4/4 of a plan of 3 tests"), "stderr: \(other.stderr)")
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }
}
}
