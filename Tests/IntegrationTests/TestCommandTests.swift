import Foundation
import Subprocess
import Testing

extension SerializedIntegrationTests {
/// `ksand test` on the repository's own project (suites/, ksand.toml budgets) and on suites written here, with the
/// reports read back by real consumers: python3-junitparser for JUnit, JSONSerialization for JSON.
@Suite struct TestCommandTests {
    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-suite-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Per suite: (tests, failures, errors), and per test case: its result kind ("" when it passed) and type,
    /// as junitparser reads the file.
    func junit(_ path: String) async throws -> (suites: [String: [Int]], cases: [String: [String]]) {
        let script = """
            import json, sys
            from junitparser import JUnitXml
            xml = JUnitXml.fromfile(sys.argv[1])
            suites, cases = {}, {}
            for suite in xml:
                suites[suite.name] = [suite.tests, suite.failures, suite.errors]
                for case in suite:
                    kinds = [(r._tag, r.type or "") for r in case.result]
                    cases[suite.name + "/" + case.name] = list(kinds[0]) if kinds else ["", ""]
            print(json.dumps({"suites": suites, "cases": cases}))
            """
        let python = try await Subprocess.run(
            .path("/usr/bin/python3"), arguments: ["-c", script, path], output: .bytes(limit: .max), error: .currentStandardError)
        try #require(python.terminationStatus == .exited(0), "junitparser could not read \(path)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(python.standardOutput)) as? [String: Any])
        return (try #require(document["suites"] as? [String: [Int]]), try #require(document["cases"] as? [String: [String]]))
    }

    func json(_ path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    /// The shipped suites all check boot budgets, so every test boots cold on either backend.
    static let backends = ["qemu", "libvirt"]

    @Test(arguments: backends) func theShippedSuitesPassOnTheDefaultKernelWithATimelineTable(backend: String) async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await KsandProcess.run(
            ["test", "--accel", "tcg", "--backend", backend, "--junit", directory + "/junit.xml", "--json", directory + "/report.json"],
            limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 0, "stdout: \(result.text)\nstderr: \(result.stderr)")
        let lines = result.text.split(separator: "\n")
        let header = try #require(lines.first)
        for column in ["test", "result", "vmm", "kernel", "init", "cmd", "shut", "tear", "total", "budgets"] {
            #expect(header.contains(column))
        }
        for id in ["smoke/root-is-read-only", "smoke/overlays-are-writable-and-start-empty", "smoke/signal-propagates",
                   "md-shutdown/shutdown-with-array"] {
            let row = try #require(lines.first { $0.hasPrefix(id + " ") }, "no row for \(id)")
            #expect(row.contains(" pass "))
            #expect(row.contains("boot ") && row.contains("shutdown "))
        }
        #expect(result.text.contains("8 passed, 0 failed under tcg"))
        #expect(!result.text.contains("\u{1B}["), "colors only on a terminal")

        let report = try await junit(directory + "/junit.xml")
        #expect(report.suites["smoke"] == [6, 0, 0])
        #expect(report.suites["md-shutdown"] == [2, 0, 0])
        let document = try json(directory + "/report.json")
        #expect(document["passed"] as? Bool == true)
        let tests = try #require(document["tests"] as? [[String: Any]])
        #expect(tests.count == 8)
        // ksand.toml gives libvirt 500 ms under TCG for its own ~200 ms end; direct QEMU keeps the accelerator's 300 ms.
        let shutdownLimit = backend == "libvirt" ? 0.5 : 0.3
        for test in tests {
            let phases = try #require(test["phases"] as? [String: Double])
            #expect(Set(phases.keys) == ["vmm", "kernel", "init", "command", "shutdown", "teardown", "total"])
            let budgets = try #require(test["budgets"] as? [[String: Any]])
            #expect(budgets.first { $0["metric"] as? String == "shutdown" }?["limit"] as? Double == shutdownLimit)
            #expect(budgets.first { $0["metric"] as? String == "boot" }?["limit"] as? Double == 3)
        }
    }

    /// The seed scenario: the same md test on the kernel built without patches/0001 breaks the shutdown budget, and
    /// the blame names the second after the power-off marker, where md's reboot notifier sleeps.
    @Test(arguments: backends) func withoutThePatchTheMdTestFailsAndBlameNamesTheSecond(backend: String) async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await KsandProcess.run(
            ["test", "--accel", "tcg", "--backend", backend, "--no-patches", "--filter", "md-shutdown", "--junit", directory + "/junit.xml",
             "--json", directory + "/report.json"],
            limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 1, "stdout: \(result.text)\nstderr: \(result.stderr)")
        #expect(result.stderr.contains("without patches"))
        #expect(try #require(result.text.split(separator: "\n").first { $0.hasPrefix("md-shutdown/shutdown-without-array ") }).contains(" pass "))
        #expect(try #require(result.text.split(separator: "\n").first { $0.hasPrefix("md-shutdown/shutdown-with-array ") }).contains(" FAIL "))
        #expect(result.text.contains("over budget: shutdown"))
        let blameLine = try #require(result.text.split(separator: "\n").first { $0.contains("after \"ksand: power-off\"") })
        let milliseconds = try #require(Int(blameLine.trimmingCharacters(in: .whitespaces).split(separator: " ")[0]))
        #expect((900...1500).contains(milliseconds), "blame: \(blameLine)")

        let report = try await junit(directory + "/junit.xml")
        #expect(report.suites["md-shutdown"] == [2, 1, 0])
        #expect(report.cases["md-shutdown/shutdown-with-array"] == ["failure", "budget"])
        #expect(report.cases["md-shutdown/shutdown-without-array"] == ["", ""])
        let tests = try #require(try json(directory + "/report.json")["tests"] as? [[String: Any]])
        let failed = try #require(tests.first { $0["name"] as? String == "shutdown-with-array" })
        let gap = try #require(((failed["blame"] as? [String: Any])?["shutdown"] as? [[String: Any]])?.first)
        #expect(gap["before"] as? String == "ksand: power-off")
        #expect(abs(try #require(gap["seconds"] as? Double) - 1.0) < 0.4)
    }

    /// Each kind of failure is reported for what it is, tests run two at a time, and no QEMU is left behind.
    @Test func failuresAreNamedAndReportedToJUnit() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = KsandProcess.marker()
        let suite = """
            [[test]]
            name = "wrong-status-and-bytes"
            command = "printf 'bad \\\\001 <&> \\\\377 bytes' >&2; exit 2"
            append = ["\(marker)"]

            [[test]]
            name = "stdout-mismatch"
            command = "echo hello"
            append = ["\(marker)"]
            [test.expect]
            stdout-matches = "^bye"

            [[test]]
            name = "setup-fails"
            setup = ["true", "exit 9"]
            command = "echo never"
            append = ["\(marker)"]

            [[test]]
            name = "host-check-fails"
            command = "true"
            host-after = ["test -e \(directory)/absent"]
            append = ["\(marker)"]

            [[test]]
            name = "hangs"
            command = "sleep 600"
            timeout = 5
            append = ["\(marker)"]

            [[test]]
            name = "passes"
            command = ["/bin/echo", "fine"]
            append = ["\(marker)"]
            [test.expect]
            stdout = "fine\\n"
            """
        try suite.write(toFile: directory + "/cases.toml", atomically: true, encoding: .utf8)
        let result = try await KsandProcess.run(
            ["test", directory + "/cases.toml", "--accel", "tcg", "-j", "2", "--junit", directory + "/junit.xml"],
            limit: 600, directory: KsandProcess.repository)
        #expect(result.status == 1, "stdout: \(result.text)\nstderr: \(result.stderr)")
        for expected in ["exit status 2, expected 0", "stdout does not match /^bye/: \"hello\\n\"",
                         "setup step 2 failed with status 9: exit 9", "host check `test -e \(directory)/absent` failed: status 1",
                         "timed out after 5000 ms", "1 passed, 5 failed under tcg"] {
            #expect(result.text.contains(expected), "missing \(expected) in:\n\(result.text)")
        }
        let report = try await junit(directory + "/junit.xml")
        #expect(report.suites["cases"] == [6, 4, 1])
        #expect(report.cases["cases/hangs"]?.first == "error")
        #expect(report.cases["cases/wrong-status-and-bytes"] == ["failure", "expectation"])
        #expect(report.cases["cases/passes"] == ["", ""])
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }

    /// Ctrl-C during a test run (after the project's kernel was looked up, which traps signals too) stops the
    /// sandbox through the reaper, reports the test as interrupted and exits 130, leaving no QEMU behind.
    @Test func anInterruptStopsTheRunningSandbox() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = KsandProcess.marker()
        try "[[test]]\nname = \"sleeps\"\ncommand = \"sleep 600\"\nappend = [\"\(marker)\"]\n"
            .write(toFile: directory + "/slow.toml", atomically: true, encoding: .utf8)
        let result = try await KsandProcess.run(["test", directory + "/slow.toml", "--accel", "tcg"], limit: 120,
                                          directory: KsandProcess.repository) { process in
            // wait until the guest runs the command, then interrupt
            let deadline = Date().addingTimeInterval(60)
            while KsandProcess.qemuProcesses(containing: marker).isEmpty && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            try? await Task.sleep(for: .seconds(4))
            process.send(.interrupt)
        }
        #expect(result.status == 130, "stdout: \(result.text)\nstderr: \(result.stderr)")
        #expect(result.text.contains("interrupted"))
        #expect(KsandProcess.qemuProcesses(containing: marker).isEmpty)
    }
}
}
