import Foundation
import Testing
import ToolRunner

/// The CI recipes users copy (ci/recipes/), checked by the real linters: actionlint (with shellcheck on every `run:`
/// script) for the GitHub Actions workflow, check-jsonschema's GitLab CI schema for the GitLab template. Each linter
/// is also shown a broken copy, so a linter that checks nothing cannot pass; and what a user relies on (the cache
/// key, KVM, the reports) is read back from the parsed YAML. The linters come from ci/python-tools.sh's venv.
@Suite struct CIRecipeTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let workflow = root.appending(path: "ci/recipes/github-actions.yml")
    static let gitlab = root.appending(path: "ci/recipes/gitlab-ci.yml")

    /// A recipe turned wrong in one place, and what the linter must say about it.
    struct Breakage: Sendable, CustomTestStringConvertible {
        var what: String
        var replacing: String
        var with: String
        var message: [String]
        var testDescription: String { what }
    }

    @Test func actionlintFindsNothingInTheWorkflow() async throws {
        let run = try await Self.actionlint(Self.workflow)
        #expect(run.status == 0 && run.text.isEmpty, "actionlint: \(run.text)")
    }

    @Test(arguments: [
        Breakage(what: "an undefined matrix property", replacing: "--kcidb ksand-kcidb.json\n",
                 with: "--kcidb ksand-kcidb.json --shard ${{ matrix.nope }}\n", message: [#"property "nope" is not defined"#]),
        Breakage(what: "runs-on of the wrong type", replacing: "    runs-on: ubuntu-latest\n", with: "    runs-on: {os: linux}\n",
                 message: [#"unexpected key "os" for "runs-on" section"#]),
        Breakage(what: "an input actions/cache does not have", replacing: "          restore-keys: |\n",
                 with: "          restore-key: |\n", message: [#"input "restore-key" is not defined in action "actions/cache@"#]),
        Breakage(what: "an unquoted variable in a run script", replacing: #"          "$KSAND_SOURCE/ci/install-deps.sh""#,
                 with: "          $KSAND_SOURCE/ci/install-deps.sh", message: ["shellcheck reported issue", "SC2086"]),
    ])
    func actionlintRejectsABrokenWorkflow(_ breakage: Breakage) async throws {
        let run = try await Self.lintBroken(Self.workflow, breakage) { try await Self.actionlint($0) }
        #expect(run.status == 1, "actionlint: \(run.text)")
        for message in breakage.message { #expect(run.text.contains(message), "actionlint: \(run.text)") }
    }

    @Test func theGitLabSchemaAcceptsTheTemplate() async throws {
        let run = try await Self.checkGitLabSchema(Self.gitlab)
        #expect(run.status == 0 && run.text.contains("ok -- validation done"), "check-jsonschema: \(run.text)")
    }

    @Test(arguments: [
        Breakage(what: "a JUnit report that is not a path", replacing: "      junit: ksand-validate.xml\n", with: "      junit: 42\n",
                 message: ["artifacts.reports.junit", "42 is not of type 'string'"]),
        Breakage(what: "an unknown job keyword", replacing: "  interruptible: true\n", with: "  interruptable: true\n",
                 message: ["'interruptable' was unexpected"]),
        Breakage(what: "artifacts kept on an unknown condition", replacing: "    when: always\n    expire_in", with: "    when: sometimes\n    expire_in",
                 message: ["artifacts.when", "'sometimes' is not one of"]),
    ])
    func theGitLabSchemaRejectsABrokenTemplate(_ breakage: Breakage) async throws {
        let run = try await Self.lintBroken(Self.gitlab, breakage) { try await Self.checkGitLabSchema($0) }
        #expect(run.status == 1, "check-jsonschema: \(run.text)")
        for message in breakage.message { #expect(run.text.contains(message), "check-jsonschema: \(run.text)") }
    }

    /// GitLab runs the job's script lines in one bash; shellcheck reads them as one script. The variables come from
    /// the job's environment, which shellcheck cannot see (SC2153, SC2154): actionlint leaves those two out as well.
    @Test func shellcheckFindsNothingInTheGitLabScript() async throws {
        let template = try await Self.yaml(Self.gitlab)
        let script = try #require(template["ksand-validate"]?["script"]?.strings)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "ksand-validate.sh")
        try Data(script.joined(separator: "\n").utf8).write(to: file)
        let run = try await Tool.run(Self.shellcheck(), ["--norc", "--shell=bash", "--exclude=SC2153,SC2154", file.path], mergingStandardError: true)
        #expect(run.status == 0 && run.text.isEmpty, "shellcheck: \(run.text)")
    }

    /// What a project that copies the workflow relies on.
    @Test func theWorkflowRunsOnTheKernelsInputsCachesTheKernelAndKeepsTheReports() async throws {
        let workflow = try await Self.yaml(Self.workflow)
        let paths = try #require(workflow["on"]?["pull_request"]?["paths"]?.strings)
        for input in ["patches/**", "kernel-config/**", "ksand.toml", "suites/**"] { #expect(paths.contains(input)) }

        let job = try #require(workflow["jobs"]?["validate"])
        // KVM: the runner's /dev/kvm is handed to the job's container, where the job runs as root.
        #expect(job["container"]?["options"]?.string?.contains("--device /dev/kvm") == true)
        #expect(job["container"]?["image"]?.string?.hasSuffix("-bookworm") == true)
        let steps = try #require(job["steps"]?.array)
        for uses in steps.compactMap({ $0["uses"]?.string }) {
            #expect(uses.wholeMatch(of: /actions\/[a-z-]+@v[0-9]+/) != nil, "\(uses) is not pinned by major version")
        }

        let kernelCache = try #require(steps.first { $0["with"]?["path"]?.string == "~/.cache/ksand/kernel" })
        #expect(kernelCache["uses"]?.string?.hasPrefix("actions/cache@") == true)
        let key = try #require(kernelCache["with"]?["key"]?.string)
        #expect(key.contains("hashFiles('ksand.toml', 'kernel-config/**', 'patches/**')") && key.contains("${{ runner.os }}"))
        let restoreKey = try #require(kernelCache["with"]?["restore-keys"]?.string).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!restoreKey.isEmpty && key.hasPrefix(restoreKey), "restore-keys \(restoreKey) is not a prefix of \(key)")

        let validate = try #require(steps.first { $0["run"]?.string?.contains("ksand validate") == true })
        #expect(validate["run"]?.string?.trimmingCharacters(in: .whitespacesAndNewlines)
                == "ksand validate --json ksand-validate.json --junit ksand-validate.xml --kcidb ksand-kcidb.json")
        let upload = try #require(steps.first { $0["uses"]?.string?.hasPrefix("actions/upload-artifact@") == true })
        #expect(upload["if"]?.string == "always()")
        let uploaded = try #require(upload["with"]?["path"]?.string).split(separator: "\n").map(String.init)
        for report in ["ksand-validate.xml", "ksand-validate.json", "ksand-kcidb.json"] { #expect(uploaded.contains(report)) }
    }

    /// What a project that copies the GitLab template relies on.
    @Test func theGitLabJobRunsOnMergeRequestsCachesTheKernelAndReportsJUnit() async throws {
        let template = try await Self.yaml(Self.gitlab)
        let job = try #require(template["ksand-validate"])
        let rule = try #require(job["rules"]?.array?.first)
        #expect(rule["if"]?.string == #"$CI_PIPELINE_SOURCE == "merge_request_event""#)
        let changes = try #require(rule["changes"]?.strings)
        for input in ["patches/**/*", "kernel-config/**/*", "ksand.toml", "suites/**/*"] { #expect(changes.contains(input)) }

        #expect(job["artifacts"]?["reports"]?["junit"]?.string == "ksand-validate.xml")
        #expect(job["artifacts"]?["when"]?.string == "always")
        #expect(job["artifacts"]?["paths"]?.strings?.contains("ksand-validate.json") == true)

        // GitLab caches only paths inside the project: ksand's cache is put there, and its kernel/ part cached.
        #expect(job["variables"]?["KSAND_CACHE_DIR"]?.string == "$CI_PROJECT_DIR/.ksand-cache")
        let caches = try #require(job["cache"]?.array)
        let kernelCache = try #require(caches.first { $0["paths"]?.strings == [".ksand-cache/kernel/"] })
        #expect(kernelCache["key"]?["files"]?.strings?.contains("ksand.toml") == true)
        #expect(kernelCache["when"]?.string == "always")

        let script = try #require(job["script"]?.strings)
        #expect(script.contains("ksand validate --json ksand-validate.json --junit ksand-validate.xml --kcidb ksand-kcidb.json"))
    }

    /// ci/kcidb-validate.py, the KCIDB validator over kcidb-io that the reports are checked with.
    @Test func theKCIDBValidatorAcceptsAV5DocumentAndNamesWhatIsWrongWithOthers() async throws {
        let valid = #"""
            {"version": {"major": 5, "minor": 3},
             "checkouts": [{"id": "ksand:c1", "origin": "ksand", "valid": true, "start_time": "2026-12-02T01:00:00+00:00"}],
             "builds": [{"id": "ksand:b1", "checkout_id": "ksand:c1", "origin": "ksand", "status": "PASS", "duration": 12.5}],
             "tests": [{"id": "ksand:t1", "build_id": "ksand:b1", "origin": "ksand", "path": "ksand.boot", "status": "PASS"}]}
            """#
        let cases: [(text: String, status: Int32, message: String)] = [
            (valid, 0, "valid KCIDB v5.3 document (1 checkouts, 1 builds, 1 tests)"),
            (valid.replacing(#""path": "ksand.boot", "status": "PASS""#, with: #""path": "ksand.boot", "status": "GOOD""#), 1,
             "invalid KCIDB v5.3 document at tests[0].status: 'GOOD' is not one of"),
            (valid.replacing("2026-12-02T01:00:00+00:00", with: "yesterday"), 1, "at checkouts[0].start_time: 'yesterday' is not a 'date-time'"),
            (valid.replacing(#""major": 5, "minor": 3"#, with: #""major": 4, "minor": 0"#), 1, "not a KCIDB v5 document"),
            ("{", 2, "cannot read it as JSON"),
        ]
        let python = try Self.tool("python")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, item) in cases.enumerated() {
            let file = directory.appending(path: "kcidb-\(index).json")
            try Data(item.text.utf8).write(to: file)
            let run = try await Tool.run(python, [Self.root.appending(path: "ci/kcidb-validate.py").path, file.path], mergingStandardError: true)
            #expect(run.status == item.status && run.text.contains(item.message), "kcidb-validate.py: \(run.text)")
        }
    }

    // MARK: - The linters

    struct MissingTool: Error, CustomStringConvertible {
        var description: String
    }

    /// ci/python-tools.sh's venv: `$KSAND_TOOLS_VENV`, else ~/.cache/ksand/tools-venv.
    static var venv: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["KSAND_TOOLS_VENV"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appending(path: ".cache/ksand/tools-venv")
    }

    /// The venv's `name`; a missing venv fails the test with what to run.
    static func tool(_ name: String) throws -> String {
        let path = venv.appending(path: "bin/\(name)").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingTool(description: "\(path) is not there: run ci/python-tools.sh, which installs the linters into "
                                + "$KSAND_TOOLS_VENV (default ~/.cache/ksand/tools-venv)")
        }
        return path
    }

    /// The shellcheck actionlint runs on `run:` scripts. It is named to actionlint explicitly: actionlint without
    /// one skips the scripts silently, and the workflow would pass unchecked.
    static func shellcheck() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/shellcheck"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw MissingTool(description: "shellcheck is not on PATH: run `ci/install-deps.sh shellcheck` "
                            + "(actionlint checks the workflow's run: scripts with it)")
    }

    static func actionlint(_ file: URL) async throws -> ToolRun {
        try await Tool.run(tool("actionlint"), ["-no-color", "-oneline", "-pyflakes=", "-shellcheck=\(shellcheck())", file.path],
                           mergingStandardError: true)
    }

    static func checkGitLabSchema(_ file: URL) async throws -> ToolRun {
        try await Tool.run(tool("check-jsonschema"), ["--builtin-schema", "vendor.gitlab-ci", file.path], mergingStandardError: true)
    }

    /// Lints a copy of `recipe` with `breakage` applied, written to a temporary file.
    static func lintBroken(_ recipe: URL, _ breakage: Breakage, _ lint: (URL) async throws -> ToolRun) async throws -> ToolRun {
        let text = try String(contentsOf: recipe, encoding: .utf8)
        #expect(text.contains(breakage.replacing), "the recipe no longer has \(breakage.replacing.debugDescription) to break")
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appending(path: recipe.lastPathComponent)
        try Data(text.replacing(breakage.replacing, with: breakage.with).utf8).write(to: broken)
        return try await lint(broken)
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ksand-ci-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A YAML file as JSON values, parsed by the venv's python with ruamel.yaml (check-jsonschema's YAML parser; a
    /// YAML 1.2 parser, so the workflow's `on:` stays a string).
    static func yaml(_ file: URL) async throws -> JSONValue {
        let script = "import json, sys; from ruamel.yaml import YAML; json.dump(YAML(typ='safe', pure=True).load(open(sys.argv[1])), sys.stdout)"
        let run = try await Tool.run(tool("python"), ["-c", script, file.path])
        try #require(run.status == 0, "parsing \(file.path): \(run.errorText)")
        return JSONValue(try JSONSerialization.jsonObject(with: run.stdout, options: [.fragmentsAllowed]))
    }
}

/// A parsed JSON value, read by key and index without a cast at every step.
struct JSONValue: @unchecked Sendable {
    let value: Any

    init(_ value: Any) { self.value = value }

    subscript(key: String) -> JSONValue? { (value as? [String: Any])?[key].map(JSONValue.init) }
    var string: String? { value as? String }
    var array: [JSONValue]? { (value as? [Any])?.map(JSONValue.init) }
    var strings: [String]? { value as? [String] }
}
