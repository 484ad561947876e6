import Foundation
import Sandbox
import Testing
import ToolRunner
@testable import Validate

/// `ksand validate --kcidb`: documents of reports made here are what KCIDB's own schema (kcidb-io, through
/// ci/kcidb-validate.py) accepts, with the objects and values KernelCI reads.
@Suite struct ValidationReportKCIDBTests {
    /// ci/python-tools.sh's venv python: `$KSAND_TOOLS_VENV`, else ~/.cache/ksand/tools-venv. Missing, the test
    /// fails and says what to run.
    static func venvPython() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let venv = environment["KSAND_TOOLS_VENV"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path) + "/.cache/ksand/tools-venv"
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SampleReports.ToolFailure(description: "\(python) is not there: run ci/python-tools.sh, which installs kcidb-io into "
                                                + "$KSAND_TOOLS_VENV (default ~/.cache/ksand/tools-venv)")
        }
        return python
    }

    /// ci/kcidb-validate.py on `documents` (name, JSON): its exit status and what it said.
    static func validate(_ documents: [(name: String, data: Data)]) async throws -> ToolRun {
        let directory = try SampleReports.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        var paths: [String] = []
        for (name, data) in documents {
            let file = directory.appending(path: name)
            try data.write(to: file)
            paths.append(file.path)
        }
        return try await Tool.run(try venvPython(), [SampleReports.root.appending(path: "ci/kcidb-validate.py").path] + paths, mergingStandardError: true)
    }

    static func reports() async throws -> [(name: String, report: ValidationReport)] {
        let bisected = try await SeriesValidator(series: "/project/patches/series", patches: SampleReports.patches(8), steps: FakeSteps(
            Dictionary(uniqueKeysWithValues: (5...8).map { ($0, FakeSteps.Kernel(bootMilliseconds: 2300)) }))).bisect()
        var fromGit = try await SampleReports.series(files: false)
        fromGit.series = "/src/linux v6.1..HEAD"
        fromGit.git = .init(tree: "/src/linux", range: "v6.1..HEAD", baseCommit: String(repeating: "0123456789", count: 4))
        let doesNotApply = try await SeriesValidator(series: "/project/series.mbox", patches: SampleReports.patches(3, files: false),
                                                     steps: FakeSteps([1: .init(build: .doesNotApply)])).validateSeries()
        var whole = try await SeriesValidator(series: "s", patches: SampleReports.patches(3), steps: FakeSteps([:])).judgeWhole()
        whole.started = nil
        return [("series.json", try await SampleReports.series()), ("bisect.json", bisected), ("git.json", fromGit),
                ("does-not-apply.json", doesNotApply), ("one.json", whole), ("small.json", SampleReports.small())]
    }

    @Test func kcidbIOAcceptsTheDocumentsAndRefusesABrokenOne() async throws {
        let documents = try await Self.reports().map { ($0.name, try $0.report.kcidb().json()) }
        let run = try await Self.validate(documents)
        #expect(run.status == 0, "\(run.text)")
        #expect(run.text.contains("series.json: valid KCIDB v5.3 document (6 checkouts, 5 builds, "), "\(run.text)")

        // A test's status that the schema does not know: the validator must say so, or the check above proves nothing.
        var broken = try await SampleReports.series().kcidb()
        let text = String(decoding: try broken.json(), as: UTF8.self).replacingOccurrences(of: "\"status\" : \"PASS\"", with: "\"status\" : \"GOOD\"")
        #expect(text.contains("GOOD"))
        let refused = try await Self.validate([("broken.json", Data(text.utf8))])
        #expect(refused.status == 1, "\(refused.text)")
        #expect(refused.text.contains("is not one of"), "\(refused.text)")
        // An origin KCIDB would refuse never gets into a document.
        broken.checkouts[0].origin = "Not An Origin"
        #expect(try await Self.validate([("origin.json", try broken.json())]).status == 1)
        #expect(throws: KCIDBOriginError(origin: "Not An Origin")) { try SampleReports.small().kcidb(origin: "Not An Origin") }
    }

    @Test func aCheckoutPerPrefixWithItsPatchSet() async throws {
        let report = try await SampleReports.series()
        let document = try report.kcidb(origin: "my_lab")
        // The base and patches 1...5 (6 was not tested); builds for all but the one that did not apply.
        #expect(document.checkouts.count == 6)
        #expect(document.checkouts.map { $0.patchsetFiles?.count } == [0, 1, 2, 3, 4, 5])
        #expect(document.checkouts.map(\.valid) == [true, true, true, true, true, false])
        #expect(document.checkouts[5].logExcerpt?.contains("does not apply") == true)
        #expect(document.checkouts[0].patchsetHash == "")
        // `printf '%s\n' 1111… 2222… | sha256sum`, as KCIDB computes it from the patches' own hashes.
        #expect(document.checkouts[2].patchsetHash == "f5404fd407075eb9ef6261cbfc12da4cbe2906c3a04dcffd2be12daa6a475c89")
        #expect(document.checkouts[2].patchsetFiles?[1] == .init(name: "0002-patch-number-2.patch", url: "file:///project/patches/0002-patch-number-2.patch"))
        #expect(document.builds.map(\.status) == [.pass, .pass, .pass, .pass, .fail])
        #expect(document.builds[4].logExcerpt?.contains("expected ';' before '}' token") == true)
        #expect(document.builds[4].logURL == "file:///cache/build.log")
        #expect(document.builds.allSatisfy { $0.architecture == "x86_64" && $0.origin == "my_lab" })
        let ids = document.checkouts.map(\.id) + document.builds.map(\.id) + document.tests.map(\.id)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.hasPrefix("my_lab:") })
        #expect(try report.kcidb(origin: "my_lab") == document)

        func test(_ prefix: Int, _ path: String) -> KCIDBDocument.Test? {
            let build = document.builds.first { $0.checkoutID == document.checkouts[prefix].id }
            return document.tests.first { $0.buildID == build?.id && $0.path == path }
        }
        // The base's runs beside patch 1 (the fake's noise 12, 0, 25, -8, 40 on 2000 ms).
        #expect(test(0, "ksand.boot_time")?.number == .init(value: 2012, unit: "ms"))
        #expect(test(2, "ksand.tests.command")?.status == .fail)
        #expect(test(2, "ksand.boot")?.status == .pass)
        let shutdown = try #require(test(3, "ksand.shutdown_time"))
        #expect(shutdown.status == .fail)
        #expect(shutdown.comment?.hasPrefix("regressed: command shutdown: the parent's median 101 ms, this patch's 1101 ms") == true, "\(shutdown.comment ?? "")")
        #expect(test(3, "ksand.boot_time")?.status == .pass)
        #expect(test(3, "ksand.warnings")?.status == .fail)
        #expect(test(3, "ksand.budget")?.status == .fail)
        #expect(test(4, "ksand.boot") == nil)
    }

    @Test func aSeriesFromGitNamesItsTreeAndBase() async throws {
        let fromGit = try await Self.reports().first { $0.name == "git.json" }!.report
        let checkout = try fromGit.kcidb().checkouts[1]
        #expect(checkout.treeName == "linux")
        #expect(checkout.gitCommitHash == String(repeating: "0123456789", count: 4))
        #expect(checkout.gitCommitName == "v6.1")
        #expect(checkout.patchsetFiles == [.init(name: "0001-patch-number-1.patch", url: "file:///src/linux#1")])
    }

    @Test func originsAreCheckedAgainstTheSchemasPattern() {
        for good in ["ksand", "my_lab", "ci2"] { #expect(throws: Never.self) { try KCIDBDocument.check(origin: good) } }
        for bad in ["", "KSand", "my-lab", "a b", "ksand:", "é"] { #expect(throws: KCIDBOriginError.self) { try KCIDBDocument.check(origin: bad) } }
        #expect(KCIDBOriginError(origin: "My-Lab").description
                == "--kcidb-origin My-Lab: a KCIDB origin is lowercase letters, digits and _ (^[a-z0-9_]+$), such as ksand or my_lab")
        #expect(ValidationReport.kcidbPath(test: "smoke/root is read-only") == "ksand.tests.smoke.root_is_read-only")
        #expect(KCIDBDocument.fileURL("/a b/c#d.patch") == "file:///a%20b/c%23d.patch")
    }
}

