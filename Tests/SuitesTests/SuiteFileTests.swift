import Foundation
import ProjectFile
import Sandbox
import Testing
import ToolRunner
@testable import Suites

@Suite struct SuiteFileTests {
    let text = """
        [suite]
        description = "demo"
        [budgets.tcg]
        shutdown = "300ms"

        [[test]]
        name = "read-only"
        command = "touch /usr/x"
        setup = ["mkdir -p /tmp/a"]
        host-after = ["test ! -e /usr/x"]
        user = "0:5"
        env = { LANG = "C" }
        [test.expect]
        status = 1
        stderr-matches = "Read-only file system"
        [test.budgets.tcg]
        boot = "2.5s"

        [[test]]
        name = "argv"
        command = ["/bin/echo", "a b"]
        """

    @Test func parsesTestsWithTheirExpectationsAndBudgets() throws {
        let suite = try SuiteFile(parsing: text, path: "/p/suites/demo.toml")
        #expect(suite.name == "demo")
        #expect(suite.tests.count == 2)
        let first = suite.tests[0]
        #expect(first.command == ["/bin/sh", "-c", "touch /usr/x"])
        #expect(first.expect.status == 1 && first.expect.stderrMatches == "Read-only file system")
        #expect(first.user?.uid == 0 && first.user?.gid == 5)
        #expect(first.environment == ["LANG": "C"])
        #expect(suite.tests[1].command == ["/bin/echo", "a b"])
        #expect(suite.tests[1].expect.status == 0)

        let plan = TestPlan(suites: [suite], projectBudgets: ["tcg": Budget(boot: 3, shutdown: 1), "kvm": Budget(boot: 0.4)],
                            base: .init(command: [], timeout: nil), repeats: 2)
        #expect(plan.items.map(\.id) == ["demo/read-only", "demo/argv"])
        // the project's, overridden by the suite's, overridden by the test's
        #expect(plan.items[0].budgets["tcg"] == Budget(boot: 2.5, shutdown: 0.3))
        #expect(plan.items[1].budgets["tcg"] == Budget(boot: 3, shutdown: 0.3))
        #expect(plan.items[1].budgets["kvm"] == Budget(boot: 0.4))
        #expect(plan.items[0].spec.uid == 0 && plan.items[0].spec.timeout == TestPlan.defaultTimeout)
        #expect(plan.items[0].spec.forwardStdin == false)
        #expect(TestPlan(suites: [suite], projectBudgets: [:], base: .init(command: []), filter: "argv").items.count == 1)
    }

    /// A shard is taken after the filter, in plan order (suites as given, tests in file order), and each test keeps
    /// its position in the whole plan.
    @Test func aPlansShardAfterTheFilter() throws {
        let tests = (0..<5).map { "[[test]]\nname = \"t\($0)\"\ncommand = \"true\"\n" }.joined()
        let a = try SuiteFile(parsing: tests, path: "/p/a.toml"), b = try SuiteFile(parsing: tests, path: "/p/b.toml")
        let whole = TestPlan(suites: [a, b], projectBudgets: [:], base: .init(command: []), filter: "t")
        #expect(whole.planned == 10 && whole.shard == nil && whole.items.map(\.position) == Array(0..<10))
        let shard = try Shard(parsing: "2/3")
        let plan = TestPlan(suites: [a, b], projectBudgets: [:], base: .init(command: []), filter: "/t", shard: shard)
        #expect(plan.planned == 10 && plan.shard == shard)
        #expect(plan.items.map(\.id) == ["a/t1", "a/t4", "b/t2"])
        #expect(plan.items.map(\.position) == [1, 4, 7])
        let filtered = TestPlan(suites: [a, b], projectBudgets: [:], base: .init(command: []), filter: "b/", shard: shard)
        #expect(filtered.planned == 5 && filtered.items.map(\.id) == ["b/t1", "b/t4"] && filtered.items.map(\.position) == [1, 4])
        let empty = TestPlan(suites: [a], projectBudgets: [:], base: .init(command: []), shard: try Shard(parsing: "7/7"))
        #expect(empty.planned == 5 && empty.items.isEmpty)
    }

    @Test(arguments: [
        ("[[test]]\ncommand = \"true\"", "test #1 has no name"),
        ("[[test]]\nname = \"a\"", "[test a] has no command"),
        ("[[test]]\nname = \"a\"\ncommand = \"true\"\n[[test]]\nname = \"a\"\ncommand = \"true\"", "two tests are named 'a'"),
        ("[[test]]\nname = \"a\"\ncommand = \"true\"\nstatus = 1", "unknown key 'status' in [test a]"),
        ("[[test]]\nname = \"a\"\ncommand = \"true\"\n[test.expect]\nstdout-matches = \"(\"", "is not a valid regular expression"),
        ("[[test]]\nname = \"a\"\ncommand = \"true\"\n[test.budgets.tcg]\nboot = \"2\"", "expected a duration with a unit"),
        ("[suite]\ndescription = \"x\"", "no tests"),
    ])
    func badFilesNameTheProblem(text: String, expected: String) {
        #expect {
            try SuiteFile(parsing: text, path: "/p/suites/bad.toml")
        } throws: { error in
            "\(error)".hasPrefix("/p/suites/bad.toml: ") && "\(error)".contains(expected)
        }
    }

    /// The shipped suites parse, and the project file's budgets with them.
    @Test func shippedSuitesAndBudgetsParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let project = try ProjectFile(contentsOf: root + "/ksand.toml")
        #expect(project.budgets["tcg"]?.shutdown == 0.3)
        let files = try SuiteFile.discover(in: root + "/suites")
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["md-shutdown.toml", "smoke.toml"])
        for file in files { #expect(try !SuiteFile(contentsOf: file).tests.isEmpty) }
    }
}

@Suite struct OutputCheckTests {
    @Test func reportsEachMismatch() {
        var expect = SuiteTest.Expectation()
        expect.stdout = "ok\n"
        expect.stderrMatches = "^warn"
        #expect(OutputCheck.mismatches(expect, status: 0, stdout: "ok\n", stderr: "warning\n").isEmpty)
        let problems = OutputCheck.mismatches(expect, status: 2, stdout: "no\n", stderr: "")
        #expect(problems == ["exit status 2, expected 0", "stdout was \"no\\n\", expected \"ok\\n\"", "stderr does not match /^warn/: \"\""])
    }

    @Test func setupStepsRunFirstAndAFailureIsNamed() async throws {
        let argv = SetupScript.command(["echo", "main"], setup: ["echo one", "exit 4"])
        let result = try await Tool.run(argv[0], Array(argv.dropFirst()))
        #expect(result.status == SetupScript.failureStatus)
        #expect(result.text == "")  // a step's stdout goes to stderr
        #expect(result.errorText.hasPrefix("one\n"))
        #expect(SetupScript.failure(status: result.status, stderr: result.errorText) == "step 2 failed with status 4: exit 4")
        #expect(SetupScript.command(["true"], setup: []) == ["true"])
    }
}

@Suite struct SuiteStartTests {
    func plan(_ text: String) throws -> TestPlan {
        let suite = try SuiteFile(parsing: text, path: "/p/suites/s.toml")
        return TestPlan(suites: [suite], projectBudgets: [:], base: SandboxSpec(command: []))
    }

    /// Cold where a boot budget applies (the boot is what it measures), from the snapshot otherwise; a test's own
    /// choice wins over its suite's.
    @Test func testsStartColdWhereTheyCheckTheBootAndFromTheSnapshotElsewhere() throws {
        let defaults = try plan("""
            [[test]]
            name = "plain"
            command = "true"
            [[test]]
            name = "timed"
            command = "true"
            [test.budgets.tcg]
            boot = "2s"
            [[test]]
            name = "shutdown-only"
            command = "true"
            [test.budgets.tcg]
            shutdown = "300ms"
            """)
        #expect(defaults.items.map(\.start) == [.snapshot, .cold, .snapshot])
        let chosen = try plan("""
            [suite]
            start = "cold"
            [[test]]
            name = "a"
            command = "true"
            [[test]]
            name = "b"
            command = "true"
            start = "snapshot"
            [test.budgets.tcg]
            boot = "2s"
            """)
        #expect(chosen.items.map(\.start) == [.cold, .snapshot])
    }

    @Test func anUnknownStartNamesTheChoices() {
        #expect {
            try SuiteFile(parsing: "[[test]]\nname = \"a\"\ncommand = \"true\"\nstart = \"warm\"\n", path: "/p/s.toml")
        } throws: { error in
            "\(error)".contains("start = \"warm\"") && "\(error)".contains("\"snapshot\"") && "\(error)".contains("\"cold\"")
        }
    }
}
