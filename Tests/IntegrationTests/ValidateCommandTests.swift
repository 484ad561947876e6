import Foundation
import Subprocess
import SystemPackage
import Testing

extension SerializedIntegrationTests {
/// `ksand validate` on real series against Debian's 6.1 tree, as a kernel engineer would run it from a project.
@Suite struct ValidateCommandTests {
    static let fixtures = KsandProcess.repository + "/Tests/IntegrationTests/Fixtures/validate"
    /// Creating an md array makes the md reboot notifier's one-second sleep (when it is there) part of every shutdown.
    static let mdCommand = "echo md0 > /sys/module/md_mod/parameters/new_array"

    struct Report: Decodable {
        struct Build: Decodable { var state: String; var errors: [String]; var applyError: String? }
        struct Diagnostic: Decodable { var file: String; var message: String }
        struct Timing: Decodable { var phase: String; var outcome: String; var blame: String?; var parentMedianMilliseconds: Double; var patchMedianMilliseconds: Double }
        struct Patch: Decodable {
            var index: Int
            var subject: String
            var verdict: String
            var verdicts: [String]
            var build: Build
            var newWarnings: [Diagnostic]
            var timing: [Timing]
        }
        struct Step: Decodable { var prefix: Int; var answer: String }
        struct Bisection: Decodable { var firstBad: Int?; var steps: [Step] }
        struct Base: Decodable { var build: Build }
        var kind: String
        var patches: [Patch]
        var firstBad: Int?
        var firstBadByVerdict: [String: Int]
        var builds: Int
        var bisection: Bisection?
        var base: Base?
        var reproduce: String?
    }

    /// Runs a host tool to its end: its status and its standard output and error, interleaved.
    static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        var updates: [Environment.Key: String?] = [:]
        for (key, value) in environment { updates[Environment.Key(stringLiteral: key)] = value }
        let result = try await Subprocess.run(.name(name), arguments: Arguments(arguments), environment: .inherit.updating(updates),
                                              input: .none, output: .bytes(limit: 64 << 20), error: .combinedWithOutput)
        let status: Int32 = switch result.terminationStatus {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
        return (status, String(decoding: result.standardOutput, as: UTF8.self))
    }

    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ksand-validate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func report(_ path: String) throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func aFourPatchSeriesIsJudgedPatchByPatch() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // The series' one timing change is a second on a 60 ms shutdown; a TCG boot's median on a busy two-core
        // machine wanders by a fifth between samples of one kernel, so only a quarter or more counts, as a kernel
        // engineer validating this series would ask.
        let result = try await KsandProcess.run(
            ["validate", "--series", Self.fixtures + "/four/series", "--command", Self.mdCommand, "--user", "0", "--accel", "tcg",
             "--min-effect-percent", "25", "--json", directory + "/report.json"], limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let report = try report(directory + "/report.json")
        #expect(report.kind == "ksand-validate")
        try #require(report.patches.count == 4, "stdout: \(result.text)")
        // 1 removes the md sleep (faster: a pass), 2 adds a warning, 3 puts the sleep back, 4 changes a comment.
        #expect(report.patches.map(\.verdict).prefix(3) == ["pass", "new-warnings", "regressed"], "stdout: \(result.text)")
        #expect(["pass", "regressed"].contains(report.patches[3].verdict), "stdout: \(result.text)")
        #expect(report.patches[0].timing.contains { $0.phase == "shutdown" && $0.outcome == "faster" })
        let warning = try #require(report.patches[1].newWarnings.first)
        #expect(warning.file == "kernel/reboot.c")
        #expect(warning.message.contains("unused_power_off_flags"))
        #expect(report.patches[1].newWarnings.count == 1)
        let shutdown = try #require(report.patches[2].timing.first { $0.phase == "shutdown" })
        #expect(shutdown.outcome == "slower")
        #expect(shutdown.patchMedianMilliseconds - shutdown.parentMedianMilliseconds > 500)
        #expect(shutdown.blame?.contains("after \"ksand: power-off\"") == true, "blame: \(shutdown.blame ?? "none")")
        #expect(report.firstBad == 2)
        #expect(report.firstBadByVerdict["regressed"] == 3)
        #expect(report.firstBadByVerdict["budget-breached"] == 3)
        #expect(result.text.contains("first bad patch: 2 \"reboot: note the power-off flags\" (new-warnings)"))
        #expect(report.reproduce?.contains("--patches 2") == true)
        #expect(report.reproduce?.hasSuffix("--repeat 5 --min-effect-percent 25") == true, "reproduce: \(report.reproduce ?? "none")")
    }

    @Test func aBrokenBuildAndAPatchThatDoesNotApplyAreVerdicts() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try await KsandProcess.run(
            ["validate", "--series", Self.fixtures + "/broken.mbox", "--command", "true", "--repeat", "1", "--accel", "tcg",
             "--json", directory + "/report.json"], limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let report = try report(directory + "/report.json")
        #expect(report.patches.map(\.verdict) == ["build-failed", "does-not-apply", "not-tested"], "stdout: \(result.text)")
        #expect(report.patches[0].build.errors.contains { $0.hasPrefix("kernel/reboot.c:") && $0.contains("error: expected") && $0.contains(";") },
                "errors: \(report.patches[0].build.errors)")
        let applyError = try #require(report.patches[1].build.applyError)
        #expect(applyError.contains("init/main.c"), "\(applyError)")
        #expect(applyError.contains("hunk at line"), "\(applyError)")
        #expect(applyError.contains("2/3 \"init: describe an include of another tree\""), "\(applyError)")
        #expect(result.text.contains("not-tested"))
    }

    /// Ctrl-C while a prefix's kernel is booting: ksand stops the sandbox, exits 130 and leaves no QEMU behind.
    @Test func anInterruptedValidationLeavesNoVMBehind() async throws {
        let before = Set(KsandProcess.processes(containing: "name=org.ksand.ctl"))
        let result = try await KsandProcess.run(
            ["validate", "--series", Self.fixtures + "/four/series", "--patches", "1", "--command", "sleep 120", "--repeat", "1", "--accel", "tcg"],
            limit: 600, directory: KsandProcess.repository
        ) { running in
            // Once a VM of this validation is up, interrupt it as Ctrl-C would.
            for _ in 0..<600 {
                if !Set(KsandProcess.processes(containing: "name=org.ksand.ctl")).subtracting(before).isEmpty { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
            try? await Task.sleep(for: .seconds(3))
            running.send(.interrupt)
        }
        #expect(result.status == 130, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("interrupted"), "stderr: \(result.stderr)")
        #expect(Set(KsandProcess.processes(containing: "name=org.ksand.ctl")).subtracting(before).isEmpty)
    }

    /// A small git history of the files an 8-patch series touches, on Debian's 6.1 versions of them: the form in
    /// which `git bisect` sees a series. Dates and names are fixed, so the commits are the same on every run.
    func eightPatchHistory(in directory: String) async throws -> String {
        let source = try KernelBuildCommandTests().pristineSource()
        let repository = directory + "/history"
        let files = ["drivers/md/md.c", "kernel/reboot.c", "init/main.c", "kernel/panic.c", "kernel/exit.c", "kernel/sys.c", "kernel/fork.c", "kernel/signal.c"]
        for file in files {
            try FileManager.default.createDirectory(atPath: repository + "/" + (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: source + "/" + file, toPath: repository + "/" + file)
        }
        let identity = ["GIT_AUTHOR_NAME": "Ada Validator", "GIT_AUTHOR_EMAIL": "ada@example.org", "GIT_COMMITTER_NAME": "Ada Validator",
                        "GIT_COMMITTER_EMAIL": "ada@example.org", "GIT_AUTHOR_DATE": "2026-11-30T12:00:00Z", "GIT_COMMITTER_DATE": "2026-11-30T12:00:00Z"]
        let patches = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures + "/eight").sorted().map { Self.fixtures + "/eight/" + $0 }
        for arguments in [["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Debian 6.1 files the validation fixtures touch"], ["tag", "base"],
                          ["am", "-q", "--committer-date-is-author-date"] + patches] {
            let git = try await Self.run("git", ["-C", repository] + arguments, environment: identity)
            try #require(git.status == 0, "git \(arguments.prefix(2)): \(git.output)")
        }
        return repository
    }

    @Test func bisectionFindsTheSlowInitcallAndGitBisectRunAgrees() async throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = try await eightPatchHistory(in: directory)
        // The base is the project's source without patches; built once, like any kernel.
        let base = try await KsandProcess.run(["kernel", "build", "--no-patches"], limit: 3600, directory: KsandProcess.repository)
        try #require(base.status == 0, "stderr: \(base.stderr)")

        let arguments = ["validate", "--bisect", "--git", repository, "base..HEAD", "--command", "true", "--for", "regressed", "--accel", "tcg"]
        let result = try await KsandProcess.run(arguments + ["--json", directory + "/bisect.json"], limit: 3600, directory: KsandProcess.repository)
        #expect(result.status == 1, "stderr: \(result.stderr)")
        let report = try report(directory + "/bisect.json")
        #expect(report.bisection?.firstBad == 5, "stdout: \(result.text)")
        #expect(report.patches[4].subject == "init: wait for a device before starting init")
        #expect(report.base?.build.state == "cached")
        #expect(report.builds <= 4, "bisecting 8 patches ran make \(report.builds) times: \(result.text)")
        #expect((report.bisection?.steps.count ?? 99) <= 4)
        #expect(result.text.contains("first bad patch: 5 \"init: wait for a device before starting init\""))

        // git bisect run, judging each commit with --one: it names the same commit, and every kernel is in the cache.
        let ksand = [KsandProcess.binary, "validate", "--one", "--project", KsandProcess.repository + "/ksand.toml", "--git", repository,
                     "base..HEAD", "--command", "true", "--for", "regressed", "--accel", "tcg"]
        let start = try await Self.run("git", ["-C", repository, "bisect", "start", "HEAD", "base"])
        try #require(start.status == 0, "\(start.output)")
        let bisect = try await Self.run("timeout", ["1800", "git", "-C", repository, "bisect", "run"] + ksand)
        #expect(bisect.status == 0, "\(bisect.output)")
        #expect(bisect.output.contains("is the first bad commit"), "\(bisect.output)")
        #expect(bisect.output.contains("init: wait for a device before starting init"), "\(bisect.output)")
        #expect(!bisect.output.contains("ksand: building:"), "git bisect run built a kernel again: \(bisect.output)")
        #expect(bisect.output.contains("0 builds"), "\(bisect.output)")
    }
}
}
